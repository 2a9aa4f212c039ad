-- Schema version 2: the events table the relay between servers polls (see relay.rs). Each
-- server appends its engine's events; every server reads the rows after the last it saw; rows
-- older than the retention are deleted in bounded batches.

CREATE TABLE IF NOT EXISTS sessionkit_events (
    seq        BIGINT     NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- The publishing relay (16 random bytes): a relay skips its own events.
    origin     BINARY(16) NOT NULL,
    -- When it was published (ms since the Unix epoch): retention.
    created_at BIGINT     NOT NULL,
    -- The event as JSON (a few hundred bytes at most).
    payload    TEXT       CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    INDEX sessionkit_events_by_time (created_at)
) ENGINE = InnoDB;
