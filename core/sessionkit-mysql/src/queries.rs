//! Every SQL statement the store runs, in one place, all parameterised with `?` (positional: the
//! comment of each says the order). The hot paths are listed by [`hot_path_statements`] so tests
//! can check their plans (`EXPLAIN`) against the real text.
//!
//! Session rows are selected in the one column order `crate::rows` decodes.

/// The columns of a session row, in the order [`crate::rows`] decodes them.
macro_rules! session_columns {
    () => {
        "id, token_hash, user_id, created_at, last_active_at, expires_at, absolute_expires_at, \
         client_kind, client_version, device, ip, user_agent, active, metadata, metadata_revision"
    };
}

/// "Live" on a session row. Parameters: now, idle cutoff, absolute cutoff.
macro_rules! live {
    () => {
        "active AND expires_at > ? AND last_active_at > ? AND created_at > ?"
    };
}

/// "Expired" on a session row. Parameters: now, idle cutoff, absolute cutoff.
macro_rules! expired {
    () => {
        "(expires_at <= ? OR last_active_at <= ? OR created_at <= ?)"
    };
}

// ---- sessions by id --------------------------------------------------------------------------

/// One session by id (`validate`, `get`). id.
pub(crate) const GET_SESSION: &str =
    concat!("SELECT ", session_columns!(), " FROM sessions WHERE id = ?");

/// Whether a session exists and is active. id.
pub(crate) const SESSION_ACTIVE: &str = "SELECT active FROM sessions WHERE id = ?";

/// Locks an existing session's row for the transaction; its status and cleared-state version.
/// id.
pub(crate) const LOCK_SESSION: &str =
    "SELECT active, cleared_state_version FROM sessions WHERE id = ? FOR UPDATE";

/// Insert-only creation: a taken id is a duplicate-key error (no `INSERT IGNORE`, which would
/// also turn other errors into warnings). The 15 session columns.
pub(crate) const INSERT_SESSION: &str = concat!(
    "INSERT INTO sessions (",
    session_columns!(),
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
);

/// Slides activity and expiry of an active, unexpired session whose recorded activity is not
/// later. last_active_at, expires_at, id, now, idle cutoff, absolute cutoff, last_active_at.
pub(crate) const TOUCH_SESSION: &str = concat!(
    "UPDATE sessions SET last_active_at = ?, expires_at = ? WHERE id = ? AND ",
    live!(),
    " AND last_active_at <= ?"
);

/// Why a touch matched no row: status and times. id.
pub(crate) const SESSION_TIMES: &str =
    "SELECT active, created_at, last_active_at, expires_at FROM sessions WHERE id = ?";

/// Status and metadata revision, the row locked. id.
pub(crate) const LOCK_SESSION_METADATA_REVISION: &str =
    "SELECT active, metadata_revision FROM sessions WHERE id = ? FOR UPDATE";

/// Status and metadata revision: why a metadata compare-and-swap matched no row. id.
pub(crate) const SESSION_METADATA_REVISION: &str =
    "SELECT active, metadata_revision FROM sessions WHERE id = ?";

/// Replaces the metadata of an active session whose revision is still the expected one.
/// metadata, new revision, id, expected revision.
pub(crate) const REPLACE_METADATA: &str = "UPDATE sessions SET metadata = ?, \
     metadata_revision = ? WHERE id = ? AND active AND metadata_revision = ?";

/// Revokes an active session. id.
pub(crate) const REVOKE_SESSION: &str =
    "UPDATE sessions SET active = FALSE WHERE id = ? AND active";

/// Deletes a session; its state goes with it (`ON DELETE CASCADE`). id.
pub(crate) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = ?";

/// Deletes a session if it is expired. id, now, idle cutoff, absolute cutoff.
pub(crate) const DELETE_EXPIRED_SESSION: &str =
    concat!("DELETE FROM sessions WHERE id = ? AND ", expired!());

// ---- sessions by user ------------------------------------------------------------------------

/// First page of a user's sessions. user_id, limit.
pub(crate) const LIST_FIRST: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = ? \
     ORDER BY last_active_at DESC, id DESC LIMIT ?"
);

/// First page of a user's live sessions. user_id, now, idle cutoff, absolute cutoff, limit.
pub(crate) const LIST_FIRST_LIVE: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = ? AND ",
    live!(),
    " ORDER BY last_active_at DESC, id DESC LIMIT ?"
);

/// A later page: strictly after the cursor's `(last_active_at, id)`, written so the range on
/// `last_active_at` seeks in the index. user_id, cursor last_active_at (twice), cursor id,
/// limit.
pub(crate) const LIST_AFTER: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = ? AND last_active_at <= ? \
     AND (last_active_at < ? OR id < ?) \
     ORDER BY last_active_at DESC, id DESC LIMIT ?"
);

/// A later page of live sessions. user_id, cursor last_active_at (twice), cursor id, now,
/// idle cutoff, absolute cutoff, limit.
pub(crate) const LIST_AFTER_LIVE: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = ? AND last_active_at <= ? \
     AND (last_active_at < ? OR id < ?) AND ",
    live!(),
    " ORDER BY last_active_at DESC, id DESC LIMIT ?"
);

/// Serialises the inserts of one user under a limit for the rest of the transaction: inserts
/// (or finds) the user's lock row and holds its exclusive lock until commit. user_id.
pub(crate) const LOCK_USER: &str = "INSERT INTO sessionkit_users (user_id) VALUES (?) \
     ON DUPLICATE KEY UPDATE user_id = user_id";

/// The positions of a user's live sessions (the per-user limit). user_id, now, idle cutoff,
/// absolute cutoff.
pub(crate) const LIVE_POSITIONS_OF_USER: &str = concat!(
    "SELECT last_active_at, id FROM sessions WHERE user_id = ? AND ",
    live!()
);

/// Revokes sessions by id (`crate::store::IN_LIST` placeholders follow).
pub(crate) const REVOKE_IDS: &str = "UPDATE sessions SET active = FALSE WHERE id IN ";

/// Deletes sessions by id (`crate::store::IN_LIST` placeholders follow).
pub(crate) const DELETE_IDS: &str = "DELETE FROM sessions WHERE id IN ";

/// A user's live sessions except one (the empty id: none), locked. user_id, except, now, idle
/// cutoff, absolute cutoff.
pub(crate) const LOCK_LIVE_OF_USER: &str = concat!(
    "SELECT last_active_at, id FROM sessions WHERE user_id = ? AND id <> ? AND ",
    live!(),
    " FOR UPDATE"
);

/// A user's stored sessions. user_id.
pub(crate) const COUNT_USER: &str = "SELECT COUNT(*) FROM sessions WHERE user_id = ?";

/// A user's live sessions. user_id, now, idle cutoff, absolute cutoff.
pub(crate) const COUNT_USER_LIVE: &str = concat!(
    "SELECT COUNT(*) FROM sessions WHERE user_id = ? AND ",
    live!()
);

/// Up to `limit` sessions of a user, newest activity first, locked. user_id, limit.
pub(crate) const LOCK_USER_SESSIONS: &str = "SELECT id FROM sessions WHERE user_id = ? \
     ORDER BY last_active_at DESC, id DESC LIMIT ? FOR UPDATE";

// ---- all sessions ----------------------------------------------------------------------------

/// How many of the next `limit` ids after `after` there are, and the last of them (by primary
/// key). after, limit.
pub(crate) const NEXT_IDS: &str = "SELECT COUNT(*), MAX(id) FROM (\
     SELECT id FROM sessions WHERE id > ? ORDER BY id LIMIT ?) AS batch";

/// The live sessions with ids in (after, last], locked. after, last, now, idle cutoff,
/// absolute cutoff.
pub(crate) const LOCK_LIVE_IN_RANGE: &str = concat!(
    "SELECT id FROM sessions WHERE id > ? AND id <= ? AND ",
    live!(),
    " FOR UPDATE"
);

/// Every stored session.
pub(crate) const COUNT_ALL: &str = "SELECT COUNT(*) FROM sessions";

/// Every live session. now, idle cutoff, absolute cutoff.
pub(crate) const COUNT_ALL_LIVE: &str = concat!("SELECT COUNT(*) FROM sessions WHERE ", live!());

/// Deletes up to `limit` sessions with `expires_at <= now`, oldest expiry first (ties by id),
/// through the expiry index; state goes by cascade. now, limit.
pub(crate) const DELETE_EXPIRED: &str =
    "DELETE FROM sessions WHERE expires_at <= ? ORDER BY expires_at, id LIMIT ?";

/// Deletes up to `limit` sessions whose stored expiry is still ahead but which the configured
/// timeouts expire, in expiry-index order. Reads every unexpired session: run only once a
/// cleanup has deleted every stored-expired one. now, idle cutoff, absolute cutoff, limit.
pub(crate) const DELETE_TIMED_OUT: &str = "DELETE FROM sessions WHERE expires_at > ? \
     AND (last_active_at <= ? OR created_at <= ?) ORDER BY expires_at, id LIMIT ?";

/// Totals in one pass; durations summed as DECIMAL(65), exact for any i64 timestamps (returned
/// as text). now, idle cutoff, absolute cutoff, the two creation times counted from.
pub(crate) const STATS_TOTALS: &str = concat!(
    "SELECT COUNT(*), CAST(COALESCE(SUM(",
    live!(),
    "), 0) AS SIGNED), CAST(COALESCE(SUM(created_at >= ?), 0) AS SIGNED), \
     CAST(COALESCE(SUM(created_at >= ?), 0) AS SIGNED), \
     CAST(COALESCE(SUM(CAST(last_active_at AS DECIMAL(65, 0)) \
     - CAST(created_at AS DECIMAL(65, 0))), 0) AS CHAR) FROM sessions"
);

/// Sessions per client kind.
pub(crate) const STATS_BY_KIND: &str =
    "SELECT client_kind, COUNT(*) FROM sessions GROUP BY client_kind";

/// A page of sessions with their state (and the version of their last cleared state) in id
/// order, strictly after `after` (the empty id sorts before every id: "from the start").
/// after, limit.
pub(crate) const SCAN_SESSIONS: &str = concat!(
    "SELECT ",
    session_columns!(),
    ", version, data, updated_at, cleared_state_version FROM sessions \
     LEFT JOIN session_state ON session_id = id \
     WHERE id > ? ORDER BY id LIMIT ?"
);

// ---- state -----------------------------------------------------------------------------------

/// A session's state, if any (a row with NULLs when the session has none). id.
pub(crate) const GET_STATE: &str = "SELECT version, data, updated_at FROM sessions \
     LEFT JOIN session_state ON session_id = id WHERE id = ?";

/// The stored state version of a session. session id.
pub(crate) const STATE_VERSION: &str = "SELECT version FROM session_state WHERE session_id = ?";

/// Writes a state (after its version was checked in the same transaction).
/// session id, version, blob, updated_at.
pub(crate) const UPSERT_STATE: &str =
    "INSERT INTO session_state (session_id, version, data, updated_at) VALUES (?, ?, ?, ?) \
     ON DUPLICATE KEY UPDATE \
     version = VALUES(version), data = VALUES(data), updated_at = VALUES(updated_at)";

/// Inserts a state (import). session id, version, blob, updated_at.
pub(crate) const INSERT_STATE: &str =
    "INSERT INTO session_state (session_id, version, data, updated_at) VALUES (?, ?, ?, ?)";

/// Removes a state. session id.
pub(crate) const DELETE_STATE: &str = "DELETE FROM session_state WHERE session_id = ?";

/// Remembers the version of a cleared state. version, session id.
pub(crate) const SET_CLEARED_STATE_VERSION: &str =
    "UPDATE sessions SET cleared_state_version = ? WHERE id = ?";

/// Replaces a state's blob if its version is still the one read (re-encryption).
/// blob, session id, version.
pub(crate) const REWRITE_STATE: &str =
    "UPDATE session_state SET data = ? WHERE session_id = ? AND version = ?";

/// Moves a state to another (just inserted) session. new id, old id.
pub(crate) const MOVE_STATE: &str = "UPDATE session_state SET session_id = ? WHERE session_id = ?";

/// The statements on hot paths, by name, with the index that must serve them (validation by
/// id, listings and the limit by user, cleanup by expiry) and one letter per `?` saying what
/// value to explain it with: `i` an id, `u` a user id, `n` a small number (a limit, a time
/// before every stored one), `t` a time after every stored one (a cursor).
#[doc(hidden)]
pub fn hot_path_statements() -> &'static [(&'static str, &'static str, &'static str, &'static str)]
{
    &[
        ("get_session", GET_SESSION, "PRIMARY", "i"),
        ("touch_session", TOUCH_SESSION, "PRIMARY", "nninnnt"),
        ("replace_metadata", REPLACE_METADATA, "PRIMARY", "nnin"),
        ("revoke_session", REVOKE_SESSION, "PRIMARY", "i"),
        ("list_first", LIST_FIRST, "sessions_by_user", "un"),
        (
            "list_first_live",
            LIST_FIRST_LIVE,
            "sessions_by_user",
            "unnnn",
        ),
        ("list_after", LIST_AFTER, "sessions_by_user", "uttin"),
        (
            "list_after_live",
            LIST_AFTER_LIVE,
            "sessions_by_user",
            "uttinnnn",
        ),
        (
            "live_positions_of_user",
            LIVE_POSITIONS_OF_USER,
            "sessions_by_user",
            "unnn",
        ),
        (
            "lock_live_of_user",
            LOCK_LIVE_OF_USER,
            "sessions_by_user",
            "uinnn",
        ),
        ("count_user", COUNT_USER, "sessions_by_user", "u"),
        (
            "count_user_live",
            COUNT_USER_LIVE,
            "sessions_by_user",
            "unnn",
        ),
        (
            "lock_user_sessions",
            LOCK_USER_SESSIONS,
            "sessions_by_user",
            "un",
        ),
        ("delete_expired", DELETE_EXPIRED, "sessions_by_expiry", "nn"),
        ("get_state", GET_STATE, "PRIMARY", "i"),
        ("scan_sessions", SCAN_SESSIONS, "PRIMARY", "in"),
    ]
}
