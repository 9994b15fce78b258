//! The PostgreSQL cloud store: several cloud instances behind one database.
//!
//! Why this shape: tokio-postgres is async, so unlike the SQLite backend there is no writer
//! thread: each call takes a pooled connection (deadpool) and runs its statements on it. The
//! rules are the same backend-neutral [`crate::ingest`] functions; what PostgreSQL adds is
//! concurrency between instances sharing the MQTT subscription, which may receive batches of
//! one device at the same time. Ingest therefore locks the device's `device_state` row
//! (`SELECT … FOR UPDATE`) before it reads the ranges and links, so batches of one device are
//! serialised while different devices ingest in parallel.
//!
//! Round trips, not rows, cost here: a batch's entries and projections are written with one
//! `INSERT … SELECT FROM UNNEST($arrays)` per table, and its links fetched with one
//! `seq = ANY($1)` query, so a 500-entry batch is about a dozen statements.
//!
//! The schema lives in `migrations/` (embedded, applied at open under an advisory lock, with a
//! `schema_version` table); `PgConfig::schema` puts the tables in a schema of their own (one per
//! tenant, or per test).

mod codes;
mod migrate;
mod read;
mod write;

use crate::store::{
    Alert, CloudStore, DeviceRecord, DeviceStatus, IngestOutcome, ProductCodeView, QuarantineInfo,
    ReleaseOutcome, StoreError, StoreResult, StoreStats, TicketView,
};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};
use trace_core::product_code::ScannedCode;
use trace_core::{DeviceId, Entry, HashAlg};

/// Where and how to connect.
#[derive(Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// `postgres://user[:password]@host[:port]/database[?…]`.
    pub url: String,
    /// Schema holding the tables (created if missing). None: the server's `search_path`
    /// (normally `public`).
    pub schema: Option<String>,
    /// Pooled connections: at most this many statements run at once.
    pub pool_size: usize,
}

impl PgConfig {
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            schema: None,
            pool_size: 16,
        }
    }
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("PgConfig")
            .field("url", &redact_url(&self.url))
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:<redacted>@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((auth, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}"),
        None => url.to_owned(),
    }
}

/// A schema name we put into `search_path` unquoted: plain identifiers only.
fn valid_schema(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    algs: Arc<Mutex<HashMap<DeviceId, HashAlg>>>,
}

impl PgStore {
    /// Connect, create the schema if asked, and migrate.
    pub async fn open(config: PgConfig) -> StoreResult<Self> {
        let mut pg: tokio_postgres::Config = config
            .url
            .parse()
            .map_err(|e| StoreError::Pool(format!("{}: {e}", redact_url(&config.url))))?;
        if let Some(schema) = &config.schema {
            if !valid_schema(schema) {
                return Err(StoreError::Pool(format!(
                    "schema {schema:?}: use lowercase letters, digits and _ (at most 63)"
                )));
            }
            pg.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(
            pg,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let store = PgStore {
            pool,
            algs: Arc::default(),
        };
        let mut client = store.client().await?;
        migrate::to_latest(&mut client, config.schema.as_deref()).await?;
        Ok(store)
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::Postgres(e),
            other => StoreError::Pool(other.to_string()),
        })
    }

    /// The device's chain algorithm, cached: it is fixed at registration.
    async fn hash_alg(&self, device: &DeviceId) -> StoreResult<HashAlg> {
        if let Some(alg) = self.algs.lock().ok().and_then(|m| m.get(device).copied()) {
            return Ok(alg);
        }
        let client = self.client().await?;
        let (_, alg) = read::device_key(&client, device)
            .await?
            .ok_or_else(|| StoreError::UnknownDevice(device.clone()))?;
        if let Ok(mut m) = self.algs.lock() {
            m.insert(device.clone(), alg);
        }
        Ok(alg)
    }
}

impl CloudStore for PgStore {
    async fn register_device(&self, rec: DeviceRecord) -> StoreResult<()> {
        let mut client = self.client().await?;
        write::register_device(&mut client, &rec).await
    }

    async fn get_device(&self, id: &DeviceId) -> StoreResult<Option<DeviceRecord>> {
        read::get_device(&*self.client().await?, id).await
    }

    async fn list_devices(&self) -> StoreResult<Vec<DeviceStatus>> {
        read::list_devices(&*self.client().await?).await
    }

    async fn ingest(&self, device: &DeviceId, entries: Vec<Entry>) -> StoreResult<IngestOutcome> {
        let alg = self.hash_alg(device).await?;
        // Hashing and encoding are the per-entry CPU: off the async workers.
        let batch = {
            let device = device.clone();
            tokio::task::spawn_blocking(move || crate::ingest::Verified::new(&device, entries, alg))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??
        };
        let mut client = self.client().await?;
        write::ingest(&mut client, device, batch).await
    }

    async fn set_online(&self, device: &DeviceId, online: bool) -> StoreResult<()> {
        write::set_online(&*self.client().await?, device, online).await
    }

    async fn ticket(&self, code: &str) -> StoreResult<Option<TicketView>> {
        read::ticket(&*self.client().await?, code).await
    }

    async fn product_code(&self, code: &ScannedCode) -> StoreResult<Option<ProductCodeView>> {
        codes::product_code(&*self.client().await?, code).await
    }

    async fn entries(
        &self,
        device: &DeviceId,
        range: RangeInclusive<u64>,
    ) -> StoreResult<Vec<Entry>> {
        read::entries(&*self.client().await?, device, range).await
    }

    async fn missing(&self, device: &DeviceId) -> StoreResult<Vec<(u64, u64)>> {
        read::missing(&*self.client().await?, device).await
    }

    async fn stats(&self) -> StoreResult<StoreStats> {
        read::stats(&*self.client().await?).await
    }

    async fn quarantines(&self) -> StoreResult<Vec<QuarantineInfo>> {
        read::quarantines(&*self.client().await?).await
    }

    async fn release_quarantine(
        &self,
        device: &DeviceId,
        note: &str,
    ) -> StoreResult<ReleaseOutcome> {
        let mut client = self.client().await?;
        write::release_quarantine(&mut client, device, note).await
    }

    async fn alerts(&self, after: i64, limit: u32) -> StoreResult<Vec<Alert>> {
        read::alerts(&*self.client().await?, after, limit).await
    }
}

/// PostgreSQL stores integers as i64; seqs are u64 below 2^63 (enforced by
/// [`crate::ingest::prepare`]).
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative sequence number {v}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_and_schemas_checked() {
        assert_eq!(
            redact_url("postgres://bt:s3cret@db.example:5432/bt"),
            "postgres://bt:<redacted>@db.example:5432/bt"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        let cfg = PgConfig::new("postgres://bt:s3cret@db/bt");
        assert!(!format!("{cfg:?}").contains("s3cret"));
        assert!(valid_schema("bt_test_12"));
        assert!(!valid_schema("x; DROP TABLE devices"));
        assert!(!valid_schema("Public"));
        assert!(!valid_schema(""));
    }
}
