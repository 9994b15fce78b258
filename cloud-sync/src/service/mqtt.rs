//! The MQTT side of the cloud: one task owns the rumqttc event loop, a few workers ingest.
//!
//! Design: the event-loop task only moves packets (connect, subscribe on every CONNACK since
//! the session is clean, forward publishes); [`WORKERS`] worker tasks run
//! [`super::up::handle_up_group`] and publish the `Ack`s. A device always goes to the same
//! worker (hash of its id), so its batches are handled and acked in arrival order (a box can
//! trust that a later ack's hwm is not lower), while different devices overlap: one batch
//! verifies its signature and hashes while another commits. A worker takes every `up` of the
//! same device already waiting in its queue (up to [`MAX_GROUP`]) and ingests them with one
//! commit (`CloudStore::ingest_many`): with `synchronous = FULL` a commit is an fsync, and one
//! per batch capped a draining box at a few dozen batches a second. Acks still go out one per
//! batch, in arrival order, after the commit. Each worker is fed by a bounded channel, so a
//! slow disk backs pressure up to the broker instead of growing memory. The client's request
//! channel is unbounded because the worker publishes into it while the event loop may be
//! waiting on the worker: a bound there could deadlock the two; its size is bounded anyway by
//! one ack per received batch.
//!
//! Durability does not rest on MQTT: the broker's PUBACK only says the cloud received the
//! message. The box advances its synced mark on our `Ack`, published after the store commit,
//! and re-sends anything unacked after a restart on either side.

use super::metrics::Metrics;
use super::up::{KeyCache, UpOutcome, handle_up_group};
use crate::store::CloudStore;
use rumqttc::{
    AsyncClient, Event, EventLoop, Incoming, MqttOptions, PublishOptions, QoS, SessionMode,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use trace_core::topics::{self, TopicKind};
use trace_core::wire::envelope;
use trace_core::{DeviceId, DeviceState};

/// How the ingest client connects and subscribes.
#[derive(Clone)]
pub struct MqttLink {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_id: String,
    /// Empty: plain subscription to `bt/v1/dev/+/up`.
    pub share_group: String,
    pub max_payload: usize,
    /// TLS to the broker: `Some(None)` = system roots, `Some(Some(pem))` = this CA.
    pub tls: Option<Option<Vec<u8>>>,
}

impl MqttLink {
    /// The `up` filter: `$share/{group}/bt/v1/dev/+/up`, or the plain wildcard.
    pub fn up_filter(&self) -> String {
        if self.share_group.is_empty() {
            topics::UP_WILDCARD.to_owned()
        } else {
            topics::shared_up_filter(&self.share_group)
        }
    }
}

struct Inbound {
    device: DeviceId,
    kind: TopicKind,
    payload: bytes::Bytes,
}

/// Start the event-loop task and the worker. `ready` turns true at the first SUBACK.
pub(crate) fn spawn<S: CloudStore + Clone>(
    link: MqttLink,
    store: S,
    metrics: Arc<Metrics>,
    ready: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
) -> (tokio::task::JoinHandle<()>, AsyncClient) {
    let mut opts = MqttOptions::new(
        link.client_id.clone(),
        rumqttc::Broker::tcp(link.host.clone(), link.port),
    );
    opts.set_keep_alive(15);
    match &link.tls {
        None => {}
        Some(Some(ca)) => {
            opts.set_transport(rumqttc::Transport::tls(ca.clone(), None, None));
        }
        Some(None) => match rumqttc::Transport::try_tls_with_default_config() {
            Ok(t) => {
                opts.set_transport(t);
            }
            Err(e) => tracing::error!(error = %e, "no system TLS roots; set mqtt.ca_file"),
        },
    }
    opts.set_session_mode(SessionMode::Clean);
    // The broker must not send us more than this; envelope framing on top of the cap.
    let limit = u32::try_from(link.max_payload + 64 * 1024).unwrap_or(u32::MAX);
    opts.set_max_packet_size(Some(limit));
    if let Some(user) = &link.username {
        opts.set_credentials(
            user.clone(),
            link.password.clone().unwrap_or_default().into_bytes(),
        );
    }
    let (client, eventloop) = AsyncClient::builder(opts).unbounded().build();
    let keys = Arc::new(KeyCache::default());
    let mut txs = Vec::with_capacity(WORKERS);
    let mut workers = Vec::with_capacity(WORKERS);
    for _ in 0..WORKERS {
        let (tx, rx) = mpsc::channel::<Inbound>(64);
        txs.push(tx);
        workers.push(tokio::spawn(worker(
            rx,
            client.clone(),
            store.clone(),
            keys.clone(),
            metrics.clone(),
            link.max_payload,
        )));
    }
    let handle = client.clone();
    let task = tokio::spawn(async move {
        event_loop(eventloop, client, link, txs, metrics, ready, shutdown).await;
        for w in workers {
            let _ = w.await;
        }
    });
    (task, handle)
}

/// Publish a downlink document to `device` (JSON, QoS 1, not retained: a box keeps a
/// persistent session to receive what was sent while it was away, and documents are versioned,
/// so sending one again is harmless).
pub async fn send_downlink(
    client: &AsyncClient,
    device: &DeviceId,
    doc: &trace_core::DownlinkDoc,
) -> Result<(), rumqttc::ClientError> {
    let payload = serde_json::to_vec(doc).unwrap_or_default();
    client
        .publish(
            topics::down(device),
            payload,
            PublishOptions::new(QoS::AtLeastOnce),
        )
        .await
}

async fn event_loop(
    mut eventloop: EventLoop,
    client: AsyncClient,
    link: MqttLink,
    txs: Vec<mpsc::Sender<Inbound>>,
    metrics: Arc<Metrics>,
    ready: watch::Sender<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let event = tokio::select! {
            ev = eventloop.poll() => ev,
            () = stopped(&mut shutdown) => {
                let _ = client.disconnect().await;
                break;
            }
        };
        match event {
            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                backoff = Duration::from_millis(100);
                Metrics::inc(&metrics.mqtt_connections);
                tracing::info!(host = %link.host, port = link.port, filter = %link.up_filter(), "connected to the broker; subscribing");
                for filter in [link.up_filter(), topics::STATE_WILDCARD.to_owned()] {
                    if let Err(e) = client.subscribe(filter, QoS::AtLeastOnce).await {
                        tracing::error!(error = %e, "subscribe request failed");
                    }
                }
            }
            Ok(Event::Incoming(Incoming::SubAck(ack))) => {
                tracing::debug!(?ack, "subscribed");
                ready.send_replace(true);
            }
            Ok(Event::Incoming(Incoming::Publish(p))) => {
                let Some((device, kind)) =
                    std::str::from_utf8(&p.topic).ok().and_then(topics::parse)
                else {
                    metrics.refused("topic");
                    tracing::warn!(topic = %String::from_utf8_lossy(&p.topic), "message on a topic we do not serve; ignored");
                    continue;
                };
                let tx = &txs[shard(&device, txs.len())];
                if tx
                    .send(Inbound {
                        device,
                        kind,
                        payload: p.payload,
                    })
                    .await
                    .is_err()
                {
                    break;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "MQTT connection failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    () = stopped(&mut shutdown) => break,
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Resolves when shutdown is requested (the watch guard is dropped inside, keeping callers Send).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// Ingest workers: enough to overlap verification with the single SQLite writer.
pub const WORKERS: usize = 4;

fn shard(device: &DeviceId, n: usize) -> usize {
    // FNV-1a: stable, so a device maps to the same worker for the process's life.
    let h = device
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    usize::try_from(h % n as u64).unwrap_or(0)
}

/// Up messages of one device ingested (and committed) together, at most.
pub const MAX_GROUP: usize = 32;

/// A worker idle this long treats the next `up` as live: committed alone, at once.
const IDLE_ALONE: Duration = Duration::from_millis(100);

async fn worker<S: CloudStore>(
    mut rx: mpsc::Receiver<Inbound>,
    client: AsyncClient,
    store: S,
    keys: Arc<KeyCache>,
    metrics: Arc<Metrics>,
    max_payload: usize,
) {
    let mut held: Option<Inbound> = None;
    let mut idle_since = std::time::Instant::now();
    loop {
        let (msg, woke) = match held.take() {
            Some(m) => (m, false),
            None => match rx.try_recv() {
                Ok(m) => (m, false),
                Err(mpsc::error::TryRecvError::Empty) => match rx.recv().await {
                    Some(m) => (m, true),
                    None => break,
                },
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            },
        };
        match msg.kind {
            TopicKind::Up => {
                // Group commit: whatever else of this device's `up` already waits joins this
                // commit (in arrival order); anything else waits for the next turn. Under load
                // the queue fills while a commit runs, so groups grow exactly when it pays.
                // A message that found the worker idle for a while goes alone: it is likely the
                // live batch a box sends first after a reconnect (a sale a consumer may scan
                // now), and its latency is worth one fsync; the rest queues meanwhile and goes
                // as a group. (A drain in full swing waits only a round trip between groups.)
                let device = msg.device.clone();
                let mut group = vec![msg.payload];
                let alone = woke && idle_since.elapsed() >= IDLE_ALONE;
                let limit = if alone { 1 } else { MAX_GROUP };
                while group.len() < limit {
                    match rx.try_recv() {
                        Ok(m) if m.kind == TopicKind::Up && m.device == device => {
                            group.push(m.payload);
                        }
                        Ok(m) => {
                            held = Some(m);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                Metrics::add(&metrics.up_messages, group.len() as u64);
                on_up(
                    &client,
                    &store,
                    &keys,
                    &metrics,
                    max_payload,
                    &device,
                    &group,
                )
                .await;
                idle_since = std::time::Instant::now();
            }
            TopicKind::State => {
                Metrics::inc(&metrics.state_messages);
                on_state(&store, &metrics, msg).await;
            }
            // Our own acks and downlinks are not subscribed to; nothing to do.
            TopicKind::Ack | TopicKind::Down => {}
        }
    }
}

async fn on_up<S: CloudStore>(
    client: &AsyncClient,
    store: &S,
    keys: &KeyCache,
    metrics: &Metrics,
    max_payload: usize,
    device: &DeviceId,
    payloads: &[bytes::Bytes],
) {
    let refs: Vec<&[u8]> = payloads.iter().map(|p| p.as_ref()).collect();
    let outcomes = handle_up_group(store, keys, max_payload, device, &refs).await;
    for (outcome, payload) in outcomes.into_iter().zip(payloads) {
        match outcome {
            UpOutcome::Acked(ack, outcome) => {
                Metrics::inc(&metrics.batches_acked);
                Metrics::add(&metrics.entries_stored, u64::from(outcome.stored));
                Metrics::add(&metrics.entries_duplicate, u64::from(outcome.duplicates));
                Metrics::add(&metrics.entries_quarantined, u64::from(outcome.quarantined));
                if outcome.quarantined > 0 {
                    tracing::error!(device = %device, quarantined = outcome.quarantined, "chain broken: entries quarantined");
                }
                tracing::debug!(device = %device, hwm = ack.hwm, stored = outcome.stored, dup = outcome.duplicates, missing = ack.missing.len(), "batch ingested");
                let payload = match serde_json::to_vec(&ack) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(error = %e, "ack does not serialise");
                        continue;
                    }
                };
                match client
                    .publish(
                        topics::ack(device),
                        payload,
                        PublishOptions::new(QoS::AtLeastOnce),
                    )
                    .await
                {
                    Ok(()) => Metrics::inc(&metrics.acks_published),
                    Err(e) => {
                        tracing::warn!(device = %device, error = %e, "ack not published; the box will re-send")
                    }
                }
            }
            UpOutcome::Refused(r) => {
                metrics.refused(r.reason());
                tracing::warn!(device = %device, reason = r.reason(), detail = %r, bytes = payload.len(), "up message refused; nothing stored");
            }
            UpOutcome::Failed(e) => {
                Metrics::inc(&metrics.store_failures);
                tracing::error!(device = %device, error = %e, "store failed; batch not acked");
            }
        }
    }
}

/// `state` payloads are JSON, or JSON inside an envelope; presence only, so unsigned.
async fn on_state<S: CloudStore>(store: &S, metrics: &Metrics, msg: Inbound) {
    // A retained empty message clears the topic; nothing to record.
    if msg.payload.is_empty() {
        return;
    }
    let parsed: Result<DeviceState, String> = if msg.payload.starts_with(&envelope::MAGIC) {
        envelope::decode(&msg.payload, 64 * 1024).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(&msg.payload).map_err(|e| e.to_string())
    };
    let state = match parsed {
        Ok(s) if s.device == msg.device => s,
        Ok(s) => {
            metrics.refused("state_device_mismatch");
            tracing::warn!(topic_device = %msg.device, state_device = %s.device, "state names another device; ignored");
            return;
        }
        Err(e) => {
            metrics.refused("bad_state");
            tracing::warn!(device = %msg.device, error = %e, "state message unreadable; ignored");
            return;
        }
    };
    let online = state.online;
    metrics.set_state(state);
    match store.set_online(&msg.device, online).await {
        Ok(()) => tracing::info!(device = %msg.device, online, "device presence"),
        Err(e) => tracing::warn!(device = %msg.device, error = %e, "presence not recorded"),
    }
}
