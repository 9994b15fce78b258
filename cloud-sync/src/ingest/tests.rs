use super::*;
use crate::testkit;

fn chain(n: u64) -> (DeviceId, Vec<Entry>) {
    let dev = testkit::device(1);
    let c = testkit::stall_chain(&dev, 1, HashAlg::Sha256, n);
    (dev, c)
}

/// Run one batch the way a backend does, with `stored` standing in for the store's rows.
fn run(
    state: &mut DeviceIngestState,
    stored: &mut HashMap<u64, Link>,
    dev: &DeviceId,
    batch: Vec<Entry>,
) -> Classified {
    let batch = prepare(dev, batch).unwrap();
    let links = needed_links(&state.ranges, &batch)
        .into_iter()
        .map(|s| (s, stored[&s]))
        .collect();
    let valid = verify(HashAlg::Sha256, &batch);
    let c = classify(state, &valid, &batch, links);
    for (e, v) in batch.iter().zip(&c.verdicts) {
        if *v == Verdict::Store {
            stored.insert(e.seq, Link::of(e));
        }
    }
    c
}

#[test]
fn in_order_then_duplicates() {
    let (dev, c) = chain(10);
    let (mut st, mut stored) = (DeviceIngestState::default(), HashMap::new());
    let r = run(&mut st, &mut stored, &dev, c[..5].to_vec());
    assert_eq!(r.verdicts, vec![Verdict::Store; 5]);
    let r = run(&mut st, &mut stored, &dev, c.clone());
    assert_eq!(&r.verdicts[..5], &[Verdict::Duplicate; 5]);
    assert_eq!(&r.verdicts[5..], &[Verdict::Store; 5]);
    assert_eq!((st.ranges.hwm(), st.quarantined), (10, false));
}

#[test]
fn out_of_order_checks_link_when_neighbour_arrives() {
    let (dev, c) = chain(6);
    let (mut st, mut stored) = (DeviceIngestState::default(), HashMap::new());
    run(&mut st, &mut stored, &dev, c[4..].to_vec());
    assert_eq!(st.ranges.missing(), vec![(1, 4)]);
    // A forged seq 4 that is internally valid but does not chain to the stored 5.
    let mut forged = testkit::stall_chain(&dev, 1, HashAlg::Sha256, 4)[3].clone();
    forged.at = trace_core::Timestamp(1);
    forged.hash = forged.compute_hash(HashAlg::Sha256).unwrap();
    let r = run(&mut st, &mut stored, &dev, vec![forged]);
    assert_eq!(
        r.verdicts,
        vec![Verdict::Quarantine(QuarantineReason::ChainBreak)]
    );
    assert_eq!(r.quarantined_by.as_ref().map(|q| q.0), Some(4));
    // After the break even honest entries wait in quarantine; stored duplicates stay duplicates.
    let r = run(&mut st, &mut stored, &dev, c.clone());
    assert_eq!(
        r.verdicts,
        [
            [Verdict::Quarantine(QuarantineReason::AfterBreak); 4].as_slice(),
            &[Verdict::Duplicate; 2]
        ]
        .concat()
    );
    assert!(r.quarantined_by.is_none(), "one alert per break");
}

#[test]
fn bad_hash_and_conflict_quarantine() {
    let (dev, c) = chain(3);
    let (mut st, mut stored) = (DeviceIngestState::default(), HashMap::new());
    let mut tampered = c[0].clone();
    tampered.seq = 1;
    if let trace_core::Event::Purchase(p) = &mut tampered.event {
        p.amount = trace_core::Fen(1);
    }
    let r = run(&mut st, &mut stored, &dev, vec![tampered]);
    assert_eq!(
        r.verdicts,
        vec![Verdict::Quarantine(QuarantineReason::BadHash)]
    );
    assert!(st.quarantined && st.ranges.max() == 0);

    let (mut st, mut stored) = (DeviceIngestState::default(), HashMap::new());
    run(&mut st, &mut stored, &dev, c.clone());
    let other = testkit::seal_chain(&dev, HashAlg::Sha256, vec![testkit::void_draft(9, 1)]);
    let r = run(&mut st, &mut stored, &dev, other);
    assert_eq!(
        r.verdicts,
        vec![Verdict::Quarantine(QuarantineReason::Conflict)]
    );
}

#[test]
fn first_entry_must_follow_zero() {
    let (dev, _) = chain(1);
    let e = Entry::seal(
        testkit::void_draft(1, 1),
        dev.clone(),
        1,
        Digest([1; 32]),
        HashAlg::Sha256,
    )
    .unwrap();
    let (mut st, mut stored) = (DeviceIngestState::default(), HashMap::new());
    let r = run(&mut st, &mut stored, &dev, vec![e]);
    assert_eq!(
        r.verdicts,
        vec![Verdict::Quarantine(QuarantineReason::ChainBreak)]
    );
}

#[test]
fn prepare_refuses_foreign_entries_and_seq_zero() {
    let (dev, mut c) = chain(3);
    let other = testkit::device(2);
    let mut foreign = c.clone();
    foreign[1].device = other.clone();
    let err = prepare(&dev, foreign).unwrap_err();
    assert!(
        matches!(err, StoreError::DeviceMismatch { seq: 2, .. }),
        "{err}"
    );
    c[2].seq = 0;
    assert!(matches!(prepare(&dev, c), Err(StoreError::InvalidSeq(0))));
}

#[test]
fn same_seq_twice_in_one_batch() {
    let (dev, c) = chain(2);
    let (mut st, mut stored) = (DeviceIngestState::default(), HashMap::new());
    let r = run(
        &mut st,
        &mut stored,
        &dev,
        vec![c[1].clone(), c[0].clone(), c[1].clone()],
    );
    assert_eq!(
        r.verdicts,
        vec![Verdict::Store, Verdict::Store, Verdict::Duplicate]
    );
}
