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

/// The PostgreSQL server the tests use (trust auth). `BAYTRACE_TEST_PG` overrides it.
pub fn pg_url() -> String {
    std::env::var("BAYTRACE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Each backend instance owns a freshly created schema, dropped when it is dropped, so tests
/// running in parallel never see each other's rows.
pub struct PgBackend {
    pub schema: String,
}

impl PgBackend {
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let schema = format!(
            "bt_test_{}_{}_{:08x}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            rand_u32()
        );
        PgBackend { schema }
    }

    pub fn config(&self) -> cloud_sync::PgConfig {
        let mut cfg = cloud_sync::PgConfig::new(pg_url());
        cfg.schema = Some(self.schema.clone());
        cfg.pool_size = 4;
        cfg
    }

    pub async fn open(&self) -> cloud_sync::PgStore {
        match cloud_sync::PgStore::open(self.config()).await {
            Ok(s) => s,
            Err(e) => panic!(
                "PostgreSQL is not usable at {}: {e}\n\
                 Start it (Debian): `pg_ctlcluster 15 main start`, or run scripts/test, which \
                 installs postgresql and starts the cluster. The tests need trust auth for user \
                 postgres and a database `test` (or set BAYTRACE_TEST_PG=postgres://…).",
                pg_url()
            ),
        }
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .elapsed()
            .map_or(0, |d| d.as_nanos() as u64),
    );
    h.finish() as u32
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        // On a thread of its own: Drop may run inside the test's runtime, which cannot block.
        let schema = self.schema.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&pg_url(), tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}

impl Backend for PgBackend {
    type Store = cloud_sync::PgStore;

    async fn create(&self) -> cloud_sync::PgStore {
        self.open().await
    }

    async fn reopen(&self, store: cloud_sync::PgStore) -> cloud_sync::PgStore {
        drop(store);
        self.open().await
    }
}
