//! Bad input to the line: a clear error, and nothing recorded.

mod line_support;

use edge_daemon::ledger::{Ledger, LedgerErrorKind, LedgerOptions};
use edge_daemon::line::{JobSpec, LineStore, Reconciliation};
use line_support::*;
use trace_core::event::{CodeLevel, CodeRange, CodesAllocated, CodesEncoded, CodesScrapped};
use trace_core::{EntryDraft, Event};

fn r(first: u64, last: u64) -> CodeRange {
    CodeRange { first, last }
}

fn alloc(range: CodeRange) -> EntryDraft {
    EntryDraft::new(Event::CodesAllocated(CodesAllocated {
        pool: "P1".into(),
        level: CodeLevel::Unit,
        range,
        template: None,
        batch: Some("B1".into()),
    }))
}

fn encoded(ranges: Vec<CodeRange>) -> EntryDraft {
    EntryDraft::new(Event::CodesEncoded(CodesEncoded {
        pool: "P1".into(),
        ranges,
        batch: Some("B1".into()),
        coder: None,
    }))
}

fn scrapped(ranges: Vec<CodeRange>) -> EntryDraft {
    EntryDraft::new(Event::CodesScrapped(CodesScrapped {
        pool: "P1".into(),
        ranges,
        reason: "test".into(),
    }))
}

#[test]
fn the_ledger_refuses_to_settle_a_serial_twice_or_outside_its_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_box(dir.path());
    let mut l = Ledger::open(&db, &LedgerOptions::default()).unwrap();
    let store = LineStore::open(&db).unwrap();
    store
        .create_or_resume(&JobSpec {
            job: "J1".into(),
            batch: "B1".into(),
            pool: "P1".into(),
            template: None,
            coder: "sim".into(),
            target: 10,
        })
        .unwrap();
    l.append(alloc(r(1, 10))).unwrap();
    l.append(encoded(vec![r(1, 5)])).unwrap();
    let head = l.head().unwrap().seq;
    let want = Reconciliation {
        allocated: 10,
        encoded: 5,
        scrapped: 0,
        unused: 5,
    };
    assert_eq!(store.reconcile("B1").unwrap(), want);

    for (what, bad) in [
        ("encoded twice", encoded(vec![r(3, 4)])),
        ("scrapped after encoded", scrapped(vec![r(5, 6)])),
        ("never allocated", scrapped(vec![r(9, 12)])),
        ("overlapping allocation", alloc(r(10, 20))),
    ] {
        let e = l.append(bad).expect_err(what);
        assert_eq!(e.kind(), LedgerErrorKind::Rejected, "{what}: {e}");
        assert_eq!(l.head().unwrap().seq, head, "{what}: something was written");
        assert_eq!(store.reconcile("B1").unwrap(), want, "{what}");
    }
    // A second active job on the same pool is refused too.
    let e = store
        .create_or_resume(&JobSpec {
            job: "J2".into(),
            batch: "B2".into(),
            pool: "P1".into(),
            template: None,
            coder: "sim".into(),
            target: 10,
        })
        .unwrap_err();
    assert!(e.to_string().contains("another job is active"), "{e}");
}

#[test]
fn bad_arguments_are_refused_before_anything_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_box(dir.path());
    let o = edge(&[
        "line",
        "run",
        "--db",
        p(&db),
        "--job",
        "J1",
        "--batch",
        "B1",
        "--pool",
        "P1",
        "--count",
        "10",
        "--protocol",
        "tij",
        "--coder",
        "tcp://127.0.0.1:9",
        "--low-water",
        "40",
        "--high-water",
        "30",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("water marks"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = edge(&[
        "line",
        "reconcile",
        "--db",
        p(&db),
        "--batch",
        "B1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no line job for batch B1"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = edge(&[
        "line",
        "run",
        "--db",
        p(&db),
        "--job",
        "J1",
        "--batch",
        "B1",
        "--pool",
        "P1",
        "--count",
        "10",
        "--protocol",
        "laser",
        "--coder",
        "tcp://127.0.0.1:9",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "unknown protocol is a usage error"
    );
}
