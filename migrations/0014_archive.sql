-- Archiving by month (`dispatch archive`, docs/scaling.md "Retention and archiving"): a month's
-- closed tickets, with everything that refers to them, are exported to files, verified, then
-- deleted from the database in batches; `dispatch archive restore` puts them back.

-- One row per month being deleted or deleted: what makes a killed delete resumable, a second
-- export of the month refused, and a restore know what it restores. manifest_sha256 names the
-- archive (SHA-256 of its manifest.json) that the delete was verified against.
CREATE TABLE archived_months (
    month            date PRIMARY KEY CHECK (extract(day FROM month) = 1),
    state            text NOT NULL CHECK (state IN ('deleting', 'archived')),
    manifest_sha256  text NOT NULL CHECK (manifest_sha256 ~ '^[0-9a-f]{64}$'),
    tickets          bigint NOT NULL CHECK (tickets >= 0),
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CHECK ((state = 'archived') = (finished_at IS NOT NULL))
);

-- Events stay append-only, with a second exception beside redaction (0005): the archive's
-- delete may remove the events of the tickets it has exported and verified, and says so by
-- setting `dispatch.archiving` for its own transactions. UPDATE keeps the redaction rule alone;
-- TRUNCATE stays refused.
CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('dispatch.archiving', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE'
       AND current_setting('dispatch.redacting', true) = 'on'
       AND (NEW.id, NEW.ticket_id, NEW.assignment_id, NEW.type, NEW.actor_id, NEW.actor, NEW.agencies, NEW.at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.ticket_id, OLD.assignment_id, OLD.type, OLD.actor_id, OLD.actor, OLD.agencies, OLD.at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- A restored ticket is not a new one: its text message went out years ago (and its row comes
-- back from the archive), so the restore's transaction queues none.
CREATE OR REPLACE FUNCTION tickets_queue_sms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('dispatch.archiving', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO sms_messages (ticket_id, phone) VALUES (NEW.id, NEW.caller_phone);
    PERFORM pg_notify('dispatch_sms', '');
    RETURN NULL;
END;
$$;

-- Deleting a ticket, an assignment or an event makes PostgreSQL look for rows that still refer
-- to it, once per deleted row: without an index on the referring column that is a scan of the
-- whole table each time. These four were never read by the service, so they had none. The
-- first three hold only the few merged tickets, moved reports and transfers; the fourth holds
-- every event (about 8 bytes a row after B-tree deduplication: 48 MB for 6.2 million events,
-- 48 bytes a ticket; built in seconds there). On a large installation create it beforehand,
-- without blocking writes,
--     CREATE INDEX CONCURRENTLY events_by_assignment ON events (assignment_id) WHERE assignment_id IS NOT NULL;
-- and this migration finds it there.
CREATE INDEX IF NOT EXISTS tickets_by_merged_into ON tickets (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX IF NOT EXISTS reports_by_moved_from ON reports (moved_from) WHERE moved_from IS NOT NULL;
CREATE INDEX IF NOT EXISTS assignments_by_transferred_to ON assignments (transferred_to) WHERE transferred_to IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_assignment ON events (assignment_id) WHERE assignment_id IS NOT NULL;
