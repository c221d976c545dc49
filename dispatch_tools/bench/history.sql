-- A history of tickets for `dispatch bench --history`, in bulk SQL (one INSERT … SELECT per
-- table, no API). history.py fills the lookup tables h_district, h_category, h_channel and h_tod
-- (1000 rows each: a uniform draw 0..999 picks a row, so a row's share is its weight) and
-- replaces {tickets}, {open}, {days} and {base} with validated whole numbers and {today_share}
-- with the share of a day's calls made by five minutes ago (0 to 1). The history's days end
-- with today, up to five minutes ago. Every ticket before the last {open} is finished; the
-- last {open} are open now.

-- Days of the history: volume grows 60 % over the span, weekends are quieter, summer busier, and
-- one day in 60 is a surge (storm, outage) with three times the calls.
CREATE TEMP TABLE h_days AS
WITH w AS (
    SELECT d,
           (0.8 + 0.6 * d / {days}::float8)
           * CASE WHEN extract(isodow FROM day0 + d) >= 6 THEN 0.85 ELSE 1.0 END
           * (1.0 + 0.2 * greatest(0, cos(2 * pi() * (extract(doy FROM day0 + d) - 200) / 365.0)))
           * CASE WHEN (d * 2654435761::bigint) % 60 = 7 THEN 3.0 ELSE 1.0 END
           * CASE WHEN d = {days} - 1 THEN {today_share} ELSE 1.0 END AS weight
    FROM generate_series(0, {days} - 1) AS d,
         LATERAL (SELECT (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') - ({days} - 1) * interval '1 day')::date
                  AS day0) z
), c AS (
    SELECT d, sum(weight) OVER (ORDER BY d) AS upto, sum(weight) OVER () AS total FROM w
)
SELECT d,
       {base} + floor((upto - (SELECT weight FROM w WHERE w.d = c.d)) / total * {tickets})::bigint + 1 AS first_id,
       {base} + floor(upto / total * {tickets})::bigint AS last_id
FROM c;

-- The first day's local midnight.
CREATE TEMP TABLE h_clock AS
SELECT (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai')
           - ({days} - 1) * interval '1 day' AS t0;

-- Tickets, their times monotone in id within a day (the hour-of-day curve's inverse, h_tod).
CREATE TEMP TABLE h_tickets AS
SELECT g AS id,
       (SELECT t0 FROM h_clock) + dd.d * interval '1 day'
           + (tod.lo + (q * 1000 - floor(q * 1000)) * (tod.hi - tod.lo)) * interval '1 second' AS created_at,
       floor(random() * 1000)::int AS district_draw,
       floor(random() * 1000)::int AS category_draw,
       floor(random() * 1000)::int AS channel_draw,
       random() AS r1, random() AS r2, random() AS r3, random() AS r4
FROM h_days dd
CROSS JOIN LATERAL generate_series(dd.first_id, dd.last_id) AS g
CROSS JOIN LATERAL (SELECT (g - dd.first_id)::float8 / greatest(dd.last_id - dd.first_id + 1, 1)
                           * CASE WHEN dd.d = {days} - 1 THEN {today_share} ELSE 1.0 END AS q) u
JOIN h_tod tod ON tod.k = floor(q * 1000)::int;

INSERT INTO tickets (id, number, tracking_token, channel, caller_phone, caller_name, address, district, lat, lon,
                     description, category, priority, status, classification, created_at, updated_at,
                     resolved_at, closed_at, short_code)
OVERRIDING SYSTEM VALUE
SELECT h.id,
       'MS' || to_char(h.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(h.id::text, 8, '0'),
       md5('history' || h.id),
       ch.channel,
       -- Callers: a few call often (the square of a uniform draw piles up on low numbers).
       CASE WHEN h.r4 < 0.03 THEN NULL ELSE '+8613' || lpad(floor(h.r4 * h.r4 * {tickets} / 3)::text, 9, '0') END,
       '市民',
       di.name_zh || (ARRAY['解放路', '人民路', '中华路', '健康路', '文化路', '交通路', '雪松路', '开源大道'])
           [1 + h.id % 8] || (1 + h.id % 300) || '号',
       di.code,
       di.lat + (h.r1 - 0.5) * 0.06, di.lon + (h.r2 - 0.5) * 0.06,
       ca.phrase || (ARRAY['，已经好几天了', '，麻烦尽快处理', '，情况比较急', '，希望有人来看看', ''])[1 + h.id % 5]
           || '（' || (ARRAY['解放路', '人民路', '中华路', '健康路', '文化路', '交通路', '雪松路', '开源大道'])
           [1 + h.id % 8] || '附近）',
       ca.code,
       CASE WHEN h.r3 < 0.1 AND ca.priority <> 'P1' THEN 'P' || (substr(ca.priority, 2)::int - 1) ELSE ca.priority END,
       CASE WHEN h.id > {base} + {tickets} - {open}
            THEN (ARRAY['dispatched', 'acknowledged', 'in_progress', 'in_progress'])[1 + h.id % 4]
            WHEN h.r3 > 0.95 THEN 'answered'
            WHEN h.r3 > 0.935 THEN 'cancelled'
            ELSE 'closed' END,
       jsonb_build_object('category', ca.code, 'priority', ca.priority, 'confidence', round(h.r1::numeric, 3),
                          'agencies', jsonb_build_array(ca.lead), 'model', 'history'),
       h.created_at,
       least(h.created_at + interval '1 day', now()),
       CASE WHEN h.id <= {base} + {tickets} - {open} AND h.r3 <= 0.935 THEN h.created_at + interval '20 hours' END,
       CASE WHEN h.id <= {base} + {tickets} - {open} AND h.r3 <= 0.935 THEN h.created_at + interval '1 day' END,
       lpad(((h.id * 7919) % 1000000)::text, 6, '0')
FROM h_tickets h
JOIN h_district di ON di.k = h.district_draw
JOIN h_category ca ON ca.k = h.category_draw
JOIN h_channel ch ON ch.k = h.channel_draw;

-- Assignments: a lead for every ticket that was dispatched, an assisting agency for a third
-- of those whose category usually has one. Finished ones were acknowledged and resolved,
-- about one in six late; open ones stand where their ticket's status says.
INSERT INTO assignments (ticket_id, agency, desk_id, role, state, ack_due, resolve_due, created_at, updated_at,
                         acknowledged_at, started_at, resolved_at, resolution, ack_stage, resolve_stage)
SELECT a.ticket_id, a.agency, a.desk_id, a.role, a.state, a.ack_due, a.resolve_due, a.created_at,
       coalesce(a.resolved_at, a.created_at),
       a.acknowledged_at, a.started_at, a.resolved_at,
       CASE WHEN a.resolved_at IS NOT NULL THEN '已处理完毕' END,
       CASE WHEN a.state = 'dispatched' AND a.ack_due < now() THEN 2 ELSE 0 END,
       CASE WHEN a.state IN ('dispatched', 'acknowledged', 'in_progress') AND a.resolve_due < now() THEN 2 ELSE 0 END
FROM (
    SELECT t.id AS ticket_id, x.agency, dk.desk_id, x.role, t.created_at,
           CASE WHEN t.status = 'closed' THEN 'resolved' ELSE t.status END AS state,
           t.created_at + sl.ack_seconds * interval '1 second' AS ack_due,
           t.created_at + sl.resolve_seconds * interval '1 second' AS resolve_due,
           CASE WHEN t.status <> 'dispatched'
                THEN least(now(), t.created_at + sl.ack_seconds * (0.1 + 0.95 * h.r1) * interval '1 second') END
               AS acknowledged_at,
           CASE WHEN t.status IN ('in_progress', 'closed')
                THEN least(now(), t.created_at + sl.ack_seconds * (0.2 + 0.95 * h.r1) * interval '1 second') END
               AS started_at,
           CASE WHEN t.status = 'closed'
                THEN t.created_at + sl.resolve_seconds * (0.3 + 0.9 * h.r2 * h.r2) * interval '1 second' END
               AS resolved_at
    FROM tickets t
    JOIN h_tickets h ON h.id = t.id
    JOIN h_category ca ON ca.k = h.category_draw
    CROSS JOIN LATERAL (
        SELECT ca.lead AS agency, 'lead' AS role
        UNION ALL
        SELECT ca.assist, 'assist' WHERE ca.assist IS NOT NULL AND h.r2 < 0.33
    ) x
    JOIN h_desk dk ON dk.agency = x.agency AND dk.district = t.district
    JOIN h_service_level sl ON sl.priority = t.priority
    WHERE t.status IN ('dispatched', 'acknowledged', 'in_progress', 'closed') AND t.id > {base}
) a
ORDER BY a.ticket_id, a.role DESC;

-- Escalations: each late resolution was escalated once, each open assignment past a deadline too.
INSERT INTO escalations (assignment_id, kind, level, due_at, escalated_at, round)
SELECT a.id, CASE WHEN a.ack_stage > 0 THEN 'ack' ELSE 'resolve' END, 1,
       CASE WHEN a.ack_stage > 0 THEN a.ack_due ELSE a.resolve_due END,
       CASE WHEN a.ack_stage > 0 THEN a.ack_due ELSE a.resolve_due END + interval '1 minute', 1
FROM assignments a
WHERE a.ticket_id > {base} AND (a.resolved_at > a.resolve_due OR a.ack_stage > 0 OR a.resolve_stage > 0);

-- Feedback (回访): two in five finished tickets, mostly satisfied.
INSERT INTO feedback (ticket_id, satisfied, rating, comment, created_at)
SELECT t.id, h.r4 > 0.12, CASE WHEN h.r4 > 0.12 THEN 4 + (h.id % 2)::int ELSE 1 + (h.id % 3)::int END,
       CASE WHEN h.id % 4 = 0 THEN '处理及时，谢谢' ELSE '' END, t.closed_at + interval '2 hours'
FROM tickets t JOIN h_tickets h ON h.id = t.id
WHERE t.status = 'closed' AND h.r1 < 0.4;

-- The audit trail: the events the service writes along a ticket's life.
INSERT INTO events (ticket_id, assignment_id, type, actor, agencies, data, at)
SELECT t.id, NULL::bigint, 'ticket.created', 'history', ARRAY[t.classification -> 'agencies' ->> 0]::text[],
       jsonb_build_object('number', t.number, 'category', t.category, 'priority', t.priority), t.created_at
FROM tickets t WHERE t.id > {base}
UNION ALL
SELECT t.id, NULL, CASE t.status WHEN 'answered' THEN 'ticket.answered' ELSE 'ticket.cancelled' END, 'history',
       '{{}}', '{{}}', t.created_at + interval '3 minutes'
FROM tickets t WHERE t.id > {base} AND t.status IN ('answered', 'cancelled')
UNION ALL
SELECT a.ticket_id, a.id, s.type, 'history', ARRAY[a.agency], s.data, s.at
FROM assignments a
CROSS JOIN LATERAL (
    VALUES ('assignment.created', jsonb_build_object('agency', a.agency, 'role', a.role), a.created_at),
           ('assignment.acknowledged', '{{}}'::jsonb, a.acknowledged_at),
           ('assignment.started', '{{}}'::jsonb, a.started_at),
           ('assignment.resolved', jsonb_build_object('resolution', '已处理完毕'), a.resolved_at)
) s(type, data, at)
WHERE a.ticket_id > {base} AND s.at IS NOT NULL
UNION ALL
SELECT t.id, NULL, 'ticket.closed', 'history', '{{}}', '{{}}', t.closed_at
FROM tickets t WHERE t.id > {base} AND t.status = 'closed'
UNION ALL
SELECT f.ticket_id, NULL, 'ticket.feedback', 'history', '{{}}',
       jsonb_build_object('satisfied', f.satisfied, 'rating', f.rating), f.created_at
FROM feedback f WHERE f.ticket_id > {base};

-- Open work as the service counts it (migration 0012). The loader runs with triggers off when
-- it can (session_replication_role = replica, as pg_restore does), so the counts the
-- triggers would have kept are added here, one statement each; with triggers on, they were.
INSERT INTO open_assignment_counts (agency, district, priority, state, assignments, paused)
SELECT a.agency, t.district, t.priority, a.state, count(*), count(a.paused_at)
FROM assignments a JOIN tickets t ON t.id = a.ticket_id
WHERE current_setting('session_replication_role') = 'replica'
  AND a.ticket_id > {base} AND a.state IN ('dispatched', 'acknowledged', 'in_progress')
GROUP BY a.agency, t.district, t.priority, a.state;

INSERT INTO open_ticket_counts (district, priority, tickets)
SELECT t.district, t.priority, count(*)
FROM tickets t
WHERE current_setting('session_replication_role') = 'replica'
  AND t.id > {base}
  AND t.id IN (SELECT a.ticket_id FROM assignments a
               WHERE a.ticket_id > {base} AND a.state IN ('dispatched', 'acknowledged', 'in_progress'))
GROUP BY t.district, t.priority;

-- The distinct addresses ticket search matches (migration 0017), likewise.
INSERT INTO ticket_addresses (address)
SELECT DISTINCT t.address FROM tickets t
WHERE current_setting('session_replication_role') = 'replica' AND t.id > {base} AND t.address <> ''
ON CONFLICT DO NOTHING;
