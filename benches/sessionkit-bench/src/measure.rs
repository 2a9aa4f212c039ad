//! Timing: interleaved rounds and medians, process memory, small helpers.
//!
//! Every comparison runs its contenders in the same rounds, alternating which goes first, so a
//! burst of machine noise lands on both rather than on one. Each round times a batch of
//! operations and yields one ns-per-op sample; the result is the median sample.

use std::time::{Duration, Instant};

/// Median of `samples` (the mean of the middle two for an even count); 0 when empty.
pub fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// Nanoseconds per operation for `ops` operations taking `elapsed`.
pub fn per_op(elapsed: Duration, ops: usize) -> f64 {
    elapsed.as_nanos() as f64 / ops.max(1) as f64
}

/// Times `ops` calls of `op`, returning ns per call.
pub fn time_ops(ops: usize, mut op: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..ops {
        op(i);
    }
    per_op(start.elapsed(), ops)
}

/// A contender in an interleaved comparison: runs one batch (round number given) and returns
/// ns per operation.
pub type Contender<'a> = Box<dyn FnMut(usize) -> f64 + 'a>;

/// Runs one untimed warm-up round, then `rounds` timed rounds; in each, every contender runs
/// once, in rotated order. Returns each contender's median ns/op, in the order given.
pub fn interleave(rounds: usize, contenders: &mut [Contender<'_>]) -> Vec<f64> {
    let n = contenders.len();
    let mut samples = vec![Vec::with_capacity(rounds); n];
    for round in 0..=rounds {
        for k in 0..n {
            let which = (k + round) % n;
            let ns = contenders[which](round);
            if round > 0 {
                samples[which].push(ns);
            }
        }
    }
    samples.iter().map(|s| median(s)).collect()
}

/// Peak resident set size of this process in KiB (`VmHWM` in `/proc/self/status`), 0 if the
/// kernel does not report it.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// A small deterministic generator (xorshift64*), so every run picks the same rows.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..below` (`below` > 0).
    pub fn below(&mut self, below: usize) -> usize {
        (self.next_u64() % below as u64) as usize
    }
}

/// Formats nanoseconds for a table: ns, µs, ms or s, three significant figures.
pub fn fmt_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{} µs", sig3(ns / 1e3))
    } else if ns < 1_000_000_000.0 {
        format!("{} ms", sig3(ns / 1e6))
    } else {
        format!("{} s", sig3(ns / 1e9))
    }
}

/// `x` to three significant figures (for x ≥ 1).
pub fn sig3(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}
