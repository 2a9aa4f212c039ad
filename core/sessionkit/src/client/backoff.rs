//! Reconnect delays: exponential backoff with full jitter, from a seeded source so a test replays.

use serde::{Deserialize, Serialize};

/// How reconnect delays grow (docs/SPEC.md §9): the delay before attempt `n` (0-based) is
/// `random(0, min(max_ms, initial_ms · multiplier^n))`; `Retry-After` raises it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Backoff {
    /// The ceiling of the first delay.
    pub initial_ms: u64,
    /// How much the ceiling grows per failed attempt.
    pub multiplier: f64,
    /// The ceiling's ceiling.
    pub max_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial_ms: 1_000,
            multiplier: 1.6,
            max_ms: 60_000,
        }
    }
}

impl Backoff {
    /// The upper bound of the delay before attempt `attempt` (0-based).
    pub fn ceiling(&self, attempt: u32) -> u64 {
        let grown = self.initial_ms as f64 * self.multiplier.powi(attempt.min(1_000) as i32);
        if grown.is_finite() && grown < self.max_ms as f64 {
            grown as u64
        } else {
            self.max_ms
        }
    }

    /// The delay before attempt `attempt`: full jitter under [`Backoff::ceiling`], and never
    /// less than what the server asked for in `Retry-After`.
    pub fn delay(&self, attempt: u32, jitter: &mut Jitter, retry_after_ms: Option<u64>) -> u64 {
        let drawn = jitter.below(self.ceiling(attempt) + 1);
        drawn.max(retry_after_ms.unwrap_or(0))
    }

    pub(crate) fn check(&self) -> crate::Result<()> {
        let ok = self.initial_ms > 0
            && self.max_ms >= self.initial_ms
            && self.multiplier.is_finite()
            && self.multiplier >= 1.0;
        if ok {
            Ok(())
        } else {
            Err(crate::Error::invalid_input(
                "backoff",
                "needs initial_ms > 0, max_ms >= initial_ms and a finite multiplier >= 1",
            ))
        }
    }
}

/// A small seeded generator for jitter (SplitMix64). Jitter needs spread, not secrecy: faces seed
/// it from the platform's random source, tests from a fixed seed.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0), without modulo bias worth speaking of at these sizes.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound.max(1))) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_grow_by_the_multiplier_up_to_the_max() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(0), 1_000);
        assert_eq!(b.ceiling(1), 1_600);
        assert_eq!(b.ceiling(2), 2_560);
        assert_eq!(b.ceiling(9), 68_719.476_736_f64.min(60_000.0) as u64);
        assert_eq!(b.ceiling(u32::MAX), 60_000);
    }

    #[test]
    fn delays_stay_within_bounds_and_spread() {
        let b = Backoff::default();
        let mut jitter = Jitter::new(7);
        for attempt in 0..20 {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let d = b.delay(attempt, &mut jitter, None);
                assert!(d <= b.ceiling(attempt));
                seen.insert(d * 10 / (b.ceiling(attempt) + 1));
            }
            assert!(seen.len() >= 8, "full jitter covers the range: {seen:?}");
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let b = Backoff::default();
        let mut jitter = Jitter::new(1);
        for _ in 0..100 {
            assert!(b.delay(0, &mut jitter, Some(5_000)) >= 5_000);
        }
    }

    #[test]
    fn a_bad_backoff_is_refused() {
        for bad in [
            Backoff {
                initial_ms: 0,
                ..Backoff::default()
            },
            Backoff {
                multiplier: 0.5,
                ..Backoff::default()
            },
            Backoff {
                multiplier: f64::NAN,
                ..Backoff::default()
            },
            Backoff {
                max_ms: 10,
                ..Backoff::default()
            },
        ] {
            assert!(bad.check().is_err());
        }
    }
}
