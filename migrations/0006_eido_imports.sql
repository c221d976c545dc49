-- One ticket per incident handed over by EIDO: the incident tracking identifier (globally
-- unique, NENA-STA-010) finds the ticket an earlier hand-over of the same incident created, so
-- that the same EIDO twice is one ticket and an updated one adds to it. `notes` are the keys of
-- the EIDO notes already on the ticket's timeline, `callbacks` SHA-256 digests (hex) of the
-- callback URIs already kept there (the numbers themselves live in events, which purge scrubs).
CREATE TABLE eido_imports (
    tracking_id    text PRIMARY KEY CHECK (length(tracking_id) BETWEEN 1 AND 500),
    ticket_id      bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    imported_by    bigint REFERENCES users (id),
    document_hash  bytea NOT NULL,
    notes          text[] NOT NULL DEFAULT '{}',
    callbacks      text[] NOT NULL DEFAULT '{}',
    versions       integer NOT NULL DEFAULT 1 CHECK (versions >= 1),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX eido_imports_by_ticket ON eido_imports (ticket_id);
