//! Opaque keyset-pagination cursors for `list_user_sessions`.
//!
//! A cursor names the last item of a page by its sort key `(last_active_at, id)`, so the next
//! page is an index seek, whatever its depth. It is bound to the listing it came from (a tag of
//! the user id and the `active_only` flag): a cursor from another user's listing or another
//! filter is refused instead of silently paging something else.
//!
//! Layout (base64url, no padding): `version(1) = 1 | flags(1) | last_active_at(i64 BE) |
//! id(16) | tag(8)` where `tag` is the first 8 bytes of SHA-256 of the user id.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::{Error, Result, SessionId};

const VERSION: u8 = 1;
const FLAG_ACTIVE_ONLY: u8 = 1;
const LEN: usize = 1 + 1 + 8 + SessionId::LEN + 8;

/// A decoded page position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    /// `last_active_at` of the last item returned.
    pub last_active_at: i64,
    /// `id` of the last item returned.
    pub id: SessionId,
}

impl PageCursor {
    /// Encodes this position for a listing of `user_id` with `active_only`.
    pub fn encode(&self, user_id: &str, active_only: bool) -> String {
        let mut bytes = Vec::with_capacity(LEN);
        bytes.push(VERSION);
        bytes.push(if active_only { FLAG_ACTIVE_ONLY } else { 0 });
        bytes.extend_from_slice(&self.last_active_at.to_be_bytes());
        bytes.extend_from_slice(self.id.as_bytes());
        bytes.extend_from_slice(&user_tag(user_id));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Decodes a cursor produced by [`PageCursor::encode`] for the same `user_id` and
    /// `active_only`; anything else is `InvalidInput { field: "cursor" }`.
    pub fn decode(text: &str, user_id: &str, active_only: bool) -> Result<Self> {
        let invalid = |reason: &str| Error::invalid_input("cursor", reason);
        let mut bytes = [0u8; LEN];
        // A valid cursor is exactly LEN bytes; a longer input fails the slice decode.
        match URL_SAFE_NO_PAD.decode_slice(text.as_bytes(), &mut bytes) {
            Ok(LEN) => {}
            _ => return Err(invalid("not a cursor returned by list_user_sessions")),
        }
        if bytes[0] != VERSION {
            return Err(invalid("unknown cursor version"));
        }
        let flags = bytes[1];
        if flags & !FLAG_ACTIVE_ONLY != 0 {
            return Err(invalid("not a cursor returned by list_user_sessions"));
        }
        if bytes[LEN - 8..] != user_tag(user_id) || (flags == FLAG_ACTIVE_ONLY) != active_only {
            return Err(invalid("cursor belongs to a different listing"));
        }
        let mut at = [0u8; 8];
        at.copy_from_slice(&bytes[2..10]);
        let id = SessionId::from_slice(&bytes[10..10 + SessionId::LEN])?;
        Ok(PageCursor {
            last_active_at: i64::from_be_bytes(at),
            id,
        })
    }
}

fn user_tag(user_id: &str) -> [u8; 8] {
    let digest = Sha256::digest(user_id.as_bytes());
    let mut tag = [0u8; 8];
    tag.copy_from_slice(&digest[..8]);
    tag
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trips_for_its_own_listing(at in any::<i64>(), id in any::<[u8; 16]>(),
                                           user in ".{1,64}", active_only in any::<bool>()) {
            let cursor = PageCursor { last_active_at: at, id: SessionId::from_bytes(id) };
            let text = cursor.encode(&user, active_only);
            prop_assert_eq!(PageCursor::decode(&text, &user, active_only).unwrap(), cursor);
            prop_assert!(PageCursor::decode(&text, &user, !active_only).is_err());
            let other = format!("{user}x");
            prop_assert!(PageCursor::decode(&text, &other, active_only).is_err());
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,80}") {
            let _ = PageCursor::decode(&text, "alice", false);
        }
    }

    #[test]
    fn forged_and_truncated_cursors_are_invalid_input() {
        let text = PageCursor {
            last_active_at: 5,
            id: SessionId::from_bytes([7; 16]),
        }
        .encode("alice", false);
        for bad in [&text[..text.len() - 2], "", "!!!!", &format!("{text}AA")] {
            let err = PageCursor::decode(bad, "alice", false).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
