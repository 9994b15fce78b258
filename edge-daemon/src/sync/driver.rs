//! The sync driver: owns a ledger connection, publishes the outbox, applies acks and
//! downlinks, keeps the retained `state`.
//!
//! Design: one `select!` loop over four sources (link events, a short poll of the ledger head
//! for new entries and ack timeouts, the state timer, stop). After each, `pump` publishes
//! batches while the [`Planner`] window has room. Ledger reads and the `mark_synced` writes
//! run inline: each is one short statement or transaction, and the MQTT event loop runs in its
//! own task, so the connection keeps flowing meanwhile. The mark is written only from the
//! cloud's `Ack` hwm, capped at the ledger head, and coalesced (`flush_mark`).

use super::link::LinkEvent;
use super::{Planner, SyncError, SyncOptions, SyncProgress, disk, downlink::Docs};
use crate::ledger::Ledger;
use rumqttc::{AsyncClient, PublishOptions, QoS};
use std::time::Instant;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use trace_core::topics;
use trace_core::wire::envelope::{self, Compression};
use trace_core::wire::sign::SignedEnvelope;
use trace_core::wire::{DeviceFault, FaultKind};
use trace_core::{DeviceState, EntryBatch, Timestamp, WIRE_VERSION};

struct Driver {
    opts: SyncOptions,
    ledger: Ledger,
    client: AsyncClient,
    planner: Planner,
    docs: Docs,
    p: SyncProgress,
    disk_fault: Option<DeviceFault>,
    /// Set after [`STUCK_STRIKES`] ack timeouts in a row: reported in `state` so an operator
    /// sees a batch the cloud keeps refusing (re-sends back off meanwhile, see the planner).
    stuck_fault: Option<DeviceFault>,
    disk_free: Option<u64>,
    /// The cloud's acked mark not yet written to the ledger, and when the mark was last
    /// written. Each write is a committed (fsynced) transaction; at hundreds of acks a second
    /// that was a large share of the drain, so the mark lags by up to [`MARK_EVERY`] while
    /// draining. Harmless: after a crash the lag is re-sent and the cloud counts duplicates.
    mark_due: Option<u64>,
    marked_at: Instant,
}

/// Ack timeouts in a row after which the box reports itself stuck.
const STUCK_STRIKES: u32 = 3;

/// The longest the ledger's sync mark lags the cloud's ack while draining.
const MARK_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

pub(super) async fn run(
    opts: SyncOptions,
    ledger: Ledger,
    client: AsyncClient,
    mut rx: mpsc::UnboundedReceiver<LinkEvent>,
    progress: watch::Sender<SyncProgress>,
    mut stop: watch::Receiver<bool>,
    link_task: JoinHandle<()>,
) -> Result<(), SyncError> {
    let mut d = Driver {
        planner: Planner::new(opts.batch_size, opts.inflight, opts.live_first),
        docs: Docs::load(opts.docs_dir.clone()),
        p: SyncProgress::default(),
        disk_fault: None,
        stuck_fault: None,
        disk_free: None,
        mark_due: None,
        marked_at: Instant::now(),
        opts,
        ledger,
        client,
    };
    d.p.synced_seq = d.ledger.synced_seq()?;
    d.p.head_seq = d.ledger.head()?.seq;
    d.p.applied_docs = d.docs.applied();
    d.check_disk();
    progress.send_replace(d.p.clone());
    let mut poll = tokio::time::interval(d.opts.poll_interval);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut state_tick = tokio::time::interval(d.opts.state_interval);
    state_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let result = loop {
        let was_idle = d.planner.is_idle();
        let step = tokio::select! {
            () = stopped(&mut stop) => break Ok(()),
            ev = rx.recv() => match ev {
                None => break Err(SyncError::Client("the MQTT event loop ended".into())),
                Some(ev) => d.on_event(ev).await,
            },
            _ = poll.tick() => d.on_poll(),
            _ = state_tick.tick() => {
                d.check_disk();
                d.publish_state(true).await
            }
        };
        let step = match step {
            Ok(()) => d.pump().await,
            e => e,
        };
        if let Err(e) = step {
            break Err(e);
        }
        d.flush_mark(false);
        if d.p.connected && !was_idle && d.planner.is_idle() {
            // Drained: tell the cloud now rather than at the next state tick.
            if let Err(e) = d.publish_state(true).await {
                break Err(e);
            }
        }
        progress.send_if_modified(|old| {
            let changed = *old != d.p;
            if changed {
                *old = d.p.clone();
            }
            changed
        });
    };
    d.flush_mark(true);
    if d.p.connected {
        let _ = d.publish_state(false).await;
    }
    let _ = d.client.disconnect().await;
    let _ = link_task.await;
    d.p.connected = false;
    progress.send_replace(d.p.clone());
    result
}

impl Driver {
    async fn on_event(&mut self, ev: LinkEvent) -> Result<(), SyncError> {
        match ev {
            LinkEvent::Ready => {
                self.p.connected = true;
                self.p.connections += 1;
                let head = self.ledger.head()?.seq;
                let synced = self.ledger.synced_seq()?;
                self.p.head_seq = head;
                self.p.synced_seq = synced;
                self.planner.reset(synced, head);
                tracing::info!(device = %self.opts.device, head, synced, backlog = head - synced.min(head), "sync ready: newest entries first, then the backlog");
                self.publish_state(true).await?;
            }
            LinkEvent::Down => self.p.connected = false,
            LinkEvent::Ack(a) => {
                if a.device != self.opts.device {
                    return Ok(());
                }
                self.p.acks += 1;
                self.p.stuck = false;
                if self.stuck_fault.take().is_some() {
                    tracing::info!("the cloud acks again");
                }
                if a.quarantined {
                    tracing::error!(device = %a.device, "the cloud quarantined this device's chain; entries keep syncing but need an operator");
                }
                let head = self.ledger.head()?.seq;
                self.p.head_seq = head;
                if a.hwm > head {
                    tracing::warn!(
                        hwm = a.hwm,
                        head,
                        "the cloud claims entries this ledger does not have; capped at the head"
                    );
                }
                self.planner.heard(Instant::now());
                let acked = self.planner.on_ack(a.hwm.min(head), &a.missing);
                if acked > self.p.synced_seq {
                    self.mark_due = Some(acked);
                }
            }
            LinkEvent::Downlink(bytes) => match self.docs.apply(&mut self.ledger, &bytes) {
                Ok(Some(doc)) => {
                    tracing::info!(doc_type = ?doc.doc_type, version = doc.version, "downlink document applied");
                    self.p.applied_docs = self.docs.applied();
                    self.publish_state(true).await?;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "downlink document refused; nothing applied"),
            },
        }
        Ok(())
    }

    fn on_poll(&mut self) -> Result<(), SyncError> {
        if !self.p.connected {
            return Ok(());
        }
        let head = self.ledger.head()?.seq;
        self.p.head_seq = head;
        self.planner.extend(head);
        let n = self.planner.expire(Instant::now(), self.opts.ack_timeout);
        if n > 0 {
            self.p.resent += n as u64;
            let strikes = self.planner.strikes();
            tracing::warn!(
                batches = n,
                strikes,
                "no ack from the cloud in time; sending again (waiting longer each time)"
            );
            self.p.stuck = strikes >= STUCK_STRIKES;
            if self.p.stuck && self.stuck_fault.is_none() {
                let range = self.planner.oldest_in_flight();
                let detail = format!(
                    "no ack after {strikes} sends in a row (oldest unacked: {range:?}); the cloud may be refusing it: see its log"
                );
                tracing::error!("{detail}");
                self.stuck_fault = Some(DeviceFault {
                    source: "sync".into(),
                    kind: FaultKind::Other,
                    since: Timestamp::now(),
                    detail: Some(detail),
                });
            }
        }
        Ok(())
    }

    /// Write the acked mark to the ledger when it is due: at once when `force`d or when the
    /// outbox is drained, else at most every [`MARK_EVERY`].
    fn flush_mark(&mut self, force: bool) {
        let Some(mark) = self.mark_due else {
            return;
        };
        if !(force || self.planner.is_idle() || self.marked_at.elapsed() >= MARK_EVERY) {
            return;
        }
        self.marked_at = Instant::now();
        match self.ledger.mark_synced(mark) {
            Ok(()) => {
                self.p.synced_seq = mark;
                self.mark_due = None;
            }
            // Not fatal: it stays due and the next turn tries again (at stop, the lag is
            // simply re-sent next time).
            Err(e) => tracing::warn!(error = %e, mark, "sync mark not written"),
        }
    }

    /// Publish batches while the window has room.
    async fn pump(&mut self) -> Result<(), SyncError> {
        if !self.p.connected {
            return Ok(());
        }
        while let Some(r) = self.planner.next(Instant::now()) {
            let entries = self.ledger.range(r.from..=r.to)?;
            if entries.is_empty() {
                continue;
            }
            let batch = EntryBatch::new(self.opts.device.clone(), entries);
            let z = envelope::encode(&batch, Compression::Lz4)?;
            let signed = SignedEnvelope::sign(z, &self.opts.sign_key)?.to_bytes();
            self.client
                .publish(
                    topics::up(&self.opts.device),
                    signed,
                    PublishOptions::new(QoS::AtLeastOnce),
                )
                .await
                .map_err(|e| SyncError::Client(e.to_string()))?;
            self.p.batches_sent += 1;
        }
        Ok(())
    }

    fn check_disk(&mut self) {
        let dir = self
            .opts
            .ledger_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf();
        let free = match disk::free_bytes(&dir) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot read free disk space");
                return;
            }
        };
        self.disk_free = Some(free);
        let low = free < self.opts.disk_low_bytes;
        if low && self.disk_fault.is_none() {
            tracing::error!(free_bytes = free, dir = %dir.display(), "DISK LOW: unsynced entries are never dropped; free space or restore the cloud link");
            self.disk_fault = Some(DeviceFault {
                source: "disk".into(),
                kind: FaultKind::DiskLow,
                since: Timestamp::now(),
                detail: Some(format!("{free} bytes free")),
            });
        } else if !low && self.disk_fault.is_some() {
            tracing::info!(free_bytes = free, "disk space back above the alarm level");
            self.disk_fault = None;
        }
        self.p.disk_low = low;
    }

    /// The retained `state` (online, head, backlog and its age, faults, applied documents).
    async fn publish_state(&mut self, online: bool) -> Result<(), SyncError> {
        if !self.p.connected {
            return Ok(());
        }
        let s = self.ledger.status()?;
        let state = DeviceState {
            v: WIRE_VERSION,
            device: self.opts.device.clone(),
            online,
            at: Timestamp::now(),
            head_seq: s.head_seq,
            head_hash: s.head_hash,
            synced_seq: s.synced_seq,
            backlog: s.backlog,
            oldest_unsynced_at: s.oldest_unsynced_at,
            faults: self
                .disk_fault
                .iter()
                .chain(&self.stuck_fault)
                .cloned()
                .collect(),
            disk_free_bytes: self.disk_free,
            applied_docs: self.docs.applied(),
            software: Some(format!("baytrace-edge {}", env!("CARGO_PKG_VERSION"))),
        };
        let json = serde_json::to_vec(&state).map_err(|e| SyncError::Client(e.to_string()))?;
        self.client
            .publish(
                topics::state(&self.opts.device),
                json,
                PublishOptions::new(QoS::AtLeastOnce).retained(),
            )
            .await
            .map_err(|e| SyncError::Client(e.to_string()))
    }
}

/// Resolves when a stop is requested (the watch guard stays inside, keeping callers `Send`).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
