//! The state codec (SPEC §3), exposed so every platform can check the shared test vectors
//! (`tests/vectors/state_codec.json`): the same JSON encodes to the same bytes everywhere.

use std::sync::Arc;

use crate::error::Result;
use crate::Json;

/// A state value encoded for storage.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EncodedState {
    /// The stored blob.
    pub blob: Vec<u8>,
    /// Length of the serialized JSON in bytes.
    pub size: u64,
    /// Whether the payload is compressed.
    pub compressed: bool,
    /// The blob's checksum, `crc32:` and 8 hex digits.
    pub checksum: String,
}

/// A blob read back and verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DecodedState {
    /// The state as canonical JSON text (compact, keys sorted): the exact text the vectors
    /// check, so a `String` in every language.
    pub data: String,
    /// Length of the serialized JSON in bytes.
    pub size: u64,
    /// Whether the payload was compressed.
    pub compressed: bool,
    /// The blob's checksum, `crc32:` and 8 hex digits.
    pub checksum: String,
}

/// Encodes and decodes state blobs under a compression threshold and a size limit, exactly as a
/// manager configured with the same values stores them.
#[derive(Debug, uniffi::Object)]
pub struct StateCodec {
    inner: sessionkit::StateCodec,
}

#[uniffi::export]
impl StateCodec {
    /// A codec compressing JSON longer than `compression_threshold` bytes and refusing JSON
    /// longer than `max_bytes`.
    #[uniffi::constructor]
    pub fn new(compression_threshold: u64, max_bytes: u64) -> Arc<Self> {
        Arc::new(StateCodec {
            inner: sessionkit::StateCodec::new(compression_threshold, max_bytes),
        })
    }

    /// Encodes the JSON value `data`. Over the size limit: `LimitExceeded`.
    pub fn encode(&self, data: Json) -> Result<EncodedState> {
        let encoded = self.inner.encode(&data.value("data")?)?;
        Ok(EncodedState {
            checksum: sessionkit::state_checksum_text(encoded.crc32),
            blob: encoded.blob,
            size: encoded.size,
            compressed: encoded.compressed,
        })
    }

    /// Verifies and decodes a blob. Any damage is `Corrupt`; nothing unverified is returned.
    pub fn decode(&self, blob: Vec<u8>) -> Result<DecodedState> {
        let decoded = self.inner.decode(&blob)?;
        Ok(DecodedState {
            data: crate::json::text(&decoded.data)?,
            size: decoded.size,
            compressed: decoded.compressed,
            checksum: sessionkit::state_checksum_text(decoded.crc32),
        })
    }
}
