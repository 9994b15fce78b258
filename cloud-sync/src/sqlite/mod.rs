//! The default cloud store: one SQLite file.
//!
//! Why this shape: SQLite allows one writer at a time, and rusqlite's `Connection` is not
//! `Sync`. So one OS thread owns the write connection and takes jobs from a bounded channel
//! (async callers wait on the channel, never block the runtime, and feel back-pressure when the
//! disk is slow); each batch is one transaction on that thread. Reads run on tokio's blocking
//! pool over a small pool of read-only connections, which WAL lets proceed while the writer
//! commits. The schema is owned here as embedded migrations, applied at open.
//!
//! Durability: `synchronous = FULL` by default, because the cloud acks a batch right after its
//! commit and the box then forgets it may need re-sending; `NORMAL` could lose the last commits
//! on power loss.

mod codes;
mod read;
mod write;

use crate::store::{
    Alert, CloudStore, DeviceRecord, DeviceStatus, IngestOutcome, ProductCodeView, QuarantineInfo,
    ReleaseOutcome, StoreError, StoreResult, StoreStats, TicketView,
};
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};
use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{Semaphore, mpsc, oneshot};
use trace_core::product_code::ScannedCode;
use trace_core::{DeviceId, Entry, HashAlg};

/// The schema, in order. Released migrations are never edited: add a new one.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_init.sql")),
        M::up(include_str!("migrations/0002_device_place.sql")),
        M::up(include_str!("migrations/0003_quarantine_released.sql")),
        M::up(include_str!("migrations/0004_product_codes.sql")),
    ])
}

/// How hard commits wait for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// fsync on every commit: an acked batch survives power loss.
    #[default]
    Full,
    /// fsync at checkpoints only: survives a crash of the process, not of the machine.
    Normal,
}

#[derive(Debug, Clone)]
pub struct SqliteConfig {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    /// Read connections: at most this many queries run at once, the rest wait their turn
    /// (more would only contend for the same cores and page cache).
    pub readers: usize,
    /// Write jobs that may queue before callers wait.
    pub queue: usize,
}

impl SqliteConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteConfig {
            path: path.into(),
            synchronous: Synchronous::Full,
            readers: 8,
            queue: 64,
        }
    }
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Cheap to clone; the writer thread stops when the last clone is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    readers: Mutex<Vec<Connection>>,
    read_permits: Semaphore,
    algs: Mutex<HashMap<DeviceId, HashAlg>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the writer loop after the queued jobs; joining makes
        // "store dropped" mean "file closed", so a reopen sees everything committed.
        self.jobs.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl SqliteStore {
    /// Open (creating if needed) and migrate the store at `config.path`. Blocks briefly.
    pub fn open(config: SqliteConfig) -> StoreResult<Self> {
        let mut conn = Connection::open(&config.path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match config.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        migrations().to_latest(&mut conn)?;

        let (tx, mut rx) = mpsc::channel::<Job>(config.queue.max(1));
        let writer = std::thread::Builder::new()
            .name("cloud-store-writer".into())
            .spawn(move || {
                while let Some(job) = rx.blocking_recv() {
                    job(&mut conn);
                }
            })
            .map_err(|e| StoreError::Task(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: config.path,
                jobs: Some(tx),
                writer: Some(writer),
                readers: Mutex::new(Vec::new()),
                read_permits: Semaphore::new(config.readers.max(1)),
                algs: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The device's chain algorithm, cached: it is fixed at registration.
    async fn hash_alg(&self, device: &DeviceId) -> StoreResult<HashAlg> {
        if let Some(alg) = self
            .inner
            .algs
            .lock()
            .ok()
            .and_then(|m| m.get(device).copied())
        {
            return Ok(alg);
        }
        let id = device.clone();
        let (_, alg) = self
            .read(move |c| device_key(c, &id))
            .await?
            .ok_or_else(|| StoreError::UnknownDevice(device.clone()))?;
        if let Ok(mut m) = self.inner.algs.lock() {
            m.insert(device.clone(), alg);
        }
        Ok(alg)
    }

    /// Run `f` on the writer thread.
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<R> + Send + 'static,
    ) -> StoreResult<R> {
        let (reply, answer) = oneshot::channel();
        let jobs = self.inner.jobs.as_ref().ok_or(StoreError::WriterGone)?;
        jobs.send(Box::new(move |conn| {
            let _ = reply.send(f(conn));
        }))
        .await
        .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Run `f` on a pooled read connection on tokio's blocking pool.
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    ) -> StoreResult<R> {
        // The permit bounds open read connections to `readers`; it is released when the
        // blocking task returns its connection to the pool.
        let _permit = self
            .inner
            .read_permits
            .acquire()
            .await
            .map_err(|_| StoreError::Task("read permits closed".into()))?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let conn = match inner.take_reader() {
                Some(c) => c,
                None => open_reader(&inner.path)?,
            };
            let result = f(&conn);
            inner.put_reader(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

impl Inner {
    fn take_reader(&self) -> Option<Connection> {
        self.readers.lock().ok()?.pop()
    }

    fn put_reader(&self, conn: Connection) {
        if let Ok(mut pool) = self.readers.lock() {
            pool.push(conn);
        }
    }
}

fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "cache_size", -16_384)?;
    // Map the whole file (SQLite clamps this to its compile-time maximum, 2 GiB bundled): a
    // million entries are ~1 GB, and a trace-page lookup lands on a random page of `entries`.
    // With 256 MiB mapped most lookups missed the map and paid a read() into a private page
    // cache per connection; mapped, every reader shares the OS page cache without a copy.
    conn.pragma_update(None, "mmap_size", 1i64 << 40)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

impl CloudStore for SqliteStore {
    async fn register_device(&self, rec: DeviceRecord) -> StoreResult<()> {
        self.write(move |c| write::register_device(c, &rec)).await
    }

    async fn get_device(&self, id: &DeviceId) -> StoreResult<Option<DeviceRecord>> {
        let id = id.clone();
        self.read(move |c| read::get_device(c, &id)).await
    }

    async fn list_devices(&self) -> StoreResult<Vec<DeviceStatus>> {
        self.read(read::list_devices).await
    }

    async fn ingest(&self, device: &DeviceId, entries: Vec<Entry>) -> StoreResult<IngestOutcome> {
        let device = device.clone();
        let alg = self.hash_alg(&device).await?;
        // Hashing and encoding are most of the per-entry CPU; doing them here lets batches of
        // several devices verify in parallel while the writer commits.
        let batch = {
            let device = device.clone();
            tokio::task::spawn_blocking(move || crate::ingest::Verified::new(&device, entries, alg))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??
        };
        self.write(move |c| write::ingest(c, &device, batch)).await
    }

    async fn ingest_many(
        &self,
        device: &DeviceId,
        batches: Vec<Vec<Entry>>,
    ) -> Vec<StoreResult<IngestOutcome>> {
        let n = batches.len();
        let alg = match self.hash_alg(device).await {
            Ok(a) => a,
            Err(e) => return (0..n).map(|_| Err(same_error(&e))).collect(),
        };
        // Verification (hashing, encoding) of the batches runs in parallel on the blocking
        // pool; the writer then commits them all in one transaction (one fsync for the group).
        let tasks: Vec<_> = batches
            .into_iter()
            .map(|entries| {
                let device = device.clone();
                tokio::task::spawn_blocking(move || {
                    crate::ingest::Verified::new(&device, entries, alg)
                })
            })
            .collect();
        let mut verified = Vec::with_capacity(n);
        for t in tasks {
            verified.push(match t.await {
                Ok(v) => v,
                Err(e) => Err(StoreError::Task(e.to_string())),
            });
        }
        let device = device.clone();
        match self
            .write(move |c| Ok(write::ingest_group(c, &device, verified)))
            .await
        {
            Ok(results) => results,
            Err(e) => (0..n).map(|_| Err(same_error(&e))).collect(),
        }
    }

    async fn set_online(&self, device: &DeviceId, online: bool) -> StoreResult<()> {
        let device = device.clone();
        self.write(move |c| write::set_online(c, &device, online))
            .await
    }

    async fn ticket(&self, code: &str) -> StoreResult<Option<TicketView>> {
        let code = code.to_string();
        self.read(move |c| read::ticket(c, &code)).await
    }

    async fn product_code(&self, code: &ScannedCode) -> StoreResult<Option<ProductCodeView>> {
        let code = code.clone();
        self.read(move |c| codes::product_code(c, &code)).await
    }

    async fn entries(
        &self,
        device: &DeviceId,
        range: RangeInclusive<u64>,
    ) -> StoreResult<Vec<Entry>> {
        let device = device.clone();
        self.read(move |c| read::entries(c, &device, range)).await
    }

    async fn missing(&self, device: &DeviceId) -> StoreResult<Vec<(u64, u64)>> {
        let device = device.clone();
        self.read(move |c| read::missing(c, &device)).await
    }

    async fn stats(&self) -> StoreResult<StoreStats> {
        self.read(read::stats).await
    }

    async fn quarantines(&self) -> StoreResult<Vec<QuarantineInfo>> {
        self.read(read::quarantines).await
    }

    async fn release_quarantine(
        &self,
        device: &DeviceId,
        note: &str,
    ) -> StoreResult<ReleaseOutcome> {
        let device = device.clone();
        let note = note.to_owned();
        self.write(move |c| write::release_quarantine(c, &device, &note))
            .await
    }

    async fn alerts(&self, after: i64, limit: u32) -> StoreResult<Vec<Alert>> {
        self.read(move |c| read::alerts(c, after, limit)).await
    }
}

/// One error reported for each batch of a group (`StoreError` is not `Clone`): the same
/// message and the same [`crate::ErrorKind`].
fn same_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::UnknownDevice(d) => StoreError::UnknownDevice(d.clone()),
        other => StoreError::Task(other.to_string()),
    }
}

/// SQLite stores integers as i64; seqs are u64 below 2^63 (enforced by [`crate::ingest::prepare`]).
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative sequence number {v}")))
}

/// The device's row key and hash algorithm.
fn device_key(conn: &Connection, id: &DeviceId) -> StoreResult<Option<(i64, trace_core::HashAlg)>> {
    use rusqlite::OptionalExtension;
    let row: Option<(i64, String)> = conn
        .prepare_cached("SELECT key, hash_alg FROM devices WHERE id = ?1")?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(key, alg)| {
        alg.parse()
            .map(|alg| (key, alg))
            .map_err(StoreError::Corrupt)
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().expect("migrations apply cleanly");
    }

    #[test]
    fn open_refuses_a_path_it_cannot_create() {
        let dir = tempfile::tempdir().unwrap();
        let err = SqliteStore::open(SqliteConfig::new(dir.path().join("no/such/dir/cloud.db")))
            .err()
            .expect("open fails");
        assert_eq!(err.kind(), crate::ErrorKind::Backend, "{err}");
    }
}
