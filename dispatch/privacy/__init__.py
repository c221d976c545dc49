"""Personal data: shown only to those who need it, and purged when its retention period ends."""
