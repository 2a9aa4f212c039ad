//! Every SQL statement the store runs, in one place, all parameterised. The hot paths are listed
//! by [`hot_path_statements`] so tests can check their plans (`EXPLAIN`) against the real text.
//!
//! Session rows are selected in the one column order `crate::rows` decodes.

/// The columns of a session row, in the order [`crate::rows`] decodes them.
macro_rules! session_columns {
    () => {
        "id, token_hash, user_id, created_at, last_active_at, expires_at, absolute_expires_at, \
         client_kind, client_version, device, ip, user_agent, active, metadata, metadata_revision"
    };
}

/// "Live" on a session row: $a now, $b idle cutoff, $c absolute cutoff.
macro_rules! live {
    ($now:literal, $idle:literal, $abs:literal) => {
        concat!(
            "active AND expires_at > $",
            $now,
            " AND last_active_at > $",
            $idle,
            " AND created_at > $",
            $abs
        )
    };
}

/// "Expired" on a session row: $a now, $b idle cutoff, $c absolute cutoff.
macro_rules! expired {
    ($now:literal, $idle:literal, $abs:literal) => {
        concat!(
            "(expires_at <= $",
            $now,
            " OR last_active_at <= $",
            $idle,
            " OR created_at <= $",
            $abs,
            ")"
        )
    };
}

// ---- schema ----------------------------------------------------------------------------------

/// Whether the version table exists (reads only). Read from the catalog with the statement's
/// snapshot (not `to_regclass`, whose cached lookup may miss a table another transaction just
/// created).
pub(crate) const SCHEMA_TABLE_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables \
     WHERE schemaname = current_schema() AND tablename = 'sessionkit_schema')";

/// The schema version.
pub(crate) const SCHEMA_VERSION: &str = "SELECT version FROM sessionkit_schema";

/// Sets the schema version. $1 version.
pub(crate) const SET_SCHEMA_VERSION: &str = "INSERT INTO sessionkit_schema (one, version) \
     VALUES (true, $1) ON CONFLICT (one) DO UPDATE SET version = excluded.version";

/// Serialises schema upgrades between processes for the rest of the transaction.
pub(crate) const LOCK_SCHEMA: &str = "SELECT pg_advisory_xact_lock(1936419691, 0)";

// ---- sessions by id --------------------------------------------------------------------------

/// One session by id (`validate`, `get`). $1 id.
pub(crate) const GET_SESSION: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE id = $1"
);

/// Whether a session exists and is active. $1 id.
pub(crate) const SESSION_ACTIVE: &str = "SELECT active FROM sessions WHERE id = $1";

/// Locks an existing session's row for the transaction; its status and cleared-state version.
/// $1 id.
pub(crate) const LOCK_SESSION: &str =
    "SELECT active, cleared_state_version FROM sessions WHERE id = $1 FOR UPDATE";

/// Insert-only creation: a taken id inserts nothing (and the caller rolls back). $1..$15.
pub(crate) const INSERT_SESSION: &str = concat!(
    "INSERT INTO sessions (",
    session_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (id) DO NOTHING"
);

/// Slides activity and expiry of an active, unexpired session whose recorded activity is not
/// later. $1 id, $2 last_active_at, $3 expires_at, $4 now, $5 idle cutoff, $6 absolute cutoff.
pub(crate) const TOUCH_SESSION: &str = concat!(
    "UPDATE sessions SET last_active_at = $2, expires_at = $3 WHERE id = $1 AND ",
    live!("4", "5", "6"),
    " AND last_active_at <= $2"
);

/// Why a touch matched no row: status and times. $1 id.
pub(crate) const SESSION_TIMES: &str =
    "SELECT active, created_at, last_active_at, expires_at FROM sessions WHERE id = $1";

/// Status and metadata revision, the row locked. $1 id.
pub(crate) const LOCK_SESSION_METADATA_REVISION: &str =
    "SELECT active, metadata_revision FROM sessions WHERE id = $1 FOR UPDATE";

/// Status and metadata revision: why a metadata compare-and-swap matched no row. $1 id.
pub(crate) const SESSION_METADATA_REVISION: &str =
    "SELECT active, metadata_revision FROM sessions WHERE id = $1";

/// Replaces the metadata of an active session whose revision is still the expected one.
/// $1 id, $2 metadata, $3 expected revision, $4 new revision.
pub(crate) const REPLACE_METADATA: &str = "UPDATE sessions SET metadata = $2, \
     metadata_revision = $4 WHERE id = $1 AND active AND metadata_revision = $3";

/// Revokes an active session. $1 id.
pub(crate) const REVOKE_SESSION: &str =
    "UPDATE sessions SET active = false WHERE id = $1 AND active";

/// Deletes a session; its state goes with it (`ON DELETE CASCADE`). $1 id.
pub(crate) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = $1";

/// Deletes a session if it is expired. $1 id, $2 now, $3 idle cutoff, $4 absolute cutoff.
pub(crate) const DELETE_EXPIRED_SESSION: &str = concat!(
    "DELETE FROM sessions WHERE id = $1 AND ",
    expired!("2", "3", "4")
);

// ---- sessions by user ------------------------------------------------------------------------

/// First page of a user's sessions. $1 user_id, $2 limit.
pub(crate) const LIST_FIRST: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = $1 \
     ORDER BY last_active_at DESC, id DESC LIMIT $2"
);

/// First page of a user's live sessions. $1 user_id, $2 limit, $3 now, $4 idle cutoff,
/// $5 absolute cutoff.
pub(crate) const LIST_FIRST_LIVE: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = $1 AND ",
    live!("3", "4", "5"),
    " ORDER BY last_active_at DESC, id DESC LIMIT $2"
);

/// A later page: strictly after the cursor's `(last_active_at, id)`, seeking in the index.
/// $1 user_id, $2 limit, $3 cursor last_active_at, $4 cursor id.
pub(crate) const LIST_AFTER: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = $1 AND (last_active_at, id) < ($3, $4) \
     ORDER BY last_active_at DESC, id DESC LIMIT $2"
);

/// A later page of live sessions. $1 user_id, $2 limit, $3 cursor last_active_at,
/// $4 cursor id, $5 now, $6 idle cutoff, $7 absolute cutoff.
pub(crate) const LIST_AFTER_LIVE: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = $1 AND (last_active_at, id) < ($3, $4) AND ",
    live!("5", "6", "7"),
    " ORDER BY last_active_at DESC, id DESC LIMIT $2"
);

/// Serialises the inserts of one user under a limit for the rest of the transaction: a
/// transaction-scoped advisory lock on the user id's hash (two users whose ids hash alike only
/// wait for each other). $1 user_id.
pub(crate) const LOCK_USER: &str = "SELECT pg_advisory_xact_lock(1936419692, hashtext($1))";

/// The positions of a user's live sessions (the per-user limit). $1 user_id, $2 now,
/// $3 idle cutoff, $4 absolute cutoff.
pub(crate) const LIVE_POSITIONS_OF_USER: &str = concat!(
    "SELECT last_active_at, id FROM sessions WHERE user_id = $1 AND ",
    live!("2", "3", "4")
);

/// Revokes sessions whatever their status (eviction, already known live). $1 ids.
pub(crate) const EVICT_SESSIONS: &str = "UPDATE sessions SET active = false WHERE id = ANY($1)";

/// Revokes a user's live sessions except one (NULL: none); returns the positions it revoked.
/// $1 user_id, $2 except, $3 now, $4 idle cutoff, $5 absolute cutoff.
pub(crate) const REVOKE_USER_SESSIONS: &str = concat!(
    "UPDATE sessions SET active = false WHERE user_id = $1 AND id IS DISTINCT FROM $2 AND ",
    live!("3", "4", "5"),
    " RETURNING last_active_at, id"
);

/// A user's stored sessions. $1 user_id.
pub(crate) const COUNT_USER: &str = "SELECT count(*) FROM sessions WHERE user_id = $1";

/// A user's live sessions. $1 user_id, $2 now, $3 idle cutoff, $4 absolute cutoff.
pub(crate) const COUNT_USER_LIVE: &str = concat!(
    "SELECT count(*) FROM sessions WHERE user_id = $1 AND ",
    live!("2", "3", "4")
);

/// Deletes up to $2 sessions of a user, newest activity first (their state by cascade);
/// returns their ids. $1 user_id, $2 limit.
pub(crate) const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE id IN (\
     SELECT id FROM sessions WHERE user_id = $1 \
     ORDER BY last_active_at DESC, id DESC LIMIT $2) RETURNING id";

// ---- all sessions ----------------------------------------------------------------------------

/// How many of the next $2 ids after $1 there are, and the last of them (by primary key).
pub(crate) const NEXT_IDS: &str = "WITH batch AS (\
     SELECT id FROM sessions WHERE id > $1 ORDER BY id LIMIT $2) \
     SELECT (SELECT count(*) FROM batch), (SELECT id FROM batch ORDER BY id DESC LIMIT 1)";

/// Revokes the live sessions with ids in ($1, $2]; returns their ids. $3 now, $4 idle cutoff,
/// $5 absolute cutoff.
pub(crate) const REVOKE_LIVE_IN_RANGE: &str = concat!(
    "UPDATE sessions SET active = false WHERE id > $1 AND id <= $2 AND ",
    live!("3", "4", "5"),
    " RETURNING id"
);

/// Every stored session.
pub(crate) const COUNT_ALL: &str = "SELECT count(*) FROM sessions";

/// Every live session; unexpired ones are found through the expiry index. $1 now, $2 idle
/// cutoff, $3 absolute cutoff.
pub(crate) const COUNT_ALL_LIVE: &str =
    concat!("SELECT count(*) FROM sessions WHERE ", live!("1", "2", "3"));

/// Deletes up to $2 sessions with `expires_at <= $1`, oldest expiry first (ties by id), found
/// through the expiry index; each is checked again when its row is locked (a concurrent touch
/// may have extended it); state goes by cascade.
pub(crate) const DELETE_EXPIRED: &str = "DELETE FROM sessions WHERE id IN (\
     SELECT id FROM sessions WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2) \
     AND expires_at <= $1";

/// Deletes up to $2 sessions whose stored expiry is still ahead (`expires_at > $1`) but which
/// the configured timeouts expire (`last_active_at <= $3` or `created_at <= $4`), in
/// expiry-index order, each checked again when its row is locked. Reads every unexpired
/// session (MVCC: without blocking writers); run only once a cleanup has deleted every
/// stored-expired one.
pub(crate) const DELETE_TIMED_OUT: &str = concat!(
    "DELETE FROM sessions WHERE id IN (\
     SELECT id FROM sessions WHERE expires_at > $1 AND (last_active_at <= $3 OR created_at <= $4) \
     ORDER BY expires_at, id LIMIT $2) AND ",
    expired!("1", "3", "4")
);

/// Totals in one pass; durations summed as `numeric`, exact for any i64 timestamps (returned as
/// text). $1 now, $2 and $3 the creation times counted from, $4 idle cutoff, $5 absolute cutoff.
pub(crate) const STATS_TOTALS: &str = concat!(
    "SELECT count(*), count(*) FILTER (WHERE ",
    live!("1", "4", "5"),
    "), count(*) FILTER (WHERE created_at >= $2), count(*) FILTER (WHERE created_at >= $3), \
     coalesce(sum(last_active_at::numeric - created_at::numeric), 0)::text FROM sessions"
);

/// Sessions per client kind.
pub(crate) const STATS_BY_KIND: &str =
    "SELECT client_kind, count(*) FROM sessions GROUP BY client_kind";

/// A page of sessions with their state (and the version of their last cleared state) in id
/// order, strictly after $1 (the empty bytea sorts before every id: "from the start"). $2 limit.
pub(crate) const SCAN_SESSIONS: &str = concat!(
    "SELECT ",
    session_columns!(),
    ", version, blob, updated_at, cleared_state_version FROM sessions \
     LEFT JOIN session_state ON session_id = id \
     WHERE id > $1 ORDER BY id LIMIT $2"
);

// ---- state -----------------------------------------------------------------------------------

/// A session's state, if any (a row with NULLs when the session has none). $1 id.
pub(crate) const GET_STATE: &str = "SELECT version, blob, updated_at FROM sessions \
     LEFT JOIN session_state ON session_id = id WHERE id = $1";

/// The stored state version of a session. $1 session id.
pub(crate) const STATE_VERSION: &str = "SELECT version FROM session_state WHERE session_id = $1";

/// Writes a state (after its version was checked in the same transaction).
/// $1 session id, $2 version, $3 blob, $4 updated_at.
pub(crate) const UPSERT_STATE: &str =
    "INSERT INTO session_state (session_id, version, blob, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (session_id) DO UPDATE SET \
     version = excluded.version, blob = excluded.blob, updated_at = excluded.updated_at";

/// Inserts a state (import). $1 session id, $2 version, $3 blob, $4 updated_at.
pub(crate) const INSERT_STATE: &str =
    "INSERT INTO session_state (session_id, version, blob, updated_at) VALUES ($1, $2, $3, $4)";

/// Removes a state, returning its version. $1 session id.
pub(crate) const DELETE_STATE: &str =
    "DELETE FROM session_state WHERE session_id = $1 RETURNING version";

/// Remembers the version of a cleared state. $1 session id, $2 version.
pub(crate) const SET_CLEARED_STATE_VERSION: &str =
    "UPDATE sessions SET cleared_state_version = $2 WHERE id = $1";

/// Replaces a state's blob if its version is still the one read (re-encryption).
/// $1 session id, $2 version, $3 blob.
pub(crate) const REWRITE_STATE: &str =
    "UPDATE session_state SET blob = $3 WHERE session_id = $1 AND version = $2";

/// Moves a state to another (just inserted) session. $1 old id, $2 new id.
pub(crate) const MOVE_STATE: &str =
    "UPDATE session_state SET session_id = $2 WHERE session_id = $1";

/// The statements on hot paths, by name, with the index that must serve them: validation by
/// id, listings and the limit by user, cleanup by expiry.
#[doc(hidden)]
pub fn hot_path_statements() -> &'static [(&'static str, &'static str, &'static str)] {
    &[
        ("get_session", GET_SESSION, "sessions_pkey"),
        ("touch_session", TOUCH_SESSION, "sessions_pkey"),
        ("replace_metadata", REPLACE_METADATA, "sessions_pkey"),
        ("revoke_session", REVOKE_SESSION, "sessions_pkey"),
        ("list_first", LIST_FIRST, "sessions_by_user"),
        ("list_first_live", LIST_FIRST_LIVE, "sessions_by_user"),
        ("list_after", LIST_AFTER, "sessions_by_user"),
        ("list_after_live", LIST_AFTER_LIVE, "sessions_by_user"),
        (
            "live_positions_of_user",
            LIVE_POSITIONS_OF_USER,
            "sessions_by_user",
        ),
        ("count_user", COUNT_USER, "sessions_by_user"),
        ("count_user_live", COUNT_USER_LIVE, "sessions_by_user"),
        (
            "revoke_user_sessions",
            REVOKE_USER_SESSIONS,
            "sessions_by_user",
        ),
        (
            "delete_user_sessions",
            DELETE_USER_SESSIONS,
            "sessions_by_user",
        ),
        ("delete_expired", DELETE_EXPIRED, "sessions_by_expiry"),
        ("get_state", GET_STATE, "session_state_pkey"),
        ("scan_sessions", SCAN_SESSIONS, "sessions_pkey"),
    ]
}
