-- Agency handlers (docs/agencies.md): the intake facts a ticket carries for its agencies, and
-- what delivery to the agencies' own systems needs to know about each webhook.

-- Facts keyed by agency code, each checked by that agency's module at intake, e.g.
-- {"health": {"conscious": false, "breathing": true, "injured_count": 2}}.
ALTER TABLE tickets
    ADD COLUMN facts jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(facts) = 'object');

-- start_seq: a webhook receives the events published after this outbox sequence number (the
-- newest when it was registered), so that registering one does not replay the whole stream.
-- The last outcome is kept for operators (dispatch webhook list); the attempts themselves
-- live in the Redis consumer groups and the dead-letter streams.
ALTER TABLE webhooks
    ADD COLUMN start_seq          bigint NOT NULL DEFAULT 0 CHECK (start_seq >= 0),
    ADD COLUMN deactivated_at     timestamptz,
    ADD COLUMN last_delivered_at  timestamptz,
    ADD COLUMN last_failed_at     timestamptz,
    ADD COLUMN last_error         text,
    ADD COLUMN delivered_count    bigint NOT NULL DEFAULT 0,
    ADD COLUMN dead_count         bigint NOT NULL DEFAULT 0,
    ADD CHECK (active OR deactivated_at IS NOT NULL);
CREATE INDEX webhooks_active_by_agency ON webhooks (agency) WHERE active;
