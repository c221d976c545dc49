"""What leaves the centre for citizens and other systems: public texts (without personal data),
EIDO incident hand-over (NENA-STA-021) and CAP 1.2 public warnings. Pure: no I/O."""
