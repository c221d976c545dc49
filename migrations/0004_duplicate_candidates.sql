-- The duplicate finder reads the newest open tickets of each related category in one district
-- and merges them newest first. With one index walk per category, each already in time order,
-- PostgreSQL stops after the first hundred; an index on the category alone, or on the district
-- alone, made it read and sort or filter every open ticket of the window, which grows with the
-- size of a flood.
CREATE INDEX tickets_open_by_district_category ON tickets (district, category, created_at DESC)
    WHERE status NOT IN ('closed', 'merged', 'cancelled');
