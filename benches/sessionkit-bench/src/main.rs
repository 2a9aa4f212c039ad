//! sessionkit's native benchmark suite. Run it through `scripts/bench.sh`, which builds it and
//! passes the machine facts; it writes `BENCHMARKS.md` (full mode) or a file under
//! `target/bench/` (`--quick`).
//!
//! ```text
//! sessionkit-bench run [--quick] [--out FILE] [--only validate,create,list,cleanup,codec,peer,http,browser]
//!                      [--peer-bin PATH] [--browser-json PATH] [--http-json PATH] [--fixtures DIR]
//!                      [--work DIR] [--corpus DIR] [--notes FILE] [--command TEXT]
//! sessionkit-bench http --sessionkit-bin PATH [--quick] [--peer-bin PATH] [--out-json FILE]
//!                       [--splice BENCHMARKS.md] [--fixtures DIR] [--work DIR] [--corpus DIR]
//!                       [--command TEXT]                   (the HTTP cases, wrk against servers)
//! sessionkit-bench bare-http --body FILE [--listen ADDR]    (the HTTP ceiling, used by http)
//! sessionkit-bench cleanup-child <db> manager|store <batch>|bare     (used by run)
//! sessionkit-bench cleanup-child <db> sql <batch> <pragmas> <delete>  (experiments)
//! sessionkit-bench page-child <db> <users>                          (used by run)
//! sessionkit-bench codec-loop <json file> <reps> encode|serialize|decode   (for profilers)
//! ```
//!
//! Every case runs its contenders interleaved in the same rounds and reports medians. Times are
//! reported, never asserted: a missed target is a line in the report, not a failure.

mod cleanup;
mod codec;
mod db;
mod fixture;
mod host;
mod http;
mod measure;
mod ops;
mod peer;
mod report;
mod timed;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use report::Report;

/// Sizes and repetitions of one run.
#[derive(Debug, Clone)]
pub struct Params {
    /// Tiny sizes, few repetitions.
    pub quick: bool,
    /// Fixture sizes for `validate`; the largest is also the cleanup and memory fixture.
    pub sizes: Vec<usize>,
    /// Timed rounds per comparison (after one warm-up round).
    pub rounds: usize,
    /// Read operations per round.
    pub batch: usize,
    /// Write operations per round.
    pub write_batch: usize,
    /// Distinct rows sampled for lookups.
    pub sample: usize,
    /// Depth of the deep page in the listing case.
    pub list_depth: usize,
    /// Runs of ours and of the baseline in the cleanup case.
    pub cleanup_reps: usize,
    /// Batch sizes of the cleanup curve.
    pub cleanup_batches: Vec<u32>,
    /// Multiplier of codec operations per round.
    pub codec_scale: usize,
    /// Sessions present in the peer comparison.
    pub peer_n: usize,
    /// Rounds per peer comparison run.
    pub peer_rounds: usize,
    /// Operations per peer round.
    pub peer_batch: usize,
    /// Runs of ours and of the peer, alternated.
    pub peer_alternations: usize,
    /// Where cached fixtures live.
    pub fixtures: PathBuf,
    /// Scratch files.
    pub work_dir: PathBuf,
    /// The corpus documents.
    pub corpus: PathBuf,
}

impl Params {
    fn full() -> Self {
        Params {
            quick: false,
            sizes: vec![10_000, 100_000, 1_000_000],
            rounds: 15,
            batch: 2_000,
            write_batch: 300,
            sample: 8_192,
            list_depth: 10_000,
            cleanup_reps: 3,
            cleanup_batches: vec![500, 2_000, 10_000],
            codec_scale: 5,
            peer_n: 10_000,
            peer_rounds: 7,
            peer_batch: 1_000,
            peer_alternations: 3,
            fixtures: PathBuf::from("target/bench/fixtures"),
            work_dir: PathBuf::from("target/bench/work"),
            corpus: PathBuf::from("benches/corpus"),
        }
    }

    fn quick() -> Self {
        Params {
            quick: true,
            sizes: vec![1_000, 5_000],
            rounds: 3,
            batch: 200,
            write_batch: 20,
            sample: 512,
            list_depth: 500,
            cleanup_reps: 1,
            cleanup_batches: vec![100, 1_000],
            codec_scale: 1,
            peer_n: 200,
            peer_rounds: 3,
            peer_batch: 50,
            peer_alternations: 1,
            ..Params::full()
        }
    }

    /// Sessions owned by the heavy user in a fixture of `n`.
    pub(crate) fn heavy(n: usize) -> usize {
        (n / 5).min(20_000)
    }
}

struct Options {
    params: Params,
    out: PathBuf,
    only: Option<Vec<String>>,
    peer_bin: Option<PathBuf>,
    browser_json: PathBuf,
    http_json: PathBuf,
    notes: Option<PathBuf>,
    command: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: sessionkit-bench run [--quick] [--out FILE] [--only CASES] [--peer-bin PATH] \
         [--browser-json PATH] [--http-json PATH] [--fixtures DIR] [--work DIR] [--corpus DIR] [--notes FILE] \
         [--command TEXT]"
    );
    std::process::exit(2)
}

fn parse_run(args: &[String]) -> Options {
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Options {
        params: if quick {
            Params::quick()
        } else {
            Params::full()
        },
        out: PathBuf::from(if quick {
            "target/bench/BENCHMARKS.quick.md"
        } else {
            "BENCHMARKS.md"
        }),
        only: None,
        peer_bin: None,
        browser_json: PathBuf::from("target/bench/browser.json"),
        http_json: PathBuf::from("target/bench/http.json"),
        notes: None,
        command: String::from("scripts/bench.sh"),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--quick" => {}
            "--out" => o.out = value().into(),
            "--only" => o.only = Some(value().split(',').map(str::to_owned).collect()),
            "--peer-bin" => o.peer_bin = Some(value().into()),
            "--browser-json" => o.browser_json = value().into(),
            "--http-json" => o.http_json = value().into(),
            "--fixtures" => o.params.fixtures = value().into(),
            "--work" => o.params.work_dir = value().into(),
            "--corpus" => o.params.corpus = value().into(),
            "--notes" => o.notes = Some(value().into()),
            "--command" => o.command = value(),
            _ => usage(),
        }
    }
    o
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(parse_run(&args[1..])),
        Some("cleanup-child") => cleanup::child_cleanup(&args[1..]),
        Some("page-child") => cleanup::child_page(&args[1..]),
        Some("codec-loop") => codec::codec_loop(&args[1..]),
        Some("http") => http::main(&args[1..]),
        Some("db") => db::main(&args[1..]),
        Some("bare-http") => http::bare_http(&args[1..]),
        _ => usage(),
    }
}

fn run(o: Options) {
    let p = &o.params;
    let started = Instant::now();
    let wants = |case: &str| {
        o.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|c| c == case))
    };
    std::fs::create_dir_all(&p.work_dir).expect("create the work directory");
    let mut report = Report::default();

    let fixtures: Vec<fixture::Fixture> = p
        .sizes
        .iter()
        .map(|&n| fixture::fixture(&p.fixtures, n, Params::heavy(n)))
        .collect();
    let largest = fixtures.last().expect("at least one size").clone();
    let list_fixture = fixtures
        .iter()
        .find(|f| f.heavy >= p.list_depth + 50)
        .expect("a fixture with a heavy enough user")
        .clone();

    // The document is rewritten after every case, so an interrupted run keeps what it measured.
    let save = |report: &Report| write_document(&o, report, started.elapsed().as_secs_f64());
    // Runs one case, timing it and the CPU the host took meanwhile.
    let timed = |report: &mut Report, case: &str, body: &dyn Fn(&mut Report)| {
        eprintln!("{case}");
        let start = host::Start::now();
        body(report);
        report.host.push(start.finish(case));
        save(report);
    };
    if wants("validate") {
        timed(&mut report, "validate", &|r| ops::validate(p, r, &fixtures));
    }
    if wants("create") {
        timed(&mut report, "create", &|r| ops::create(p, r, &fixtures[0]));
    }
    if wants("list") {
        timed(&mut report, "list", &|r| ops::list(p, r, &list_fixture));
    }
    if wants("codec") {
        assert!(
            codec::corpus_present(&p.corpus),
            "corpus missing in {}",
            p.corpus.display()
        );
        timed(&mut report, "codec", &|r| codec::codec(p, r));
    }
    if wants("peer") {
        timed(&mut report, "peer", &|r| {
            peer::peer(p, r, o.peer_bin.as_deref())
        });
    }
    if wants("http") {
        // Measured before by `sessionkit-bench http` (scripts/bench.sh runs it first).
        match http::read_outcome(&o.http_json) {
            Some((checks, section)) => {
                for check in checks {
                    report.checks.push(check);
                }
                report.section(section);
            }
            None => report.section(format!(
                "## HTTP: `sessionkit serve` under load (wrk)\n\nNo results: `{}` was not \
                 present for this run (`scripts/bench.sh --http` writes it).\n",
                o.http_json.display()
            )),
        }
        save(&report);
    }
    if wants("browser") {
        peer::browser(&mut report, &o.browser_json);
        save(&report);
    }
    if wants("cleanup") {
        timed(&mut report, "cleanup", &|r| {
            cleanup::cleanup(p, r, &largest)
        });
    }
    save(&report);
    let json_path = p.work_dir.join("checks.json");
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&report.checks_json()).expect("JSON"),
    )
    .expect("write checks.json");
    eprintln!(
        "wrote {} and {} in {:.0} s",
        o.out.display(),
        json_path.display(),
        started.elapsed().as_secs_f64()
    );
}

fn write_document(o: &Options, report: &Report, seconds: f64) {
    if let Some(parent) = o.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).expect("create the output directory");
    }
    std::fs::write(&o.out, document(o, report, seconds)).expect("write the report");
}

pub(crate) fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn document(o: &Options, report: &Report, seconds: f64) -> String {
    let p = &o.params;
    let met = report.checks.iter().filter(|c| c.met).count();
    let mut doc = format!(
        "# Benchmarks\n\n\
         Generated by `{cmd}` — do not edit by hand (notes come from \
         `benches/sessionkit-bench/notes.md`).{quick}\n\n\
         - date: {date}\n\
         - machine: {cores} cores (`nproc`), {cpu}, {mem}\n\
         - toolchain: {rustc}, `--release` (thin LTO), SQLite {sqlite} (bundled)\n\
         - run time: {minutes:.1} min\n\
         - targets met: {met} of {total}\n\
         {host}\n\
         Every case runs its contenders in the same process, interleaved in rounds (rotating \
         which goes first) after a warm-up round, and reports the median round. The machine is \
         small (2 cores) and may be shared with other work, so single figures move by up to \
         ±25% between runs; ratios within a run are steadier than absolute times. \
         Times are never asserted anywhere: `scripts/bench.sh --quick` (run by \
         `scripts/test.sh`) only proves the suite runs.\n\n\
         ## Summary\n\n{summary}\n",
        cmd = o.command,
        quick = if p.quick {
            " **Quick mode: tiny sizes, unoptimized build — these figures mean nothing.**"
        } else {
            ""
        },
        date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        cores = std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu = cpu_model(),
        mem = mem_total(),
        rustc = command_output("rustc", &["--version"]),
        sqlite = rusqlite::version(),
        minutes = seconds / 60.0,
        total = report.checks.len(),
        host = host::describe(
            &report.host,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ),
        summary = report.summary(),
    );
    for section in &report.sections {
        doc.push_str(section);
        doc.push('\n');
    }
    // What other commands measured (they need database servers) stays as they wrote it.
    if let Ok(previous) = std::fs::read_to_string(&o.out) {
        doc.push_str(&sections_owned_elsewhere(&previous));
    }
    let notes = o
        .notes
        .as_deref()
        .and_then(|path: &Path| std::fs::read_to_string(path).ok());
    if let Some(notes) = notes {
        doc.push_str(&notes);
        if !notes.ends_with('\n') {
            doc.push('\n');
        }
    }
    doc
}

/// The sections of `doc` that `scripts/bench.sh --pg` and `scripts/bench-pg-servers.sh` write
/// (a full run does not measure them), each up to the next `## ` heading.
fn sections_owned_elsewhere(doc: &str) -> String {
    const OWNED: [&str; 2] = ["## Database stores", "## Two servers on one PostgreSQL"];
    let mut kept = String::new();
    for heading in OWNED {
        if let Some(start) = doc.find(heading) {
            let body = &doc[start + heading.len()..];
            let end = body
                .find("\n## ")
                .map_or(doc.len(), |i| start + heading.len() + i + 1);
            kept.push_str(doc[start..end].trim_end());
            kept.push_str("\n\n");
        }
    }
    kept
}

fn mem_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(
            || "memory unknown".to_owned(),
            |kib| format!("{:.0} GiB RAM", kib as f64 / 1024.0 / 1024.0),
        )
}

#[cfg(test)]
mod tests {
    use super::sections_owned_elsewhere;

    #[test]
    fn a_full_run_keeps_the_database_sections_and_nothing_else() {
        let doc =
            "# Benchmarks\n\n## Summary\n\nx\n\n## Database stores (`scripts/bench.sh --pg`)\n\n\
                   | a |\n\n## Two servers on one PostgreSQL (`scripts/bench-pg-servers.sh`)\n\n\
                   two\n\n## Notes\n\nn\n";
        assert_eq!(
            sections_owned_elsewhere(doc),
            "## Database stores (`scripts/bench.sh --pg`)\n\n| a |\n\n\
             ## Two servers on one PostgreSQL (`scripts/bench-pg-servers.sh`)\n\ntwo\n\n"
        );
        assert_eq!(sections_owned_elsewhere("# Benchmarks\n\n## Notes\n"), "");
    }
}
