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
                [
                    "#[test]",
                    "#[tokio::test",
                    "#[wasm_bindgen_test]",
                    "proptest!",
                ]
                .iter()
                .any(|attribute| window.contains(attribute))
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

/// Calls whose first argument is SQL text (on a connection or transaction) or, for the
/// statement forms of the same names, the parameters. Either way it must be a constant, a
/// literal, a helper's `sql` parameter, or parameters: never text built at run time.
const SQL_CALLS: [&str; 10] = [
    ".execute(",
    ".execute_batch(",
    ".query_row(",
    ".query_row_and_then(",
    ".query(",
    ".query_map(",
    ".query_and_then(",
    ".prepare(",
    ".prepare_cached(",
    ".pragma_query_value(",
];

/// Words that make a string literal SQL text (matched case-insensitively, as words).
const SQL_WORDS: [&str; 12] = [
    "select", "insert", "update", "delete", "where", "pragma", "create", "drop", "alter",
    "replace", "values", "from",
];

/// What runtime text building looks like, outside string literals.
const BUILDERS: [&str; 10] = [
    "+",
    "format!",
    "format_args!",
    "write!",
    "writeln!",
    "push_str",
    "insert_str",
    ".concat()",
    ".join(",
    "String::from",
];

/// `source` with comments removed and every string literal's content replaced by `S` (or `Q`
/// when the literal reads as SQL), so that what remains is code.
fn code_only(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut literal = String::new();
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                    literal.push(c);
                }
                let newlines = literal.matches('\n').count();
                out.push_str(if is_sql(&literal) { "\"Q\"" } else { "\"S\"" });
                out.push_str(&"\n".repeat(newlines));
            }
            '\'' => {
                // A char literal (`'"'`) or a lifetime: copy a char literal whole.
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with('\\') || rest.chars().nth(1) == Some('\'') {
                    out.push_str("'c'");
                    let skip = if rest.starts_with('\\') { 3 } else { 2 };
                    for _ in 0..skip {
                        chars.next();
                    }
                } else {
                    out.push('\'');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn is_sql(literal: &str) -> bool {
    literal
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|word| SQL_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w)))
}

/// The text of the call that starts right after `open` (an opening parenthesis), to its
/// balancing parenthesis.
fn call_text(code: &str, open: usize) -> &str {
    let rest = &code[open..];
    let mut depth = 1;
    let end = rest
        .char_indices()
        .find(|&(_, c)| {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
            depth == 0
        })
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

/// The first argument of a call's text (up to a top-level comma).
fn first_argument(call: &str) -> &str {
    let mut depth = 0;
    let end = call
        .char_indices()
        .find(|&(_, c)| {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => return true,
                _ => {}
            }
            false
        })
        .map_or(call.len(), |(i, _)| i);
    call[..end].trim()
}

/// Every way `source` (one Rust file) might build SQL from runtime text: the first argument of
/// an SQL call that is not a constant, a single literal, the helper parameter `sql` or
/// parameters; a formatting macro or a concatenation that involves SQL text; SQL text turned
/// into an owned `String` (the only SQL is `&'static str`).
fn sql_built_at_run_time(source: &str) -> Vec<String> {
    let code = code_only(source);
    let mut found = Vec::new();
    for call in SQL_CALLS {
        for (at, _) in code.match_indices(call) {
            let arg = first_argument(call_text(&code, at + call.len()));
            let allowed = arg.is_empty()
                || arg.starts_with("queries::") && !arg.contains(['+', '(', '&'])
                || arg == "\"Q\""
                || arg == "\"S\""
                || arg == "sql"
                || arg == "params"
                || arg.starts_with("params![")
                || arg.starts_with("rusqlite::params![")
                || arg.starts_with('[') && !arg.contains("\"Q\"")
                || arg == "()";
            if !allowed {
                found.push(format!("{call}{arg}…"));
            }
        }
    }
    for (line_no, line) in code.lines().enumerate() {
        if line.contains("\"Q\"") {
            for builder in BUILDERS {
                if line.contains(builder) {
                    found.push(format!("line {}: SQL text with {builder}", line_no + 1));
                }
            }
            for owned in [".to_owned()", ".to_string()", ".into()"] {
                if line.contains(owned) {
                    found.push(format!("line {}: SQL text made a String", line_no + 1));
                }
            }
        }
    }
    for macro_name in ["format!(", "format_args!(", "write!(", "writeln!("] {
        for (at, _) in code.match_indices(macro_name) {
            if call_text(&code, at + macro_name.len()).contains("\"Q\"") {
                found.push(format!("{macro_name}… with SQL text"));
            }
        }
    }
    found
}

#[test]
fn the_sql_check_catches_every_way_of_building_sql_at_run_time() {
    // Each snippet builds SQL from runtime text one way; the check must flag every one.
    let bad = [
        r#"conn.execute(&format!("DELETE FROM sessions WHERE user_id = '{user}'"), [])?;"#,
        r#"let sql = format!("SELECT * FROM sessions WHERE id = {id}");"#,
        r#"tx.query_row(&sql_text, [], |row| row.get(0))?;"#,
        r#"tx.execute(query.as_str(), params![id])?;"#,
        r#"let q = "SELECT * FROM sessions WHERE user_id = '".to_owned() + user + "'";"#,
        r#"let mut q = String::from("DELETE FROM sessions WHERE id = "); q.push_str(id);"#,
        r#"conn.prepare(&["SELECT id FROM sessions WHERE user_id = ", user].concat())?;"#,
        r#"conn.prepare_cached(&q)?;"#,
        r#"conn.execute_batch(&script)?;"#,
        r#"write!(q, "UPDATE sessions SET active = 0 WHERE id = {id}")?;"#,
        r#"let q = ["select * from sessions where id =", id].join(" ");"#,
        r#"conn.query_row(queries::GET_SESSION + filter, [], |r| r.get(0))?;"#,
        r#"let q: String = "delete from session_state".into();"#,
    ];
    for snippet in bad {
        assert!(
            !sql_built_at_run_time(snippet).is_empty(),
            "not caught: {snippet}"
        );
    }
    // What the store really does passes: constants, literals, parameters.
    let good = [
        r#"tx.prepare_cached(queries::TOUCH_SESSION)?.execute(params![id, now])?;"#,
        r#"conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;"#,
        r#"conn.execute_batch("ROLLBACK")?;"#,
        r#"let mut rows = stmt.query(params)?;"#,
        r#"evict.execute([id.as_bytes()])?;"#,
        r#"return Err(Error::storage(format!("creating {}: {e}", path.display())));"#,
        r#"tx.execute_batch(sql)?; // a migration's constant text"#,
    ];
    for snippet in good {
        assert_eq!(
            sql_built_at_run_time(snippet),
            Vec::<String>::new(),
            "{snippet}"
        );
    }
}

#[test]
fn no_sql_is_built_from_runtime_text() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut calls_checked = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let found = sql_built_at_run_time(&source);
        assert!(found.is_empty(), "{file}: {found:#?}");
        let code = code_only(&source);
        calls_checked += SQL_CALLS
            .iter()
            .map(|call| code.matches(call).count())
            .sum::<usize>();
    }
    assert!(calls_checked >= 40, "only {calls_checked} calls checked");

    // The helper taking `sql` is called with constants only.
    let store = std::fs::read_to_string(src.join("store.rs")).unwrap();
    let code = code_only(&store);
    for (at, _) in code.match_indices("count(") {
        if code[..at].ends_with("fn ") || code[..at].ends_with('.') {
            continue;
        }
        let call = call_text(&code, at + "count(".len());
        let mut args = call.splitn(3, ',');
        let (_conn, sql) = (args.next(), args.next().map(str::trim));
        if let Some(sql) = sql {
            assert!(sql.starts_with("queries::"), "count(…, {sql}, …)");
        }
    }

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
