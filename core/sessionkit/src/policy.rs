//! The engine's side of the decisions a store carries out: the bounds it passes to every query
//! (what "live" means now, the statistics windows) and the order it reports results in. The
//! decisions a store must take *inside* its transaction are pure functions on the store's
//! records ([`crate::SessionLimit::decide`], [`crate::StateVersions::decide`],
//! [`crate::next_counter`]).

use crate::store::{Liveness, SessionPosition, StatsQuery};
use crate::SessionId;

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What "live" means at `now`.
pub(crate) fn liveness(now: i64) -> Liveness {
    Liveness { now }
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
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.into_iter().map(|p| p.id).collect()
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
            live: liveness(0),
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
