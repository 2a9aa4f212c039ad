//! The conformance scenario runner (feature `testing`), shared by every store's test suite.
//!
//! Scenarios are JSON documents (see `tests/conformance/README.md` at the repository root for
//! the format): a configuration, a start time for a [`crate::ManualClock`], and steps, each an
//! operation with arguments and the result or error kind it must produce. The same files are run
//! by the Rust runner here (against every store), and by the wasm, Python and Kotlin runners
//! through their bindings.

#[cfg(not(target_arch = "wasm32"))]
mod interleave;
pub mod kit;
mod matcher;
mod ops;
mod scenario;

include!(concat!(env!("OUT_DIR"), "/embedded_test_data.rs"));

#[cfg(not(target_arch = "wasm32"))]
pub use interleave::{Call, Hook, Interleave};
pub use matcher::{matches, Refs};
pub use scenario::{Scenario, Step};

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::{Config, Event, ManualClock, SessionManager, Store};

/// Why a scenario failed: which step, and what differed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The scenario's name.
    pub scenario: String,
    /// Index of the failing step (`None` when opening the manager failed).
    pub step: Option<usize>,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.step {
            Some(step) => write!(f, "{} (step {step}): {}", self.scenario, self.message),
            None => write!(f, "{}: {}", self.scenario, self.message),
        }
    }
}

/// Runs one scenario against a fresh, empty `store`.
pub async fn run(scenario: &Scenario, store: Arc<dyn Store>) -> Result<(), Failure> {
    let fail = |step: Option<usize>, message: String| Failure {
        scenario: scenario.name.clone(),
        step,
        message,
    };
    let config: Config = serde_json::from_value(scenario.config.clone())
        .map_err(|e| fail(None, format!("bad config in scenario: {e}")))?;
    let clock = ManualClock::new(scenario.clock_start_ms);
    let opened = SessionManager::open_with_clock(store, config, Arc::new(clock.clone()));
    let manager = match (opened, &scenario.open_error) {
        (Ok(manager), None) => manager,
        (Err(err), Some(expected)) => {
            let actual = ops::error_to_json(&err);
            return if matches(expected, &actual) {
                Ok(())
            } else {
                Err(fail(
                    None,
                    format!("open failed with {actual}, expected {expected}"),
                ))
            };
        }
        (Ok(_), Some(expected)) => {
            return Err(fail(
                None,
                format!("open succeeded, expected error {expected}"),
            ))
        }
        (Err(err), None) => return Err(fail(None, format!("open failed: {err}"))),
    };

    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = Arc::clone(&events);
    let _subscription = manager.subscribe(Arc::new(move |event: &Event| {
        if let Ok(mut events) = sink.lock() {
            events.push(event.clone());
        }
    }));

    let mut refs = Refs::default();
    for (index, step) in scenario.steps.iter().enumerate() {
        let args = refs
            .resolve(&step.args)
            .map_err(|e| fail(Some(index), format!("{}: {e}", step.op)))?;
        let outcome = match step.op.as_str() {
            "advance" => {
                let ms = args
                    .get("ms")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| fail(Some(index), "advance needs an integer `ms`".to_owned()))?;
                Ok(Value::from(clock.advance(ms)))
            }
            "events" => {
                let taken: Vec<Event> = events
                    .lock()
                    .map(|mut e| std::mem::take(&mut *e))
                    .unwrap_or_default();
                Ok(serde_json::to_value(taken).unwrap_or(Value::Null))
            }
            op => ops::call(&manager, op, &args).await.map_err(|e| match e {
                ops::CallError::Api(err) => err,
                ops::CallError::Scenario(message) => crate::Error::Storage {
                    message: format!("scenario error: {message}"),
                },
            }),
        };
        check_step(step, &mut refs, outcome)
            .map_err(|m| fail(Some(index), format!("{}: {m}", step.op)))?;
    }
    Ok(())
}

fn check_step(step: &Step, refs: &mut Refs, outcome: crate::Result<Value>) -> Result<(), String> {
    match (outcome, &step.error) {
        (Ok(value), None) => {
            if let Some(expect) = &step.expect {
                let expect = refs.resolve(expect)?;
                if !matches(&expect, &value) {
                    return Err(format!("got {value}, expected {expect}"));
                }
            }
            if let Some(name) = &step.save {
                refs.save(name, value);
            }
            Ok(())
        }
        (Ok(value), Some(expected)) => {
            Err(format!("succeeded with {value}, expected error {expected}"))
        }
        (Err(err), Some(expected)) => {
            let actual = ops::error_to_json(&err);
            let expected = refs.resolve(expected)?;
            let expected = match expected {
                Value::String(kind) => serde_json::json!({ "kind": kind }),
                other => other,
            };
            if matches(&expected, &actual) {
                Ok(())
            } else {
                Err(format!("failed with {actual}, expected {expected}"))
            }
        }
        (Err(err), None) => Err(format!("failed: {} ({err})", err.kind())),
    }
}

/// Reads every `*.json` scenario in `dir`, sorted by file name. Native only (test support).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_dir(dir: &std::path::Path) -> Result<Vec<Scenario>, String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let scenario =
                Scenario::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if scenario.name != stem {
                return Err(format!(
                    "{}: name {:?} differs from the file name",
                    path.display(),
                    scenario.name
                ));
            }
            Ok(scenario)
        })
        .collect()
}

/// The repository's `tests/conformance` directory, found from a crate's manifest directory.
#[cfg(not(target_arch = "wasm32"))]
pub fn scenario_dir(manifest_dir: &str) -> std::path::PathBuf {
    let mut dir = std::path::PathBuf::from(manifest_dir);
    while !dir.join("tests/conformance").is_dir() {
        if !dir.pop() {
            break;
        }
    }
    dir.join("tests/conformance")
}

/// Every scenario of the repository's `tests/conformance/`, embedded when this crate was built
/// (empty for a packaged crate); each one's name must equal its file name.
pub fn embedded_scenarios() -> Vec<Scenario> {
    SCENARIO_FILES
        .iter()
        .map(|(stem, text)| {
            let scenario = Scenario::parse(text).unwrap_or_else(|e| panic!("{stem}.json: {e}"));
            assert_eq!(
                scenario.name, *stem,
                "{stem}.json: name differs from the file name"
            );
            scenario
        })
        .collect()
}

/// Runs every scenario, each on a store made fresh by `make_store`; returns the failures.
pub async fn run_all<F, Fut>(scenarios: &[Scenario], mut make_store: F) -> Vec<Failure>
where
    F: FnMut(&Scenario) -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Store>>,
{
    let mut failures = Vec::new();
    for scenario in scenarios {
        let store = make_store(scenario).await;
        if let Err(failure) = run(scenario, store).await {
            failures.push(failure);
        }
    }
    failures
}
