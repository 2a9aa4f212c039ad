//! Keeps `SECURITY.md` honest: every test and scenario it cites exists, and its claim that all
//! SQL is parameterised holds in the store's source.

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// Every span between backticks in `text`.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

#[test]
fn every_test_and_scenario_security_md_cites_exists() {
    let root = repo_root();
    let doc = std::fs::read_to_string(root.join("SECURITY.md")).expect("SECURITY.md");
    let (mut tests, mut files) = (0, 0);
    for span in backticked(&doc) {
        if let Some((file, name)) = span.split_once("::") {
            if !file.ends_with(".rs") {
                continue;
            }
            let source = std::fs::read_to_string(root.join(file))
                .unwrap_or_else(|e| panic!("SECURITY.md cites {file}, which cannot be read: {e}"));
            let is_test = source.match_indices(&format!("fn {name}(")).any(|(at, _)| {
                // The attribute sits within the few lines above the function.
                let before = &source[..at];
                let window = &before[before.len().saturating_sub(200)..];
                window.contains("#[test]") || window.contains("proptest!")
            });
            assert!(is_test, "SECURITY.md cites {span}: no such test");
            tests += 1;
        } else if span.contains("NAME") {
            // The placeholder in the explanation of references.
            continue;
        } else if span.starts_with("tests/conformance/") && span.ends_with(".json")
            || (span.contains('/') && (span.ends_with(".py") || span.ends_with(".rs")))
        {
            assert!(
                root.join(span).is_file(),
                "SECURITY.md cites {span}: no such file"
            );
            files += 1;
        }
    }
    assert!(tests >= 20, "only {tests} tests cited");
    assert!(files >= 20, "only {files} files cited");
}

/// The argument text of each call of `name(` in `source`, up to its first `,` or `)`.
fn first_arguments<'a>(source: &'a str, name: &str) -> Vec<&'a str> {
    source
        .match_indices(name)
        .map(|(at, _)| {
            let rest = &source[at + name.len()..];
            let end = rest.find([',', ')']).unwrap_or(rest.len());
            rest[..end].trim()
        })
        .collect()
}

/// The text of each `format!( … )` call in `source` (to its balancing parenthesis).
fn format_calls(source: &str) -> Vec<&str> {
    source
        .match_indices("format!(")
        .map(|(at, m)| {
            let rest = &source[at + m.len()..];
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(rest.len(), |(i, _)| i);
            &rest[..end]
        })
        .collect()
}

#[test]
fn no_sql_is_built_from_runtime_text() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut statements_checked = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy();
        // No SQL text is formatted with values.
        for call in format_calls(&source) {
            for keyword in ["SELECT", "INSERT", "UPDATE", "DELETE", "WHERE", "PRAGMA"] {
                assert!(
                    !call.contains(keyword),
                    "{file}: SQL built with format!: {call}"
                );
            }
        }
        // Statements are prepared only from the constants in queries.rs, a literal, or a
        // helper's parameter holding one of those.
        for call in ["prepare_cached(", ".prepare(", "execute_batch("] {
            for arg in first_arguments(&source, call) {
                assert!(
                    arg.starts_with("queries::") || arg.starts_with('"') || arg == "sql",
                    "{file}: {call}{arg}…"
                );
                statements_checked += 1;
            }
        }
    }
    assert!(statements_checked >= 10);

    // The constants carry no literal values: every value arrives through a `?N` placeholder.
    let queries = std::fs::read_to_string(src.join("queries.rs")).unwrap();
    let code: String = queries
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for (name, sql) in sessionkit_sqlite::hot_path_statements() {
        assert!(!sql.contains('\''), "{name} embeds a string literal: {sql}");
        assert!(
            sql.contains("?1") || !sql.contains("WHERE"),
            "{name}: {sql}"
        );
    }
    assert!(
        !code.contains("' ") && !code.contains(" '"),
        "queries.rs embeds a quoted SQL literal"
    );
}
