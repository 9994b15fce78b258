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

/// The producer operations on a real box: codes minted by this module, checked through
/// `producer::DirectoryLookup` (a read-only connection beside the writer).
#[test]
fn producer_packing_through_the_directory() {
    use crate::producer::{self, DirectoryLookup, ProducerError};
    let d = tempfile::tempdir().unwrap();
    let mut l = ledger(d.path());
    save_template(&mut l, template()).unwrap();
    let mut case_t = template();
    case_t.id = "milk-case".into();
    case_t.number = 2;
    case_t.level = CodeLevel::Case;
    save_template(&mut l, case_t).unwrap();
    allocate(&mut l, "milk-unit", Some("B7"), 4).unwrap();
    allocate(&mut l, "milk-case", Some("B7"), 1).unwrap();
    let vars = CodeVars {
        production_date: Day::parse("2026-11-22").ok(),
        ..CodeVars::default()
    };
    let units = batch_encoder(&l, &SECRET, "milk-unit", &vars).unwrap();
    let cases = batch_encoder(&l, &SECRET, "milk-case", &vars).unwrap();
    let unit: Vec<String> = (0..4).map(|s| units.code_for(s).unwrap()).collect();
    let case = cases.code_for(0).unwrap();
    set_disabled(
        &mut l,
        "milk-unit",
        vec![CodeRange { first: 3, last: 3 }],
        true,
        None,
    )
    .unwrap();
    let lookup =
        DirectoryLookup::open(l.path(), CodeDirectory::new(l.device().clone(), SECRET)).unwrap();

    // A disabled unit is refused and nothing is written.
    let head = l.head().unwrap();
    let err = producer::aggregate(&mut l, &lookup, &case, CodeLevel::Case, &unit).unwrap_err();
    assert!(
        matches!(&err, ProducerError::Code { rejection: producer::CodeRejection::Disabled, code } if *code == unit[3]),
        "{err:?}"
    );
    assert_eq!(l.head().unwrap(), head);
    // A code of another enterprise (another issuer) is refused as foreign.
    let mut other = template();
    other.issuer = "SZ9B".into();
    let other_codec = trace_core::product_code::ProductCodec::new(
        other,
        &trace_core::product_code::CodeKey::derive(&[9; 32], "SZ9B", 1),
    )
    .unwrap();
    let foreign = other_codec.for_batch(&vars).unwrap().code_for(0).unwrap();
    let err = producer::aggregate(
        &mut l,
        &lookup,
        &case,
        CodeLevel::Case,
        &[unit[0].clone(), foreign],
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            ProducerError::Code {
                rejection: producer::CodeRejection::ForeignEnterprise(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(l.head().unwrap(), head);
    // The three enabled units pack into the case; the batch and product come from the codes.
    producer::aggregate(&mut l, &lookup, &case, CodeLevel::Case, &unit[..3]).unwrap();
    assert_eq!(l.head().unwrap().seq, head.seq + 1);
    let facts = producer::CodeLookup::lookup(&lookup, &unit[0]).unwrap();
    assert_eq!(facts.batch.as_deref(), Some("B7"));
    assert_eq!(facts.product, "6901234567892");
    assert_eq!(facts.production_date.as_deref(), Some("2026-11-22"));
}
