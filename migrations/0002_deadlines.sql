-- The deadline watcher's bookkeeping (dispatch/deadlines): how far each deadline of an
-- assignment has gone (reminded, escalated to level N), in which round of deadlines.
--
-- A stage per deadline kind, kept on the assignment row and indexed with the deadline, makes
-- "what is due now" one index range per level: an assignment already escalated at level 1 is
-- no longer scanned while it waits for level 2. Stages: 0 nothing sent, 1 reminder sent,
-- L + 1 escalated at level L.

ALTER TABLE assignments
    ADD COLUMN deadline_round      integer  NOT NULL DEFAULT 1 CHECK (deadline_round >= 1),
    ADD COLUMN ack_stage           smallint NOT NULL DEFAULT 0 CHECK (ack_stage BETWEEN 0 AND 11),
    ADD COLUMN resolve_stage       smallint NOT NULL DEFAULT 0 CHECK (resolve_stage BETWEEN 0 AND 11),
    -- When the current round of deadlines started (NULL: at created_at); reminders are a
    -- fraction of the time between this and the deadline.
    ADD COLUMN deadlines_armed_at  timestamptz;

CREATE INDEX assignments_ack_watch ON assignments (ack_stage, ack_due)
    WHERE state = 'dispatched' AND paused_at IS NULL;
CREATE INDEX assignments_resolve_watch ON assignments (resolve_stage, resolve_due)
    WHERE state IN ('dispatched', 'acknowledged', 'in_progress') AND paused_at IS NULL;

-- An assignment that opens again (a resolved one reopened after an unsatisfied citizen) gets
-- new deadlines: a new round, whose escalations are new ones. Done here rather than in each
-- code path that may reopen, so that no path can forget it.
CREATE FUNCTION assignments_rearm_deadlines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.deadline_round := OLD.deadline_round + 1;
    NEW.ack_stage := 0;
    NEW.resolve_stage := 0;
    NEW.deadlines_armed_at := now();
    NEW.paused_at := NULL;
    NEW.pause_reason := NULL;
    RETURN NEW;
END;
$$;
CREATE TRIGGER assignments_rearm_on_reopen
    BEFORE UPDATE OF state ON assignments
    FOR EACH ROW
    WHEN (OLD.state NOT IN ('dispatched', 'acknowledged', 'in_progress')
          AND NEW.state IN ('dispatched', 'acknowledged', 'in_progress'))
    EXECUTE FUNCTION assignments_rearm_deadlines();

-- One escalation per (assignment, deadline kind, level) and round: a reopened assignment may
-- escalate again, a fail-over of the watcher may not repeat one.
ALTER TABLE escalations ADD COLUMN round integer NOT NULL DEFAULT 1 CHECK (round >= 1);
ALTER TABLE escalations DROP CONSTRAINT escalations_assignment_id_kind_level_key;
ALTER TABLE escalations ADD CONSTRAINT escalations_once_per_round UNIQUE (assignment_id, kind, level, round);
CREATE INDEX escalations_by_time ON escalations (escalated_at);
