//! The backend the binary picked at start-up, behind one type.
//!
//! Why an enum rather than `Box<dyn …>`: the trait's methods return `impl Future`, which is not
//! object safe; an enum keeps static dispatch inside and lets `serve`, the CLI and the tests
//! hold "the store" without being generic over it. The match costs nothing next to a query.

use super::{
    Alert, CloudStore, DeviceRecord, DeviceStatus, IngestOutcome, ProductCodeView, QuarantineInfo,
    ReleaseOutcome, StoreError, StoreResult, StoreStats, TicketView,
};
use crate::postgres::{PgConfig, PgStore, redact_url};
use crate::sqlite::{SqliteConfig, SqliteStore};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use trace_core::product_code::ScannedCode;
use trace_core::{DeviceId, Entry};

/// Which store to open, as `--store` and `[store] url` name it.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// `sqlite:PATH` (or `sqlite` for the data folder's `cloud.sqlite`).
    Sqlite(PathBuf),
    /// `postgres://…` / `postgresql://…`.
    Postgres(PgConfig),
}

impl std::fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreSpec::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            StoreSpec::Postgres(c) => write!(f, "{}", redact_url(&c.url)),
        }
    }
}

impl StoreSpec {
    /// Parse a store URL; `default_sqlite` is the file plain `sqlite` means.
    pub fn parse(url: &str, default_sqlite: PathBuf) -> Result<StoreSpec, String> {
        if url == "sqlite" {
            return Ok(StoreSpec::Sqlite(default_sqlite));
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(format!("store {url:?}: sqlite:PATH needs a path"));
            }
            return Ok(StoreSpec::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.parse::<tokio_postgres::Config>()
                .map_err(|e| format!("store {}: {e}", redact_url(url)))?;
            return Ok(StoreSpec::Postgres(PgConfig::new(url)));
        }
        Err(format!(
            "store {:?}: use sqlite, sqlite:PATH or postgres://user@host/database",
            redact_url(url)
        ))
    }
}

#[derive(Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl AnyStore {
    /// Open (creating and migrating) the store `spec` names.
    pub async fn open(spec: StoreSpec) -> StoreResult<AnyStore> {
        match spec {
            StoreSpec::Sqlite(path) => {
                let s =
                    tokio::task::spawn_blocking(move || SqliteStore::open(SqliteConfig::new(path)))
                        .await
                        .map_err(|e| StoreError::Task(e.to_string()))??;
                Ok(AnyStore::Sqlite(s))
            }
            StoreSpec::Postgres(cfg) => Ok(AnyStore::Postgres(PgStore::open(cfg).await?)),
        }
    }

    /// "sqlite" or "postgres", for logs and metrics.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

impl From<SqliteStore> for AnyStore {
    fn from(s: SqliteStore) -> Self {
        AnyStore::Sqlite(s)
    }
}

impl From<PgStore> for AnyStore {
    fn from(s: PgStore) -> Self {
        AnyStore::Postgres(s)
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call.await,
            AnyStore::Postgres($s) => $call.await,
        }
    };
}

impl CloudStore for AnyStore {
    async fn register_device(&self, rec: DeviceRecord) -> StoreResult<()> {
        delegate!(self, s => s.register_device(rec))
    }

    async fn get_device(&self, id: &DeviceId) -> StoreResult<Option<DeviceRecord>> {
        delegate!(self, s => s.get_device(id))
    }

    async fn list_devices(&self) -> StoreResult<Vec<DeviceStatus>> {
        delegate!(self, s => s.list_devices())
    }

    async fn ingest(&self, device: &DeviceId, entries: Vec<Entry>) -> StoreResult<IngestOutcome> {
        delegate!(self, s => s.ingest(device, entries))
    }

    async fn set_online(&self, device: &DeviceId, online: bool) -> StoreResult<()> {
        delegate!(self, s => s.set_online(device, online))
    }

    async fn ticket(&self, code: &str) -> StoreResult<Option<TicketView>> {
        delegate!(self, s => s.ticket(code))
    }

    async fn product_code(&self, code: &ScannedCode) -> StoreResult<Option<ProductCodeView>> {
        delegate!(self, s => s.product_code(code))
    }

    async fn entries(
        &self,
        device: &DeviceId,
        range: RangeInclusive<u64>,
    ) -> StoreResult<Vec<Entry>> {
        delegate!(self, s => s.entries(device, range))
    }

    async fn missing(&self, device: &DeviceId) -> StoreResult<Vec<(u64, u64)>> {
        delegate!(self, s => s.missing(device))
    }

    async fn stats(&self) -> StoreResult<StoreStats> {
        delegate!(self, s => s.stats())
    }

    async fn quarantines(&self) -> StoreResult<Vec<QuarantineInfo>> {
        delegate!(self, s => s.quarantines())
    }

    async fn release_quarantine(
        &self,
        device: &DeviceId,
        note: &str,
    ) -> StoreResult<ReleaseOutcome> {
        delegate!(self, s => s.release_quarantine(device, note))
    }

    async fn alerts(&self, after: i64, limit: u32) -> StoreResult<Vec<Alert>> {
        delegate!(self, s => s.alerts(after, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        let d = PathBuf::from("data/cloud.sqlite");
        assert_eq!(
            StoreSpec::parse("sqlite", d.clone()).unwrap(),
            StoreSpec::Sqlite(d.clone())
        );
        assert_eq!(
            StoreSpec::parse("sqlite:/var/lib/bt/c.db", d.clone()).unwrap(),
            StoreSpec::Sqlite("/var/lib/bt/c.db".into())
        );
        let StoreSpec::Postgres(c) =
            StoreSpec::parse("postgres://bt:pw@db:5432/bt", d.clone()).unwrap()
        else {
            panic!("postgres")
        };
        assert_eq!(c.url, "postgres://bt:pw@db:5432/bt");
        for bad in ["sqlite:", "mysql://x", "postgres://h:notaport/db", ""] {
            let err = StoreSpec::parse(bad, d.clone()).unwrap_err();
            assert!(err.contains("store"), "{err}");
        }
        let err = StoreSpec::parse("mysql://u:secret@h/db", d).unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }
}
