//! The database file is created readable and writable by its owner only (0600 on Unix): it holds
//! token hashes, IP addresses and client state. SQLite gives its `-wal` and `-shm` files (and a
//! rollback journal) the database file's own permissions, so they are 0600 too.
//!
//! The file is created with `O_CREAT | O_EXCL`, which never follows a symbolic link: a link
//! planted at the path of a database that does not exist yet (pointing wherever its author can
//! read) is refused, not followed. An existing database keeps the mode it has.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::Path;

use sessionkit::Error;

/// Creates an empty database file at `path`, owner-only, unless something is there already
/// (a file, or a link: left alone; SQLite opens a file, and a dangling link is refused).
pub(crate) fn create_if_missing(path: &Path) -> Result<(), Error> {
    match path.symlink_metadata() {
        Ok(_) => {
            if path.try_exists().unwrap_or(true) {
                return Ok(());
            }
            return Err(Error::storage(format!(
                "{} is a symbolic link to nothing; refusing to open a new database through it",
                path.display()
            )));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(Error::storage(format!("{}: {e}", path.display()))),
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another process created it between the check and here: theirs is the database.
        Err(e) if e.kind() == ErrorKind::AlreadyExists && path.is_file() => Ok(()),
        Err(e) => Err(Error::storage(format!(
            "creating the database file {}: {e}",
            path.display()
        ))),
    }
}
