//! The state keys: read from the file named by `--state-key-file` or `$SESSIONKIT_STATE_KEYS`,
//! which must be readable by its owner only. The format is the engine's
//! ([`sessionkit::StateKeys::parse`]); no key ever appears in a message.

use std::path::{Path, PathBuf};

use sessionkit::{Error, StateKeys};

use crate::error::{CliError, CliResult};

/// The environment variable naming the key file when `--state-key-file` is not given.
pub const ENV: &str = "SESSIONKIT_STATE_KEYS";

/// The keys, if a key file is named; `None` when neither the option nor the variable is set.
pub fn load(option: Option<&Path>) -> CliResult<Option<StateKeys>> {
    let path = match option {
        Some(path) => path.to_path_buf(),
        None => match std::env::var_os(ENV).filter(|v| !v.is_empty()) {
            Some(value) => PathBuf::from(value),
            None => return Ok(None),
        },
    };
    let shown = path.display().to_string();
    let metadata =
        std::fs::metadata(&path).map_err(|e| CliError::io(format!("reading {shown}"), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::invalid_input(
                "state_key_file",
                format!(
                    "{shown} has mode {mode:04o}: a key file must be readable by its owner only \
                     (chmod 600 {shown})"
                ),
            )
            .into());
        }
    }
    if !metadata.is_file() {
        return Err(
            Error::invalid_input("state_key_file", format!("{shown} is not a file")).into(),
        );
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path).map_err(|e| CliError::io(format!("reading {shown}"), e))?,
    );
    StateKeys::parse(&text).map(Some).map_err(|e| match e {
        Error::InvalidInput { reason, .. } => {
            Error::invalid_input("state_key_file", format!("{shown}: {reason}")).into()
        }
        other => other.into(),
    })
}
