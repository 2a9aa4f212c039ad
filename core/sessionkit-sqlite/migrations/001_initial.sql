-- Schema version 1: sessions and their client state.
--
-- `sessions` is keyed by the 16 raw bytes of the session id (WITHOUT ROWID: the primary key is
-- the table's b-tree, so a lookup by id is one seek). Every secondary index therefore ends with
-- `id`, which gives the listing and the cleanup a total order for free.

CREATE TABLE sessions (
    id                  BLOB    NOT NULL PRIMARY KEY
                                CHECK (typeof(id) = 'blob' AND length(id) = 16),
    token_hash          BLOB    NOT NULL
                                CHECK (typeof(token_hash) = 'blob' AND length(token_hash) = 32),
    user_id             TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    last_active_at      INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    client_kind         TEXT    NOT NULL
                                CHECK (client_kind IN ('desktop', 'mobile', 'web', 'other')),
    client_version      TEXT,
    device              TEXT,
    ip                  TEXT,
    user_agent          TEXT,
    active              INTEGER NOT NULL CHECK (active IN (0, 1)),
    -- The JSON object exactly as `serde_json::to_string` wrote it: the metadata
    -- compare-and-swap compares this text byte for byte.
    metadata            TEXT    NOT NULL
) WITHOUT ROWID;

-- A user's sessions, newest activity first: listing pages, counts, the per-user limit.
CREATE INDEX sessions_by_user ON sessions (user_id, last_active_at DESC, id DESC);

-- Expired sessions, oldest expiry first: cleanup in bounded batches.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- At most one state per session, removed with it.
CREATE TABLE session_state (
    session_id BLOB    NOT NULL PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    blob       BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
