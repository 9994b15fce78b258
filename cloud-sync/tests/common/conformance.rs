//! The conformance suite every `CloudStore` backend must pass.
//!
//! Each case is a generic async function over a [`Backend`] that can create an empty store and
//! reopen one as after a restart. A backend's test file instantiates them all with
//! `conformance_tests!` (SQLite: `tests/sqlite_store.rs`; PostgreSQL will do the same), so the
//! backends cannot drift apart in behaviour.

mod codes;
#[allow(unused_imports)] // not every test binary runs the suite
pub use codes::product_codes;

use cloud_sync::store::{CloudStore, ErrorKind, IngestOutcome};
use cloud_sync::testkit;
use std::future::Future;
use trace_core::event::SaleTicket;
use trace_core::{DeviceId, Digest, Entry, Event, Fen, HashAlg};

pub trait Backend: Sync {
    type Store: CloudStore;
    /// A new, empty store.
    fn create(&self) -> impl Future<Output = Self::Store> + Send;
    /// Close `store` and open the same data again, as a restarted cloud would.
    fn reopen(&self, store: Self::Store) -> impl Future<Output = Self::Store> + Send;
}

/// One `#[tokio::test]` per conformance case, for the backend `$make` builds.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        conformance_tests!($make;
            registry, in_order_and_duplicates, out_of_order_gaps_fill, chain_break_quarantines_one_device,
            late_predecessor_is_checked, conflicting_resend_quarantines, device_mismatch_refused,
            tampered_entry_quarantined, unknown_device_refused, ticket_lookup, restart_keeps_state,
            presence_and_alert_paging, quarantine_release, product_codes);
    };
    ($make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let backend = $make;
                common::conformance::$case(&backend).await;
            }
        )*
    };
}

async fn with_devices<S: CloudStore>(s: &S, n: u32) -> Vec<DeviceId> {
    let mut ids = Vec::new();
    for i in 1..=n {
        let id = testkit::device(i);
        let alg = if i % 2 == 0 {
            HashAlg::Sm3
        } else {
            HashAlg::Sha256
        };
        s.register_device(testkit::record(&id, i, alg))
            .await
            .unwrap();
        ids.push(id);
    }
    ids
}

/// Odd devices chain with SHA-256, even ones with SM3.
fn alg(i: u32) -> HashAlg {
    if i.is_multiple_of(2) {
        HashAlg::Sm3
    } else {
        HashAlg::Sha256
    }
}

/// An entry that is internally valid (its own hash verifies) but claims `prev_hash`.
fn forged(dev: &DeviceId, i: u32, seq: u64, prev_hash: Digest) -> Entry {
    Entry::seal(
        testkit::void_draft(900 + seq, 1),
        dev.clone(),
        seq,
        prev_hash,
        alg(i),
    )
    .unwrap()
}

async fn ingest<S: CloudStore>(s: &S, dev: &DeviceId, batch: &[Entry]) -> IngestOutcome {
    s.ingest(dev, batch.to_vec()).await.unwrap()
}

async fn status<S: CloudStore>(s: &S, dev: &DeviceId) -> cloud_sync::store::DeviceStatus {
    s.list_devices()
        .await
        .unwrap()
        .into_iter()
        .find(|d| &d.id == dev)
        .expect("device listed")
}

pub async fn registry<B: Backend>(b: &B) {
    let s = b.create().await;
    let id = testkit::device(1);
    let rec = testkit::record(&id, 42, HashAlg::Sm3);
    s.register_device(rec.clone()).await.unwrap();
    assert_eq!(s.get_device(&id).await.unwrap(), Some(rec.clone()));
    assert_eq!(s.get_device(&testkit::device(2)).await.unwrap(), None);

    let again = s.register_device(rec.clone()).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Conflict, "{again}");
    let same_no = testkit::record(&testkit::device(2), 42, HashAlg::Sha256);
    let err = s.register_device(same_no).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let too_big = testkit::record(&testkit::device(3), 1_000_000, HashAlg::Sha256);
    assert_eq!(
        s.register_device(too_big).await.unwrap_err().kind(),
        ErrorKind::Refused
    );

    let list = s.list_devices().await.unwrap();
    assert_eq!(list.len(), 1);
    let st = &list[0];
    assert_eq!((st.hwm, st.max_seq, st.entries), (0, 0, 0));
    assert!(st.head_hash.is_none() && st.missing.is_empty() && !st.quarantined && !st.online);
    assert!(
        !format!("{rec:?}").contains(&format!("{:?}", rec.code_key)),
        "code key redacted"
    );
}

pub async fn in_order_and_duplicates<B: Backend>(b: &B) {
    let s = b.create().await;
    let dev = &with_devices(&s, 1).await[0];
    let chain = testkit::stall_chain(dev, 1, alg(1), 100);
    let o = ingest(&s, dev, &chain[..60]).await;
    assert_eq!(
        (o.stored, o.duplicates, o.quarantined, o.hwm),
        (60, 0, 0, 60)
    );
    assert_eq!(o.head_hash, Some(chain[59].hash));
    // A re-send overlapping what is stored: the overlap is counted, the rest stored.
    let o = ingest(&s, dev, &chain[40..]).await;
    assert_eq!((o.stored, o.duplicates, o.hwm), (40, 20, 100));
    let o = ingest(&s, dev, &chain).await;
    assert_eq!((o.stored, o.duplicates, o.quarantined), (0, 100, 0));
    assert!(o.missing.is_empty() && !o.device_quarantined);

    assert_eq!(s.entries(dev, 1..=100).await.unwrap(), chain);
    assert_eq!(
        s.entries(dev, 11..=20).await.unwrap(),
        chain[10..20].to_vec()
    );
    let st = status(&s, dev).await;
    assert_eq!((st.hwm, st.max_seq, st.entries), (100, 100, 100));
    assert_eq!(st.head_hash, Some(chain[99].hash));
    assert!(st.last_seen.is_some() && st.lag_ms.is_some());
    let stats = s.stats().await.unwrap();
    assert_eq!(
        (stats.entries, stats.devices, stats.quarantined_entries),
        (100, 1, 0)
    );
    assert_eq!(stats.purchases + stats.tickets, 100);
}

pub async fn out_of_order_gaps_fill<B: Backend>(b: &B) {
    let s = b.create().await;
    let dev = &with_devices(&s, 2).await[1]; // SM3 chain
    let chain = testkit::stall_chain(dev, 2, alg(2), 100);
    // Live-first: the newest batch arrives first, then the backlog, out of order.
    let o = ingest(&s, dev, &chain[80..]).await;
    assert_eq!((o.stored, o.hwm, o.missing.clone()), (20, 0, vec![(1, 80)]));
    assert_eq!(o.head_hash, None);
    ingest(&s, dev, &chain[..20]).await;
    let o = ingest(&s, dev, &chain[40..60]).await;
    assert_eq!(o.hwm, 20);
    assert_eq!(o.missing, vec![(21, 40), (61, 80)]);
    assert_eq!(s.missing(dev).await.unwrap(), vec![(21, 40), (61, 80)]);
    assert_eq!(status(&s, dev).await.missing, vec![(21, 40), (61, 80)]);
    let stats = s.stats().await.unwrap();
    assert_eq!((stats.missing_ranges, stats.missing_entries), (2, 40));
    // One entry in the middle of a gap splits it.
    let o = ingest(&s, dev, &chain[29..30]).await;
    assert_eq!(o.missing, vec![(21, 29), (31, 40), (61, 80)]);
    let o = ingest(&s, dev, &chain[60..80]).await;
    assert_eq!((o.hwm, o.missing.clone()), (20, vec![(21, 29), (31, 40)]));
    let o = ingest(&s, dev, &chain[20..40]).await;
    assert_eq!((o.stored, o.duplicates, o.hwm), (19, 1, 100));
    assert!(o.missing.is_empty() && !o.device_quarantined);
    assert_eq!(o.head_hash, Some(chain[99].hash));
    assert_eq!(s.entries(dev, 1..=100).await.unwrap(), chain);
    assert!(s.missing(dev).await.unwrap().is_empty());
}

pub async fn chain_break_quarantines_one_device<B: Backend>(b: &B) {
    let s = b.create().await;
    let devs = with_devices(&s, 2).await;
    let (a, other) = (&devs[0], &devs[1]);
    let chain_a = testkit::stall_chain(a, 1, alg(1), 20);
    let chain_b = testkit::stall_chain(other, 2, alg(2), 20);
    ingest(&s, a, &chain_a[..10]).await;
    ingest(&s, other, &chain_b[..10]).await;

    // Seq 11 of A claims a predecessor that is not A's entry 10.
    let bad = forged(a, 1, 11, Digest([9; 32]));
    let o = ingest(&s, a, std::slice::from_ref(&bad)).await;
    assert_eq!((o.stored, o.quarantined, o.hwm), (0, 1, 10));
    assert!(o.device_quarantined);
    // A's honest continuation now waits in quarantine too; B carries on.
    let o = ingest(&s, a, &chain_a[10..]).await;
    assert_eq!((o.stored, o.quarantined, o.hwm), (0, 10, 10));
    let o = ingest(&s, other, &chain_b[10..]).await;
    assert_eq!((o.stored, o.hwm, o.device_quarantined), (10, 20, false));
    // Re-sends of what A had stored before the break stay harmless duplicates.
    let o = ingest(&s, a, &chain_a[..10]).await;
    assert_eq!((o.duplicates, o.quarantined), (10, 0));

    assert_eq!(s.entries(a, 1..=100).await.unwrap(), chain_a[..10].to_vec());
    let st = status(&s, a).await;
    assert!(st.quarantined);
    assert_eq!((st.hwm, st.entries, st.quarantined_entries), (10, 10, 11));
    let st = status(&s, other).await;
    assert!(!st.quarantined && st.quarantined_entries == 0);
    let alerts = s.alerts(0, 100).await.unwrap();
    assert_eq!(alerts.len(), 1, "one alert per break: {alerts:?}");
    assert_eq!(
        (&alerts[0].device, alerts[0].kind.as_str(), alerts[0].seq),
        (a, "chain_break", Some(11))
    );
    let stats = s.stats().await.unwrap();
    assert_eq!(
        (stats.quarantined_devices, stats.quarantined_entries),
        (1, 11)
    );
    assert_eq!(stats.entries, 30);
}

pub async fn late_predecessor_is_checked<B: Backend>(b: &B) {
    let s = b.create().await;
    let dev = &with_devices(&s, 1).await[0];
    let chain = testkit::stall_chain(dev, 1, alg(1), 10);
    ingest(&s, dev, &chain[..4]).await;
    ingest(&s, dev, &chain[5..]).await;
    // Seq 5 links to the stored 4 but not to the stored 6: caught when it arrives last.
    let bad = forged(dev, 1, 5, chain[3].hash);
    let o = ingest(&s, dev, &[bad]).await;
    assert_eq!((o.stored, o.quarantined, o.hwm), (0, 1, 4));
    assert!(o.device_quarantined);
    assert_eq!(o.missing, vec![(5, 5)]);
    assert_eq!(s.alerts(0, 10).await.unwrap()[0].kind, "chain_break");
}

pub async fn conflicting_resend_quarantines<B: Backend>(b: &B) {
    let s = b.create().await;
    let dev = &with_devices(&s, 1).await[0];
    let chain = testkit::stall_chain(dev, 1, alg(1), 10);
    ingest(&s, dev, &chain).await;
    let other = forged(dev, 1, 5, chain[3].hash);
    let o = ingest(&s, dev, &[other]).await;
    assert_eq!((o.stored, o.duplicates, o.quarantined), (0, 0, 1));
    assert!(o.device_quarantined);
    assert_eq!(s.entries(dev, 5..=5).await.unwrap(), vec![chain[4].clone()]);
    assert_eq!(s.alerts(0, 10).await.unwrap()[0].kind, "conflict");
}

pub async fn device_mismatch_refused<B: Backend>(b: &B) {
    let s = b.create().await;
    let devs = with_devices(&s, 2).await;
    let chain_b = testkit::stall_chain(&devs[1], 2, alg(2), 5);
    let mut batch = testkit::stall_chain(&devs[0], 1, alg(1), 5);
    batch.push(chain_b[4].clone());
    let err = s.ingest(&devs[0], batch).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    // A batch of B's entries offered as A's: refused too.
    let err = s.ingest(&devs[0], chain_b).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    let mut zero = testkit::stall_chain(&devs[0], 1, alg(1), 2);
    zero[1].seq = 0;
    assert_eq!(
        s.ingest(&devs[0], zero).await.unwrap_err().kind(),
        ErrorKind::Refused
    );

    let stats = s.stats().await.unwrap();
    assert_eq!((stats.entries, stats.tickets, stats.purchases), (0, 0, 0));
    assert_eq!((stats.quarantined_entries, stats.alerts), (0, 0));
    for d in s.list_devices().await.unwrap() {
        assert_eq!(
            (d.hwm, d.max_seq, d.entries, d.quarantined),
            (0, 0, 0, false)
        );
        assert!(d.last_seen.is_none());
    }
}

pub async fn tampered_entry_quarantined<B: Backend>(b: &B) {
    let s = b.create().await;
    let devs = with_devices(&s, 2).await;
    let chain = testkit::stall_chain(&devs[0], 1, alg(1), 12);
    ingest(&s, &devs[0], &chain[..9]).await;
    // Seq 10 is a sale; the total is lowered in transit, the hash left alone.
    let mut tampered = chain[9].clone();
    let Event::SaleTicket(SaleTicket {
        total, ticket_code, ..
    }) = &mut tampered.event
    else {
        panic!("seq 10 is a sale");
    };
    *total = Fen(1);
    let code = ticket_code.clone();
    let o = ingest(
        &s,
        &devs[0],
        &chain[9..]
            .iter()
            .map(|e| {
                if e.seq == 10 {
                    tampered.clone()
                } else {
                    e.clone()
                }
            })
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!((o.stored, o.quarantined, o.hwm), (0, 3, 9));
    assert!(o.device_quarantined);
    assert_eq!(
        s.ticket(&code).await.unwrap(),
        None,
        "a tampered sale never resolves"
    );
    assert_eq!(s.alerts(0, 10).await.unwrap()[0].kind, "bad_hash");
    // Other devices carry on.
    let chain_b = testkit::stall_chain(&devs[1], 2, alg(2), 3);
    assert_eq!(ingest(&s, &devs[1], &chain_b).await.stored, 3);
}

pub async fn unknown_device_refused<B: Backend>(b: &B) {
    let s = b.create().await;
    let ghost = testkit::device(77);
    let chain = testkit::stall_chain(&ghost, 77, alg(1), 3);
    let err = s.ingest(&ghost, chain).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(
        s.missing(&ghost).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        s.entries(&ghost, 1..=3).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(s.stats().await.unwrap().entries, 0);
}

pub async fn ticket_lookup<B: Backend>(b: &B) {
    let s = b.create().await;
    let devs = with_devices(&s, 2).await;
    let chain = testkit::stall_chain(&devs[0], 1, alg(1), 120);
    // Sales arrive before the purchases that fed them: projections must not care.
    ingest(&s, &devs[0], &chain[60..]).await;
    ingest(&s, &devs[0], &chain[..60]).await;
    let sale = &chain[56]; // seq 57: after the purchase at seq 50
    let Event::SaleTicket(t) = &sale.event else {
        panic!("seq 57 is a sale")
    };
    let view = s
        .ticket(&t.ticket_code)
        .await
        .unwrap()
        .expect("ticket found");
    assert_eq!(
        (&view.device, view.device_no, view.seq, view.at),
        (&devs[0], 1, 57, sale.at)
    );
    assert_eq!(
        (&view.lines, view.total, view.payment),
        (&t.lines, t.total, t.payment)
    );
    assert_eq!(view.entity, testkit::record(&devs[0], 1, alg(1)).entity);
    assert!(view.voided.is_none());
    assert_eq!(
        view.upstream.len(),
        t.lines.len(),
        "every line has a purchase: {view:?}"
    );
    for up in &view.upstream {
        let line = &t.lines[up.line];
        assert_eq!(
            (&up.product, Some(&up.batch)),
            (&line.product, line.batch.as_ref())
        );
        assert!(up.seq < 57);
        assert_eq!(up.origin.as_deref(), Some("广东省惠州市"));
    }
    // The purchase at seq 50 is the latest before the sale for its product.
    let p50 = view
        .upstream
        .iter()
        .find(|u| u.product == testkit::product(50));
    if let Some(p) = p50 {
        assert_eq!(p.seq, 50);
    }

    assert_eq!(s.ticket("00000000000000000000").await.unwrap(), None);
    // Another stall's box (device 2) cannot see device 1's tickets by its own numbering.
    assert_eq!(s.ticket(&testkit::ticket_code(2, 57)).await.unwrap(), None);

    // Device 2 presents a sale carrying device 1's code: the first holder keeps the code and
    // the collision is raised as an alert.
    let clash = testkit::seal_chain(&devs[1], alg(2), vec![testkit::sale_draft(1, 57)]);
    assert_eq!(ingest(&s, &devs[1], &clash).await.stored, 1);
    let view = s.ticket(&t.ticket_code).await.unwrap().unwrap();
    assert_eq!((&view.device, view.seq), (&devs[0], 57));
    let alerts = s.alerts(0, 10).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (&alerts[0].device, alerts[0].kind.as_str()),
        (&devs[1], "ticket_code_collision")
    );
    assert!(!status(&s, &devs[1]).await.quarantined);

    // A void of the sale, sealed as seq 121.
    let void = Entry::seal(
        testkit::void_draft(121, 57),
        devs[0].clone(),
        121,
        chain[119].hash,
        alg(1),
    )
    .unwrap();
    ingest(&s, &devs[0], &[void]).await;
    let view = s.ticket(&t.ticket_code).await.unwrap().unwrap();
    assert_eq!(view.voided.map(|v| v.seq), Some(121));
}

pub async fn restart_keeps_state<B: Backend>(b: &B) {
    let s = b.create().await;
    let devs = with_devices(&s, 2).await;
    let chain = testkit::stall_chain(&devs[0], 1, alg(1), 50);
    ingest(&s, &devs[0], &chain[30..]).await;
    ingest(&s, &devs[0], &chain[..10]).await;
    let bad = forged(&devs[1], 2, 1, Digest([3; 32]));
    ingest(&s, &devs[1], &[bad]).await;
    let before = s.list_devices().await.unwrap();
    let stats_before = s.stats().await.unwrap();

    let s = b.reopen(s).await;
    assert_eq!(s.list_devices().await.unwrap(), before);
    assert_eq!(s.stats().await.unwrap(), stats_before);
    assert_eq!(s.missing(&devs[0]).await.unwrap(), vec![(11, 30)]);
    // Re-ingest after the restart: duplicates; then the gap fills and the chain links across it.
    let o = ingest(&s, &devs[0], &chain).await;
    assert_eq!(
        (o.stored, o.duplicates, o.quarantined, o.hwm),
        (20, 30, 0, 50)
    );
    assert!(o.missing.is_empty());
    // The quarantine survived the restart.
    let chain_b = testkit::stall_chain(&devs[1], 2, alg(2), 2);
    let o = ingest(&s, &devs[1], &chain_b).await;
    assert_eq!((o.stored, o.quarantined), (0, 2));
    assert!(o.device_quarantined);

    let s = b.reopen(s).await;
    assert_eq!(s.entries(&devs[0], 1..=50).await.unwrap(), chain);
    let st = status(&s, &devs[0]).await;
    assert_eq!(
        (st.hwm, st.head_hash, st.entries),
        (50, Some(chain[49].hash), 50)
    );
}

pub async fn presence_and_alert_paging<B: Backend>(b: &B) {
    let s = b.create().await;
    let devs = with_devices(&s, 3).await;
    s.set_online(&devs[0], true).await.unwrap();
    let st = status(&s, &devs[0]).await;
    assert!(st.online && st.last_seen.is_some());
    s.set_online(&devs[0], false).await.unwrap();
    assert!(!status(&s, &devs[0]).await.online);
    let err = s.set_online(&testkit::device(99), true).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    for (i, d) in devs.iter().enumerate() {
        let n = u32::try_from(i).unwrap() + 1;
        ingest(&s, d, &[forged(d, n, 1, Digest([1; 32]))]).await;
    }
    let first = s.alerts(0, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = s.alerts(first[1].id, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].device, devs[2]);
}

pub async fn quarantine_release<B: Backend>(b: &B) {
    let s = b.create().await;
    let devs = with_devices(&s, 2).await;
    let (a, other) = (&devs[0], &devs[1]);
    let chain = testkit::stall_chain(a, 1, alg(1), 30);
    ingest(&s, a, &chain[..10]).await;
    ingest(&s, other, &testkit::stall_chain(other, 2, alg(2), 5)).await;
    assert!(s.quarantines().await.unwrap().is_empty());

    // Seq 11 forged in transit; the honest 11..=20 then wait in quarantine behind it.
    let bad = forged(a, 1, 11, Digest([9; 32]));
    ingest(&s, a, std::slice::from_ref(&bad)).await;
    let o = ingest(&s, a, &chain[10..20]).await;
    assert_eq!((o.stored, o.quarantined, o.hwm), (0, 10, 10));
    let q = s.quarantines().await.unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!((&q[0].device, q[0].hwm, q[0].held_entries), (a, 10, 11));
    assert_eq!(q[0].held_seqs, Some((11, 20)));
    let cause = q[0].cause.as_ref().expect("the alert that quarantined it");
    assert_eq!((cause.kind.as_str(), cause.seq), ("chain_break", Some(11)));

    // Refusals change nothing.
    let err = s.release_quarantine(other, "").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    let err = s
        .release_quarantine(&testkit::device(99), "")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(s.quarantines().await.unwrap(), q);
    assert_eq!(s.alerts(0, 100).await.unwrap().len(), 1);

    let r = s
        .release_quarantine(a, "transit corruption, router replaced")
        .await
        .unwrap();
    assert_eq!((&r.device, r.archived_entries, r.hwm), (a, 11, 10));
    assert!(s.quarantines().await.unwrap().is_empty());
    let st = status(&s, a).await;
    assert!(!st.quarantined);
    assert_eq!((st.hwm, st.entries, st.quarantined_entries), (10, 10, 0));
    let stats = s.stats().await.unwrap();
    assert_eq!(
        (stats.quarantined_devices, stats.quarantined_entries),
        (0, 0)
    );
    let alerts = s.alerts(0, 100).await.unwrap();
    let last = alerts.last().unwrap();
    assert_eq!(
        (last.id, last.kind.as_str()),
        (r.alert_id, "quarantine_released")
    );
    assert!(last.detail.contains("router replaced") && last.detail.contains("11 held"));
    // Nothing held became a ledger entry.
    assert_eq!(s.entries(a, 1..=30).await.unwrap(), chain[..10].to_vec());
    let err = s.release_quarantine(a, "").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "released twice");

    // The box re-sends from hwm + 1: verified afresh, the honest chain is stored.
    let o = ingest(&s, a, &chain[10..]).await;
    assert_eq!((o.stored, o.quarantined, o.hwm), (20, 0, 30));
    assert!(!o.device_quarantined);
    assert_eq!(s.entries(a, 1..=30).await.unwrap(), chain);

    // A chain that really is broken is caught again, with a new cause.
    let s = b.reopen(s).await;
    let bad = forged(a, 1, 31, Digest([5; 32]));
    let o = ingest(&s, a, &[bad]).await;
    assert!(o.device_quarantined);
    let q = s.quarantines().await.unwrap();
    assert_eq!((q.len(), q[0].hwm, q[0].held_entries), (1, 30, 1));
    assert_eq!(q[0].cause.as_ref().map(|c| c.seq), Some(Some(31)));
}

/// Batches of one valid chain delivered in `order` (indices modulo the batch count, repeats
/// allowed), then each once more: the store must end with exactly the chain.
pub async fn any_delivery_order_converges<B: Backend>(
    b: &B,
    len: u64,
    batch: usize,
    order: &[usize],
) {
    let s = b.create().await;
    let dev = &with_devices(&s, 1).await[0];
    let chain = testkit::stall_chain(dev, 1, alg(1), len);
    let batches: Vec<&[Entry]> = chain.chunks(batch).collect();
    let (mut stored, mut dups, mut delivered) = (0u64, 0u64, 0u64);
    // The given order, then every batch once more so each was delivered at least once.
    for &i in order.iter().chain(&(0..batches.len()).collect::<Vec<_>>()) {
        let b = batches[i % batches.len()];
        let o = ingest(&s, dev, b).await;
        assert_eq!(o.quarantined, 0);
        stored += u64::from(o.stored);
        dups += u64::from(o.duplicates);
        delivered += b.len() as u64;
    }
    assert_eq!(stored, len, "each entry stored exactly once");
    assert_eq!(
        stored + dups,
        delivered,
        "every other delivery counted as duplicate"
    );
    let st = status(&s, dev).await;
    assert_eq!((st.hwm, st.max_seq, st.entries), (len, len, len));
    assert!(st.missing.is_empty() && !st.quarantined);
    assert_eq!(st.head_hash, Some(chain[chain.len() - 1].hash));
    assert_eq!(s.entries(dev, 1..=len).await.unwrap(), chain);
}
