//! How much CPU the host took from this machine while each case ran: the "steal" time a
//! virtual machine's kernel counts in `/proc/stat` (time a virtual CPU was ready to run but the
//! hypervisor ran something else). A case measured while the host was busy shows it here, so a
//! disturbed run can be told from a slow one.

use std::time::Instant;

/// Clock ticks per second of `/proc/stat` (`USER_HZ`: 100 on every Linux port in use).
const TICKS_PER_SECOND: f64 = 100.0;

/// Total steal ticks over all CPUs so far, if the kernel reports them.
fn steal_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    // cpu user nice system idle iowait irq softirq steal ...
    line.split_whitespace().nth(8)?.parse().ok()
}

/// A case's wall time and the CPU time stolen meanwhile.
#[derive(Debug, Clone)]
pub struct Span {
    /// The case.
    pub case: String,
    /// Wall-clock seconds.
    pub wall: f64,
    /// Seconds of CPU the host took, summed over all CPUs (`None`: not reported here).
    pub stolen: Option<f64>,
}

/// Started when a case starts.
pub struct Start {
    at: Instant,
    ticks: Option<u64>,
}

impl Start {
    pub fn now() -> Self {
        Start {
            at: Instant::now(),
            ticks: steal_ticks(),
        }
    }

    /// The span from this start until now.
    pub fn finish(self, case: &str) -> Span {
        let stolen = match (self.ticks, steal_ticks()) {
            (Some(before), Some(after)) => {
                Some(after.saturating_sub(before) as f64 / TICKS_PER_SECOND)
            }
            _ => None,
        };
        Span {
            case: case.to_owned(),
            wall: self.at.elapsed().as_secs_f64(),
            stolen,
        }
    }
}

/// The markdown lines for the report's header: per case, stolen seconds and their share of the
/// CPU time the machine had (wall time × cores).
pub fn describe(spans: &[Span], cores: usize) -> String {
    let parts: Vec<String> = spans
        .iter()
        .map(|s| match s.stolen {
            Some(stolen) => {
                let share = 100.0 * stolen / (s.wall * cores.max(1) as f64).max(f64::MIN_POSITIVE);
                format!(
                    "{} {:.1} s of {:.1} s ({share:.1} %)",
                    s.case, stolen, s.wall
                )
            }
            None => format!("{} not reported", s.case),
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "- CPU taken by the host while each case ran (steal time from `/proc/stat`, all cores; \
         high shares mean a disturbed run): {}\n",
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_gives_each_case_its_share() {
        let spans = [
            Span {
                case: "validate".into(),
                wall: 10.0,
                stolen: Some(5.0),
            },
            Span {
                case: "codec".into(),
                wall: 4.0,
                stolen: None,
            },
        ];
        let text = describe(&spans, 2);
        assert!(text.contains("validate 5.0 s of 10.0 s (25.0 %)"), "{text}");
        assert!(text.contains("codec not reported"), "{text}");
        assert_eq!(describe(&[], 2), "");
    }
}
