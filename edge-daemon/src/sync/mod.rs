//! # Sync: the box's ledger to the cloud over MQTT
//!
//! Why it is shaped this way (DESIGN.md "Sync"): the ledger is the only source of truth. The
//! outbox is "entries after the sync mark", the mark moves only when the cloud's `Ack` says
//! its contiguous high-water mark passed it (never on a PUBACK, which only says the broker got
//! the message), and after any restart or reconnect the plan is rebuilt from the ledger, never
//! from the MQTT client's memory. So nothing unsynced is ever dropped, and the worst a crash or
//! a lost message causes is a duplicate the cloud ignores.
//!
//! Parts:
//! - [`plan`]: the pure scheduler (live-first, window of batches in flight, re-sends);
//! - `link`: the one task that owns the MQTT event loop and only moves packets;
//! - `driver`: the task that owns a ledger connection, publishes batches, applies acks and
//!   downlinks, and keeps the retained `state`;
//! - `downlink`, `disk`: applying cloud documents, the low-disk alarm.
//!
//! Wire format of an `up` message: `EntryBatch` → JSON → [`envelope::encode`] (lz4) →
//! [`SignedEnvelope::sign`] with the device key → `to_bytes`, published at QoS 1, exactly what
//! `cloud_sync::service::up::handle_up` checks. The `Ack`, `state` and `down` payloads are JSON.

mod disk;
mod downlink;
pub use downlink::apply_downlink;
mod driver;
mod link;
pub mod plan;
pub mod register;

pub use disk::free_bytes;
pub use plan::Planner;
pub use register::{CloudCredentials, Registered, read_credentials, register};

use crate::ledger::{Ledger, LedgerError, LedgerOptions};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use trace_core::DeviceId;
use trace_core::wire::sign::{SignError, SignKey};
use trace_core::wire::{AppliedDoc, envelope::EnvelopeError};

/// Everything the sync task needs; build it from the config with [`SyncOptions::from_config`]
/// or directly (tests).
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub device: DeviceId,
    pub ledger_path: PathBuf,
    pub sign_key: SignKey,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Where applied downlink documents are kept (`{doc_type}.json`); None keeps none.
    pub docs_dir: Option<PathBuf>,
    pub batch_size: usize,
    pub inflight: usize,
    pub live_first: u64,
    pub ack_timeout: Duration,
    pub state_interval: Duration,
    pub poll_interval: Duration,
    pub disk_low_bytes: u64,
}

impl SyncOptions {
    /// Defaults from `[sync]` for a broker at `host:port` with no login.
    pub fn new(
        device: DeviceId,
        ledger_path: PathBuf,
        sign_key: SignKey,
        host: impl Into<String>,
        port: u16,
    ) -> SyncOptions {
        let d = crate::config::SyncConfig::default();
        SyncOptions {
            device,
            ledger_path,
            sign_key,
            host: host.into(),
            port,
            username: None,
            password: None,
            docs_dir: None,
            batch_size: d.batch_size,
            inflight: d.inflight,
            live_first: d.live_first,
            ack_timeout: Duration::from_secs(d.ack_timeout_secs),
            state_interval: Duration::from_secs(d.state_interval_secs),
            poll_interval: Duration::from_millis(d.poll_ms),
            disk_low_bytes: d.disk_low_mb * 1024 * 1024,
        }
    }
}

impl SyncOptions {
    /// From the box's config: broker and tuning from `[sync]`, the signing key from `[keys]`,
    /// the MQTT login from the registered credentials (if any), documents under `data_dir/docs`.
    pub fn from_config(c: &crate::config::LoadedConfig) -> Result<SyncOptions, SyncError> {
        let s = &c.config.sync;
        let (host, port) = parse_broker_url(&s.broker)?;
        let keys = crate::keys::DeviceKeys::read(&c.signing_key_path(), &c.ticket_key_path())
            .map_err(|e| SyncError::Credentials {
                path: c.signing_key_path(),
                detail: e.to_string(),
            })?;
        let mut o = SyncOptions::new(
            c.config.device.id.clone(),
            c.ledger_path(),
            SignKey::Ed25519(keys.signing),
            host,
            port,
        );
        if let Some(path) = c.sync_credentials_path() {
            let cred = read_credentials(&path)?;
            if cred.device != o.device {
                return Err(SyncError::Credentials {
                    path,
                    detail: format!("credentials for {}, this box is {}", cred.device, o.device),
                });
            }
            o.username = Some(cred.mqtt.username);
            o.password = Some(cred.mqtt.password);
        }
        o.docs_dir = Some(c.data_dir().join("docs"));
        o.batch_size = s.batch_size.max(1);
        o.inflight = s.inflight.max(1);
        o.live_first = s.live_first;
        o.ack_timeout = Duration::from_secs(s.ack_timeout_secs.max(1));
        o.state_interval = Duration::from_secs(s.state_interval_secs.max(1));
        o.poll_interval = Duration::from_millis(s.poll_ms.max(10));
        o.disk_low_bytes = s.disk_low_mb.saturating_mul(1024 * 1024);
        Ok(o)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("broker URL {0:?} is not mqtt://host:port")]
    BrokerUrl(String),
    #[error("cannot read credentials {path}: {detail}")]
    Credentials { path: PathBuf, detail: String },
    #[error("cannot sign a batch: {0}")]
    Sign(#[from] SignError),
    #[error("cannot encode a batch: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("the MQTT client stopped: {0}")]
    Client(String),
    #[error("downlink document: {0}")]
    Downlink(String),
    #[error("the sync task failed: {0}")]
    Task(String),
}

/// Coarse class of a [`SyncError`] for callers that decide whether to restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncErrorKind {
    /// Configuration or credentials: fix and restart.
    Config,
    /// The ledger failed: the box has a bigger problem than sync.
    Ledger,
    /// Internal: restarting the task is reasonable.
    Internal,
}

impl SyncError {
    pub fn kind(&self) -> SyncErrorKind {
        match self {
            SyncError::BrokerUrl(_) | SyncError::Credentials { .. } => SyncErrorKind::Config,
            SyncError::Ledger(_) => SyncErrorKind::Ledger,
            _ => SyncErrorKind::Internal,
        }
    }
}

/// What the sync task reports as it goes (a `watch`, so readers see the latest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncProgress {
    /// Connected and subscribed to `ack` and `down`.
    pub connected: bool,
    pub connections: u64,
    /// The ledger's sync mark (the cloud's hwm as last applied).
    pub synced_seq: u64,
    pub head_seq: u64,
    pub batches_sent: u64,
    pub acks: u64,
    /// Batches queued again after an ack timeout.
    pub resent: u64,
    /// Several ack timeouts in a row (the cloud may refuse a batch): reported as a `sync`
    /// fault in `state`; cleared by the next ack.
    pub stuck: bool,
    pub disk_low: bool,
    pub applied_docs: Vec<AppliedDoc>,
}

/// A running sync task.
pub struct SyncHandle {
    progress: watch::Receiver<SyncProgress>,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), SyncError>>,
}

impl SyncHandle {
    pub fn progress(&self) -> watch::Receiver<SyncProgress> {
        self.progress.clone()
    }

    /// Resolves once the ledger's sync mark reaches `seq` (or the task ended).
    pub async fn synced_to(&self, seq: u64) -> SyncProgress {
        let mut rx = self.progress.clone();
        let r = rx
            .wait_for(|p| p.synced_seq >= seq)
            .await
            .map(|p| p.clone());
        r.unwrap_or_else(|_| self.progress.borrow().clone())
    }

    /// Publish `offline`, disconnect and wait for the task.
    pub async fn stop(self) -> Result<(), SyncError> {
        self.stop.send_replace(true);
        self.task
            .await
            .map_err(|e| SyncError::Task(e.to_string()))?
    }

    /// Wait for the task without asking it to stop (it runs until an error).
    pub async fn join(self) -> Result<(), SyncError> {
        self.task
            .await
            .map_err(|e| SyncError::Task(e.to_string()))?
    }
}

/// Start syncing: opens its own connection to the ledger (WAL: the writer keeps writing) and
/// spawns the MQTT event-loop task and the driver task on the current tokio runtime.
pub fn spawn(opts: SyncOptions) -> Result<SyncHandle, SyncError> {
    let ledger = Ledger::open(&opts.ledger_path, &LedgerOptions::default())?;
    if ledger.device() != &opts.device {
        return Err(SyncError::Credentials {
            path: opts.ledger_path.clone(),
            detail: format!(
                "the ledger belongs to {}, sync is set up for {}",
                ledger.device(),
                opts.device
            ),
        });
    }
    let (client, eventloop) = link::client(&opts);
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (progress_tx, progress_rx) = watch::channel(SyncProgress::default());
    let link_task = tokio::spawn(link::run(
        eventloop,
        client.clone(),
        opts.device.clone(),
        ev_tx,
        stop_rx.clone(),
    ));
    let task = tokio::spawn(driver::run(
        opts,
        ledger,
        client,
        ev_rx,
        progress_tx,
        stop_rx,
        link_task,
    ));
    Ok(SyncHandle {
        progress: progress_rx,
        stop: stop_tx,
        task,
    })
}

/// `mqtt://host:port` (or `tcp://`, or a bare `host:port`) → (host, port); port defaults 1883.
pub fn parse_broker_url(url: &str) -> Result<(String, u16), SyncError> {
    let bad = || SyncError::BrokerUrl(url.to_owned());
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url)
        .trim_end_matches('/');
    if rest.is_empty() || rest.contains('/') {
        return Err(bad());
    }
    match rest.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => Ok((h.to_owned(), p.parse().map_err(|_| bad())?)),
        Some(_) => Err(bad()),
        None => Ok((rest.to_owned(), 1883)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        assert_eq!(
            parse_broker_url("mqtt://127.0.0.1:18830").unwrap(),
            ("127.0.0.1".into(), 18830)
        );
        assert_eq!(
            parse_broker_url("cloud.example").unwrap(),
            ("cloud.example".into(), 1883)
        );
        for bad in ["mqtt://", "mqtt://:1883", "mqtt://h:x", "http://h/x"] {
            assert!(parse_broker_url(bad).is_err(), "{bad}");
        }
    }
}
