//! Sale orders (销售单, §4.2.3 / §4.3.2) and income/expense (收支, §4.3.4), as a library and
//! through `baytrace-edge producer order|cash`: an order is its own record; shipments and a
//! distributor's sales that fulfil it name it, the list shows what shipped against it, the
//! manifest the receiving box scans against and the whereabouts of a recall carry its number.
//! Bad input — a duplicate number, no lines, a zero quantity, a bad date, a shipment naming an
//! order that does not exist, a zero amount, no category, "income on credit" — is refused with
//! nothing recorded.

mod producer_support;

use edge_daemon::ledger::{Ledger, LedgerOptions};
use edge_daemon::producer::{self, ProducerError, ShipmentInput};
use producer_support::{PRODUCT, build, code, codes, factory_lookup, new_ledger, sales_order};
use std::process::Command;
use trace_core::event::{CashDirection, CodeLevel, IncomeExpense, Party, PaymentMethod};
use trace_core::whereabouts::Query;
use trace_core::{EventError, Fen};

fn head(l: &Ledger) -> u64 {
    l.head().unwrap().seq
}

fn ship_input(no: &str, order: Option<&str>, codes: Vec<String>) -> ShipmentInput {
    ShipmentInput {
        shipment_no: no.into(),
        customer: Party::named("某超市"),
        order_no: order.map(str::to_owned),
        plate_number: None,
        codes,
    }
}

#[test]
fn shipments_fulfil_recorded_orders_and_carry_the_order_number_downstream() {
    let dir = tempfile::tempdir().unwrap();
    let lookup = factory_lookup();
    let mut f = new_ledger(dir.path(), "factory-orders-01");
    let units = codes(1..=48, "U");
    for (i, case) in ["C0001", "C0002"].iter().enumerate() {
        producer::aggregate(
            &mut f,
            &lookup,
            &code(case),
            CodeLevel::Case,
            &units[i * 12..(i + 1) * 12],
        )
        .unwrap();
    }
    producer::record_sales_order(&mut f, sales_order("A", Party::named("某超市"), 30)).unwrap();

    // A shipment naming an order that is not recorded: refused, nothing written.
    let before = head(&f);
    let e = producer::ship(
        &mut f,
        &lookup,
        ship_input("S-1", Some("SO-TYPO"), vec![code("C0001")]),
    )
    .unwrap_err();
    assert!(
        matches!(&e, ProducerError::Unknown { what: "sale order", name } if name == "SO-TYPO"),
        "{e}"
    );
    assert_eq!(head(&f), before);

    // Two shipments against SO-A: 12 + 12 of 30 ordered, then 6 loose units: complete.
    producer::ship(
        &mut f,
        &lookup,
        ship_input("S-1", Some("SO-A"), vec![code("C0001")]),
    )
    .unwrap();
    let o = &producer::sales_orders(&f).unwrap()[0];
    assert_eq!(
        (o.lines[0].ordered_count, o.lines[0].shipped_count),
        (30, 12)
    );
    assert!(!o.complete);
    producer::ship(
        &mut f,
        &lookup,
        ship_input("S-2", Some("SO-A"), vec![code("C0002")]),
    )
    .unwrap();
    producer::ship(
        &mut f,
        &lookup,
        ship_input("S-3", Some("SO-A"), units[24..30].to_vec()),
    )
    .unwrap();
    let orders = producer::sales_orders(&f).unwrap();
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o.order_no, "SO-A");
    assert_eq!(o.lines[0].product, PRODUCT);
    assert_eq!(o.lines[0].shipped_count, 30);
    assert_eq!(o.shipments, vec!["S-1", "S-2", "S-3"]);
    assert!(o.complete);

    // The manifest the distributor's box scans against names the order.
    let m = producer::manifest(&f, "S-2").unwrap();
    assert_eq!(m.order_no.as_deref(), Some("SO-A"));
    // So does the recall's whereabouts, per destination.
    let w = producer::whereabouts(&f, &Query::Batch("B1".into())).unwrap();
    assert_eq!(w.destinations.len(), 3, "{w:?}");
    assert!(
        w.destinations
            .iter()
            .all(|d| d.order_no.as_deref() == Some("SO-A")),
        "{w:?}"
    );
}

#[test]
fn distributor_sales_name_orders_and_the_chain_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = build(dir.path());
    // The chain's sales fulfil orders recorded on each distributor's box.
    let d1 = producer::sales_orders(&chain.d1).unwrap();
    assert_eq!(d1.len(), 2);
    assert!(d1.iter().all(|o| o.complete), "{d1:?}");
    // A sale naming an order the distributor never took: refused, nothing written.
    let before = head(&chain.d1);
    let e = producer::sell(
        &mut chain.d1,
        ship_input("D1-9", Some("SO-NONE"), vec![code("U0006")]),
    )
    .unwrap_err();
    assert!(matches!(e, ProducerError::Unknown { .. }), "{e}");
    assert_eq!(head(&chain.d1), before);
}

#[test]
fn bad_orders_are_refused_and_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = new_ledger(dir.path(), "factory-orders-02");
    producer::record_sales_order(&mut f, sales_order("1", Party::named("甲"), 10)).unwrap();
    let before = head(&f);

    let dup = producer::record_sales_order(&mut f, sales_order("1", Party::named("乙"), 5));
    assert!(
        matches!(&dup, Err(ProducerError::Duplicate { what: "sale order", name, .. }) if name == "SO-1"),
        "{dup:?}"
    );
    let mut o = sales_order("2", Party::named("乙"), 5);
    o.lines.clear();
    let e = producer::record_sales_order(&mut f, o).unwrap_err();
    assert!(
        matches!(e, ProducerError::Event(EventError::Empty { .. })),
        "{e}"
    );
    let e =
        producer::record_sales_order(&mut f, sales_order("3", Party::named("乙"), 0)).unwrap_err();
    assert!(e.to_string().contains("more than zero"), "{e}");
    let mut o = sales_order("4", Party::named("乙"), 5);
    o.ordered_on = "2026-02-30".into();
    let e = producer::record_sales_order(&mut f, o).unwrap_err();
    assert!(e.to_string().contains("ordered_on"), "{e}");
    let e =
        producer::record_sales_order(&mut f, sales_order("5", Party::named(" "), 5)).unwrap_err();
    assert!(e.to_string().contains("customer"), "{e}");
    assert_eq!(head(&f), before, "nothing recorded");
    assert_eq!(producer::sales_orders(&f).unwrap().len(), 1);
}

fn cash(
    direction: CashDirection,
    category: &str,
    fen: i64,
    payment: PaymentMethod,
) -> IncomeExpense {
    IncomeExpense {
        direction,
        category: category.into(),
        amount: Fen(fen),
        payment,
        counterparty: None,
        note: None,
        vouchers: Vec::new(),
    }
}

#[test]
fn income_and_expense_sum_by_category_and_bad_input_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = new_ledger(dir.path(), "dist-cash-01");
    use CashDirection::{Expense, Income};
    use PaymentMethod::{Cash, Other, WechatPay};
    producer::record_income_expense(&mut d, cash(Income, "货款", 3_600_000, Other)).unwrap();
    producer::record_income_expense(&mut d, cash(Expense, "运费", 128_050, WechatPay)).unwrap();
    producer::record_income_expense(&mut d, cash(Expense, "运费", 20_000, Cash)).unwrap();
    let void_me =
        producer::record_income_expense(&mut d, cash(Expense, "仓租", 500_000, Cash)).unwrap();
    d.append(trace_core::EntryDraft::new(trace_core::Event::Void(
        trace_core::event::Void {
            target_seq: void_me.seq,
            reason: "记错".into(),
        },
    )))
    .unwrap();
    let before = head(&d);
    for bad in [
        cash(Expense, "运费", 0, Cash),
        cash(Expense, "运费", -5, Cash),
        cash(Expense, "  ", 100, Cash),
        cash(Income, "货款", 100, PaymentMethod::Credit),
    ] {
        assert!(producer::record_income_expense(&mut d, bad).is_err());
    }
    assert_eq!(head(&d), before, "nothing recorded");

    let s = producer::cash_summary(&d, None, None).unwrap();
    assert_eq!(
        (s.income, s.expense, s.net),
        (Fen(3_600_000), Fen(148_050), Fen(3_451_950))
    );
    let freight = s.by_category.iter().find(|c| c.category == "运费").unwrap();
    assert_eq!((freight.entries, freight.total), (2, Fen(148_050)));
    assert!(s.by_category.iter().all(|c| c.category != "仓租"), "voided");
}

fn edge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_baytrace-edge"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn the_cli_records_orders_and_cash_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    drop(new_ledger(dir.path(), "dist-cli-01"));
    let db = dir.path().join("dist-cli-01.sqlite3");
    let db = db.to_str().unwrap();
    let order = dir.path().join("so.toml");
    std::fs::write(
        &order,
        r#"
order_no = "SO-20261121-001"
ordered_on = "2026-11-21"
customer = { name = "深圳甲分销有限公司", kind = "enterprise", credit_code = "91440106MA5A222202" }
lines = [{ product = "广式腊肠 500g", count = 240 }, { product = "腊肉 1kg", grams = 50000 }]
"#,
    )
    .unwrap();
    let file = order.to_str().unwrap();
    let o = edge(&["producer", "order", "add", "--db", db, "--file", file]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let head_after_order = Ledger::open(std::path::Path::new(db), &LedgerOptions::default())
        .unwrap()
        .head()
        .unwrap()
        .seq;
    // The same number again, and a bad credit code: refused, exit 1, nothing recorded.
    let o = edge(&["producer", "order", "add", "--db", db, "--file", file]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already recorded"));
    std::fs::write(
        &order,
        std::fs::read_to_string(&order)
            .unwrap()
            .replace("SO-20261121-001", "SO-2")
            .replace("91440106MA5A222202", "91440106MA5A222203"),
    )
    .unwrap();
    let o = edge(&["producer", "order", "add", "--db", db, "--file", file]);
    assert_eq!(o.status.code(), Some(1), "a wrong check character");
    let o = edge(&[
        "producer",
        "cash",
        "add",
        "--db",
        db,
        "--direction",
        "expense",
        "--category",
        "运费",
        "--amount",
        "12.345",
        "--payment",
        "cash",
    ]);
    assert_eq!(o.status.code(), Some(1), "three decimals");
    let o = edge(&[
        "producer",
        "cash",
        "add",
        "--db",
        db,
        "--direction",
        "expense",
        "--category",
        "运费",
        "--amount",
        "0",
        "--payment",
        "cash",
    ]);
    assert_eq!(o.status.code(), Some(1), "zero");
    let l = Ledger::open(std::path::Path::new(db), &LedgerOptions::default()).unwrap();
    assert_eq!(l.head().unwrap().seq, head_after_order, "nothing recorded");
    drop(l);

    let o = edge(&[
        "producer",
        "cash",
        "add",
        "--db",
        db,
        "--direction",
        "expense",
        "--category",
        "运费",
        "--amount",
        "1280.50",
        "--payment",
        "wechat-pay",
        "--counterparty",
        "顺丰冷运",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = edge(&["producer", "cash", "summary", "--db", db, "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["expense"], 128_050);
    assert_eq!(s["net"], -128_050);
    let o = edge(&["producer", "order", "list", "--db", db, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["order_no"], "SO-20261121-001");
    assert_eq!(v[0]["lines"].as_array().unwrap().len(), 2);
    assert_eq!(v[0]["complete"], false);
}
