-- The knowledge base (知识库) that call-takers answer consultations from, tickets answered at
-- first contact (直接答复), the short code a caller can type on a phone keypad, passwords for
-- signing in to the consoles, and the text messages (SMS) sent to callers.

-- Knowledge base ---------------------------------------------------------------------------

-- One row per entry holds its current version (what search reads); every version, the current
-- one included, is kept in kb_versions and never changed, so an answer given on a ticket can
-- always be read exactly as it was.
CREATE TABLE kb_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version        integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    answer         text NOT NULL CHECK (length(answer) BETWEEN 1 AND 8000),
    category       text REFERENCES categories (code),
    agency         text REFERENCES agencies (code),
    keywords       text[] NOT NULL DEFAULT '{}',
    valid_from     date,
    valid_to       date,
    last_reviewed  date,
    retired_at     timestamptz,
    -- Search terms (character bigrams of the normalised title, keywords and answer), written by
    -- the service from the same text normalisation the router uses (dispatch/store/kb.py).
    title_terms    text[] NOT NULL DEFAULT '{}',
    keyword_terms  text[] NOT NULL DEFAULT '{}',
    answer_terms   text[] NOT NULL DEFAULT '{}',
    terms          text[] NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     bigint REFERENCES users (id),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     bigint REFERENCES users (id),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
);
CREATE INDEX kb_entries_terms ON kb_entries USING gin (terms);
CREATE INDEX kb_entries_live ON kb_entries (updated_at DESC, id DESC) WHERE retired_at IS NULL;

CREATE TABLE kb_versions (
    entry_id       bigint NOT NULL REFERENCES kb_entries (id),
    version        integer NOT NULL CHECK (version >= 1),
    title          text NOT NULL,
    answer         text NOT NULL,
    category       text REFERENCES categories (code),
    agency         text REFERENCES agencies (code),
    keywords       text[] NOT NULL DEFAULT '{}',
    valid_from     date,
    valid_to       date,
    last_reviewed  date,
    retired        boolean NOT NULL DEFAULT false,
    note           text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     bigint REFERENCES users (id),
    created_by_name text NOT NULL,
    PRIMARY KEY (entry_id, version)
);

-- Answered consultations ---------------------------------------------------------------------

-- 'answered': closed at first contact from the knowledge base or in free text, with no
-- assignment and no deadline; final like closed.
ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check CHECK (status IN
    ('new', 'dispatched', 'acknowledged', 'in_progress', 'resolved', 'closed', 'merged', 'cancelled', 'answered'));
ALTER TABLE tickets
    ADD COLUMN kb_entry_id bigint,
    ADD COLUMN kb_version integer,
    ADD CONSTRAINT tickets_kb_version_fkey FOREIGN KEY (kb_entry_id, kb_version) REFERENCES kb_versions (entry_id, version),
    ADD CONSTRAINT tickets_kb_answer_only_when_answered CHECK (kb_entry_id IS NULL OR status = 'answered');
CREATE INDEX tickets_answered ON tickets (created_at) WHERE status = 'answered';

-- Short codes ----------------------------------------------------------------------------------

-- Six digits a caller can note and type on a phone keypad, beside the long tracking token. Not
-- unique (a lookup always names the ticket number too); drawn from gen_random_uuid(), which
-- PostgreSQL fills from its strong random source. Guessing is bounded by the public lookup's
-- rate limits (docs/privacy.md).
CREATE FUNCTION new_short_code() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT lpad(((('x' || substr(md5(gen_random_uuid()::text), 1, 12))::bit(48)::bigint) % 1000000)::text, 6, '0')
$$;
ALTER TABLE tickets ADD COLUMN short_code text NOT NULL DEFAULT new_short_code() CHECK (short_code ~ '^[0-9]{6}$');

-- Passwords ----------------------------------------------------------------------------------

-- An argon2id hash (argon2-cffi's encoded form, parameters and salt included); NULL: the user
-- signs in with the API token only. Changing it bumps password_epoch, which ends the sessions
-- signed before the change.
ALTER TABLE users
    ADD COLUMN password_hash text CHECK (password_hash IS NULL OR password_hash LIKE '$argon2%'),
    ADD COLUMN password_changed_at timestamptz,
    ADD COLUMN password_epoch integer NOT NULL DEFAULT 0;

-- Text messages to callers ----------------------------------------------------------------------

-- One row per message, written by a trigger in the transaction that creates a ticket whose
-- caller gave a mobile number (like the outbox: never lost, never holding the create up); the
-- notifier (dispatch/sms.py) writes the text, sends it after commit and retries with back-off.
CREATE TABLE sms_messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id        bigint NOT NULL REFERENCES tickets (id),
    phone            text,
    body             text,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'logged', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX sms_messages_pending ON sms_messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX sms_messages_by_ticket ON sms_messages (ticket_id);

CREATE FUNCTION tickets_queue_sms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sms_messages (ticket_id, phone) VALUES (NEW.id, NEW.caller_phone);
    PERFORM pg_notify('dispatch_sms', '');
    RETURN NULL;
END;
$$;
-- Chinese mobile numbers only (stored as E.164): a landline cannot receive a text.
CREATE TRIGGER tickets_queue_sms_on_create
    AFTER INSERT ON tickets
    FOR EACH ROW WHEN (NEW.caller_phone ~ '^\+861[3-9][0-9]{9}$')
    EXECUTE FUNCTION tickets_queue_sms();
