//! Load measurement (ignored by default; run once in release and report):
//!
//! ```text
//! cargo test --release -p edge-daemon --test sync_load -- --ignored --nocapture
//! ```
//!
//! Drains a 100,000-entry backlog through a Mosquitto on loopback into the real cloud (acks
//! after the cloud's commit), then, in the same run, publishes the very same signed batch bytes
//! with a plain QoS 1 loop (no ledger, no cloud) twice: PUBACKs only (the broker drops the
//! messages: nobody subscribes), and PUBACKs plus delivery to a QoS 1 subscriber (what a drain
//! needs at the least: the bytes reach the cloud's client), and prints all three rates. Target:
//! ≥ 20,000 entries/s and ≥ 50 % of the plain rate. `BT_ENTRIES`, `BT_BATCH`, `BT_INFLIGHT`
//! override the defaults. Nothing is asserted about speed (a test never asserts a time).

mod sync_support;

use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, PublishOptions, QoS, SessionMode};
use std::time::Instant;
use sync_support::*;
use tokio::sync::mpsc::UnboundedReceiver;
use trace_core::EntryBatch;
use trace_core::wire::envelope::{self, Compression};
use trace_core::wire::sign::SignedEnvelope;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load measurement: run in release with --ignored --nocapture"]
async fn drain_rate_vs_plain_qos1_loop() {
    let n = env_or("BT_ENTRIES", 100_000);
    let batch = env_or("BT_BATCH", 500);
    let inflight = env_or("BT_INFLIGHT", 8);
    let broker = mosquitto();
    let dir = tempfile::tempdir().unwrap();
    let (path, ledger) = ledger_with(dir.path(), n);
    let cloud = cloud(Some(broker.port)).await;
    let cred = cloud.add_device().await;

    let mut opts = sync_opts(&cloud, &cred, &path);
    opts.batch_size = usize::try_from(batch).unwrap();
    opts.inflight = usize::try_from(inflight).unwrap();
    let t = Instant::now();
    let h = edge_daemon::sync::spawn(opts).unwrap();
    synced(&h, n).await;
    let sync_s = t.elapsed();
    let p = h.progress().borrow().clone();
    h.stop().await.unwrap();
    cloud.assert_matches(&ledger).await;

    // The same bytes, pre-encoded, through a plain QoS 1 publish loop.
    let key = cred.sign_key().unwrap();
    let mut payloads = Vec::new();
    let mut bytes = 0usize;
    let mut from = 1;
    while from <= n {
        let to = (from + batch - 1).min(n);
        let b = EntryBatch::new(device(), ledger.range(from..=to).unwrap());
        let z = envelope::encode(&b, Compression::Lz4).unwrap();
        let s = SignedEnvelope::sign(z, &key).unwrap().to_bytes();
        bytes += s.len();
        payloads.push(s);
        from = to + 1;
    }
    // Baseline 1: the broker only (PUBACKs; no subscriber, so Mosquitto drops each message).
    let plain_s = plain_loop(broker.port, "bench/plain", payloads.clone(), None).await;
    // Baseline 2 (the fair one for a drain, which must reach the cloud): the same loop with a
    // QoS 1 subscriber on the topic, timed until every PUBACK and every delivery arrived.
    let (_sub, deliveries) = observer("127.0.0.1", broker.port, "bench/delivered").await;
    let count = payloads.len();
    let delivered_s = plain_loop(
        broker.port,
        "bench/delivered",
        payloads,
        Some((deliveries, count)),
    )
    .await;

    // Baseline 3: the same entries, one QoS 1 message each (each in our signed wire format), to
    // a QoS 1 subscriber: what an edge sync that publishes entry by entry can do at best.
    let mut singles = Vec::with_capacity(usize::try_from(n).unwrap());
    let mut single_bytes = 0usize;
    for seq in 1..=n {
        let b = EntryBatch::new(device(), ledger.range(seq..=seq).unwrap());
        let z = envelope::encode(&b, Compression::Lz4).unwrap();
        let s = SignedEnvelope::sign(z, &key).unwrap().to_bytes();
        single_bytes += s.len();
        singles.push(s);
    }
    let (_sub1, deliveries1) = observer("127.0.0.1", broker.port, "bench/per-entry").await;
    let per_entry_s = plain_loop(
        broker.port,
        "bench/per-entry",
        singles,
        Some((deliveries1, usize::try_from(n).unwrap())),
    )
    .await;

    let rate = |d: std::time::Duration| {
        let ms = u64::try_from(d.as_millis().max(1)).unwrap_or(u64::MAX);
        n * 1000 / ms
    };
    let (sync_rate, plain_rate, delivered_rate) = (rate(sync_s), rate(plain_s), rate(delivered_s));
    let per_entry_rate = rate(per_entry_s);
    println!(
        "sync drain: {n} entries, batch {batch}, inflight {inflight}: {} ms, {sync_rate} entries/s \
         ({} batches sent, {} acks, {} re-sent)",
        sync_s.as_millis(),
        p.batches_sent,
        p.acks,
        p.resent
    );
    println!(
        "plain QoS1 loop, same {count} payloads ({} KiB), PUBACKs only: {} ms, {plain_rate} entries/s",
        bytes / 1024,
        plain_s.as_millis()
    );
    println!(
        "plain QoS1 loop, same payloads, PUBACKs + delivered to a QoS1 subscriber: {} ms, {delivered_rate} entries/s",
        delivered_s.as_millis()
    );
    println!(
        "plain QoS1 loop, one message per entry ({n} messages, {} KiB), delivered to a QoS1 \
         subscriber: {} ms, {per_entry_rate} entries/s",
        single_bytes / 1024,
        per_entry_s.as_millis()
    );
    println!(
        "sync / plain = {}%, sync / plain delivered = {}%, sync / per-entry plain delivered = {}%",
        sync_rate * 100 / plain_rate.max(1),
        sync_rate * 100 / delivered_rate.max(1),
        sync_rate * 100 / per_entry_rate.max(1)
    );
}

/// What the subscriber received: (topic, payload).
type Deliveries = UnboundedReceiver<(String, Vec<u8>)>;

/// Publish every payload at QoS 1 as fast as the client goes; done when every PUBACK came
/// back (and, with `deliveries`, when the subscriber received that many messages).
async fn plain_loop(
    port: u16,
    topic: &str,
    payloads: Vec<Vec<u8>>,
    deliveries: Option<(Deliveries, usize)>,
) -> std::time::Duration {
    let mut mo = MqttOptions::new(
        format!("plain-{topic}").replace('/', "-"),
        rumqttc::Broker::tcp("127.0.0.1", port),
    );
    mo.set_session_mode(SessionMode::Clean);
    let (client, mut el) = AsyncClient::builder(mo).unbounded().build();
    loop {
        if let Event::Incoming(Incoming::ConnAck(_)) = el.poll().await.unwrap() {
            break;
        }
    }
    let count = payloads.len();
    let t = Instant::now();
    let received = tokio::spawn(async move {
        if let Some((mut rx, want)) = deliveries {
            for _ in 0..want {
                rx.recv().await.expect("deliveries");
            }
        }
    });
    for pl in payloads {
        client
            .publish(topic.to_owned(), pl, PublishOptions::new(QoS::AtLeastOnce))
            .await
            .unwrap();
    }
    let mut acked = 0;
    while acked < count {
        if let Event::Incoming(Incoming::PubAck(_)) = el.poll().await.unwrap() {
            acked += 1;
        }
    }
    received.await.unwrap();
    t.elapsed()
}
