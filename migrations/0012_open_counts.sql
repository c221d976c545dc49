-- Open work, counted as it changes instead of on every read (docs/scaling.md, "Years of
-- history"): the supervisor summary reads a few hundred rows instead of counting every open
-- assignment of a province on every request.
--
-- Two tables of counts, kept by triggers on assignments and tickets so that every path that
-- changes an assignment (the API, the deadline watcher, merges, re-routing, the bulk history
-- loader, a hand-written UPDATE) keeps them right:
--   open_assignment_counts  open assignments (dispatched, acknowledged, in_progress) per agency,
--                           ticket district, ticket priority and state, and how many are paused;
--   open_ticket_counts      tickets with at least one open assignment, per district and priority.
--
-- The rows are deltas, not one row per key: a change appends rows (+1 here, -1 there) and a
-- reader sums them per key. Appending takes no lock on a shared row, so concurrent writers
-- never wait for each other or deadlock on a hot count (a busy district's commonest work);
-- open_counts_compact() folds the deltas into one row per key now and then (the statistics do,
-- every few seconds at most), one statement per table, without changing any sum a reader sees.

CREATE TABLE open_assignment_counts (
    agency       text NOT NULL,
    district     text,
    priority     text NOT NULL,
    state        text NOT NULL CHECK (state IN ('dispatched', 'acknowledged', 'in_progress')),
    assignments  bigint NOT NULL,
    paused       bigint NOT NULL
);
CREATE INDEX open_assignment_counts_by_agency ON open_assignment_counts (agency);

CREATE TABLE open_ticket_counts (
    district  text,
    priority  text NOT NULL,
    tickets   bigint NOT NULL
);

-- Both are small and change all day: vacuum them often.
ALTER TABLE open_assignment_counts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
ALTER TABLE open_ticket_counts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);

-- What one statement on assignments changed in open work, one row per assignment that was or
-- is open: n = -1 for what it was, +1 for what it is. The triggers below gather these from
-- their statement's transition tables and hand them to open_counts_apply().
CREATE TYPE open_count_change AS (ticket_id bigint, agency text, state text, paused boolean, n integer);

-- Apply one statement's changes. The ticket's district and priority are read as they are now:
-- the trigger on tickets moves open work along when they change.
--
-- Tickets whose number of open assignments changes are locked (in id order) before their
-- open assignments are counted again: a ticket whose two assignments close in two concurrent
-- transactions is then counted down by the second, which sees the first's change (under READ
-- COMMITTED each statement here reads afresh). The API's paths lock the ticket before its
-- assignments already, so this costs them nothing.
CREATE FUNCTION open_counts_apply(changes open_count_change[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    moved bigint[];
BEGIN
    IF cardinality(changes) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO open_assignment_counts (agency, district, priority, state, assignments, paused)
    SELECT c.agency, t.district, t.priority, c.state, sum(c.n), sum(CASE WHEN c.paused THEN c.n ELSE 0 END)
    FROM unnest(changes) AS c JOIN tickets t ON t.id = c.ticket_id
    GROUP BY c.agency, t.district, t.priority, c.state
    HAVING sum(c.n) <> 0 OR sum(CASE WHEN c.paused THEN c.n ELSE 0 END) <> 0;

    SELECT array_agg(m.ticket_id ORDER BY m.ticket_id) INTO moved FROM (
        SELECT c.ticket_id FROM unnest(changes) AS c GROUP BY c.ticket_id HAVING sum(c.n) <> 0
    ) m;
    IF moved IS NULL THEN
        RETURN;
    END IF;
    PERFORM 1 FROM tickets WHERE id = ANY (moved) ORDER BY id FOR NO KEY UPDATE;
    INSERT INTO open_ticket_counts (district, priority, tickets)
    SELECT t.district, t.priority, sum((o.now_open > 0)::int - (o.now_open - d.n > 0)::int)
    FROM (SELECT c.ticket_id, sum(c.n) AS n FROM unnest(changes) AS c GROUP BY c.ticket_id HAVING sum(c.n) <> 0) d
    JOIN tickets t ON t.id = d.ticket_id
    CROSS JOIN LATERAL (
        SELECT count(*) AS now_open FROM assignments a
        WHERE a.ticket_id = d.ticket_id AND a.state IN ('dispatched', 'acknowledged', 'in_progress')
    ) o
    GROUP BY t.district, t.priority
    HAVING sum((o.now_open > 0)::int - (o.now_open - d.n > 0)::int) <> 0;
END;
$$;

CREATE FUNCTION open_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM open_counts_apply(ARRAY(
        SELECT (n.ticket_id, n.agency, n.state, n.paused_at IS NOT NULL, 1)::open_count_change
        FROM new_rows n WHERE n.state IN ('dispatched', 'acknowledged', 'in_progress')
    ));
    RETURN NULL;
END;
$$;

CREATE FUNCTION open_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Most updates (deadline stages, a desk chosen again) change nothing counted: only rows
    -- whose ticket, agency, state or pause changed make changes.
    PERFORM open_counts_apply(ARRAY(
        SELECT x.c FROM old_rows o JOIN new_rows n ON n.id = o.id
        CROSS JOIN LATERAL (
            SELECT (o.ticket_id, o.agency, o.state, o.paused_at IS NOT NULL, -1)::open_count_change
            WHERE o.state IN ('dispatched', 'acknowledged', 'in_progress')
            UNION ALL
            SELECT (n.ticket_id, n.agency, n.state, n.paused_at IS NOT NULL, 1)::open_count_change
            WHERE n.state IN ('dispatched', 'acknowledged', 'in_progress')
        ) x(c)
        WHERE (o.ticket_id, o.agency, o.state, o.paused_at IS NULL)
              IS DISTINCT FROM (n.ticket_id, n.agency, n.state, n.paused_at IS NULL)
    ));
    RETURN NULL;
END;
$$;

CREATE FUNCTION open_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM open_counts_apply(ARRAY(
        SELECT (o.ticket_id, o.agency, o.state, o.paused_at IS NOT NULL, -1)::open_count_change
        FROM old_rows o WHERE o.state IN ('dispatched', 'acknowledged', 'in_progress')
    ));
    RETURN NULL;
END;
$$;

CREATE FUNCTION open_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE open_assignment_counts, open_ticket_counts;
    RETURN NULL;
END;
$$;

CREATE TRIGGER open_counts_insert AFTER INSERT ON assignments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION open_counts_after_insert();
CREATE TRIGGER open_counts_update AFTER UPDATE ON assignments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION open_counts_after_update();
CREATE TRIGGER open_counts_delete AFTER DELETE ON assignments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION open_counts_after_delete();
CREATE TRIGGER open_counts_truncate AFTER TRUNCATE ON assignments
    FOR EACH STATEMENT EXECUTE FUNCTION open_counts_after_truncate();

-- A ticket re-routed to another district or priority takes its open work along.
CREATE FUNCTION open_counts_ticket_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO open_assignment_counts (agency, district, priority, state, assignments, paused)
    SELECT a.agency, k.district, k.priority, a.state, k.sign * count(*), k.sign * count(a.paused_at)
    FROM assignments a
    CROSS JOIN (VALUES (OLD.district, OLD.priority, -1), (NEW.district, NEW.priority, 1)) AS k(district, priority, sign)
    WHERE a.ticket_id = NEW.id AND a.state IN ('dispatched', 'acknowledged', 'in_progress')
    GROUP BY a.agency, k.district, k.priority, a.state, k.sign;
    INSERT INTO open_ticket_counts (district, priority, tickets)
    SELECT k.district, k.priority, k.sign
    FROM (VALUES (OLD.district, OLD.priority, -1), (NEW.district, NEW.priority, 1)) AS k(district, priority, sign)
    WHERE EXISTS (SELECT 1 FROM assignments a
                  WHERE a.ticket_id = NEW.id AND a.state IN ('dispatched', 'acknowledged', 'in_progress'));
    RETURN NULL;
END;
$$;
CREATE TRIGGER open_counts_ticket_moved AFTER UPDATE OF district, priority ON tickets
    FOR EACH ROW WHEN (OLD.district IS DISTINCT FROM NEW.district OR OLD.priority IS DISTINCT FROM NEW.priority)
    EXECUTE FUNCTION open_counts_ticket_moved();

-- Fold the deltas into one row per key, touching only keys with more than one row (or summing
-- to nothing): on counts already folded it writes nothing. One caller at a time (a
-- transaction-scoped advisory lock; the others skip it, their turn comes); rows appended
-- meanwhile stay for the next time. Returns how many rows it folded (0 when another session
-- was folding).
CREATE FUNCTION open_counts_compact() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
    n_tickets bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('dispatch.open_counts_compact')) THEN
        RETURN 0;
    END IF;
    WITH loose AS (
        SELECT agency, district, priority, state FROM open_assignment_counts
        GROUP BY agency, district, priority, state
        HAVING count(*) > 1 OR (sum(assignments) = 0 AND sum(paused) = 0)
    ), gone AS (
        DELETE FROM open_assignment_counts c USING loose l
        WHERE (c.agency, c.priority, c.state) = (l.agency, l.priority, l.state)
          AND c.district IS NOT DISTINCT FROM l.district
        RETURNING c.*
    ), kept AS (
        INSERT INTO open_assignment_counts (agency, district, priority, state, assignments, paused)
        SELECT agency, district, priority, state, sum(assignments), sum(paused) FROM gone
        GROUP BY agency, district, priority, state
        HAVING sum(assignments) <> 0 OR sum(paused) <> 0
        RETURNING 1
    )
    SELECT count(*) INTO folded FROM gone;
    WITH loose AS (
        SELECT district, priority FROM open_ticket_counts
        GROUP BY district, priority HAVING count(*) > 1 OR sum(open_ticket_counts.tickets) = 0
    ), gone AS (
        DELETE FROM open_ticket_counts c USING loose l
        WHERE c.priority = l.priority AND c.district IS NOT DISTINCT FROM l.district
        RETURNING c.*
    ), kept AS (
        INSERT INTO open_ticket_counts (district, priority, tickets)
        SELECT district, priority, sum(gone.tickets) FROM gone
        GROUP BY district, priority HAVING sum(gone.tickets) <> 0
        RETURNING 1
    )
    SELECT count(*) INTO n_tickets FROM gone;
    RETURN folded + n_tickets;
END;
$$;

-- The counts of what is open now, one set-based statement each (a province's history: one
-- pass over the open-work index, not a row at a time).
INSERT INTO open_assignment_counts (agency, district, priority, state, assignments, paused)
SELECT a.agency, t.district, t.priority, a.state, count(*), count(a.paused_at)
FROM assignments a JOIN tickets t ON t.id = a.ticket_id
WHERE a.state IN ('dispatched', 'acknowledged', 'in_progress')
GROUP BY a.agency, t.district, t.priority, a.state;

INSERT INTO open_ticket_counts (district, priority, tickets)
SELECT t.district, t.priority, count(*)
FROM tickets t
WHERE t.id IN (SELECT a.ticket_id FROM assignments a WHERE a.state IN ('dispatched', 'acknowledged', 'in_progress'))
GROUP BY t.district, t.priority;

-- The overdue list (GET /stats/overdue) pages through two lists in index order, merged: work
-- late on its acknowledgement, and work late on its resolution only, the longest overdue first.
-- Paused work is listed too (a deadline missed before the pause stays missed), which the
-- deadline watcher's indexes leave out. Before: all overdue work sorted for every page.
CREATE INDEX assignments_late_ack ON assignments (ack_due, id) WHERE state = 'dispatched';
CREATE INDEX assignments_late_resolve ON assignments (resolve_due, id)
    WHERE state IN ('dispatched', 'acknowledged', 'in_progress');

-- Escalations open now (GET /stats/escalations): PostgreSQL took open work escalated at a level
-- for a few rows of thousands (escalated history is rare, open work escalated is common: the two
-- columns are not independent) and planned nested loops for all of them. Statistics of the two
-- together let it see how many there are.
CREATE STATISTICS assignments_state_escalation (mcv) ON state, escalation_level FROM assignments;
ANALYZE assignments;
