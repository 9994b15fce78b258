//! End to end against the real cloud (`cloud_sync::serve`) on its embedded broker: a backlog
//! recorded offline drains to exactly the box's entries; a restart mid-drain ends the same;
//! a ticket minted offline goes first after the reconnect (live-first).

mod sync_support;

use cloud_sync::CloudStore;
use std::collections::BTreeSet;
use sync_support::*;
use trace_core::topics;
use trace_core::wire::envelope;
use trace_core::wire::sign::SignedEnvelope;
use trace_core::{EntryBatch, SeqRange};

const N: u64 = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_backlog_drains_to_exactly_the_boxs_entries() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ledger) = ledger_with(dir.path(), N);
    assert_eq!(ledger.status().unwrap().backlog, N);
    let cloud = cloud(None).await;
    let cred = cloud.add_device().await;
    let h = edge_daemon::sync::spawn(sync_opts(&cloud, &cred, &path)).unwrap();
    synced(&h, N).await;
    let p = h.progress().borrow().clone();
    assert!(p.connected && p.acks > 0);
    h.stop().await.unwrap();
    cloud.assert_matches(&ledger).await;
    let s = ledger.status().unwrap();
    assert_eq!(
        (s.synced_seq, s.backlog, s.oldest_unsynced_at),
        (N, 0, None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_drain_ends_in_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut ledger) = ledger_with(dir.path(), N);
    let cloud = cloud(None).await;
    let cred = cloud.add_device().await;
    let mut slow = sync_opts(&cloud, &cred, &path);
    slow.batch_size = 100;
    slow.inflight = 1;
    let h = edge_daemon::sync::spawn(slow).unwrap();
    synced(&h, 2_000).await;
    h.stop().await.unwrap();
    let mark = ledger.synced_seq().unwrap();
    assert!(
        (2_000..N).contains(&mark),
        "stopped mid-drain with the mark persisted ({mark})"
    );
    // More sales while the link is down, then a fresh task resumes from the ledger.
    append_sales(&mut ledger, N + 1, 500);
    let h = edge_daemon::sync::spawn(sync_opts(&cloud, &cred, &path)).unwrap();
    synced(&h, N + 500).await;
    h.stop().await.unwrap();
    cloud.assert_matches(&ledger).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_minted_offline_goes_before_the_backlog() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut ledger) = ledger_with(dir.path(), N);
    // The receipt printed just now, while the link was down.
    let sale = edge_daemon::synth::sale(9_999_999);
    let code = edge_daemon::synth::ticket_code(9_999_999);
    let receipt = ledger.append(sale).unwrap();
    let cloud = cloud(None).await;
    let cred = cloud.add_device().await;
    let (_obs, mut ups) = observer(&cloud.host, cloud.port, &topics::up(&device())).await;
    let mut opts = sync_opts(&cloud, &cred, &path);
    opts.inflight = 2;
    let h = edge_daemon::sync::spawn(opts).unwrap();

    // Watch the batches on the wire: the first carries the receipt, the oldest come later.
    let mut order: Vec<Vec<SeqRange>> = Vec::new();
    let mut seen = BTreeSet::new();
    while !seen.contains(&1) {
        let (_, payload) = ups.recv().await.expect("up messages");
        let signed = SignedEnvelope::from_bytes(&payload).unwrap();
        let b: EntryBatch = envelope::decode(&signed.payload, 1 << 26).unwrap();
        seen.extend(b.entries.iter().map(|e| e.seq));
        order.push(b.ranges());
    }
    assert!(
        order[0].iter().any(|r| r.contains(receipt.seq)),
        "first batch {:?} carries the new receipt {}",
        order[0],
        receipt.seq
    );
    assert!(order.len() >= 2, "the backlog follows the live batch");

    // The cloud resolves the receipt (checked at every progress step of the drain).
    let mut progress = h.progress();
    let view = loop {
        if let Some(v) = cloud.running.store.ticket(&code).await.unwrap() {
            break v;
        }
        progress.changed().await.unwrap();
    };
    assert_eq!(view.seq, receipt.seq);
    synced(&h, receipt.seq).await;
    h.stop().await.unwrap();
    cloud.assert_matches(&ledger).await;
}
