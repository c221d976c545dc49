-- Callers without a usable number: why there is none (the number was not shown, the caller
-- refused to give it, a payphone, someone calling on another's behalf), on tickets and reports.
-- A phone call has a number or a reason, never both (the API checks); other channels may have neither.
ALTER TABLE tickets ADD COLUMN caller_no_phone_reason text
    CHECK (caller_no_phone_reason IN ('not_shown', 'refused', 'payphone', 'on_behalf'));
ALTER TABLE reports ADD COLUMN caller_no_phone_reason text
    CHECK (caller_no_phone_reason IN ('not_shown', 'refused', 'payphone', 'on_behalf'));

-- The 待分派 queue reads tickets in status new, oldest first.
CREATE INDEX tickets_queue ON tickets (created_at, id) WHERE status = 'new';
