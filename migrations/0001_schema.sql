-- The whole mission's schema: reference data, people, tickets and their assignments,
-- the append-only audit trail and the outbox that feeds the event bus.
-- Constraints make the database itself refuse impossible rows.

-- Reference data (synchronised from the agencies/ package at start-up) -------------------

CREATE TABLE agencies (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,31}$'),
    name_zh     text NOT NULL CHECK (name_zh <> ''),
    name_en     text NOT NULL CHECK (name_en <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE districts (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,31}$'),
    name_zh     text NOT NULL UNIQUE CHECK (name_zh <> ''),
    name_en     text NOT NULL CHECK (name_en <> '')
);

CREATE TABLE categories (
    code              text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$'),
    agency            text NOT NULL REFERENCES agencies (code),
    name_zh           text NOT NULL,
    name_en           text NOT NULL,
    default_priority  text NOT NULL CHECK (default_priority IN ('P1', 'P2', 'P3', 'P4'))
);

-- Service levels: a row per priority, optionally refined per category and/or agency.
-- The most specific matching row wins (category+agency, category, agency, priority only).
CREATE TABLE service_levels (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    priority         text NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    category         text REFERENCES categories (code),
    agency           text REFERENCES agencies (code),
    ack_seconds      integer NOT NULL CHECK (ack_seconds > 0),
    resolve_seconds  integer NOT NULL CHECK (resolve_seconds > 0),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       text,
    CHECK (resolve_seconds >= ack_seconds)
);
CREATE UNIQUE INDEX service_levels_scope_key
    ON service_levels (priority, category, agency) NULLS NOT DISTINCT;

-- People and desks -----------------------------------------------------------------------

CREATE TABLE desks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_.-]{1,63}$'),
    agency      text NOT NULL REFERENCES agencies (code),
    name        text NOT NULL CHECK (name <> ''),
    city_level  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- At most one city-level desk per agency: the fallback when the district is unknown.
CREATE UNIQUE INDEX desks_one_city_level_per_agency ON desks (agency) WHERE city_level;

CREATE TABLE desk_districts (
    desk_id   bigint NOT NULL REFERENCES desks (id) ON DELETE CASCADE,
    district  text NOT NULL REFERENCES districts (code),
    PRIMARY KEY (desk_id, district)
);
CREATE INDEX desk_districts_by_district ON desk_districts (district);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    role          text NOT NULL CHECK (role IN ('call_taker', 'desk', 'supervisor', 'admin', 'partner')),
    agency        text REFERENCES agencies (code),
    district      text REFERENCES districts (code),
    desk_id       bigint REFERENCES desks (id),
    -- SHA-256 of the API token; the token itself is shown once and never stored.
    token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    -- A desk user always belongs to an agency.
    CHECK (role <> 'desk' OR agency IS NOT NULL)
);

-- Tickets --------------------------------------------------------------------------------

-- Ticket numbers read MS<yyyymmdd>-<serial>; the serial comes from one sequence so that
-- creating tickets never contends on a counter row.
CREATE SEQUENCE ticket_number_seq AS bigint START 1;

CREATE TABLE tickets (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number           text NOT NULL UNIQUE CHECK (number ~ '^MS[0-9]{8}-[0-9]{6,}$'),
    tracking_token   text NOT NULL CHECK (length(tracking_token) >= 16),
    channel          text NOT NULL CHECK (channel IN ('phone', 'web', 'app', 'sms', 'open311', 'eido')),
    caller_phone     text,
    caller_name      text,
    address          text NOT NULL DEFAULT '',
    district         text REFERENCES districts (code),
    lat              double precision CHECK (lat BETWEEN -90 AND 90),
    lon              double precision CHECK (lon BETWEEN -180 AND 180),
    description      text NOT NULL CHECK (description <> ''),
    category         text REFERENCES categories (code),
    priority         text NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    status           text NOT NULL DEFAULT 'new' CHECK (status IN
                        ('new', 'dispatched', 'acknowledged', 'in_progress', 'resolved', 'closed', 'merged', 'cancelled')),
    merged_into      bigint REFERENCES tickets (id),
    -- What the router proposed, kept beside what was decided, to learn from corrections.
    classification   jsonb,
    created_by       bigint REFERENCES users (id),
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    -- SHA-256 of the create request, so that a key reused for a different request is refused.
    request_hash     bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz,
    closed_at        timestamptz,
    anonymised_at    timestamptz,
    CHECK ((lat IS NULL) = (lon IS NULL)),
    CHECK ((status = 'merged') = (merged_into IS NOT NULL)),
    CHECK (merged_into IS DISTINCT FROM id)
);
-- One ticket per (creator, Idempotency-Key): a retried or double-clicked create finds the first.
CREATE UNIQUE INDEX tickets_idempotency_key ON tickets (created_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX tickets_open_by_created ON tickets (created_at DESC, id DESC)
    WHERE status NOT IN ('closed', 'merged', 'cancelled');
CREATE INDEX tickets_by_created ON tickets (created_at DESC, id DESC);
-- The duplicate finder's candidates: open tickets of related categories, newest first.
CREATE INDEX tickets_open_by_category ON tickets (category, created_at DESC)
    WHERE status NOT IN ('closed', 'merged', 'cancelled');
CREATE INDEX tickets_by_status ON tickets (status, id DESC);
CREATE INDEX tickets_by_caller_phone ON tickets (caller_phone, created_at DESC);
CREATE INDEX tickets_by_district ON tickets (district, id DESC);

-- Further calls about the same incident.
CREATE TABLE reports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id     bigint NOT NULL REFERENCES tickets (id),
    channel       text NOT NULL CHECK (channel IN ('phone', 'web', 'app', 'sms', 'open311', 'eido')),
    caller_phone  text,
    caller_name   text,
    description   text NOT NULL CHECK (description <> ''),
    created_by    bigint REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- The ticket this report was first filed under, when it moved in a merge.
    moved_from    bigint REFERENCES tickets (id)
);
CREATE INDEX reports_by_ticket ON reports (ticket_id, id);

-- Assignments: one per agency involved in a ticket -------------------------------------

CREATE TABLE assignments (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id        bigint NOT NULL REFERENCES tickets (id),
    agency           text NOT NULL REFERENCES agencies (code),
    desk_id          bigint REFERENCES desks (id),
    role             text NOT NULL CHECK (role IN ('lead', 'assist')),
    state            text NOT NULL DEFAULT 'dispatched' CHECK (state IN
                        ('dispatched', 'acknowledged', 'in_progress', 'resolved', 'returned', 'transferred', 'released')),
    ack_due          timestamptz NOT NULL,
    resolve_due      timestamptz NOT NULL,
    paused_at        timestamptz,
    pause_reason     text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    acknowledged_by  bigint REFERENCES users (id),
    started_at       timestamptz,
    resolved_at      timestamptz,
    resolved_by      bigint REFERENCES users (id),
    resolution       text,
    closed_at        timestamptz,
    closed_reason    text,
    transferred_to   bigint REFERENCES assignments (id),
    version          integer NOT NULL DEFAULT 1,
    CHECK (resolve_due >= ack_due),
    CHECK ((paused_at IS NULL) = (pause_reason IS NULL)),
    CHECK (state = 'dispatched' OR acknowledged_at IS NOT NULL OR state IN ('returned', 'transferred', 'released')),
    CHECK (state <> 'in_progress' OR started_at IS NOT NULL),
    CHECK (state <> 'resolved' OR (resolved_at IS NOT NULL AND resolution IS NOT NULL)),
    CHECK (state NOT IN ('returned', 'transferred', 'released') OR (closed_at IS NOT NULL AND closed_reason IS NOT NULL))
);
-- A ticket has at most one live lead and at most one live assignment per agency.
CREATE UNIQUE INDEX assignments_one_live_lead ON assignments (ticket_id)
    WHERE role = 'lead' AND state NOT IN ('returned', 'transferred', 'released');
CREATE UNIQUE INDEX assignments_one_live_per_agency ON assignments (ticket_id, agency)
    WHERE state NOT IN ('returned', 'transferred', 'released');
CREATE INDEX assignments_by_ticket ON assignments (ticket_id, id);
-- Open work by agency, and the deadline watcher's two queues.
CREATE INDEX assignments_open_by_agency ON assignments (agency, state, id DESC)
    WHERE state IN ('dispatched', 'acknowledged', 'in_progress');
CREATE INDEX assignments_ack_due ON assignments (ack_due)
    WHERE state = 'dispatched' AND paused_at IS NULL;
CREATE INDEX assignments_resolve_due ON assignments (resolve_due)
    WHERE state IN ('dispatched', 'acknowledged', 'in_progress') AND paused_at IS NULL;

-- Escalations: one row per (assignment, deadline kind, level) makes doubling impossible.
CREATE TABLE escalations (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignment_id  bigint NOT NULL REFERENCES assignments (id),
    kind           text NOT NULL CHECK (kind IN ('ack', 'resolve', 'reminder_ack', 'reminder_resolve')),
    level          smallint NOT NULL CHECK (level BETWEEN 0 AND 10),
    due_at         timestamptz NOT NULL,
    escalated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (assignment_id, kind, level)
);

-- Citizens' feedback (回访); a ticket may be rated again after it was reopened.
CREATE TABLE feedback (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES tickets (id),
    satisfied   boolean NOT NULL,
    rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_by_ticket ON feedback (ticket_id, id);

-- Classifier models retrained from call-takers' corrections; every server process loads the
-- newest, so a retrain reaches all hosts without a restart.
CREATE TABLE classifier_models (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT now(),
    model           bytea NOT NULL,
    corrections     integer NOT NULL CHECK (corrections >= 0),
    heldout_before  jsonb NOT NULL,
    heldout_after   jsonb NOT NULL
);

-- Agency systems that receive assignments by webhook.
CREATE TABLE webhooks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency      text NOT NULL REFERENCES agencies (code),
    desk_id     bigint REFERENCES desks (id),
    url         text NOT NULL CHECK (url ~ '^https?://'),
    secret      text NOT NULL CHECK (length(secret) >= 32),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The audit trail and the bus feed ---------------------------------------------------------

-- Every change of state is one row here, never updated or deleted.
CREATE TABLE events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id      bigint NOT NULL REFERENCES tickets (id),
    assignment_id  bigint REFERENCES assignments (id),
    type           text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    actor_id       bigint REFERENCES users (id),
    actor          text NOT NULL,
    -- Agencies whose desks see this event (their streams carry it).
    agencies       text[] NOT NULL DEFAULT '{}',
    data           jsonb NOT NULL DEFAULT '{}',
    at             timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_by_ticket ON events (ticket_id, id);
CREATE INDEX events_by_agency ON events USING gin (agencies);

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- Written in the same transaction as the event. The relay (one leader) gives each row a
-- sequence number in publish order, publishes it, then marks it. The sequence number is
-- the cursor clients resume from: unlike event ids, it never goes back in commit order.
CREATE SEQUENCE outbox_seq AS bigint START 1;
CREATE TABLE outbox (
    event_id      bigint PRIMARY KEY REFERENCES events (id),
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    seq           bigint UNIQUE,
    published_at  timestamptz,
    CHECK (published_at IS NULL OR seq IS NOT NULL)
);
CREATE INDEX outbox_unsequenced ON outbox (event_id) WHERE seq IS NULL;
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE seq IS NOT NULL AND published_at IS NULL;

-- The relay sleeps on this channel; every transaction that queues events wakes it.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dispatch_outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_wakes_the_relay
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
