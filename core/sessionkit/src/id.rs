//! Session ids: 128 random bits, shown as 22 characters of unpadded base64url.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::{Error, Result};

/// The public identifier of a session. Safe to show in a device list: it grants nothing without
/// the token's secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; SessionId::LEN]);

impl SessionId {
    /// Length in bytes (128 bits).
    pub const LEN: usize = 16;
    /// Length of the base64url text form.
    pub const TEXT_LEN: usize = 22;

    /// A fresh id from the operating system's CSPRNG.
    pub fn random() -> Result<Self> {
        let mut bytes = [0u8; Self::LEN];
        crate::random::fill(&mut bytes)?;
        Ok(SessionId(bytes))
    }

    /// Builds an id from its raw bytes (as a store keeps them).
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        SessionId(bytes)
    }

    /// Builds an id from a byte slice of exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; Self::LEN]>::try_from(bytes)
            .map(SessionId)
            .map_err(|_| Error::corrupt(format!("session id of {} bytes", bytes.len())))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// Parses the 22-character base64url form. Anything else is `InvalidInput { field: "id" }`.
    pub fn parse(text: &str) -> Result<Self> {
        Self::decode(text).ok_or_else(|| {
            Error::invalid_input("id", "expected a 22-character base64url session id")
        })
    }

    /// Parses the text form, `None` when malformed (used where the error must not say why).
    pub(crate) fn decode(text: &str) -> Option<Self> {
        if text.len() != Self::TEXT_LEN {
            return None;
        }
        let mut bytes = [0u8; Self::LEN];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            // The decoder rejects non-canonical trailing bits, so one id has one spelling.
            Ok(Self::LEN) => Some(SessionId(bytes)),
            _ => None,
        }
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; Self::TEXT_LEN];
        let n = URL_SAFE_NO_PAD
            .encode_slice(self.0, &mut buf)
            .map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl FromStr for SessionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SessionId::parse(s)
    }
}

impl serde::Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SessionId::decode(&text).ok_or_else(|| serde::de::Error::custom("invalid session id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn random_ids_differ_and_have_22_chars() {
        let a = SessionId::random().unwrap();
        let b = SessionId::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), 22);
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "abc",
            "AAAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAA/",
            "AAAAAAAAAAAAAAAAAAAAAB",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn text_form_round_trips(bytes in any::<[u8; 16]>()) {
            let id = SessionId::from_bytes(bytes);
            prop_assert_eq!(SessionId::parse(&id.to_string()).unwrap(), id);
        }
    }
}
