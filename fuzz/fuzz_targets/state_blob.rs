//! State blob decoding, including decompression bombs. Blobs are built with a valid checksum
//! (or taken raw) so the fuzzer reaches the size checks and the zstd decoder. Whatever the
//! bytes: no panic, no allocation past what the limit allows (libFuzzer's `-malloc_limit_mb`
//! catches one), and a blob that decodes gives exactly the declared length, within the limit,
//! and re-encodes to a blob that decodes to the same value.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sessionkit::{Error, StateCodec};

/// Limits the reader may have: tiny, small, and the default 5 MiB.
const LIMITS: [u64; 3] = [64, 64 * 1024, 5 * 1024 * 1024];

#[derive(Arbitrary, Debug)]
struct Input {
    limit: u8,
    blob: Blob,
}

#[derive(Arbitrary, Debug)]
enum Blob {
    /// The bytes as stored, checksum and all.
    Raw(Vec<u8>),
    /// A header with a correct checksum over arbitrary fields and payload.
    Checked {
        version: u8,
        codec: u8,
        declared: u64,
        payload: Vec<u8>,
    },
    /// `json` compressed with zstd, then edited, then wrapped with a correct checksum.
    Compressed {
        json: Vec<u8>,
        declared_delta: i8,
        edits: Vec<(u16, u8)>,
        trailing: Vec<u8>,
    },
}

fn wrap(version: u8, codec: u8, declared: u64, payload: &[u8]) -> Vec<u8> {
    let mut blob = b"SKST".to_vec();
    blob.push(version);
    blob.push(codec);
    blob.extend_from_slice(&declared.to_le_bytes());
    let mut crc = crc32(&blob);
    crc.update(payload);
    blob.extend_from_slice(&crc.finalize().to_le_bytes());
    blob.extend_from_slice(payload);
    blob
}

fn crc32(header: &[u8]) -> Crc {
    let mut crc = Crc::new();
    crc.update(header);
    crc
}

/// CRC-32 (IEEE, reflected), bit by bit: an independent check of the codec's checksum.
struct Crc(u32);

impl Crc {
    fn new() -> Self {
        Crc(0xffff_ffff)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (self.0 & 1).wrapping_neg();
                self.0 = (self.0 >> 1) ^ (0xedb8_8320 & mask);
            }
        }
    }

    fn finalize(self) -> u32 {
        !self.0
    }
}

fuzz_target!(|input: Input| {
    let limit = LIMITS[usize::from(input.limit) % LIMITS.len()];
    let codec = StateCodec::new(16, limit);
    let blob = match &input.blob {
        Blob::Raw(bytes) => bytes.clone(),
        Blob::Checked {
            version,
            codec,
            declared,
            payload,
        } => wrap(*version % 3, *codec % 3, *declared, payload),
        Blob::Compressed {
            json,
            declared_delta,
            edits,
            trailing,
        } => {
            let mut frame = zstd::bulk::compress(json, 1).unwrap();
            for &(at, byte) in edits {
                let at = usize::from(at);
                if at < frame.len() {
                    frame[at] = byte;
                }
            }
            frame.extend_from_slice(trailing);
            let declared = (json.len() as u64).wrapping_add_signed(i64::from(*declared_delta));
            wrap(1, 1, declared, &frame)
        }
    };
    match codec.decode_json(&blob) {
        Ok((json, compressed, crc32)) => {
            let declared = u64::from_le_bytes(blob[6..14].try_into().unwrap());
            assert_eq!(json.len() as u64, declared);
            assert!(declared <= limit);
            assert_eq!(compressed, blob[5] == 1);
            let mut check = crc32_of(&blob);
            check.update(&blob[18..]);
            assert_eq!(check.finalize(), crc32);
            if let Ok(decoded) = codec.decode(&blob) {
                // Valid JSON: it re-encodes (canonically) to a blob that reads back equal,
                // unless the canonical text is longer than the limit (`1e2` is `100.0`).
                match codec.encode(&decoded.data) {
                    Ok(again) => {
                        assert_eq!(codec.decode(&again.blob).unwrap().data, decoded.data)
                    }
                    Err(Error::LimitExceeded { .. }) => {}
                    Err(other) => panic!("re-encoding failed with {other:?}"),
                }
            }
        }
        Err(Error::Corrupt { .. }) => {}
        Err(other) => panic!("decoding failed with {other:?}, not Corrupt"),
    }
});

fn crc32_of(blob: &[u8]) -> Crc {
    crc32(&blob[..14])
}
