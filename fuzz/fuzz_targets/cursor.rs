//! Cursor decoding: arbitrary text is refused with `InvalidInput { field: "cursor" }` or
//! decodes to a position whose encoding is that very text (one spelling per cursor, bound to
//! its listing); a real cursor with edits applied behaves the same.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sessionkit::{Error, PageCursor, SessionId};

#[derive(Arbitrary, Debug)]
struct Input {
    user: String,
    active_only: bool,
    text: Text,
}

#[derive(Arbitrary, Debug)]
enum Text {
    /// Any text.
    Raw(String),
    /// A real cursor of (`last_active_at`, `id`, `user`, `active_only`), then byte edits.
    Edited {
        last_active_at: i64,
        id: [u8; 16],
        other_user: Option<String>,
        other_filter: bool,
        edits: Vec<(u8, u8)>,
    },
}

fuzz_target!(|input: Input| {
    let text = match &input.text {
        Text::Raw(text) => text.clone(),
        Text::Edited {
            last_active_at,
            id,
            other_user,
            other_filter,
            edits,
        } => {
            let cursor = PageCursor {
                last_active_at: *last_active_at,
                id: SessionId::from_bytes(*id),
            };
            let user = other_user.as_deref().unwrap_or(&input.user);
            let encoded = cursor.encode(user, input.active_only != *other_filter);
            if other_user.is_none() && !other_filter && edits.is_empty() {
                let decoded = PageCursor::decode(&encoded, &input.user, input.active_only);
                assert_eq!(decoded.unwrap(), cursor);
            }
            let mut bytes = encoded.into_bytes();
            for &(at, byte) in edits {
                let at = usize::from(at);
                if at < bytes.len() {
                    bytes[at] = byte;
                } else {
                    bytes.push(byte);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    match PageCursor::decode(&text, &input.user, input.active_only) {
        Ok(cursor) => assert_eq!(
            cursor.encode(&input.user, input.active_only),
            text,
            "a cursor decoded from a spelling encode does not write"
        ),
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "cursor"),
        Err(other) => panic!("unexpected error {other:?}"),
    }
});
