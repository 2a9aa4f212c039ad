-- Schema version 1: sessions, their client state, the per-user lock rows and the schema's own
-- version. InnoDB (transactions, row locks, foreign keys), utf8mb4 text.
--
-- The same shape as the PostgreSQL store's schema at its version 1. MySQL's DDL commits on its
-- own, so every statement here is idempotent (IF NOT EXISTS, indexes declared inside the
-- table): a step interrupted half-way is run again from the start, and the version row is
-- written only after the whole step (see migrations.rs). One statement per `;` at a line end.

CREATE TABLE IF NOT EXISTS sessionkit_schema (
    -- One row: the schema version this database is at.
    one     TINYINT NOT NULL PRIMARY KEY CHECK (one = 1),
    version INT     NOT NULL
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS sessions (
    id                    BINARY(16)     NOT NULL PRIMARY KEY,
    token_hash            BINARY(32)     NOT NULL,
    -- Bytes of UTF-8, compared byte for byte: no collation folds case, accents or (PAD SPACE)
    -- trailing spaces into another user's id. At most 256 bytes (the engine's rule).
    user_id               VARBINARY(256) NOT NULL,
    created_at            BIGINT         NOT NULL,
    last_active_at        BIGINT         NOT NULL,
    expires_at            BIGINT         NOT NULL,
    absolute_expires_at   BIGINT         NOT NULL,
    client_kind           VARCHAR(16)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL
                                         CHECK (client_kind IN ('desktop', 'mobile', 'web', 'other')),
    client_version        TEXT           CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    device                TEXT           CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    ip                    TEXT           CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    user_agent            TEXT           CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    active                BOOLEAN        NOT NULL,
    -- The JSON object as `serde_json::to_string` wrote it (up to 64 KiB: MEDIUMTEXT). Not the
    -- JSON type: nothing queries inside metadata and the text must come back byte for byte.
    metadata              MEDIUMTEXT     CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    metadata_revision     BIGINT         NOT NULL DEFAULT 0 CHECK (metadata_revision >= 0),
    -- The version of the last cleared state (0: never cleared); see the SQLite store.
    cleared_state_version BIGINT         NOT NULL DEFAULT 0 CHECK (cleared_state_version >= 0),
    -- A user's sessions, newest activity first: listing pages, counts, the per-user limit.
    INDEX sessions_by_user (user_id, last_active_at DESC, id DESC),
    -- Expired sessions, oldest expiry first (ties by id): cleanup in bounded batches.
    INDEX sessions_by_expiry (expires_at, id)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS session_state (
    session_id BINARY(16) NOT NULL PRIMARY KEY,
    version    BIGINT     NOT NULL CHECK (version >= 1),
    data       LONGBLOB   NOT NULL,
    updated_at BIGINT     NOT NULL,
    CONSTRAINT session_state_session FOREIGN KEY (session_id) REFERENCES sessions (id)
        ON DELETE CASCADE
) ENGINE = InnoDB;

-- One row per user that ever created a session under a per-user limit: the row an insert locks
-- (`INSERT ... ON DUPLICATE KEY UPDATE` takes its exclusive lock until commit), so inserts for
-- one user are serialised on every connection of every process. A few bytes per user.
CREATE TABLE IF NOT EXISTS sessionkit_users (
    user_id VARBINARY(256) NOT NULL PRIMARY KEY
) ENGINE = InnoDB;
