-- Schema version 2: a state version is never reused within a session.
--
-- `clear_state` deletes the state row; the version it had is kept here, so the next write
-- continues after it instead of starting again at 1 (a client still holding the old version
-- must get `Conflict`, not a match against a different state). 0 = never cleared. Rotation
-- copies it to the new id; it goes with the session row.
ALTER TABLE sessions ADD COLUMN cleared_state_version INTEGER NOT NULL DEFAULT 0
    CHECK (cleared_state_version >= 0);
