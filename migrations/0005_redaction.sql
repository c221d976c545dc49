-- Events stay append-only, with one exception that the retention law requires: `dispatch
-- purge` may rewrite the free text in the data of an event (a reason, a resolution, a note, a
-- citizen's comment) to strike out phone, identity card and bank card numbers. It says so by
-- setting `dispatch.redacting` for its own transaction; every other column must stay as it was,
-- so who did what, when, to which ticket, is never rewritten. DELETE and TRUNCATE stay refused.
CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
