-- Schema version 3: the metadata compare-and-swap compares a revision number, not text.
--
-- `metadata_revision` counts the replacements of a session's metadata (0 at creation or
-- import). `update_metadata` writes only if the revision it read is still the stored one, and
-- stores the next; the metadata text is no longer compared, so any JSON form of it will do.
ALTER TABLE sessions ADD COLUMN metadata_revision INTEGER NOT NULL DEFAULT 0
    CHECK (metadata_revision >= 0);
