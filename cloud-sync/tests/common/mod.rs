//! Shared by the backend test files: the conformance suite and its SQLite backend.
#![allow(dead_code)] // each test binary uses a different part

#[macro_use]
pub mod conformance;

use cloud_sync::{SqliteConfig, SqliteStore};
use conformance::Backend;

/// File-backed SQLite stores in a temporary directory (never `:memory:`: restarts must be real).
pub struct SqliteBackend {
    pub dir: tempfile::TempDir,
}

impl SqliteBackend {
    pub fn new() -> Self {
        SqliteBackend {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }
}

impl Backend for SqliteBackend {
    type Store = SqliteStore;

    async fn create(&self) -> SqliteStore {
        SqliteStore::open(SqliteConfig::new(self.dir.path().join("cloud.db"))).expect("open store")
    }

    async fn reopen(&self, store: SqliteStore) -> SqliteStore {
        let path = store.path().to_path_buf();
        drop(store); // joins the writer thread: the file is closed when this returns
        SqliteStore::open(SqliteConfig::new(path)).expect("reopen store")
    }
}
