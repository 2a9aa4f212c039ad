//! The canonical JSON text of a state value: compact, object keys in sorted order (serde_json's
//! default map keeps them so), integers as `itoa` writes them, finite floats as `zmij` writes
//! them (the two crates serde_json formats numbers with) and strings escaped as serde_json
//! escapes them: `\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, and `\u00xx` (lowercase hex) for the
//! other control characters; nothing else is escaped. The bytes are exactly those of
//! `serde_json::to_vec` (a property test holds both to it, and `tests/vectors/` pins them).
//!
//! It exists for speed: serde_json's generic serializer spends most of a state's time on the
//! many short strings (keys and values of a few bytes), one `io::Write` call and one small
//! `memcpy` per piece. This writer checks strings for escapes eight bytes at a time and writes
//! into a buffer kept per thread, sized once and grown rarely. It also enforces the depth and
//! size limits as it goes, so an oversized value is refused without being written out whole.

use std::cell::RefCell;

use serde_json::Value;

/// Why a value was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// Arrays and objects nest deeper than allowed.
    TooDeep,
    /// The text is longer than allowed.
    TooLarge,
}

/// A buffer kept up to this size between calls on a thread (a larger one is dropped after use).
const RETAINED: usize = 2 << 20;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Writes `value` as canonical JSON and hands the text to `use_text`. Arrays and objects may
/// nest `max_depth` deep; the text may be `max_len` bytes long.
pub(super) fn with_canonical<R>(
    value: &Value,
    max_depth: usize,
    max_len: u64,
    use_text: impl FnOnce(&[u8]) -> R,
) -> Result<R, Refused> {
    // The buffer is taken out of its slot while in use: a re-entrant call (or one while the
    // thread exits) simply starts with an empty one.
    let buf = SCRATCH
        .try_with(|slot| slot.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let mut writer = Writer {
        buf,
        pos: 0,
        max_len: usize::try_from(max_len).unwrap_or(usize::MAX),
    };
    let written = writer
        .value(value, max_depth)
        .and_then(|()| writer.within_limit());
    let result = written.map(|()| use_text(&writer.buf[..writer.pos]));
    if writer.buf.len() <= RETAINED {
        let buf = writer.buf;
        let _ = SCRATCH.try_with(|slot| {
            if let Ok(mut b) = slot.try_borrow_mut() {
                *b = buf;
            }
        });
    }
    result
}

/// Whether any of the eight bytes of `x` must be escaped: below 0x20, `"` or `\`.
#[inline(always)]
fn needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The classic "has a byte less than n" and "has a zero byte" tests (exact for "any byte").
    let control = x.wrapping_sub(ONES * 0x20) & !x;
    let quote = x ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = x ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGH != 0
}

/// The escape of each byte: 0 for none, `u` for `\u00xx`, else the letter after the backslash.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Writes into `buf[..pos]`; `buf` is always initialised up to its length, which grows ahead of
/// the writes so that most of them are a bounds check and a store.
struct Writer {
    buf: Vec<u8>,
    pos: usize,
    max_len: usize,
}

impl Writer {
    fn within_limit(&self) -> Result<(), Refused> {
        if self.pos > self.max_len {
            Err(Refused::TooLarge)
        } else {
            Ok(())
        }
    }

    /// Makes room for `n` more bytes.
    #[inline(always)]
    fn room(&mut self, n: usize) {
        if self.buf.len() - self.pos < n {
            self.grow(n);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        let len = (self.buf.len() * 2).max(self.pos + n).max(4096);
        self.buf.resize(len, 0);
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.room(1);
        self.buf[self.pos] = b;
        self.pos += 1;
    }

    #[inline(always)]
    fn bytes(&mut self, s: &[u8]) {
        self.room(s.len());
        self.buf[self.pos..self.pos + s.len()].copy_from_slice(s);
        self.pos += s.len();
    }

    /// A string, quoted. Copied eight bytes at a time while checking for bytes to escape; the
    /// rare string that has some is written again, escaped, from its start.
    #[inline(always)]
    fn string(&mut self, s: &str) {
        let s = s.as_bytes();
        self.room(s.len() + 2);
        let start = self.pos;
        let mut pos = start;
        self.buf[pos] = b'"';
        pos += 1;
        let mut escapes = false;
        let mut chunks = s.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            escapes |= needs_escape(u64::from_le_bytes(word));
            self.buf[pos..pos + 8].copy_from_slice(chunk);
            pos += 8;
        }
        for &b in chunks.remainder() {
            escapes |= ESCAPE[usize::from(b)] != 0;
            self.buf[pos] = b;
            pos += 1;
        }
        if escapes {
            self.pos = start;
            self.escaped_string(s);
        } else {
            self.buf[pos] = b'"';
            self.pos = pos + 1;
        }
    }

    #[cold]
    #[inline(never)]
    fn escaped_string(&mut self, s: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.byte(b'"');
        let mut run = 0;
        for (i, &b) in s.iter().enumerate() {
            let escape = ESCAPE[usize::from(b)];
            if escape == 0 {
                continue;
            }
            self.bytes(&s[run..i]);
            run = i + 1;
            if escape == b'u' {
                self.bytes(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
            } else {
                self.bytes(&[b'\\', escape]);
            }
        }
        self.bytes(&s[run..]);
        self.byte(b'"');
    }

    fn value(&mut self, value: &Value, depth: usize) -> Result<(), Refused> {
        match value {
            Value::Null => self.bytes(b"null"),
            Value::Bool(true) => self.bytes(b"true"),
            Value::Bool(false) => self.bytes(b"false"),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    self.bytes(itoa::Buffer::new().format(u).as_bytes());
                } else if let Some(i) = n.as_i64() {
                    self.bytes(itoa::Buffer::new().format(i).as_bytes());
                } else {
                    match n.as_f64() {
                        Some(f) if f.is_finite() => {
                            self.bytes(zmij::Buffer::new().format_finite(f).as_bytes())
                        }
                        // A `Value` never holds one; serde_json would write `null`.
                        _ => self.bytes(b"null"),
                    }
                }
            }
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                let inner = depth.checked_sub(1).ok_or(Refused::TooDeep)?;
                self.byte(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.byte(b',');
                    }
                    self.value(item, inner)?;
                    self.within_limit()?;
                }
                self.byte(b']');
            }
            Value::Object(entries) => {
                let inner = depth.checked_sub(1).ok_or(Refused::TooDeep)?;
                self.byte(b'{');
                for (i, (key, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.byte(b',');
                    }
                    self.string(key);
                    self.byte(b':');
                    self.value(item, inner)?;
                    self.within_limit()?;
                }
                self.byte(b'}');
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn canonical(value: &Value) -> Result<Vec<u8>, Refused> {
        with_canonical(value, 127, u64::MAX, <[u8]>::to_vec)
    }

    #[test]
    fn every_escape_is_written_as_serde_json_writes_it() {
        let all: String = (0u8..=0x7f).map(char::from).collect();
        for text in [
            all.clone(),
            format!("{all}{all}é\u{2028}\u{10ffff}"),
            "\"\\/".into(),
            "exactly8".into(),
            "sixteen bytes ok".into(),
            "eight\"\"\"".into(),
            String::new(),
        ] {
            let value = json!({ text.clone(): [text.clone(), {"k": text}] });
            assert_eq!(
                canonical(&value).unwrap(),
                serde_json::to_vec(&value).unwrap()
            );
        }
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        let value = json!([
            0,
            1,
            -1,
            u64::MAX,
            i64::MIN,
            i64::MAX,
            0.0,
            -0.0,
            0.1,
            1.5e300,
            -2.5e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1e21,
            1e-7,
            123456789.125
        ]);
        assert_eq!(
            canonical(&value).unwrap(),
            serde_json::to_vec(&value).unwrap()
        );
    }

    #[test]
    fn depth_and_length_are_limited() {
        let mut deep = json!(1);
        for _ in 0..3 {
            deep = json!([deep]);
        }
        assert_eq!(
            with_canonical(&deep, 3, 100, <[u8]>::to_vec).unwrap(),
            b"[[[1]]]"
        );
        assert_eq!(
            with_canonical(&deep, 2, 100, <[u8]>::to_vec),
            Err(Refused::TooDeep)
        );
        assert_eq!(
            with_canonical(&deep, 3, 7, <[u8]>::to_vec).unwrap(),
            b"[[[1]]]"
        );
        assert_eq!(
            with_canonical(&deep, 3, 6, <[u8]>::to_vec),
            Err(Refused::TooLarge)
        );
        // A long array is refused while being written, not after.
        let long = Value::Array(vec![json!("0123456789"); 10_000]);
        assert_eq!(
            with_canonical(&long, 3, 1000, |text| text.len()),
            Err(Refused::TooLarge)
        );
        // (The whole text would be 130 kB; the buffer never grew past its first size.)
        assert_eq!(SCRATCH.with(|s| s.borrow().len()), 4096);
    }

    #[test]
    fn the_buffer_is_reused_and_a_large_one_dropped() {
        let small = json!({"a": "b"});
        canonical(&small).unwrap();
        let kept = SCRATCH.with(|s| s.borrow().len());
        assert!(kept >= 4096);
        let large = json!("x".repeat(RETAINED + 1));
        assert_eq!(
            canonical(&large).unwrap(),
            serde_json::to_vec(&large).unwrap()
        );
        assert_eq!(SCRATCH.with(|s| s.borrow().len()), 0);
        // Nested use (a callback that writes again) works on a buffer of its own.
        let nested = with_canonical(&small, 127, u64::MAX, |outer| {
            let inner = canonical(&json!([1, 2])).unwrap();
            (outer.to_vec(), inner)
        })
        .unwrap();
        assert_eq!(nested, (br#"{"a":"b"}"#.to_vec(), b"[1,2]".to_vec()));
    }

    /// Any JSON value: every number kind, any text, ASCII with control characters.
    pub(in crate::state_codec) fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            "[\\x00-\\x7f]{0,24}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
                prop::collection::btree_map("[\\x00-\\x7f]{0,12}|.{0,8}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn writes_exactly_what_serde_json_writes(value in json_value()) {
            prop_assert_eq!(canonical(&value).unwrap(), serde_json::to_vec(&value).unwrap());
        }
    }
}
