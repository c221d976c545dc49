-- Open311 GET requests with a service_code: one channel's tickets of a category in a window,
-- newest first. tickets_by_channel_created holds no category, so every Open311 ticket of
-- the window was read from the heap and the other categories dropped: at 10,000,000 tickets,
-- 36,000 ticket rows for a service with 63 requests in 90 days (144 ms warm). With the
-- category in the key only that service's tickets are read (0.5 ms); docs/benchmarks.md,
-- "10,000,000 tickets: search and Open311 list".
CREATE INDEX tickets_by_channel_category_created ON tickets (channel, category, created_at DESC, id DESC);
