//! With the `testing` feature, embeds the repository's shared test data in the test kit
//! (`sessionkit::testing`), so every target — wasm in a browser included — runs the same files:
//! every `tests/conformance/*.json` scenario (found by listing the directory, so a new scenario
//! file needs no code change) and `tests/vectors/state_codec.json`.
//!
//! Writes `$OUT_DIR/embedded_test_data.rs`. Without the feature, or when the repository's
//! `tests/` directory is absent (a packaged crate), the lists are empty and the kit says so by
//! failing.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut out = String::new();
    let testing = env::var_os("CARGO_FEATURE_TESTING").is_some();
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let repo_tests = manifest_dir.join("../../tests");
    let scenario_dir = repo_tests.join("conformance");
    let vectors = repo_tests.join("vectors/state_codec.json");

    out.push_str(
        "/// Every conformance scenario file: (file stem, contents), sorted by file name.\n",
    );
    out.push_str("pub(crate) const SCENARIO_FILES: &[(&str, &str)] = &[\n");
    if testing {
        // A directory here makes Cargo rerun this script when any file in it changes.
        println!("cargo:rerun-if-changed={}", scenario_dir.display());
        println!("cargo:rerun-if-changed={}", vectors.display());
        for (stem, path) in scenario_files(&scenario_dir) {
            let _ = writeln!(
                out,
                "    ({stem:?}, include_str!({:?})),",
                path.display().to_string()
            );
        }
    }
    out.push_str("];\n\n");
    out.push_str("/// `tests/vectors/state_codec.json` (empty when absent).\n");
    match fs::canonicalize(&vectors) {
        Ok(path) if testing => {
            let _ = writeln!(
                out,
                "pub const STATE_CODEC_VECTORS: &str = include_str!({:?});",
                path.display().to_string()
            );
        }
        _ => out.push_str("pub const STATE_CODEC_VECTORS: &str = \"\";\n"),
    }
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = fs::write(out_dir.join("embedded_test_data.rs"), out) {
        panic!("cannot write embedded_test_data.rs: {e}");
    }
}

/// `(stem, absolute path)` of every `*.json` in `dir`, sorted by file name.
fn scenario_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        println!(
            "cargo:warning=no conformance scenarios at {}",
            dir.display()
        );
        return Vec::new();
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter_map(|path| {
            let stem = path.file_stem()?.to_str()?.to_owned();
            Some((stem, fs::canonicalize(&path).ok()?))
        })
        .collect();
    files.sort();
    files
}
