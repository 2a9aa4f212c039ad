//! The state codec on the corpus documents: compression ratio and throughput, against raw
//! `zstd::bulk` at the same level and `memcpy`, and `put_state`/`get_state` end to end.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use pollster::block_on;
use serde_json::Value;
use sessionkit::{ClientKind, Config, NewSession, StateCodec};

use crate::fixture::{self, T0};
use crate::measure::{fmt_ns, interleave, time_ops, Contender};
use crate::report::Report;
use crate::Params;

/// The codec's zstd level (see `core/sessionkit/src/state_codec.rs`).
const ZSTD_LEVEL: i32 = 1;

fn mbps(bytes: usize, ns: f64) -> f64 {
    bytes as f64 / ns * 1e3
}

/// Every codec case for each corpus document.
pub fn codec(p: &Params, report: &mut Report) {
    let config = Config::default();
    let codec = StateCodec::new(config.state_compression_threshold, config.state_max_bytes);
    let mut md = String::from(
        "## State codec\n\n\
         On `benches/corpus/` (MB/s = JSON bytes / time, 10^6 bytes). Encode = the `put_state` \
         encode path, `StateCodec::encode` of a parsed value: canonical JSON serialization, \
         zstd level 1, CRC-32, header. Decode + verify = the `get_state` verify path, \
         `StateCodec::decode_json`: CRC-32 over every stored byte, frame checks, decompression \
         into exactly the declared size. Decode + parse adds `serde_json` parsing to a value \
         (what `get_state` returns). Serialize alone = `StateCodec::canonical_json` of the value, \
         the first half of encode, beside `serde_json::to_vec` (the same bytes); encode of JSON \
         bytes = `StateCodec::encode_json`, the second half (compression, CRC-32, header). \
         Baselines: `zstd::bulk::Compressor`/`Decompressor` at \
         level 1 with their contexts reused (as the codec keeps one per thread) on the same JSON \
         bytes, and a `memcpy` of them. Encode cannot be faster than serialize and zstd one \
         after the other: the bound is shown beside the encode check. The encoded bytes are identical on \
         wasm32: `tests/vectors/state_codec.json` pins them and is checked natively and in \
         headless Chromium (`scripts/test-web-store.sh`).\n\n\
         | document | JSON | stored | ratio | encode | serialize alone | serde_json::to_vec | encode of JSON bytes | zstd compress | decode + verify | zstd decompress | decode + parse | memcpy |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut e2e = String::from(
        "\nEnd to end through SQLite (one session; `put_state` unconditional, each in its own \
         transaction; `get_state` decoded, verified and parsed; `get_state_json` decoded and \
         verified, the text handed on as the bindings do):\n\n\
         | document | put_state | MB/s | get_state | MB/s | get_state_json | MB/s |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for (name, min_ratio) in [("doc_16KiB.json", 5.0), ("doc_1MiB.json", 6.5)] {
        let path = p.corpus.join(name);
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let value: Value = serde_json::from_slice(&text).expect("corpus JSON");
        let json = codec.canonical_json(&value).expect("canonical JSON");
        assert_eq!(json, serde_json::to_vec(&value).expect("serialize"));
        let encoded = codec.encode(&value).expect("encode");
        let stored = encoded.blob.len();
        let comp_ratio = json.len() as f64 / stored as f64;
        // Operations per batch: about 2 MB of JSON per batch.
        let ops = ((2 << 20) / json.len()).clamp(2, 200) * p.codec_scale;
        let blob = encoded.blob.clone();
        let frame = zstd::bulk::compress(&json, ZSTD_LEVEL).expect("zstd");
        let mut copy = vec![0u8; json.len()];
        // Raw zstd at its best: contexts created once, as the codec keeps them.
        let mut zstd_c = zstd::bulk::Compressor::new(ZSTD_LEVEL).expect("zstd context");
        let mut zstd_d = zstd::bulk::Decompressor::new().expect("zstd context");
        let m = {
            let mut contenders: Vec<Contender<'_>> = vec![
                Box::new(|_| {
                    time_ops(ops, |_| {
                        drop(black_box(codec.encode(&value).expect("encode")))
                    })
                }),
                Box::new(|_| {
                    time_ops(ops, |_| {
                        drop(black_box(zstd_c.compress(&json).expect("zstd")))
                    })
                }),
                Box::new(|_| {
                    time_ops(ops, |_| {
                        drop(black_box(codec.decode_json(&blob).expect("decode")))
                    })
                }),
                Box::new(|_| {
                    time_ops(ops, |_| {
                        drop(black_box(
                            zstd_d.decompress(&frame, json.len()).expect("zstd"),
                        ))
                    })
                }),
                Box::new(|_| {
                    time_ops(ops, |_| {
                        drop(black_box(codec.decode(&blob).expect("decode")))
                    })
                }),
                Box::new(|_| {
                    time_ops(ops, |_| {
                        copy.copy_from_slice(black_box(&json));
                        black_box(&copy);
                    })
                }),
                Box::new(|_| {
                    time_ops(ops, |_| {
                        drop(black_box(serde_json::to_vec(&value).expect("serialize")))
                    })
                }),
                Box::new(|_| {
                    time_ops(ops, |_| {
                        drop(black_box(codec.encode_json(&json).expect("encode")))
                    })
                }),
                Box::new(|_| {
                    time_ops(ops, |_| {
                        drop(black_box(codec.canonical_json(&value).expect("serialize")))
                    })
                }),
            ];
            interleave(p.rounds, &mut contenders)
        };
        let rate = |ns: f64| format!("{:.0} MB/s", mbps(json.len(), ns));
        let _ = writeln!(
            md,
            "| {name} | {} B | {} B | {:.2}× | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            json.len(),
            stored,
            comp_ratio,
            rate(m[0]),
            rate(m[8]),
            rate(m[6]),
            rate(m[7]),
            rate(m[1]),
            rate(m[2]),
            rate(m[3]),
            rate(m[4]),
            rate(m[5]),
        );
        report.check(
            format!("state compression ratio, {name}"),
            format!("{stored} B"),
            format!("{} B JSON", json.len()),
            format!("{comp_ratio:.2}×"),
            format!("≥ {min_ratio}×"),
            comp_ratio >= min_ratio,
        );
        // Serialization then compression, each at its measured speed.
        let bound = m[8] + m[1];
        report.check(
            format!("state encode (put_state path), {name}"),
            rate(m[0]),
            format!(
                "serialize {} + zstd {}: at best {}",
                rate(m[8]),
                rate(m[1]),
                rate(bound)
            ),
            rate(m[0]),
            "≥ 300 MB/s",
            mbps(json.len(), m[0]) >= 300.0,
        );
        report.check(
            format!("state decode + verify (get_state path), {name}"),
            rate(m[2]),
            format!("zstd {}", rate(m[3])),
            rate(m[2]),
            "≥ 800 MB/s",
            mbps(json.len(), m[2]) >= 800.0,
        );

        // End to end.
        let [put, get, get_json] = end_to_end(p, &value);
        let _ = writeln!(
            e2e,
            "| {name} | {} | {:.0} | {} | {:.0} | {} | {:.0} |",
            fmt_ns(put),
            mbps(json.len(), put),
            fmt_ns(get),
            mbps(json.len(), get),
            fmt_ns(get_json),
            mbps(json.len(), get_json)
        );
    }
    md.push_str(&e2e);
    report.section(md);
}

fn end_to_end(p: &Params, value: &Value) -> [f64; 3] {
    let path = p.work_dir.join("state.db");
    fixture::remove_db(&path);
    let (_store, manager) = fixture::manager(&path, T0);
    let id = block_on(manager.create(NewSession::new("state-user", ClientKind::Web)))
        .expect("create")
        .session
        .id;
    let ops = p.codec_scale * 20;
    let m = {
        let mut contenders: Vec<Contender<'_>> = vec![
            Box::new(|_| {
                time_ops(ops, |_| {
                    black_box(block_on(manager.put_state(&id, value, None)).expect("put_state"));
                })
            }),
            Box::new(|_| {
                time_ops(ops, |_| {
                    black_box(block_on(manager.get_state(&id)).expect("get_state"));
                })
            }),
            Box::new(|_| {
                time_ops(ops, |_| {
                    black_box(block_on(manager.get_state_json(&id)).expect("get_state_json"));
                })
            }),
        ];
        interleave(p.rounds, &mut contenders)
    };
    drop(manager);
    fixture::remove_db(&path);
    [m[0], m[1], m[2]]
}

/// One codec operation repeated on one document, and nothing else: a steady loop for
/// `valgrind --tool=callgrind` or `perf record` (see `notes.md`, "State codec").
pub fn codec_loop(args: &[String]) {
    let [file, reps, op] = args else {
        eprintln!("usage: sessionkit-bench codec-loop <json file> <reps> encode|serialize|decode");
        std::process::exit(2)
    };
    let reps: usize = reps.parse().expect("reps: a number");
    let text = std::fs::read(file).unwrap_or_else(|e| panic!("read {file}: {e}"));
    let value: Value = serde_json::from_slice(&text).expect("a JSON document");
    let config = Config::default();
    let codec = StateCodec::new(config.state_compression_threshold, config.state_max_bytes);
    let blob = codec.encode(&value).expect("encode").blob;
    match op.as_str() {
        "encode" => (0..reps).for_each(|_| drop(black_box(codec.encode(&value).expect("encode")))),
        "serialize" => (0..reps)
            .for_each(|_| drop(black_box(codec.canonical_json(&value).expect("serialize")))),
        "decode" => {
            (0..reps).for_each(|_| drop(black_box(codec.decode_json(&blob).expect("decode"))))
        }
        other => panic!("unknown operation {other}"),
    }
}

/// Whether the corpus is where the bench expects it.
pub fn corpus_present(dir: &Path) -> bool {
    dir.join("doc_16KiB.json").exists() && dir.join("doc_1MiB.json").exists()
}
