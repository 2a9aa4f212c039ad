//! Tokens (docs/SPEC.md §2): `<id>.<secret>`, the secret 256 bits from the OS CSPRNG, only its
//! SHA-256 stored, compared in constant time. Nothing here prints a secret.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::{Error, Result, SessionId};

const SECRET_LEN: usize = 32;
const SECRET_TEXT_LEN: usize = 43;
/// Length of a well-formed token: 22 (id) + 1 (`.`) + 43 (secret).
pub(crate) const TOKEN_TEXT_LEN: usize = SessionId::TEXT_LEN + 1 + SECRET_TEXT_LEN;

/// A bearer token, returned once by `create` and `rotate` and never stored.
///
/// `Debug` prints `Token(<redacted>)`; there is no `Display`. Read it with [`Token::as_str`] to
/// hand it to the client. The text is wiped from memory when the token is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Token {
    /// The token's text, `<id>.<secret>`. Give it to the client; never log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Makes a new token for `id` and returns it with the hash to store.
    pub(crate) fn generate(id: SessionId) -> Result<(Token, TokenHash)> {
        let mut secret = [0u8; SECRET_LEN];
        crate::random::fill(&mut secret)?;
        let mut text = String::with_capacity(TOKEN_TEXT_LEN);
        text.push_str(&id.to_string());
        text.push('.');
        URL_SAFE_NO_PAD.encode_string(secret, &mut text);
        let hash = TokenHash::of_secret(&secret);
        secret.zeroize();
        Ok((Token(text), hash))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A token split into its id and decoded secret. Wiped on drop.
pub(crate) struct ParsedToken {
    pub(crate) id: SessionId,
    secret: [u8; SECRET_LEN],
}

impl Drop for ParsedToken {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl ParsedToken {
    /// Parses `<id>.<secret>` without touching storage. Any malformation is `InvalidToken`.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        // ASCII first: a multi-byte character must not straddle the split below.
        if text.len() != TOKEN_TEXT_LEN || !text.is_ascii() {
            return Err(Error::InvalidToken);
        }
        let (id_text, rest) = text.split_at(SessionId::TEXT_LEN);
        let secret_text = rest.strip_prefix('.').ok_or(Error::InvalidToken)?;
        let id = SessionId::decode(id_text).ok_or(Error::InvalidToken)?;
        let mut secret = [0u8; SECRET_LEN];
        match URL_SAFE_NO_PAD.decode_slice(secret_text, &mut secret) {
            Ok(SECRET_LEN) => Ok(ParsedToken { id, secret }),
            _ => {
                secret.zeroize();
                Err(Error::InvalidToken)
            }
        }
    }

    /// Whether the secret hashes to `stored`, compared in constant time.
    pub(crate) fn matches(&self, stored: &TokenHash) -> bool {
        TokenHash::of_secret(&self.secret).ct_matches(stored)
    }

    /// The work of [`ParsedToken::matches`] against a hash no secret has, for an id that names
    /// no session: refusing it takes as long as refusing a wrong secret, so the time taken does
    /// not tell which ids exist.
    pub(crate) fn match_nothing(&self) {
        std::hint::black_box(self.matches(&TokenHash::NONE));
    }
}

/// SHA-256 of a token's secret: what a store keeps instead of the token.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Compared against when there is no stored hash (SHA-256 has no known all-zero preimage).
    const NONE: TokenHash = TokenHash([0; 32]);

    /// Wraps 32 stored bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        TokenHash(bytes)
    }

    /// Wraps a stored slice, which must be 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; 32]>::try_from(bytes)
            .map(TokenHash)
            .map_err(|_| Error::corrupt(format!("token hash of {} bytes", bytes.len())))
    }

    /// The 32 bytes to store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn of_secret(secret: &[u8; SECRET_LEN]) -> Self {
        #[cfg(test)]
        tests::HASHED.with(|n| n.set(n.get() + 1));
        TokenHash(Sha256::digest(secret).into())
    }

    fn ct_matches(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// How many secrets this thread hashed.
        pub(super) static HASHED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    fn hashes_during(work: impl FnOnce()) -> u64 {
        let before = HASHED.with(|n| n.get());
        work();
        HASHED.with(|n| n.get()) - before
    }

    #[test]
    fn an_unknown_id_is_refused_after_the_same_hashing_as_a_wrong_secret() {
        use crate::{ClientKind, Config, MemoryStore, NewSession, SessionManager};
        use std::sync::Arc;
        let m = SessionManager::open(Arc::new(MemoryStore::new()), Config::default()).unwrap();
        let created = pollster::block_on(m.create(NewSession::new("u", ClientKind::Web))).unwrap();
        let token = created.token.as_str();
        // Another secret under the known id, and the right secret under an unknown id.
        let (other, _) = Token::generate(created.session.id).unwrap();
        let wrong_secret = format!("{}{}", &token[..23], &other.as_str()[23..]);
        let unknown_id = format!("{}{}", SessionId::from_bytes([9; 16]), &token[22..]);
        for (case, bad) in [("wrong secret", &wrong_secret), ("unknown id", &unknown_id)] {
            let hashed = hashes_during(|| {
                assert_eq!(
                    pollster::block_on(m.validate(bad)).unwrap_err(),
                    Error::InvalidToken
                );
            });
            assert_eq!(hashed, 1, "{case}");
        }
    }

    #[test]
    fn generated_token_parses_and_matches_its_hash_only() {
        let id = SessionId::random().unwrap();
        let (token, hash) = Token::generate(id).unwrap();
        assert_eq!(token.as_str().len(), TOKEN_TEXT_LEN);
        let parsed = ParsedToken::parse(token.as_str()).unwrap();
        assert_eq!(parsed.id, id);
        assert!(parsed.matches(&hash));
        let (_, other_hash) = Token::generate(id).unwrap();
        assert!(!parsed.matches(&other_hash));
    }

    #[test]
    fn malformed_tokens_are_invalid_token() {
        let id = SessionId::random().unwrap();
        let (token, _) = Token::generate(id).unwrap();
        let good = token.as_str();
        let cases = [
            String::new(),
            good[..good.len() - 1].to_string(),
            format!("{good}A"),
            good.replacen('.', "-", 1),
            format!("{}!{}", &good[..22], &good[23..]),
            good.replace(&good[..22], "AAAAAAAAAAAAAAAAAAAAA="),
            "é".repeat(TOKEN_TEXT_LEN / 2),
            format!("a{}", "é".repeat(TOKEN_TEXT_LEN / 2 - 1)) + "a",
        ];
        for bad in cases {
            assert_eq!(
                ParsedToken::parse(&bad).err(),
                Some(Error::InvalidToken),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let (token, hash) = Token::generate(SessionId::random().unwrap()).unwrap();
        let secret_part = &token.as_str()[23..];
        assert!(!format!("{token:?}").contains(secret_part));
        assert_eq!(format!("{hash:?}"), "TokenHash(<redacted>)");
    }
}
