//! The 台账 projection through a real ledger file: FIFO across lots, an owner's correction,
//! refusals that change nothing, voids.

use crate::ledger::{Ledger, LedgerOptions};
use trace_core::event::{
    LotShare, PaymentMethod, Purchase, SaleAttribution, SaleLine, SaleTicket, Void,
};
use trace_core::{DeviceId, EntryDraft, Event, Fen, Grams, HashAlg, PriceUnit};

fn purchase(supplier: &str, batch: &str, grams: i64) -> Event {
    Event::Purchase(Purchase {
        supplier: supplier.into(),
        product: "猪肉".into(),
        batch: batch.into(),
        grams: Some(Grams(grams)),
        count: None,
        amount: Fen(grams),
        origin: None,
        upstream_code: None,
        origin_code: None,
        supplier_party: None,
        product_code: None,
        unit_price: None,
        price_unit: None,
        plate_number: None,
        vouchers: Vec::new(),
        certificates: Vec::new(),
    })
}

fn sale(n: u64, grams: i64) -> Event {
    Event::SaleTicket(SaleTicket {
        ticket_code: crate::synth::ticket_code(n),
        lines: vec![SaleLine {
            product: "猪肉".into(),
            product_code: None,
            grams: Some(Grams(grams)),
            count: None,
            unit_price: Fen(1_000),
            price_unit: PriceUnit::Kg,
            amount: Fen(grams),
            batch: None,
            origin: None,
        }],
        total: Fen(grams),
        payment: PaymentMethod::Cash,
        buyer: None,
        buyer_id: None,
        fees: Vec::new(),
    })
}

fn shares(l: &Ledger, sale: i64) -> Vec<(i64, i64)> {
    let mut s = l
        .conn()
        .prepare("SELECT lot_seq, grams FROM stall_alloc WHERE sale_seq = ?1 ORDER BY lot_seq")
        .unwrap();
    s.query_map([sale], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn left(l: &Ledger) -> Vec<i64> {
    let mut s = l
        .conn()
        .prepare("SELECT left_grams FROM stall_lots ORDER BY seq")
        .unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn append(l: &mut Ledger, e: Event) -> u64 {
    l.append(EntryDraft::new(e)).unwrap().seq
}

#[test]
fn fifo_across_lots_corrections_and_voids() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.sqlite3");
    let mut l = Ledger::create(
        &db,
        DeviceId::new("stall-t").unwrap(),
        HashAlg::Sha256,
        &LedgerOptions::default(),
    )
    .unwrap();
    let a = append(&mut l, purchase("甲", "A", 1_000)); // 1
    let b = append(&mut l, purchase("乙", "B", 2_000)); // 2
    // 1.5 kg: all of A, then 0.5 kg of B.
    let s1 = append(&mut l, sale(1, 1_500));
    assert_eq!(shares(&l, 3), vec![(1, 1_000), (2, 500)]);
    assert_eq!(left(&l), vec![0, 1_500]);
    // 2 kg more: B has 1.5 left; 0.5 kg has no purchase on record (lot 0).
    append(&mut l, sale(2, 2_000));
    assert_eq!(shares(&l, 4), vec![(0, 500), (2, 1_500)]);
    // The owner says sale 1 was all from B — not possible: B has nothing left now.
    let head = l.head().unwrap().seq;
    let wrong = SaleAttribution {
        sale_seq: s1,
        line: 0,
        lots: vec![LotShare {
            purchase_seq: b,
            grams: Some(Grams(1_500)),
            count: None,
        }],
        reason: None,
    };
    let err = l
        .append(EntryDraft::new(Event::SaleAttribution(wrong)))
        .unwrap_err();
    assert!(err.to_string().contains("only 500 left"), "{err}");
    assert_eq!(l.head().unwrap().seq, head, "nothing appended");
    assert_eq!(shares(&l, 3), vec![(1, 1_000), (2, 500)], "nothing changed");
    // Shares that do not add up to the line, or name a non-purchase: refused.
    for lots in [
        vec![LotShare {
            purchase_seq: a,
            grams: Some(Grams(1_000)),
            count: None,
        }],
        vec![LotShare {
            purchase_seq: s1,
            grams: Some(Grams(1_500)),
            count: None,
        }],
    ] {
        let bad = SaleAttribution {
            sale_seq: s1,
            line: 0,
            lots,
            reason: None,
        };
        assert!(
            l.append(EntryDraft::new(Event::SaleAttribution(bad)))
                .is_err()
        );
    }
    // A correction restating the split is accepted: its old shares go back first.
    let ok = SaleAttribution {
        sale_seq: s1,
        line: 0,
        lots: vec![
            LotShare {
                purchase_seq: a,
                grams: Some(Grams(1_000)),
                count: None,
            },
            LotShare {
                purchase_seq: b,
                grams: Some(Grams(500)),
                count: None,
            },
        ],
        reason: Some("核对".into()),
    };
    append(&mut l, Event::SaleAttribution(ok));
    assert_eq!(shares(&l, 3), vec![(1, 1_000), (2, 500)]);
    assert_eq!(left(&l), vec![0, 0]);
    // Voiding sale 1 gives its shares back.
    append(
        &mut l,
        Event::Void(Void {
            target_seq: s1,
            reason: "退货".into(),
        }),
    );
    assert_eq!(shares(&l, 3), vec![]);
    assert_eq!(left(&l), vec![1_000, 500]);
    let cash: i64 = l
        .conn()
        .query_row("SELECT COALESCE(SUM(amount), 0) FROM stall_cash", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(cash, 2_000, "the voided sale is no longer income");
}
