//! The engine's side of the decisions a store carries out: the bounds it passes to every query
//! (what "live" means now, the statistics windows) and the order it reports results in. The
//! decisions a store must take *inside* its transaction are pure functions on the store's
//! records ([`crate::SessionLimit::decide`], [`crate::StateVersions::decide`],
//! [`crate::next_counter`]).

use crate::store::{Liveness, SessionPosition, StatsQuery};
use crate::{Config, Session, SessionId};

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What "live" means at `now` under `config`: the stored expiry, and the configured idle and
/// absolute timeouts, whichever comes first.
pub(crate) fn liveness(config: &Config, now: i64) -> Liveness {
    Liveness {
        now,
        idle_cutoff: now.saturating_sub(config.idle_timeout_ms),
        absolute_cutoff: now.saturating_sub(config.absolute_timeout_ms),
    }
}

/// The absolute expiry of `session` under `config`: the stored one, or creation + the configured
/// absolute timeout when that is earlier.
pub(crate) fn absolute_expiry(config: &Config, session: &Session) -> i64 {
    session.absolute_expires_at.min(
        session
            .created_at
            .saturating_add(config.absolute_timeout_ms),
    )
}

/// `session` as the engine reports it under `config`: its expiries are the earliest of the
/// stored ones and those the configured timeouts give, so that `expires_at` is when it expires
/// (and [`Session::status_at`] agrees with [`Liveness`]).
pub(crate) fn effective(config: &Config, mut session: Session) -> Session {
    let absolute = absolute_expiry(config, &session);
    session.expires_at = session
        .expires_at
        .min(
            session
                .last_active_at
                .saturating_add(config.idle_timeout_ms),
        )
        .min(absolute);
    session.absolute_expires_at = absolute;
    session
}

/// The statistics bounds at `live.now`: sessions created in the last 24 hours and 7 days.
pub(crate) fn stats_query(live: Liveness) -> StatsQuery {
    StatsQuery {
        live,
        created_since: [
            live.now.saturating_sub(DAY_MS),
            live.now.saturating_sub(7 * DAY_MS),
        ],
    }
}

/// Ids by most recent activity first, ties by id descending (the order of every listing).
pub(crate) fn newest_first(positions: &[SessionPosition]) -> Vec<SessionId> {
    let mut sorted = positions.to_vec();
    // Ascending then reversed: the one sort of positions the engine has (the limit's is the
    // same), so the wasm build carries one copy of it.
    sorted.sort_unstable();
    sorted.into_iter().rev().map(|p| p.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LimitDecision, SessionLimit, SessionLimitPolicy};

    fn at(last_active_at: i64, byte: u8) -> SessionPosition {
        SessionPosition {
            last_active_at,
            id: SessionId::from_bytes([byte; 16]),
        }
    }

    #[test]
    fn eviction_keeps_the_most_recently_active_and_reports_oldest_first() {
        let limit = SessionLimit {
            max: 2,
            policy: SessionLimitPolicy::EvictOldest,
            live: Liveness::at(0),
        };
        // Given in any order; ties in activity are broken by id.
        let live = vec![at(5, 1), at(9, 2), at(5, 3), at(1, 4)];
        assert_eq!(
            limit.decide(live),
            LimitDecision::Admit {
                evict: vec![at(1, 4).id, at(5, 1).id, at(5, 3).id]
            }
        );
        assert_eq!(
            limit.decide(vec![at(1, 1)]),
            LimitDecision::Admit { evict: vec![] }
        );
        let reject = SessionLimit {
            policy: SessionLimitPolicy::Reject,
            ..limit
        };
        assert_eq!(
            reject.decide(vec![at(1, 1), at(2, 2)]),
            LimitDecision::Reject
        );
    }

    #[test]
    fn state_versions_continue_after_a_cleared_one_and_stop_at_the_counter_limit() {
        use crate::{StateDecision, StateVersions, MAX_COUNTER};
        let none = StateVersions {
            current: 0,
            cleared: 0,
        };
        assert_eq!(none.decide(Some(0)), Ok(StateDecision::Write(1)));
        assert_eq!(none.decide(Some(3)), Ok(StateDecision::Conflict(0)));
        let cleared = StateVersions {
            current: 0,
            cleared: 7,
        };
        assert_eq!(cleared.decide(None), Ok(StateDecision::Write(8)));
        let full = StateVersions {
            current: MAX_COUNTER,
            cleared: 0,
        };
        assert_eq!(
            full.decide(None).unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
        assert_eq!(
            full.decide(Some(1)),
            Ok(StateDecision::Conflict(MAX_COUNTER))
        );
    }

    #[test]
    fn results_are_ordered_newest_first() {
        assert_eq!(
            newest_first(&[at(1, 9), at(3, 1), at(3, 2)]),
            vec![at(3, 2).id, at(3, 1).id, at(1, 9).id]
        );
    }
}
