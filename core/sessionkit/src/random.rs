//! The operating system's CSPRNG, the one source of ids and secrets.

use crate::{Error, Result};

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::storage(format!("random source failed: {e}")))
}
