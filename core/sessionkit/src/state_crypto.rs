//! State encryption at rest (optional): XChaCha20-Poly1305 under keys the caller supplies, with
//! the key's id in every blob so keys can rotate. Old blobs are read with the key they name,
//! new ones are written under the current key, and `rekey` rewrites the old ones.
//!
//! An encrypted blob wraps the plain state blob (`state_codec.rs`, checksum and compression
//! included), byte for byte the same on every platform for the same key and nonce:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `SKSE` |
//! | 4 | 1 | format version, `1` |
//! | 5 | 4 | key id, u32 little-endian |
//! | 9 | 24 | nonce (random for every write) |
//! | 33 | … | the plain blob encrypted, then the 16-byte Poly1305 tag |
//!
//! Bytes 0–8 are the associated data: a blob cannot be moved to another key id or format. A
//! wrong key, a missing key, a key id nobody configured and any changed byte are all `Corrupt`,
//! never garbage. The blob is not bound to its session: someone who can write the database can
//! move a ciphertext from one session to another, which the encryption does not detect.
//!
//! With keys configured, plain blobs (written before encryption was turned on) still read, unless
//! [`StateKeys::refusing_plain_states`] says otherwise; `rekey` encrypts them. Without keys, an
//! encrypted blob is `Corrupt` (no key).
//! `tests/vectors/state_encryption.json` holds blobs every platform must produce and read.

use std::collections::BTreeMap;
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

use crate::{Error, Result};

const MAGIC: &[u8; 4] = b"SKSE";
const FORMAT_VERSION: u8 = 1;
const AAD_LEN: usize = 9;
/// Length of a nonce in bytes.
pub const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = AAD_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;
/// Length of a key in bytes.
pub const KEY_LEN: usize = 32;

/// The keys state is encrypted with: one current key (new writes) and any number of older ones
/// (still read), each under a `u32` id.
///
/// `Debug` shows the ids only; the key bytes are wiped from memory when dropped.
#[derive(Clone)]
pub struct StateKeys {
    current: u32,
    keys: BTreeMap<u32, Zeroizing<[u8; KEY_LEN]>>,
    plain_refused: bool,
}

impl fmt::Debug for StateKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateKeys")
            .field("current", &self.current)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .field("plain_refused", &self.plain_refused)
            .finish()
    }
}

impl StateKeys {
    /// Keys with `key` as the current one, under `id`.
    pub fn new(id: u32, key: [u8; KEY_LEN]) -> Self {
        let mut keys = BTreeMap::new();
        keys.insert(id, Zeroizing::new(key));
        StateKeys {
            current: id,
            keys,
            plain_refused: false,
        }
    }

    /// Refuses plain (unencrypted) state blobs as `Corrupt` instead of reading them. Turn it on
    /// once `rekey` has encrypted every state: from then on, someone who can write the database
    /// cannot plant a state of their choosing as a plain blob.
    pub fn refusing_plain_states(mut self) -> Self {
        self.plain_refused = true;
        self
    }

    /// Adds an older key, still used to read the blobs written under `id`. A second key under
    /// one id is `InvalidInput { field: "state_keys" }`.
    pub fn with_old_key(mut self, id: u32, key: [u8; KEY_LEN]) -> Result<Self> {
        if self.keys.contains_key(&id) {
            return Err(Error::invalid_input(
                "state_keys",
                format!("key id {id} is given twice"),
            ));
        }
        self.keys.insert(id, Zeroizing::new(key));
        Ok(self)
    }

    /// Reads a key file: one key a line, `<id>:<base64 of 32 bytes>` (standard base64, padded),
    /// the first line the current key; blank lines and lines starting with `#` are skipped.
    /// Anything else is `InvalidInput { field: "state_keys" }`, naming the line (never a key).
    pub fn parse(text: &str) -> Result<Self> {
        let mut keys: Option<StateKeys> = None;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| {
                Error::invalid_input("state_keys", format!("line {}: {reason}", index + 1))
            };
            let (id, encoded) = line
                .split_once(':')
                .ok_or_else(|| bad("expected <id>:<base64 of 32 bytes>"))?;
            let id: u32 = id
                .trim()
                .parse()
                .map_err(|_| bad("the key id must be a number from 0 to 4294967295"))?;
            let mut key = Zeroizing::new([0u8; KEY_LEN]);
            let decoded = Zeroizing::new(
                STANDARD
                    .decode(encoded.trim())
                    .map_err(|_| bad("the key must be standard base64"))?,
            );
            if decoded.len() != KEY_LEN {
                return Err(bad("the key must be 32 bytes"));
            }
            key.copy_from_slice(&decoded);
            keys = Some(match keys {
                None => StateKeys::new(id, *key),
                Some(keys) => keys
                    .with_old_key(id, *key)
                    .map_err(|_| bad("this key id is given twice"))?,
            });
        }
        keys.ok_or_else(|| Error::invalid_input("state_keys", "no key in the key file"))
    }

    /// The id new writes are encrypted under.
    pub fn current_id(&self) -> u32 {
        self.current
    }

    /// Every id a blob may be read with, ascending.
    pub fn ids(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// Encrypts a plain state blob under the current key with a fresh random nonce.
    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::random::fill(&mut nonce)?;
        self.seal_with_nonce(plain, &nonce)
    }

    /// [`StateKeys::seal`] with a given nonce. For test vectors only: a nonce must never be
    /// used twice with one key.
    pub fn seal_with_nonce(&self, plain: &[u8], nonce: &[u8; NONCE_LEN]) -> Result<Vec<u8>> {
        let mut blob = Vec::with_capacity(HEADER_LEN + plain.len() + TAG_LEN);
        blob.extend_from_slice(MAGIC);
        blob.push(FORMAT_VERSION);
        blob.extend_from_slice(&self.current.to_le_bytes());
        blob.extend_from_slice(nonce);
        let sealed = cipher::encrypt(&self.keys[&self.current], nonce, plain, &blob[..AAD_LEN])?;
        blob.extend_from_slice(&sealed);
        Ok(blob)
    }

    /// Decrypts an encrypted blob back to the plain blob. A blob under an id with no key, a
    /// wrong key or any changed byte: `Corrupt`.
    pub fn open(&self, blob: &[u8]) -> Result<Vec<u8>> {
        let (id, nonce, sealed) = parse_header(blob)?;
        let key = self.keys.get(&id).ok_or_else(|| {
            Error::corrupt(format!(
                "state blob encrypted under key {id}, which is not configured"
            ))
        })?;
        cipher::decrypt(id, key, &nonce, sealed, &blob[..AAD_LEN])
    }
}

/// The cipher itself, XChaCha20-Poly1305.
#[cfg(feature = "state-encryption")]
mod cipher {
    use chacha20poly1305::aead::{Aead, Payload};
    use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};

    use super::{KEY_LEN, NONCE_LEN};
    use crate::{Error, Result};

    pub(super) fn encrypt(
        key: &[u8; KEY_LEN],
        nonce: &[u8; NONCE_LEN],
        msg: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>> {
        XChaCha20Poly1305::new(&(*key).into())
            .encrypt(&XNonce::from(*nonce), Payload { msg, aad })
            .map_err(|_| Error::storage("state encryption failed"))
    }

    pub(super) fn decrypt(
        id: u32,
        key: &[u8; KEY_LEN],
        nonce: &[u8; NONCE_LEN],
        msg: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>> {
        XChaCha20Poly1305::new(&(*key).into())
            .decrypt(&XNonce::from(*nonce), Payload { msg, aad })
            .map_err(|_| {
                Error::corrupt(format!(
                    "state blob does not decrypt with key {id} (wrong key, or changed bytes)"
                ))
            })
    }
}

/// A build without the `state-encryption` feature: blobs are recognised, never sealed or opened.
#[cfg(not(feature = "state-encryption"))]
mod cipher {
    use super::{KEY_LEN, NONCE_LEN};
    use crate::{Error, Result};

    fn not_built() -> Error {
        Error::corrupt(
            "state encryption is not built into this sessionkit (feature state-encryption)",
        )
    }

    pub(super) fn encrypt(
        _key: &[u8; KEY_LEN],
        _nonce: &[u8; NONCE_LEN],
        _msg: &[u8],
        _aad: &[u8],
    ) -> Result<Vec<u8>> {
        Err(not_built())
    }

    pub(super) fn decrypt(
        _id: u32,
        _key: &[u8; KEY_LEN],
        _nonce: &[u8; NONCE_LEN],
        _msg: &[u8],
        _aad: &[u8],
    ) -> Result<Vec<u8>> {
        Err(not_built())
    }
}

/// Whether `blob` is an encrypted state blob (by its magic).
pub fn is_encrypted(blob: &[u8]) -> bool {
    blob.starts_with(MAGIC)
}

/// The key id an encrypted blob names; `None` for a plain blob.
pub fn key_id(blob: &[u8]) -> Option<u32> {
    parse_header(blob).ok().map(|(id, _, _)| id)
}

fn parse_header(blob: &[u8]) -> Result<(u32, [u8; NONCE_LEN], &[u8])> {
    if blob.len() < HEADER_LEN + TAG_LEN || !is_encrypted(blob) {
        return Err(Error::corrupt("encrypted state blob header"));
    }
    if blob[4] != FORMAT_VERSION {
        return Err(Error::corrupt(format!(
            "encrypted state blob format version {} (this build reads {FORMAT_VERSION})",
            blob[4]
        )));
    }
    let id = u32::from_le_bytes([blob[5], blob[6], blob[7], blob[8]]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&blob[AAD_LEN..HEADER_LEN]);
    Ok((id, nonce, &blob[HEADER_LEN..]))
}

/// The plain blob inside `blob`: `blob` itself when it is not encrypted; decrypted with `keys`
/// when it is (no keys: `Corrupt`).
pub(crate) fn unwrap_blob<'a>(
    keys: Option<&StateKeys>,
    blob: &'a [u8],
) -> Result<std::borrow::Cow<'a, [u8]>> {
    if !is_encrypted(blob) {
        if keys.is_some_and(|k| k.plain_refused) {
            return Err(Error::corrupt(
                "state blob is not encrypted, and plain states are refused",
            ));
        }
        return Ok(std::borrow::Cow::Borrowed(blob));
    }
    match keys {
        Some(keys) => keys.open(blob).map(std::borrow::Cow::Owned),
        None => Err(Error::corrupt(
            "state blob is encrypted and no state key is configured",
        )),
    }
}

#[cfg(all(test, feature = "state-encryption"))]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn keys() -> StateKeys {
        StateKeys::new(7, [7; 32]).with_old_key(3, [3; 32]).unwrap()
    }

    #[test]
    fn sealed_blobs_open_with_their_key_only() {
        let plain = b"SKST plain blob".to_vec();
        let sealed = keys().seal(&plain).unwrap();
        assert!(is_encrypted(&sealed));
        assert_eq!(key_id(&sealed), Some(7));
        assert_eq!(keys().open(&sealed).unwrap(), plain);
        // Two writes of the same state differ (fresh nonces).
        assert_ne!(keys().seal(&plain).unwrap(), sealed);
        // An old key still reads what it wrote.
        let old = StateKeys::new(3, [3; 32]).seal(&plain).unwrap();
        assert_eq!(keys().open(&old).unwrap(), plain);
        // A wrong key under the same id, an unknown id, every flipped bit: Corrupt.
        let wrong = StateKeys::new(7, [8; 32]);
        assert_eq!(wrong.open(&sealed).unwrap_err().kind(), ErrorKind::Corrupt);
        let unknown = StateKeys::new(9, [7; 32]);
        assert_eq!(
            unknown.open(&sealed).unwrap_err().kind(),
            ErrorKind::Corrupt
        );
        for bit in 0..sealed.len() * 8 {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(keys().open(&bad).is_err(), "bit {bit}");
        }
        assert!(keys().open(&sealed[..sealed.len() - 1]).is_err());
        assert!(keys().open(&sealed[..10]).is_err());
    }

    #[test]
    fn without_keys_an_encrypted_blob_is_corrupt_and_a_plain_one_passes() {
        let sealed = keys().seal(b"x").unwrap();
        assert_eq!(
            unwrap_blob(None, &sealed).unwrap_err().kind(),
            ErrorKind::Corrupt
        );
        assert_eq!(&*unwrap_blob(None, b"SKST..").unwrap(), b"SKST..");
        assert_eq!(&*unwrap_blob(Some(&keys()), b"SKST..").unwrap(), b"SKST..");
    }

    #[test]
    fn key_files_parse_and_bad_ones_name_the_line_without_the_key() {
        let k1 = STANDARD.encode([1u8; 32]);
        let k2 = STANDARD.encode([2u8; 32]);
        let keys = StateKeys::parse(&format!("# keys\n\n2:{k2}\n 1 : {k1} \n")).unwrap();
        assert_eq!(keys.current_id(), 2);
        assert_eq!(keys.ids(), vec![1, 2]);
        let debug = format!("{keys:?}");
        assert!(!debug.contains(&k1) && !debug.contains("[1, 1"), "{debug}");
        for (text, reason) in [
            ("", "no key"),
            ("# only a comment", "no key"),
            (&k1.clone(), "line 1: expected <id>:<base64"),
            (&format!("x:{k1}"), "line 1: the key id must be a number"),
            (&format!("-1:{k1}"), "line 1: the key id"),
            ("1:not base64!", "line 1: the key must be standard base64"),
            (
                &format!("1:{}", STANDARD.encode([1u8; 31])),
                "line 1: the key must be 32 bytes",
            ),
            (
                &format!("1:{k1}\n1:{k2}"),
                "line 2: this key id is given twice",
            ),
        ] {
            let err = StateKeys::parse(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{text:?}");
            assert!(err.to_string().contains(reason), "{text:?}: {err}");
            assert!(!err.to_string().contains(&k1) && !err.to_string().contains(&k2));
        }
    }
}
