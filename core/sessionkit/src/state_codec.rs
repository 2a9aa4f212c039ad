//! The state codec: how client state is stored, byte for byte the same on every platform.
//!
//! State is serialized as compact JSON with object keys in sorted order (serde_json's default
//! map), so equal values give equal bytes wherever they are encoded: the text `serde_json::to_vec`
//! writes, by a faster writer of its own (`canonical.rs`). The stored blob is:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `SKST` |
//! | 4 | 1 | format version, `1` |
//! | 5 | 1 | codec: `0` raw JSON, `1` zstd frame (level 1, content size in the frame header) |
//! | 6 | 8 | length of the JSON in bytes, u64 little-endian |
//! | 14 | 4 | CRC-32 (IEEE) of bytes 0–13 followed by the payload, u32 little-endian |
//! | 18 | … | payload: the JSON, or its zstd frame |
//!
//! JSON longer than the compression threshold is compressed, unless compression does not make it
//! smaller. Reading verifies the checksum over every stored byte (so any flipped bit is caught
//! before decompression), refuses a declared length above the configured maximum *before*
//! allocating (a decompression bomb cannot expand), and decompresses into exactly that many
//! bytes: any mismatch is `Corrupt`, never returned data.
//! `tests/vectors/` holds blobs that every platform must produce and read identically.

use serde_json::Value;

use crate::{Error, Result};

mod canonical;

const MAGIC: &[u8; 4] = b"SKST";
const FORMAT_VERSION: u8 = 1;
const CODEC_RAW: u8 = 0;
const CODEC_ZSTD: u8 = 1;
const HEADER_LEN: usize = 18;
const ZSTD_LEVEL: i32 = 1;

/// Encodes and decodes state blobs under a compression threshold and a size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateCodec {
    compression_threshold: u64,
    max_bytes: u64,
}

/// A state value ready to store, with the facts the API reports about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedState {
    /// The blob to store.
    pub blob: Vec<u8>,
    /// Length of the serialized JSON.
    pub size: u64,
    /// Whether the payload is compressed.
    pub compressed: bool,
    /// The blob's CRC-32 (see the module docs).
    pub crc32: u32,
}

/// A blob read back and verified.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedState {
    /// The state.
    pub data: Value,
    /// Length of the serialized JSON.
    pub size: u64,
    /// Whether the payload was compressed.
    pub compressed: bool,
    /// The blob's CRC-32 (see the module docs).
    pub crc32: u32,
}

/// Formats a CRC-32 the way `State::checksum` shows it: `crc32:` and 8 lowercase hex digits.
pub fn checksum_text(crc32: u32) -> String {
    format!("crc32:{crc32:08x}")
}

impl StateCodec {
    /// A codec compressing JSON longer than `compression_threshold` bytes and refusing JSON
    /// longer than `max_bytes`.
    pub fn new(compression_threshold: u64, max_bytes: u64) -> Self {
        StateCodec {
            compression_threshold,
            max_bytes,
        }
    }

    /// Serializes and encodes `data`. Over the size limit: `LimitExceeded { what: "state_max_bytes" }`;
    /// nested deeper than JSON can be read back (127 arrays and objects): `InvalidInput { field: "data" }`.
    pub fn encode(&self, data: &Value) -> Result<EncodedState> {
        self.with_canonical(data, |json| self.encode_json(json))?
    }

    /// The canonical JSON text of `data`, as [`StateCodec::encode`] stores it: compact, object
    /// keys sorted, byte for byte what `serde_json::to_vec` writes. Same limits and errors as
    /// `encode`.
    pub fn canonical_json(&self, data: &Value) -> Result<Vec<u8>> {
        self.with_canonical(data, <[u8]>::to_vec)
    }

    fn with_canonical<R>(&self, data: &Value, use_text: impl FnOnce(&[u8]) -> R) -> Result<R> {
        canonical::with_canonical(
            data,
            crate::validation::MAX_JSON_DEPTH,
            self.max_bytes,
            use_text,
        )
        .map_err(|refused| match refused {
            canonical::Refused::TooDeep => crate::validation::too_deep("data"),
            canonical::Refused::TooLarge => Error::limit_exceeded("state_max_bytes"),
        })
    }

    /// Encodes JSON bytes that are already in canonical form (as `serde_json::to_vec` writes them).
    pub fn encode_json(&self, json: &[u8]) -> Result<EncodedState> {
        let size = json.len() as u64;
        if size > self.max_bytes {
            return Err(Error::limit_exceeded("state_max_bytes"));
        }
        // The frame is written straight after the header; kept only if it is smaller.
        let mut blob = Vec::new();
        if size > self.compression_threshold {
            // Room for the worst case; zstd writes into it uninitialised (no zero-filling).
            blob.reserve_exact(HEADER_LEN + zstd::zstd_safe::compress_bound(json.len()));
            blob.resize(HEADER_LEN, 0);
            contexts::compress(json, &mut blob)
                .map_err(|e| Error::storage(format!("state compression failed: {e}")))?;
        }
        let codec = if !blob.is_empty() && blob.len() - HEADER_LEN < json.len() {
            CODEC_ZSTD
        } else {
            blob.clear();
            blob.reserve_exact(HEADER_LEN + json.len());
            blob.resize(HEADER_LEN, 0);
            blob.extend_from_slice(json);
            CODEC_RAW
        };
        blob[..4].copy_from_slice(MAGIC);
        blob[4] = FORMAT_VERSION;
        blob[5] = codec;
        blob[6..14].copy_from_slice(&size.to_le_bytes());
        let crc32 = blob_crc(&blob[..14], &blob[HEADER_LEN..]);
        blob[14..18].copy_from_slice(&crc32.to_le_bytes());
        Ok(EncodedState {
            blob,
            size,
            compressed: codec == CODEC_ZSTD,
            crc32,
        })
    }

    /// The JSON size a blob's header declares, when the blob has this codec's header; the blob
    /// is not verified.
    pub fn declared_size(&self, blob: &[u8]) -> Option<u64> {
        if blob.len() < HEADER_LEN || &blob[..4] != MAGIC || blob[4] != FORMAT_VERSION {
            return None;
        }
        Some(u64::from_le_bytes(field(&blob[6..14])))
    }

    /// Decodes and verifies a blob, returning the JSON bytes and facts without parsing them.
    pub fn decode_json(&self, blob: &[u8]) -> Result<(Vec<u8>, bool, u32)> {
        if blob.len() < HEADER_LEN || &blob[..4] != MAGIC {
            return Err(Error::corrupt("state blob header"));
        }
        if blob[4] != FORMAT_VERSION {
            return Err(Error::corrupt(format!(
                "state blob format version {} (this build reads {FORMAT_VERSION})",
                blob[4]
            )));
        }
        let codec = blob[5];
        let size = u64::from_le_bytes(field(&blob[6..14]));
        let crc32 = u32::from_le_bytes(field(&blob[14..18]));
        let payload = &blob[HEADER_LEN..];
        if blob_crc(&blob[..14], payload) != crc32 {
            return Err(Error::corrupt("state checksum mismatch"));
        }
        if size > self.max_bytes {
            return Err(Error::corrupt(
                "state blob declares a size above state_max_bytes",
            ));
        }
        // `size <= max_bytes <= 1 GiB`, so it fits in usize on every target.
        let size_usize = usize::try_from(size).map_err(|_| Error::corrupt("state blob size"))?;
        let json = match codec {
            CODEC_RAW => payload.to_vec(),
            CODEC_ZSTD => {
                // Refuse frames that declare more than the header before allocating for them.
                match zstd::zstd_safe::get_frame_content_size(payload) {
                    Ok(Some(n)) if n == size => {}
                    _ => return Err(Error::corrupt("state blob compressed frame")),
                }
                contexts::decompress(payload, size_usize)
                    .map_err(|_| Error::corrupt("state blob compressed payload"))?
            }
            other => return Err(Error::corrupt(format!("state blob codec {other}"))),
        };
        if json.len() != size_usize {
            return Err(Error::corrupt("state blob length"));
        }
        Ok((json, codec == CODEC_ZSTD, crc32))
    }

    /// Decodes and verifies a blob as [`StateCodec::decode_json`] does, and checks that the
    /// text is one JSON value (read through without building it: no allocation per value). A
    /// checksum proves the bytes are those written, not that what was written is JSON; a blob
    /// made outside the engine could carry any text under a correct checksum. Not JSON (or
    /// nested deeper than can be read): `Corrupt`.
    pub fn decode_json_checked(&self, blob: &[u8]) -> Result<(String, bool, u32)> {
        let (json, compressed, crc32) = self.decode_json(blob)?;
        let text = String::from_utf8(json).map_err(|_| Error::corrupt("state JSON"))?;
        serde_json::from_str::<serde::de::IgnoredAny>(&text)
            .map_err(|_| Error::corrupt("state JSON"))?;
        // Skipping a value has no depth limit; reading one back has (and writing refuses more).
        if nesting_depth(text.as_bytes()) > crate::validation::MAX_JSON_DEPTH {
            return Err(Error::corrupt("state JSON nested too deep"));
        }
        Ok((text, compressed, crc32))
    }

    /// Decodes, verifies and parses a blob.
    pub fn decode(&self, blob: &[u8]) -> Result<DecodedState> {
        let (json, compressed, crc32) = self.decode_json(blob)?;
        let data = serde_json::from_slice(&json).map_err(|_| Error::corrupt("state JSON"))?;
        Ok(DecodedState {
            data,
            size: json.len() as u64,
            compressed,
            crc32,
        })
    }
}

/// zstd contexts kept per thread: creating one (and sizing its tables) costs about as much as
/// compressing a 16 KiB state. Reuse never changes the output: every call compresses one whole
/// frame with the same parameters.
mod contexts {
    use std::cell::RefCell;
    use std::io;

    use zstd::bulk::{Compressor, Decompressor};

    use super::ZSTD_LEVEL;

    thread_local! {
        static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
        static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
    }

    /// Compresses `json` as one frame and appends it to `blob`, whose spare capacity must hold
    /// the worst case (`compress_bound`).
    pub(super) fn compress(json: &[u8], blob: &mut Vec<u8>) -> io::Result<usize> {
        let start = blob.len() as u64;
        let mut out = io::Cursor::new(blob);
        out.set_position(start);
        let reused = COMPRESSOR.try_with(|cell| {
            let Ok(mut slot) = cell.try_borrow_mut() else {
                return None;
            };
            Some(match slot.as_mut() {
                Some(c) => c.compress_to_buffer(json, &mut out),
                None => Compressor::new(ZSTD_LEVEL).and_then(|mut c| {
                    let written = c.compress_to_buffer(json, &mut out);
                    *slot = Some(c);
                    written
                }),
            })
        });
        match reused {
            Ok(Some(result)) => result,
            // The thread is exiting, or (never in practice) a re-entrant call: a fresh context.
            _ => Compressor::new(ZSTD_LEVEL)?.compress_to_buffer(json, &mut out),
        }
    }

    /// Decompresses one frame into a vector of at most `capacity` bytes.
    pub(super) fn decompress(frame: &[u8], capacity: usize) -> io::Result<Vec<u8>> {
        let reused = DECOMPRESSOR.try_with(|cell| {
            let Ok(mut slot) = cell.try_borrow_mut() else {
                return None;
            };
            Some(match slot.as_mut() {
                Some(d) => d.decompress(frame, capacity),
                None => Decompressor::new().and_then(|mut d| {
                    let json = d.decompress(frame, capacity);
                    *slot = Some(d);
                    json
                }),
            })
        });
        match reused {
            Ok(Some(result)) => result,
            _ => Decompressor::new()?.decompress(frame, capacity),
        }
    }
}

/// The deepest nesting of arrays and objects in `json`, which must be valid JSON (brackets
/// inside strings are skipped).
fn nesting_depth(json: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// CRC-32 of the header's first 14 bytes followed by the payload.
fn blob_crc(header: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header[..14]);
    hasher.update(payload);
    hasher.finalize()
}

fn field<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::canonical::tests::json_value;
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn codec() -> StateCodec {
        StateCodec::new(64, 1 << 20)
    }

    #[test]
    fn small_state_is_raw_and_large_compressed() {
        let small = codec().encode(&json!({"a": 1})).unwrap();
        assert!(!small.compressed);
        assert_eq!(&small.blob[HEADER_LEN..], br#"{"a":1}"#);
        let large = codec()
            .encode(&json!({"list": vec!["same text"; 100]}))
            .unwrap();
        assert!(large.compressed);
        assert!(large.blob.len() < large.size as usize);
        assert_eq!(
            codec().decode(&large.blob).unwrap().data,
            json!({"list": vec!["same text"; 100]})
        );
    }

    #[test]
    fn keys_are_sorted_so_equal_values_encode_equal() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":3}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"c":3,"d":2},"b":1}"#).unwrap();
        assert_eq!(
            codec().encode(&a).unwrap().blob,
            codec().encode(&b).unwrap().blob
        );
    }

    #[test]
    fn nesting_depth_skips_strings() {
        assert_eq!(nesting_depth(br#"{"a":[1,{"b":"[[[{{"}],"c":"\"]"}"#), 3);
        assert_eq!(nesting_depth(b"1"), 0);
        let deep = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert_eq!(nesting_depth(deep.as_bytes()), 127);
        let ok = codec().encode_json(deep.as_bytes()).unwrap();
        assert!(codec().decode_json_checked(&ok.blob).is_ok());
        let deeper = format!("[{deep}]");
        let bad = codec().encode_json(deeper.as_bytes()).unwrap();
        assert_eq!(
            codec().decode_json_checked(&bad.blob).unwrap_err().kind(),
            crate::ErrorKind::Corrupt
        );
    }

    #[test]
    fn over_the_limit_is_refused() {
        let err = StateCodec::new(10, 8)
            .encode(&json!("0123456789"))
            .unwrap_err();
        assert_eq!(err, Error::limit_exceeded("state_max_bytes"));
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        for value in [json!({"k": "v"}), json!({"list": vec!["same text"; 100]})] {
            let blob = codec().encode(&value).unwrap().blob;
            for bit in 0..blob.len() * 8 {
                let mut bad = blob.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                let result = codec().decode(&bad);
                assert!(result.is_err(), "bit {bit} flipped went unnoticed");
            }
        }
    }

    #[test]
    fn a_bomb_is_refused_before_allocation() {
        let big = StateCodec::new(0, 1 << 30)
            .encode(&json!("x".repeat(1 << 20)))
            .unwrap();
        // The reader's limit is lower than what the blob declares.
        assert_eq!(
            codec().decode(&big.blob).unwrap_err().kind(),
            crate::ErrorKind::Corrupt
        );
        // A header lying about the size (smaller than the frame) is refused too.
        let mut lying = big.blob.clone();
        lying[6..14].copy_from_slice(&16u64.to_le_bytes());
        assert!(StateCodec::new(0, 1 << 30).decode(&lying).is_err());
    }

    proptest! {
        #[test]
        fn round_trips_at_any_threshold(value in json_value(), threshold in 0u64..200) {
            let codec = StateCodec::new(threshold, 1 << 20);
            let encoded = codec.encode(&value).unwrap();
            let decoded = codec.decode(&encoded.blob).unwrap();
            prop_assert_eq!(&decoded.data, &value);
            prop_assert_eq!(decoded.size, encoded.size);
            prop_assert_eq!(decoded.compressed, encoded.compressed);
        }

        #[test]
        fn encodes_exactly_the_bytes_serde_json_writes(value in json_value()) {
            let codec = StateCodec::new(u64::MAX, 1 << 20);
            let encoded = codec.encode(&value).unwrap();
            let (json, _, _) = codec.decode_json(&encoded.blob).unwrap();
            prop_assert_eq!(json, serde_json::to_vec(&value).unwrap());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = codec().decode(&bytes);
        }
    }
}
