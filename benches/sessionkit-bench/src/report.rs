//! What a run found: target checks for the summary table and the sections of BENCHMARKS.md.

use std::fmt::Write as _;

/// One measured figure against its target.
#[derive(Debug, Clone)]
pub struct Check {
    /// The case.
    pub case: String,
    /// Our figure, formatted.
    pub ours: String,
    /// The baseline's figure, formatted (or "—").
    pub baseline: String,
    /// The compared value, formatted (a ratio, a rate, a size).
    pub value: String,
    /// The target, formatted.
    pub target: String,
    /// Whether the target is met.
    pub met: bool,
}

/// Everything a run produced.
#[derive(Debug, Default)]
pub struct Report {
    /// Target checks, in run order.
    pub checks: Vec<Check>,
    /// Markdown sections (each starting with its `##` heading), in run order.
    pub sections: Vec<String>,
    /// Each case's wall time and the CPU the host took meanwhile.
    pub host: Vec<crate::host::Span>,
}

impl Report {
    /// Records a check.
    pub fn check(
        &mut self,
        case: impl Into<String>,
        ours: impl Into<String>,
        baseline: impl Into<String>,
        value: impl Into<String>,
        target: impl Into<String>,
        met: bool,
    ) {
        let check = Check {
            case: case.into(),
            ours: ours.into(),
            baseline: baseline.into(),
            value: value.into(),
            target: target.into(),
            met,
        };
        eprintln!(
            "  {} | ours {} | baseline {} | {} (target {}) {}",
            check.case,
            check.ours,
            check.baseline,
            check.value,
            check.target,
            if check.met { "met" } else { "NOT MET" }
        );
        self.checks.push(check);
    }

    /// Adds a section.
    pub fn section(&mut self, markdown: String) {
        self.sections.push(markdown);
    }

    /// The summary table of every check.
    pub fn summary(&self) -> String {
        let mut out = String::from(
            "| case | ours | baseline | ratio / figure | target | met |\n|---|---|---|---|---|---|\n",
        );
        for c in &self.checks {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                c.case,
                c.ours,
                c.baseline,
                c.value,
                c.target,
                if c.met { "yes" } else { "**no**" }
            );
        }
        out
    }

    /// The checks as JSON (for scripts).
    pub fn checks_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.checks
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "case": c.case, "ours": c.ours, "baseline": c.baseline,
                        "value": c.value, "target": c.target, "met": c.met,
                    })
                })
                .collect(),
        )
    }
}

/// A ratio to two decimals.
pub fn ratio(ours: f64, base: f64) -> String {
    format!("{:.2}×", ours / base)
}
