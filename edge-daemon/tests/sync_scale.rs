//! The sync must-shows at the scale, each on the embedded broker and on a real
//! Mosquitto started here: a 100,000-entry backlog recorded offline (one fixture per test
//! binary, copied per test) ends in the cloud exactly as in the box after
//! - a plain connect, with a ticket minted offline resolving on `/t/{code}` while the backlog is
//!   still draining (asserted on state: the cloud's hwm is below the head when it resolves);
//! - a SIGKILL of the box (`baytrace-edge run`) mid-drain and a restart;
//! - a restart of the broker mid-drain (the embedded broker lives in the cloud process, so
//!   there it is a clean restart of `baytrace-cloud serve`);
//! - a SIGKILL of the cloud (`baytrace-cloud serve`) mid-ingest and a restart.
//!
//! "Exactly" is [`assert_store_matches`]: same count, every seq and hash, same head hash,
//! nothing missing, nothing duplicated.

mod sync_support;

use std::time::Instant;
use sync_support::procs::*;
use sync_support::*;
use trace_core::{Event, TicketCodec};

const N: u64 = 100_000;
/// The disruptions strike once the cloud holds at least this much of the backlog.
const MID: u64 = 20_000;

// ---- offline backlog + a ticket minted offline ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_offline_100k_ticket_resolves_while_draining_then_exact() {
    offline_backlog_and_ticket(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_offline_100k_ticket_resolves_while_draining_then_exact() {
    let broker = mosquitto();
    offline_backlog_and_ticket(Some(broker.port)).await;
}

async fn offline_backlog_and_ticket(broker: Option<u16>) {
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_copy(dir.path());
    let cloud = cloud(broker).await;
    let cred = cloud.add_device().await;
    // The receipt printed while the link was down, with a real code of this device.
    let codec = TicketCodec::new(cred.device_no, &cred.code_key().unwrap()).unwrap();
    let code = codec.mint(424_242).unwrap().to_string();
    let mut sale = edge_daemon::synth::sale(9_999_999);
    match &mut sale.event {
        Event::SaleTicket(t) => t.ticket_code = code.clone(),
        other => panic!("synthetic sale is {other:?}"),
    }
    let mut ledger = open_ledger(&path);
    let receipt = ledger.append(sale).unwrap();
    let head = receipt.seq;
    assert_eq!((head, ledger.status().unwrap().backlog), (N + 1, N + 1));
    let page = format!("/t/{code}");
    assert_eq!(http_get(cloud.running.http_addr, &page).await.0, 404);

    let h = edge_daemon::sync::spawn(sync_opts(&cloud, &cred, &path)).unwrap();
    let mut progress = h.progress();
    progress.wait_for(|p| p.connected).await.unwrap();
    let connected = Instant::now();
    // Ask the page at every step of the sync (each ack) and every 20 ms besides.
    let body = loop {
        let (status, body) = http_get(cloud.running.http_addr, &page).await;
        if status == 200 {
            break body;
        }
        assert_eq!(status, 404, "{body}");
        let _ =
            tokio::time::timeout(std::time::Duration::from_millis(20), progress.changed()).await;
    };
    let took = connected.elapsed();
    let hwm = cloud_hwm(&cloud.running.store).await;
    assert!(
        hwm < head,
        "the ticket resolved while the backlog was still draining (cloud hwm {hwm} of {head})"
    );
    assert!(
        h.progress().borrow().synced_seq < head,
        "box still has a backlog"
    );
    assert!(body.contains("东门市场"), "the page names the market");
    println!(
        "offline ticket resolved on /t/{{code}} {} ms after the connect, cloud hwm {hwm} of {head} (backlog {} left)",
        took.as_millis(),
        head - hwm
    );

    synced(&h, head).await;
    h.stop().await.unwrap();
    cloud.assert_matches(&ledger).await;
}

// ---- SIGKILL the box mid-drain ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_box_sigkilled_mid_drain_ends_exact() {
    box_killed_mid_drain(Broker::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_box_sigkilled_mid_drain_ends_exact() {
    let m = mosquitto();
    box_killed_mid_drain(Broker::Mosquitto(m.port)).await;
}

async fn box_killed_mid_drain(broker: Broker) {
    let dir = tempfile::tempdir().unwrap();
    let (mut cloud, cred) = CloudProc::start(dir.path(), broker).await;
    let mut bx = BoxProc::setup(dir.path(), &cred);
    let store = cloud.store();
    bx.spawn();
    wait_mid_drain(&store).await;
    bx.kill();
    assert_mid_drain(&store).await;
    bx.spawn();
    finish(&mut cloud, &mut bx, &store).await;
}

// ---- restart the broker mid-drain ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_broker_restarted_mid_drain_ends_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cloud, cred) = CloudProc::start(dir.path(), Broker::Embedded).await;
    let mut bx = BoxProc::setup(dir.path(), &cred);
    let store = cloud.store();
    bx.spawn();
    wait_mid_drain(&store).await;
    // The embedded broker has no life of its own: restarting it is restarting the cloud.
    cloud.stop();
    assert_mid_drain(&store).await;
    cloud.spawn();
    finish(&mut cloud, &mut bx, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_broker_restarted_mid_drain_ends_exact() {
    let mut m = mosquitto();
    let dir = tempfile::tempdir().unwrap();
    let (mut cloud, cred) = CloudProc::start(dir.path(), Broker::Mosquitto(m.port)).await;
    let mut bx = BoxProc::setup(dir.path(), &cred);
    let store = cloud.store();
    bx.spawn();
    wait_mid_drain(&store).await;
    // SIGKILL, no persistence: every session and message in the broker is gone.
    m.restart();
    assert_mid_drain(&store).await;
    finish(&mut cloud, &mut bx, &store).await;
}

// ---- SIGKILL the cloud mid-ingest ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_cloud_sigkilled_mid_ingest_ends_exact() {
    cloud_killed_mid_ingest(Broker::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_cloud_sigkilled_mid_ingest_ends_exact() {
    let m = mosquitto();
    cloud_killed_mid_ingest(Broker::Mosquitto(m.port)).await;
}

async fn cloud_killed_mid_ingest(broker: Broker) {
    let dir = tempfile::tempdir().unwrap();
    let (mut cloud, cred) = CloudProc::start(dir.path(), broker).await;
    let mut bx = BoxProc::setup(dir.path(), &cred);
    let store = cloud.store();
    bx.spawn();
    wait_mid_drain(&store).await;
    cloud.kill();
    assert_mid_drain(&store).await;
    cloud.spawn();
    finish(&mut cloud, &mut bx, &store).await;
}

// ---- shared steps ----

async fn wait_mid_drain(store: &cloud_sync::SqliteStore) {
    until("the cloud holds part of the backlog", || async {
        cloud_hwm(store).await >= MID
    })
    .await;
}

/// The disruption really struck mid-drain (else the test shows nothing).
async fn assert_mid_drain(store: &cloud_sync::SqliteStore) {
    let hwm = cloud_hwm(store).await;
    assert!(
        (MID..N).contains(&hwm),
        "disrupted mid-drain: cloud hwm {hwm} of {N}"
    );
}

/// Wait for the cloud to hold everything and the box to know it, stop both cleanly, then the
/// cloud must equal the box's ledger exactly.
async fn finish(cloud: &mut CloudProc, bx: &mut BoxProc, store: &cloud_sync::SqliteStore) {
    until("the cloud holds the whole ledger", || async {
        cloud_hwm(store).await >= N
    })
    .await;
    until("the box's mark reaches the head", || {
        let mark = bx.synced_seq();
        async move { mark >= N }
    })
    .await;
    bx.stop();
    cloud.stop();
    let ledger = open_ledger(&bx.ledger);
    assert_eq!(ledger.head().unwrap().seq, N);
    assert_store_matches(store, &ledger).await;
}
