//! The cloud's MQTT ingest end to end, against the embedded broker and a real Mosquitto:
//! out-of-order and duplicated batches, spoofing, tampering, malformed payloads, presence.

mod support;

use cloud_sync::store::CloudStore;
use support::*;
use trace_core::wire::envelope::{self, Compression};
use trace_core::wire::sign::SignKey;
use trace_core::{DeviceState, EntryBatch, SeqRange, Timestamp, topics};

async fn with_broker<F, Fut>(kind: &str, f: F)
where
    F: FnOnce(BrokerKind) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    init_tracing();
    match kind {
        "embedded" => f(BrokerKind::Embedded).await,
        _ => {
            let m = start_mosquitto("allow_anonymous true", &[]).await;
            f(BrokerKind::Mosquitto(m.port)).await;
            drop(m);
        }
    }
}

fn port_of(kind: &BrokerKind, cloud: &cloud_sync::RunningCloud) -> u16 {
    match kind {
        BrokerKind::Embedded => broker_port(cloud),
        BrokerKind::Mosquitto(p) => *p,
    }
}

async fn out_of_order_and_duplicates(kind: BrokerKind) {
    let dir = tempfile::tempdir().unwrap();
    let (cloud, stop) = start_cloud(dir.path(), &kind, |_| {}).await;
    let b = TestBox::new("stall-order", 300);
    b.register(&cloud).await;
    let mut p = connect_box(port_of(&kind, &cloud), &b.id, None, false).await;

    // Batch 4 (151..=200) first: nothing contiguous yet, the cloud asks for 1..=150.
    p.up(b.payload(151, 200)).await;
    let a = p.ack().await;
    assert_eq!(a.hwm, 0);
    assert_eq!(a.missing, vec![SeqRange::new(1, 150)]);
    assert!(!a.quarantined);

    // The rest, shuffled, with duplicates (whole and overlapping).
    for (from, to) in [
        (51, 100),
        (1, 50),
        (151, 200),
        (251, 300),
        (1, 50),
        (101, 150),
        (201, 250),
        (120, 260),
    ] {
        p.up(b.payload(from, to)).await;
    }
    let last = p.ack_with_hwm(300).await;
    assert!(last.missing.is_empty());

    let status = cloud.store.list_devices().await.unwrap();
    let d = status.iter().find(|d| d.id == b.id).unwrap();
    assert_eq!(d.hwm, 300);
    assert_eq!(d.entries, 300);
    assert_eq!(d.head_hash, Some(b.chain[299].hash));
    assert!(!d.quarantined);
    assert_eq!(cloud.store.entries(&b.id, 1..=300).await.unwrap(), b.chain);
    assert!(
        cloud.metrics.refusals().is_empty(),
        "{:?}",
        cloud.metrics.refusals()
    );
    let _ = stop.send(());
    cloud.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_and_duplicates_embedded() {
    with_broker("embedded", out_of_order_and_duplicates).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_and_duplicates_mosquitto() {
    with_broker("mosquitto", out_of_order_and_duplicates).await;
}

async fn spoofing_is_refused(kind: BrokerKind) {
    let dir = tempfile::tempdir().unwrap();
    let (cloud, _stop) = start_cloud(dir.path(), &kind, |_| {}).await;
    let a = TestBox::new("stall-spoof-a", 20);
    let b = TestBox::new("stall-spoof-b", 20);
    a.register(&cloud).await;
    b.register(&cloud).await;
    let port = port_of(&kind, &cloud);
    let mut pa = connect_box(port, &a.id, None, false).await;

    // A forges B's entries on B's topic, signed with A's key: B's key does not verify it.
    let b_batch = EntryBatch::new(b.id.clone(), b.chain[..10].to_vec());
    pa.up_on(&b.id, seal(&b_batch, &a.key)).await;
    // A's own batch on B's topic signed with B's key (stolen) still names A: device mismatch.
    let a_batch = EntryBatch::new(a.id.clone(), a.chain[..10].to_vec());
    pa.up_on(&b.id, seal(&a_batch, &b.key)).await;
    // An unregistered device.
    let ghost = trace_core::DeviceId::new("stall-ghost").unwrap();
    pa.up_on(&ghost, seal(&a_batch, &a.key)).await;
    // Then A's honest batch is acked: the refusals above did not stop the service.
    pa.up(a.payload(1, 10)).await;
    assert_eq!(pa.ack().await.hwm, 10);

    eventually("three refusals counted", || async {
        cloud.metrics.refusals().values().sum::<u64>() == 3
    })
    .await;
    let r = cloud.metrics.refusals();
    assert_eq!(r.get("bad_signature"), Some(&1), "{r:?}");
    assert_eq!(r.get("device_mismatch"), Some(&1), "{r:?}");
    assert_eq!(r.get("unknown_device"), Some(&1), "{r:?}");
    let devices = cloud.store.list_devices().await.unwrap();
    let db = devices.iter().find(|d| d.id == b.id).unwrap();
    assert_eq!((db.entries, db.hwm), (0, 0), "nothing stored for B");
    assert_eq!(devices.iter().find(|d| d.id == a.id).unwrap().entries, 10);
    assert!(cloud.store.get_device(&ghost).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoofing_is_refused_embedded() {
    with_broker("embedded", spoofing_is_refused).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoofing_is_refused_mosquitto() {
    with_broker("mosquitto", spoofing_is_refused).await;
}

async fn tampering(kind: BrokerKind) {
    let dir = tempfile::tempdir().unwrap();
    let (cloud, _stop) = start_cloud(dir.path(), &kind, |_| {}).await;
    let a = TestBox::new("stall-tamper-a", 40);
    let c = TestBox::new("stall-tamper-c", 40);
    a.register(&cloud).await;
    c.register(&cloud).await;
    let port = port_of(&kind, &cloud);
    let mut pa = connect_box(port, &a.id, None, false).await;
    let mut pc = connect_box(port, &c.id, None, false).await;

    pa.up(a.payload(1, 20)).await;
    assert_eq!(pa.ack().await.hwm, 20);

    // Altered in transit: one byte of the signed bytes flipped -> signature refuses it.
    let mut bytes = a.payload(21, 30);
    let n = bytes.len();
    bytes[n - 5] ^= 0x01;
    pa.up(bytes).await;

    // Altered before signing (a box whose ledger was edited): the entry's hash no longer
    // matches its content -> quarantined, device flagged.
    let mut entries = a.chain[20..30].to_vec();
    entries[3].at = Timestamp(entries[3].at.0 + 60_000);
    pa.up(seal(&EntryBatch::new(a.id.clone(), entries), &a.key))
        .await;
    let ack = pa.ack().await;
    assert!(ack.quarantined, "{ack:?}");
    assert_eq!(ack.hwm, 23, "entries before the altered one are stored");

    // Another device carries on.
    pc.up(c.payload(1, 40)).await;
    assert_eq!(pc.ack().await.hwm, 40);

    let devices = cloud.store.list_devices().await.unwrap();
    let da = devices.iter().find(|d| d.id == a.id).unwrap();
    assert!(da.quarantined);
    assert!(da.quarantined_entries >= 1);
    let dc = devices.iter().find(|d| d.id == c.id).unwrap();
    assert!(!dc.quarantined);
    assert_eq!(dc.hwm, 40);
    assert_eq!(cloud.metrics.refusals().get("bad_signature"), Some(&1));
    assert!(!cloud.store.alerts(0, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_embedded() {
    with_broker("embedded", tampering).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_mosquitto() {
    with_broker("mosquitto", tampering).await;
}

async fn malformed(kind: BrokerKind) {
    let dir = tempfile::tempdir().unwrap();
    let (cloud, _stop) = start_cloud(dir.path(), &kind, |c| c.mqtt.max_payload = 64 * 1024).await;
    let a = TestBox::new("stall-malformed", 400);
    a.register(&cloud).await;
    let mut p = connect_box(port_of(&kind, &cloud), &a.id, None, false).await;
    let key = &a.key;
    let small = EntryBatch::new(a.id.clone(), a.chain[..5].to_vec());
    let env = envelope::encode(&small, Compression::Lz4).unwrap();

    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push(("not_signed", b"{\"hello\":\"world\"}".to_vec()));
    cases.push((
        "unsupported_envelope",
        sign_raw(b"{\"v\":1,\"device\":\"x\"}".to_vec(), key),
    ));
    cases.push(("corrupt_envelope", sign_raw(b"BTEV".to_vec(), key)));
    let mut v2 = env.clone();
    v2[4] = 2;
    cases.push(("unsupported_envelope", sign_raw(v2, key)));
    cases.push((
        "corrupt_envelope",
        sign_raw(env[..env.len() - 7].to_vec(), key),
    ));
    let mut wrong_wire = small.clone();
    wrong_wire.v = 2;
    cases.push(("wire_version", seal(&wrong_wire, key)));
    cases.push((
        "bad_json",
        sign_raw(
            envelope::encode_bytes(b"[1,2,", Compression::Lz4).unwrap(),
            key,
        ),
    ));
    // 400 entries decompress to far more than the 64 KiB cap.
    cases.push(("oversized", a.payload(1, 400)));
    let mut sig_alg = SignKey::sm2_from_bytes(&[5u8; 32]).unwrap();
    cases.push(("bad_signature", seal(&small, &sig_alg)));
    sig_alg = SignKey::ed25519_from_seed(&[77u8; 32]);
    cases.push(("bad_signature", seal(&small, &sig_alg)));

    let total = cases.len() as u64;
    for (_, payload) in &cases {
        p.up(payload.clone()).await;
    }
    // An honest batch afterwards is acked: the service is alive and nothing above was stored.
    p.up(a.payload(1, 5)).await;
    let ack = p.ack().await;
    assert_eq!(ack.hwm, 5);
    eventually("every malformed payload refused", || async {
        cloud.metrics.refusals().values().sum::<u64>() == total
    })
    .await;
    let r = cloud.metrics.refusals();
    for (reason, _) in &cases {
        let want = cases.iter().filter(|(x, _)| x == reason).count() as u64;
        assert_eq!(r.get(reason), Some(&want), "{reason}: {r:?}");
    }
    let d = cloud.store.list_devices().await.unwrap();
    assert_eq!(d[0].entries, 5);
    assert!(!d[0].quarantined);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_embedded() {
    with_broker("embedded", malformed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_mosquitto() {
    with_broker("mosquitto", malformed).await;
}

async fn presence(kind: BrokerKind) {
    let dir = tempfile::tempdir().unwrap();
    let (cloud, _stop) = start_cloud(dir.path(), &kind, |_| {}).await;
    let a = TestBox::new("stall-presence", 3);
    a.register(&cloud).await;
    let port = port_of(&kind, &cloud);
    let p = connect_box(port, &a.id, None, true).await;
    let mut online = DeviceState::offline(a.id.clone(), Timestamp(1));
    online.online = true;
    online.backlog = 42;
    p.client
        .publish(
            topics::state(&a.id),
            serde_json::to_vec(&online).unwrap(),
            rumqttc::PublishOptions::new(rumqttc::QoS::AtLeastOnce).retained(),
        )
        .await
        .unwrap();
    eventually("device online", || async {
        cloud.store.list_devices().await.unwrap()[0].online
    })
    .await;
    let (_, metrics) = http_get(cloud.http_addr, "/metrics").await;
    assert!(
        metrics.contains("baytrace_device_backlog{device=\"stall-presence\"} 42"),
        "{metrics}"
    );
    // The box vanishes without DISCONNECT: the broker publishes its will (offline).
    drop(p);
    eventually("device offline after its will", || async {
        !cloud.store.list_devices().await.unwrap()[0].online
    })
    .await;
    assert!(
        cloud.store.list_devices().await.unwrap()[0]
            .last_seen
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_embedded() {
    with_broker("embedded", presence).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_mosquitto() {
    with_broker("mosquitto", presence).await;
}

/// The cloud stops mid-stream and a new instance takes over the same data: the box re-sends
/// (old and new batches), and the store ends with exactly its chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_restart_resumes_from_the_store() {
    init_tracing();
    let m = start_mosquitto("allow_anonymous true", &[]).await;
    let kind = BrokerKind::Mosquitto(m.port);
    let dir = tempfile::tempdir().unwrap();
    let b = TestBox::new("stall-restart", 200);
    let (cloud, stop) = start_cloud(dir.path(), &kind, |_| {}).await;
    b.register(&cloud).await;
    let mut p = connect_box(m.port, &b.id, None, false).await;
    p.up(b.payload(1, 100)).await;
    assert_eq!(p.ack().await.hwm, 100);
    let _ = stop.send(());
    cloud.wait().await.unwrap();

    // While no cloud listens, the box keeps publishing; those messages are lost to the cloud
    // (clean session), so the box re-sends whatever its acks did not cover.
    p.up(b.payload(101, 150)).await;
    let (cloud, _stop) = start_cloud(dir.path(), &kind, |_| {}).await;
    for (from, to) in [(51, 100), (151, 200), (101, 150)] {
        p.up(b.payload(from, to)).await;
    }
    let ack = p.ack_with_hwm(200).await;
    assert!(ack.missing.is_empty());
    let d = &cloud.store.list_devices().await.unwrap()[0];
    assert_eq!((d.hwm, d.entries), (200, 200));
    assert_eq!(d.head_hash, Some(b.chain[199].hash));
    assert_eq!(cloud.store.entries(&b.id, 1..=200).await.unwrap(), b.chain);
}

/// A document the cloud sends reaches the box on its `down` topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downlink_reaches_the_box() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let (cloud, _stop) = start_cloud(dir.path(), &BrokerKind::Embedded, |_| {}).await;
    let id = trace_core::DeviceId::new("stall-down").unwrap();
    let mut opts = rumqttc::MqttOptions::new(
        "down-box",
        rumqttc::Broker::tcp("127.0.0.1", broker_port(&cloud)),
    );
    opts.set_keep_alive(5);
    let (client, mut ev) = rumqttc::AsyncClient::builder(opts).unbounded().build();
    let topic = topics::down(&id);
    let doc = trace_core::DownlinkDoc::new(
        trace_core::wire::DocType::RecallAlert,
        7,
        serde_json::json!({"product": "鲜猪肉", "batch": "PB-20260301-00"}),
    );
    let mut sent = false;
    let got = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), ev.poll())
            .await
            .unwrap()
        {
            Ok(rumqttc::Event::Incoming(rumqttc::Incoming::ConnAck(_))) => {
                client
                    .subscribe(topic.clone(), rumqttc::QoS::AtLeastOnce)
                    .await
                    .unwrap();
            }
            Ok(rumqttc::Event::Incoming(rumqttc::Incoming::SubAck(_))) if !sent => {
                cloud.send_downlink(&id, &doc).await.unwrap();
                sent = true;
            }
            Ok(rumqttc::Event::Incoming(rumqttc::Incoming::Publish(p))) => {
                break serde_json::from_slice::<trace_core::DownlinkDoc>(&p.payload).unwrap();
            }
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(got, doc);
}
