//! The scenario document: configuration, clock start and steps.

use serde::Deserialize;
use serde_json::Value;

/// One conformance scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique name (the file name without `.json`).
    pub name: String,
    /// What the scenario proves.
    pub description: String,
    /// `Config` fields to override (SPEC names); omitted ones keep their defaults.
    #[serde(default = "empty_object")]
    pub config: Value,
    /// The manual clock's start, ms since the epoch.
    #[serde(default = "default_start")]
    pub clock_start_ms: i64,
    /// When set, opening the manager must fail with this error (matched like a step's `error`).
    #[serde(default)]
    pub open_error: Option<Value>,
    /// The operations, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// One operation and what it must produce.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The operation: a `SessionManager` method name, or `advance` / `events`.
    pub op: String,
    /// Its arguments (may hold `$references`).
    #[serde(default = "empty_object")]
    pub args: Value,
    /// The result must match this (subset match, may hold `$references` and matchers).
    #[serde(default)]
    pub expect: Option<Value>,
    /// The operation must fail with this error: a kind name, or an object with `kind` and fields.
    #[serde(default)]
    pub error: Option<Value>,
    /// Save the result under this name for later `$references`.
    #[serde(default)]
    pub save: Option<String>,
    /// A note for readers.
    #[serde(default)]
    pub note: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

fn default_start() -> i64 {
    1_700_000_000_000
}

impl Scenario {
    /// Parses a scenario document.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid scenario: {e}"))
    }
}
