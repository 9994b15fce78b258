//! The library API the line and producer workflows call: allocation, the projection's
//! refusals, `batch_encoder` and `CodeDirectory::accept`.

use super::*;
use crate::ledger::LedgerOptions;
use trace_core::event::CodeLevel;
use trace_core::product_code::{CipherKind, Day, Field, Output};
use trace_core::{DeviceId, HashAlg};

const SECRET: [u8; 32] = [5; 32];

fn template() -> Template {
    Template {
        id: "milk-unit".into(),
        issuer: "GZ0A".into(),
        number: 1,
        level: CodeLevel::Unit,
        gtin: Some("6901234567892".into()),
        product_code: None,
        fields: vec![Field::ProductionDate { encrypted: true }],
        serial_capacity: 1000,
        code_length: 16,
        cipher: CipherKind::Aes,
        output: Output::Url {
            base: "https://t.example.com".into(),
        },
    }
}

fn ledger(dir: &std::path::Path) -> Ledger {
    Ledger::create(
        &dir.join("l.sqlite3"),
        DeviceId::new("line-0001").unwrap(),
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )
    .unwrap()
}

#[test]
fn allocation_encoder_and_directory() {
    let d = tempfile::tempdir().unwrap();
    let mut l = ledger(d.path());
    save_template(&mut l, template()).unwrap();
    let a = allocate(&mut l, "milk-unit", Some("B7"), 10).unwrap();
    assert_eq!(a.range, CodeRange { first: 0, last: 9 });
    let b = allocate(&mut l, "milk-unit", Some("B8"), 5).unwrap();
    assert_eq!(
        b.range,
        CodeRange {
            first: 10,
            last: 14
        }
    );
    // Past the capacity: refused before anything is written.
    let head = l.head().unwrap();
    assert!(matches!(
        allocate(&mut l, "milk-unit", None, 986),
        Err(CodesError::Exhausted { left: 985, .. })
    ));
    assert_eq!(l.head().unwrap(), head);
    // A hand-made overlapping allocation is refused by the projection (nothing recorded).
    let overlap = l.append(EntryDraft::new(Event::CodesAllocated(CodesAllocated {
        pool: "milk-unit".into(),
        level: CodeLevel::Unit,
        range: CodeRange {
            first: 14,
            last: 20,
        },
        template: Some("milk-unit".into()),
        batch: None,
    })));
    let err = overlap.unwrap_err().to_string();
    assert!(err.contains("a serial is never issued twice"), "{err}");
    assert_eq!(l.head().unwrap(), head);

    let vars = CodeVars {
        production_date: Day::parse("2026-11-22").ok(),
        ..CodeVars::default()
    };
    let enc = batch_encoder(&l, &SECRET, "milk-unit", &vars).unwrap();
    let code = enc.code_for(12).unwrap();
    let dir = CodeDirectory::new(l.device().clone(), SECRET);
    let info = dir.accept(&l, &code).unwrap();
    assert_eq!(info.serial, 12);
    assert_eq!(info.batch.as_deref(), Some("B8"));
    assert_eq!(info.level, CodeLevel::Unit);
    assert_eq!(info.owner.as_str(), "line-0001");
    // Serial 15 decodes but was never allocated.
    let unissued = enc.code_for(15).unwrap();
    assert_eq!(dir.accept(&l, &unissued).unwrap_err().kind(), "unknown");
    // Disabled: `accept` refuses with the info, `resolve` answers with the flag.
    set_disabled(
        &mut l,
        "milk-unit",
        vec![CodeRange {
            first: 12,
            last: 12,
        }],
        true,
        None,
    )
    .unwrap();
    match dir.accept(&l, &code) {
        Err(CodeRejection::Disabled(i)) => assert_eq!(i.serial, 12),
        other => panic!("{other:?}"),
    }
    assert!(dir.resolve(&l, &code).unwrap().disabled);
    // The wrong secret does not resolve our codes.
    let stranger = CodeDirectory::new(l.device().clone(), [6; 32]);
    assert_eq!(stranger.accept(&l, &code).unwrap_err().kind(), "unknown");
}
