//! Against a real Mosquitto (started here on a free port): the drain, the retained `state`
//! (online with the head and backlog, `offline` on stop), and downlink documents applied once
//! as ledger entries even though the broker re-delivers them on every reconnect.

mod sync_support;

use rumqttc::{PublishOptions, QoS};
use std::time::Duration;
use sync_support::*;
use tokio::sync::mpsc::UnboundedReceiver;
use trace_core::topics;
use trace_core::wire::DocType;
use trace_core::{DeviceState, DownlinkDoc, Event};

/// The next `state` message satisfying `pred` (retained first, then live ones).
async fn state_where(
    rx: &mut UnboundedReceiver<(String, Vec<u8>)>,
    pred: impl Fn(&DeviceState) -> bool,
) -> DeviceState {
    let wait = async {
        loop {
            let (_, payload) = rx.recv().await.expect("state messages");
            let s: DeviceState = serde_json::from_slice(&payload).expect("state is JSON");
            if pred(&s) {
                return s;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), wait)
        .await
        .expect("state arrived")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drains_through_mosquitto_and_reports_state() {
    let broker = mosquitto();
    let dir = tempfile::tempdir().unwrap();
    let n = 5_000;
    let (path, ledger) = ledger_with(dir.path(), n);
    let cloud = cloud(Some(broker.port)).await;
    let cred = cloud.add_device().await;
    let (_obs, mut states) = observer(&cloud.host, cloud.port, &topics::state(&device())).await;
    let h = edge_daemon::sync::spawn(sync_opts(&cloud, &cred, &path)).unwrap();
    let first = state_where(&mut states, |s| s.online).await;
    assert_eq!(first.device, device());
    assert_eq!(first.head_seq, n);
    synced(&h, n).await;
    let done = state_where(&mut states, |s| s.online && s.synced_seq == n).await;
    assert_eq!((done.backlog, done.oldest_unsynced_at), (0, None));
    assert_eq!(done.head_hash, ledger.head().unwrap().hash);
    assert!(done.disk_free_bytes.is_some_and(|b| b > 0));
    h.stop().await.unwrap();
    let off = state_where(&mut states, |s| !s.online).await;
    assert_eq!(off.device, device());
    cloud.assert_matches(&ledger).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downlink_is_applied_once_and_reported() {
    let broker = mosquitto();
    let dir = tempfile::tempdir().unwrap();
    let (path, ledger) = ledger_with(dir.path(), 10);
    let cloud = cloud(Some(broker.port)).await;
    let cred = cloud.add_device().await;
    // The cloud's downlink, retained: delivered at every (re)connect.
    let (pubc, _) = observer(&cloud.host, cloud.port, "none/#").await;
    let doc = DownlinkDoc::new(
        DocType::Catalog,
        3,
        serde_json::json!({"items": [{"plu": 1, "name": "鲜猪肉", "price_fen": 1600}]}),
    );
    pubc.publish(
        topics::down(&device()),
        serde_json::to_vec(&doc).unwrap(),
        PublishOptions::new(QoS::AtLeastOnce).retained(),
    )
    .await
    .unwrap();
    let mut opts = sync_opts(&cloud, &cred, &path);
    opts.docs_dir = Some(dir.path().join("docs"));
    let h = edge_daemon::sync::spawn(opts.clone()).unwrap();
    let mut p = h.progress();
    p.wait_for(|p| p.applied_docs.iter().any(|d| d.version == 3))
        .await
        .unwrap();
    synced(&h, 11).await;
    h.stop().await.unwrap();

    // Reconnect: the broker re-delivers v3 (retained) before v4, published after the
    // subscription; once v4 is applied, v3's re-delivery has been handled too.
    let h = edge_daemon::sync::spawn(opts.clone()).unwrap();
    let mut p = h.progress();
    p.wait_for(|p| p.connected).await.unwrap();
    let v4 = DownlinkDoc::new(DocType::Catalog, 4, serde_json::json!({"items": []}));
    pubc.publish(
        topics::down(&device()),
        serde_json::to_vec(&v4).unwrap(),
        PublishOptions::new(QoS::AtLeastOnce).retained(),
    )
    .await
    .unwrap();
    let got = p
        .wait_for(|p| p.applied_docs.iter().any(|d| d.version == 4))
        .await
        .unwrap()
        .clone();
    assert_eq!(got.applied_docs.len(), 1, "one catalog, latest version");
    synced(&h, 12).await;
    h.stop().await.unwrap();

    // One downlink_applied entry per version (11: v3, 12: v4), not one per reconnect.
    assert_eq!(ledger.head().unwrap().seq, 12);
    for (seq, version) in [(11, 3), (12, 4)] {
        match ledger.get(seq).unwrap().unwrap().event {
            Event::DownlinkApplied(a) => {
                assert_eq!((a.doc_type, a.version), (DocType::Catalog, version));
            }
            other => panic!("expected downlink_applied, got {other:?}"),
        }
    }
    let kept: DownlinkDoc =
        serde_json::from_slice(&std::fs::read(dir.path().join("docs/catalog.json")).unwrap())
            .unwrap();
    assert_eq!(kept, v4);
    cloud.assert_matches(&ledger).await;
}
