-- Schema version 1: sessions, their client state and the schema's own version.
--
-- The same shape as the SQLite store's schema at its version 3: sessions keyed by the 16 raw id
-- bytes, the cleared-state version and the metadata revision in the session row, at most one
-- state per session, removed with it.

CREATE TABLE sessionkit_schema (
    -- One row: the schema version this database is at.
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version integer NOT NULL
);

CREATE TABLE sessions (
    id                    bytea   NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    token_hash            bytea   NOT NULL CHECK (length(token_hash) = 32),
    user_id               text    NOT NULL,
    created_at            bigint  NOT NULL,
    last_active_at        bigint  NOT NULL,
    expires_at            bigint  NOT NULL,
    absolute_expires_at   bigint  NOT NULL,
    client_kind           text    NOT NULL
                                  CHECK (client_kind IN ('desktop', 'mobile', 'web', 'other')),
    client_version        text,
    device                text,
    ip                    text,
    user_agent            text,
    active                boolean NOT NULL,
    -- The JSON object as `serde_json::to_string` wrote it. Text, not jsonb: jsonb refuses the
    -- escape \u0000 that metadata strings may hold and rewrites numbers; nothing here queries
    -- inside metadata, and the compare-and-swap compares `metadata_revision`, never the text.
    metadata              text    NOT NULL,
    metadata_revision     bigint  NOT NULL DEFAULT 0 CHECK (metadata_revision >= 0),
    -- The version of the last cleared state (0: never cleared); see the SQLite store.
    cleared_state_version bigint  NOT NULL DEFAULT 0 CHECK (cleared_state_version >= 0)
);

-- A user's sessions, newest activity first: listing pages, counts, the per-user limit.
CREATE INDEX sessions_by_user ON sessions (user_id, last_active_at DESC, id DESC);

-- Expired sessions, oldest expiry first (ties by id): cleanup in bounded batches.
CREATE INDEX sessions_by_expiry ON sessions (expires_at, id);

CREATE TABLE session_state (
    session_id bytea  NOT NULL PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    version    bigint NOT NULL CHECK (version >= 1),
    blob       bytea  NOT NULL,
    updated_at bigint NOT NULL
);
