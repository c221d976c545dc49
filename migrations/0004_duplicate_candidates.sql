-- The duplicate finder reads the newest open tickets of one district and keeps those of
-- related categories. Walking the district's open tickets newest first stops after the first
-- hundred related ones; the category index alone had to collect and sort every related
-- ticket in the time window, which grows with the size of a flood.
CREATE INDEX tickets_open_by_district ON tickets (district, created_at DESC)
    WHERE status NOT IN ('closed', 'merged', 'cancelled');
