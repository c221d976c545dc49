-- Read paths that stay fast over years of history (docs/benchmarks.md, "Years of tickets"):
-- each index below serves one console read that otherwise scans every ticket or assignment
-- ever filed. Measured with `dispatch bench --history`.

-- Ticket search (GET /tickets?q=) matches a substring of the description or the address, or
-- the exact number: trigram indexes let the three be one bitmap OR instead of a scan of all
-- tickets. pg_trgm ships with PostgreSQL and is a trusted extension (a database owner may add it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tickets_description_trgm ON tickets USING gin (description gin_trgm_ops);
CREATE INDEX tickets_address_trgm ON tickets USING gin (address gin_trgm_ops);

-- A caller's history (GET /tickets?phone=) is listed newest first by id: a frequent caller's
-- hundreds of tickets are not sorted on every call.
CREATE INDEX tickets_by_caller_phone_id ON tickets (caller_phone, id DESC) WHERE caller_phone IS NOT NULL;
DROP INDEX tickets_by_caller_phone;

-- Open311 GET requests: one channel's tickets of a window, newest first.
CREATE INDEX tickets_by_channel_created ON tickets (channel, created_at DESC, id DESC);

-- The period statistics (supervisor summary, the report): assignments dispatched in a period.
CREATE INDEX assignments_by_created ON assignments (created_at);
-- The time series: assignments acknowledged and resolved per bucket.
CREATE INDEX assignments_by_acknowledged ON assignments (acknowledged_at) WHERE acknowledged_at IS NOT NULL;
CREATE INDEX assignments_by_resolved ON assignments (resolved_at) WHERE resolved_at IS NOT NULL;

-- Open work is a small set that changes all day inside tables that only grow. By default
-- autovacuum waits for dead rows to reach a fifth of a table: at millions of assignments it
-- never ran, and the counts over open work read ever more dead versions (the supervisor
-- summary: 290 ms before a VACUUM, 75 ms after, at 4 million tickets). A fixed threshold
-- vacuums after every 10,000 changed rows; the visibility map keeps each run to the pages
-- that changed.
ALTER TABLE assignments SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                             autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE tickets SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                         autovacuum_analyze_scale_factor = 0.01);
