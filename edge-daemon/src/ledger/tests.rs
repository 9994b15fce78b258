use super::*;
use crate::synth;
use trace_core::Event;
use trace_core::event::{SaleTicket, Void};

fn new_ledger() -> (tempfile::TempDir, Ledger) {
    let d = tempfile::tempdir().unwrap();
    let l = Ledger::create(
        &d.path().join("l.sqlite3"),
        DeviceId::new("stall-a01").unwrap(),
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )
    .unwrap();
    (d, l)
}

fn void(target: u64) -> EntryDraft {
    EntryDraft::new(Event::Void(Void {
        target_seq: target,
        reason: "称错".into(),
    }))
}

fn sale_with_code(n: u64, code: &str) -> EntryDraft {
    let mut d = synth::sale(n);
    if let Event::SaleTicket(SaleTicket { ticket_code, .. }) = &mut d.event {
        *ticket_code = code.into();
    }
    d
}

#[test]
fn appends_chain_and_read_back() {
    let (_d, mut l) = new_ledger();
    assert_eq!(
        l.head().unwrap(),
        Head {
            seq: 0,
            hash: Digest::ZERO
        }
    );
    let a = l.append(synth::sale(1)).unwrap();
    let b = l.append(synth::sale(2)).unwrap();
    assert_eq!((a.seq, b.seq), (1, 2));
    assert_eq!(b.prev_hash, a.hash);
    assert_eq!(
        l.head().unwrap(),
        Head {
            seq: 2,
            hash: b.hash
        }
    );
    assert_eq!(l.get(1).unwrap().unwrap(), a);
    assert_eq!(l.range(1..=5).unwrap(), vec![a, b]);
    assert!(l.get(3).unwrap().is_none());
    assert!(l.verify().unwrap().is_intact());
}

#[test]
fn sm3_ledgers_chain_with_sm3() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("sm3.sqlite3");
    let dev = DeviceId::new("line-3").unwrap();
    let mut l = Ledger::create(&p, dev, HashAlg::Sm3, &LedgerOptions::default()).unwrap();
    let e = l.append(synth::sale(1)).unwrap();
    assert!(e.hash_is_valid(HashAlg::Sm3));
    drop(l);
    let l = Ledger::open(&p, &LedgerOptions::default()).unwrap();
    assert_eq!(l.hash_alg(), HashAlg::Sm3);
    assert!(l.verify().unwrap().is_intact());
}

#[test]
fn projections_follow_appends_and_voids() {
    let (_d, mut l) = new_ledger();
    let p = l.append(synth::purchase(0)).unwrap();
    let batch = synth::batch(0);
    assert_eq!(l.stock("鲜猪肉", &batch).unwrap().grams, 50_000);
    // A synthetic sale with a line from that batch.
    let n = (1..100)
        .find(|n| {
            matches!(&synth::sale(*n).event, Event::SaleTicket(t)
                if t.lines.iter().any(|l| l.product == "鲜猪肉"))
        })
        .unwrap();
    let s = l.append(synth::sale(n)).unwrap();
    let Event::SaleTicket(t) = &s.event else {
        unreachable!()
    };
    let sold: i64 = t
        .lines
        .iter()
        .filter(|x| x.product == "鲜猪肉")
        .map(|x| x.grams.unwrap().0)
        .sum();
    assert_eq!(l.stock("鲜猪肉", &batch).unwrap().grams, 50_000 - sold);
    assert_eq!(l.ticket_seq(&t.ticket_code).unwrap(), Some(s.seq));
    let v = l.append(void(s.seq)).unwrap();
    assert_eq!(l.voided_by(s.seq).unwrap(), Some(v.seq));
    assert_eq!(l.stock("鲜猪肉", &batch).unwrap().grams, 50_000);
    let counts = l.kind_counts().unwrap();
    assert_eq!(counts["purchase"], 1);
    assert_eq!(counts["sale_ticket"], 1);
    assert_eq!(counts["void"], 1);
    assert_eq!(p.seq, 1);
}

#[test]
fn refused_drafts_write_nothing() {
    let (_d, mut l) = new_ledger();
    l.append(sale_with_code(1, "00000000000000000001")).unwrap();
    let head = l.head().unwrap();
    let dup = l
        .append(sale_with_code(2, "00000000000000000001"))
        .unwrap_err();
    assert_eq!(dup.kind(), LedgerErrorKind::Rejected, "{dup}");
    assert!(dup.to_string().contains("already used by entry 1"));
    for bad in [void(9), void(2)] {
        assert_eq!(l.append(bad).unwrap_err().kind(), LedgerErrorKind::Rejected);
    }
    l.append(void(1)).unwrap();
    let twice = l.append(void(1)).unwrap_err();
    assert!(twice.to_string().contains("already voided"), "{twice}");
    assert!(
        l.append(void(2))
            .unwrap_err()
            .to_string()
            .contains("itself a void")
    );
    assert_eq!(l.head().unwrap().seq, head.seq + 1);
    assert_eq!(l.kind_counts().unwrap()["sale_ticket"], 1);
    assert!(l.verify().unwrap().is_intact());
}

#[test]
fn own_tickets_are_indexed_by_counter_and_guarded_both_ways() {
    let (_d, mut l) = new_ledger();
    let codec = TicketCodec::new(7, &[3; 32]).unwrap();
    // Before the key is known, a minted code is kept by its text.
    let early = l.append(synth::minted_sale(1, &codec)).unwrap();
    l.set_ticket_codec(codec.clone());
    let sales: Vec<_> = (2..=4).map(|n| synth::minted_sale(n, &codec)).collect();
    let codes: Vec<String> = sales
        .iter()
        .map(|d| match &d.event {
            Event::SaleTicket(t) => t.ticket_code.clone(),
            _ => unreachable!(),
        })
        .collect();
    let appended = l.append_batch(sales).unwrap();
    assert_eq!(l.max_ticket_counter().unwrap(), 4);
    for (code, e) in codes.iter().zip(&appended) {
        assert_eq!(l.ticket_seq(code).unwrap(), Some(e.seq));
    }
    let Event::SaleTicket(t) = &early.event else {
        unreachable!()
    };
    assert_eq!(l.ticket_seq(&t.ticket_code).unwrap(), Some(early.seq));
    let head = l.head().unwrap();
    // The same code again: refused whether it was indexed by counter or by text.
    for (n, code) in [(9, codes[1].as_str()), (10, t.ticket_code.as_str())] {
        let e = l.append(sale_with_code(n, code)).unwrap_err();
        assert_eq!(e.kind(), LedgerErrorKind::Rejected, "{e}");
        assert!(e.to_string().contains("already used by entry"), "{e}");
    }
    // And through the group-commit writer, which decodes on the submitting side.
    let w = LedgerWriter::spawn(l, WriterOptions::default()).unwrap();
    let e = w
        .handle()
        .append(sale_with_code(11, &codes[2]))
        .unwrap_err();
    assert!(e.to_string().contains("already used by entry 4"), "{e}");
    let fresh = w.handle().append(synth::minted_sale(5, &codec)).unwrap();
    let l = w.shutdown().unwrap();
    assert_eq!(fresh.seq, head.seq + 1);
    assert_eq!(l.max_ticket_counter().unwrap(), 5);
    // Another device's code (the key does not decode it) is kept by text.
    let other = TicketCodec::new(8, &[3; 32]).unwrap().mint(1).unwrap();
    let mut l = l;
    let e = l.append(sale_with_code(12, &other.to_string())).unwrap();
    assert_eq!(l.ticket_seq(&other.to_string()).unwrap(), Some(e.seq));
    assert_eq!(l.max_ticket_counter().unwrap(), 5);
    assert!(l.verify().unwrap().is_intact());

    // Reopened without the key (a tool, a test): lookups still find every code, and an own
    // code appended again without the key is still refused.
    let path = l.path().to_path_buf();
    drop(l);
    let mut l = Ledger::open(&path, &LedgerOptions::default()).unwrap();
    for (code, e) in codes.iter().zip(&appended) {
        assert_eq!(l.ticket_seq(code).unwrap(), Some(e.seq));
    }
    let e = l.append(sale_with_code(13, &codes[0])).unwrap_err();
    assert!(e.to_string().contains("already used by entry 2"), "{e}");
}

#[test]
fn append_batch_is_all_or_nothing() {
    let (_d, mut l) = new_ledger();
    let ok = l
        .append_batch(vec![synth::sale(1), synth::sale(2), synth::sale(3)])
        .unwrap();
    assert_eq!(ok.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    let e = l
        .append_batch(vec![
            synth::sale(4),
            sale_with_code(5, &synth::ticket_code(1)),
        ])
        .unwrap_err();
    assert_eq!(e.kind(), LedgerErrorKind::Rejected);
    assert_eq!(l.head().unwrap().seq, 3);
    assert!(l.ticket_seq(&synth::ticket_code(4)).unwrap().is_none());
}

#[test]
fn outbox_and_sync_mark() {
    let (_d, mut l) = new_ledger();
    for n in 1..=5 {
        l.append(synth::sale(n)).unwrap();
    }
    assert_eq!(
        l.outbox(2)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    l.mark_synced(3).unwrap();
    l.mark_synced(2).unwrap(); // never moves back
    assert_eq!(l.synced_seq().unwrap(), 3);
    assert_eq!(
        l.outbox(10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        vec![4, 5]
    );
    assert_eq!(
        l.mark_synced(6).unwrap_err().kind(),
        LedgerErrorKind::Rejected
    );
    let s = l.status().unwrap();
    assert_eq!((s.head_seq, s.synced_seq, s.backlog), (5, 3, 2));
    assert_eq!(s.oldest_unsynced_at, Some(l.get(4).unwrap().unwrap().at));
}

#[test]
fn triggers_forbid_updates_and_deletes() {
    let (_d, mut l) = new_ledger();
    l.append(synth::sale(1)).unwrap();
    for sql in [
        "UPDATE entries SET body = '{}' WHERE seq = 1",
        "DELETE FROM entries WHERE seq = 1",
    ] {
        let e = l.conn().execute(sql, []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }
    assert!(l.verify().unwrap().is_intact());
}

#[test]
fn group_commit_isolates_a_refused_draft() {
    let (_d, l) = new_ledger();
    let w = LedgerWriter::spawn(l, WriterOptions::default()).unwrap();
    let h = w.handle();
    let pending: Vec<_> = [
        synth::sale(1),
        sale_with_code(2, &synth::ticket_code(1)), // duplicate: refused alone
        synth::sale(3),
    ]
    .into_iter()
    .map(|d| h.submit(d).unwrap())
    .collect();
    let results: Vec<_> = pending.into_iter().map(Pending::wait).collect();
    assert_eq!(results[0].as_ref().unwrap().seq, 1);
    assert_eq!(
        results[1].as_ref().unwrap_err().kind(),
        LedgerErrorKind::Rejected
    );
    assert_eq!(results[2].as_ref().unwrap().seq, 2);
    // Many concurrent appenders: every one acknowledged exactly once, dense seqs.
    let mut seqs: Vec<u64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|t| {
                let h = h.clone();
                s.spawn(move || {
                    (0..25)
                        .map(|i| h.append(synth::sale(100 + t * 25 + i)).unwrap().seq)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|j| j.join().unwrap()).collect()
    });
    seqs.sort_unstable();
    assert_eq!(seqs, (3..=102).collect::<Vec<_>>());
    drop(h);
    let l = w.shutdown().unwrap();
    assert_eq!(l.head().unwrap().seq, 102);
    assert!(l.verify().unwrap().is_intact());
}

#[tokio::test]
async fn group_commit_from_async_code() {
    let (_d, l) = new_ledger();
    let w = LedgerWriter::spawn(l, WriterOptions::default()).unwrap();
    let e = w.handle().append_async(synth::sale(1)).await.unwrap();
    assert_eq!(e.seq, 1);
    let l = tokio::task::spawn_blocking(move || w.shutdown().unwrap())
        .await
        .unwrap();
    assert_eq!(l.get(1).unwrap().unwrap(), e);
}

#[test]
fn backup_and_restore_round_trip_and_never_overwrite() {
    let (d, mut l) = new_ledger();
    for n in 1..=10 {
        l.append(synth::sale(n)).unwrap();
    }
    let b = d.path().join("backup.sqlite3");
    l.backup_to(&b).unwrap();
    assert_eq!(
        l.backup_to(&b).unwrap_err().kind(),
        LedgerErrorKind::AlreadyExists
    );
    let r = d.path().join("restored.sqlite3");
    let report = Ledger::restore(&b, &r).unwrap();
    assert_eq!(report.head_seq, 10);
    let back = Ledger::open(&r, &LedgerOptions::default()).unwrap();
    assert_eq!(back.range(1..=10).unwrap(), l.range(1..=10).unwrap());
    assert_eq!(
        Ledger::restore(&b, &r).unwrap_err().kind(),
        LedgerErrorKind::AlreadyExists
    );
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn open_refuses_what_it_must_not_touch() {
    let d = tempfile::tempdir().unwrap();
    let missing = Ledger::open(&d.path().join("none"), &LedgerOptions::default()).unwrap_err();
    assert_eq!(missing.kind(), LedgerErrorKind::NotFound);
    assert!(missing.to_string().contains("baytrace-edge init"));

    let text = d.path().join("text");
    std::fs::write(&text, vec![b'x'; 4096]).unwrap();
    let e = Ledger::open(&text, &LedgerOptions::default()).unwrap_err();
    assert_eq!(e.kind(), LedgerErrorKind::NotALedger);

    let foreign = d.path().join("foreign.sqlite3");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let e = Ledger::open(&foreign, &LedgerOptions::default()).unwrap_err();
    assert_eq!(e.kind(), LedgerErrorKind::NotALedger, "{e}");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);

    let newer = d.path().join("newer.sqlite3");
    Ledger::create(
        &newer,
        DeviceId::new("stall-a01").unwrap(),
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )
    .unwrap();
    Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", schema::SCHEMA_VERSION + 1)
        .unwrap();
    let before = std::fs::read(&newer).unwrap();
    let e = Ledger::open(&newer, &LedgerOptions::default()).unwrap_err();
    assert_eq!(e.kind(), LedgerErrorKind::NewerSchema, "{e}");
    assert!(e.to_string().contains("upgrade baytrace-edge"));
    assert_eq!(std::fs::read(&newer).unwrap(), before);
}

#[test]
fn create_refuses_an_existing_file() {
    let (d, _l) = new_ledger();
    let e = Ledger::create(
        &d.path().join("l.sqlite3"),
        DeviceId::new("stall-b02").unwrap(),
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), LedgerErrorKind::AlreadyExists);
}

#[test]
fn stored_body_is_cut_from_the_canonical_bytes() {
    let (_d, mut l) = new_ledger();
    for draft in [synth::sale(7), synth::purchase(2), void(1)] {
        let e = l.append(draft).unwrap();
        let stored: String = l
            .conn()
            .query_row(
                "SELECT body FROM entries WHERE seq = ?1",
                [i64::try_from(e.seq).unwrap()],
                |r| r.get(0),
            )
            .unwrap();
        let canonical = e.canonical().unwrap();
        let id = e.id.to_string();
        // The fast path is taken (not the serde fallback) for every kind here.
        let r = row::body_range(
            &canonical,
            e.at.0,
            e.device.as_str(),
            &id,
            e.event.kind(),
            e.v,
        )
        .unwrap();
        assert_eq!(stored.as_bytes(), &canonical[r]);
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(parse(&stored), parse(&row::body_json(&e.event).unwrap()));
        assert_eq!(l.get(e.seq).unwrap().unwrap(), e);
    }
    // A body whose prefix or suffix does not match is not cut (the fallback is used).
    let e = l.get(1).unwrap().unwrap();
    let canonical = e.canonical().unwrap();
    let id = e.id.to_string();
    assert!(
        row::body_range(&canonical, e.at.0 + 1, "stall-a01", &id, "sale_ticket", e.v).is_none()
    );
    assert!(row::body_range(&canonical, e.at.0, "stall-a02", &id, "sale_ticket", e.v).is_none());
    assert!(row::body_range(&canonical, e.at.0, "stall-a01", &id, "void", e.v).is_none());
    assert!(l.verify().unwrap().is_intact());
}
