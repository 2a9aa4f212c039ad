//! The database holds token hashes, IP addresses and client state: the files the store creates
//! are readable by their owner only, and a new database is never created through a link.
#![cfg(unix)]

mod common;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use pollster::block_on;
use sessionkit::{ErrorKind, SessionStore};
use sessionkit_sqlite::SqliteStore;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_database_and_its_wal_and_shm_are_created_owner_only() {
    let (dir, path, store) = common::temp_store();
    // A write, so the log and the shared-memory index exist and hold data.
    let record = common::record(common::id(1), "alice", 0, 1_000);
    block_on(store.insert_session(&record, None)).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("sessions.db{suffix}"));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    // Reopening (a second process would) changes nothing.
    drop(store);
    let again = SqliteStore::open(&path).unwrap();
    block_on(again.get_session(&common::id(1))).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn a_link_to_nothing_at_the_path_is_refused_and_nothing_is_created_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere.db");
    let link = dir.path().join("sessions.db");
    symlink(&target, &link).unwrap();
    let err = SqliteStore::open(&link).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert!(
        !target.exists(),
        "nothing was created where the link points"
    );
}

#[test]
fn an_existing_database_keeps_its_mode() {
    let (_dir, path, store) = common::temp_store();
    drop(store);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    block_on(store.get_session(&common::id(1))).unwrap();
    assert_eq!(mode(&path), 0o640, "the owner's choice is left alone");
}
