//! Sale orders (销售单, §4.2.3 for a producer, §4.3.2 for a distributor) and income/expense
//! (收支, §4.3.4).
//!
//! An order is its own record — order no., customer, products and quantities, date — taken
//! before anything leaves; a shipment (or a distributor's sale) that fulfils it names it by
//! `order_no`, and must find it on this box, so a typo in an order number is refused instead of
//! leaving goods tied to an order that does not exist. What was shipped against each order is
//! read back from the shipments (their lines come from the codes scanned at dispatch).
//!
//! Income and expense reuse the `income_expense` kind the stall writes (one vocabulary for a
//! cash movement outside sales and purchases), so the cloud's views read both the same way.

use super::ProducerError;
use super::query::entries_of;
use super::records::append_all;
use crate::ledger::Ledger;
use rusqlite::OptionalExtension;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use trace_core::event::{CashDirection, IncomeExpense, PaymentMethod, SalesOrder};
use trace_core::{Entry, Event, Fen};

/// 销售单: record an order. The number is unique on the box.
pub fn record_sales_order(ledger: &mut Ledger, o: SalesOrder) -> Result<Entry, ProducerError> {
    o.validate()?;
    if let Some(seq) = order_seq(ledger, &o.order_no)? {
        return Err(ProducerError::Duplicate {
            what: "sale order",
            name: o.order_no,
            seq,
        });
    }
    let mut v = append_all(ledger, vec![o.into()])?;
    v.pop()
        .ok_or_else(|| ProducerError::Missing("no entry appended".into()))
}

pub(crate) fn order_seq(ledger: &Ledger, no: &str) -> Result<Option<u64>, ProducerError> {
    let s: Option<i64> = ledger
        .conn()
        .prepare_cached("SELECT seq FROM prod_orders WHERE order_no = ?1")?
        .query_row([no], |r| r.get(0))
        .optional()?;
    Ok(s.and_then(|s| u64::try_from(s).ok()))
}

/// A shipment or sale may name an order only if the order is recorded here.
pub(crate) fn check_order(ledger: &Ledger, order_no: Option<&str>) -> Result<(), ProducerError> {
    match order_no {
        Some(no) if order_seq(ledger, no)?.is_none() => Err(ProducerError::Unknown {
            what: "sale order",
            name: no.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// One product of an order: ordered and shipped so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLineView {
    pub product: String,
    pub ordered_count: u64,
    pub ordered_grams: i64,
    pub shipped_count: u64,
    pub shipped_grams: i64,
}

/// An order as the sales person reads it: what was ordered, what has gone against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderView {
    pub order_no: String,
    pub customer: String,
    pub ordered_on: String,
    pub seq: u64,
    pub lines: Vec<OrderLineView>,
    /// Shipment (or sale) numbers that fulfil it, in ledger order.
    pub shipments: Vec<String>,
    /// Every ordered quantity has shipped.
    pub complete: bool,
}

/// Every order on this box with what shipped against it (voided entries left out).
pub fn sales_orders(ledger: &Ledger) -> Result<Vec<OrderView>, ProducerError> {
    let entries = entries_of(ledger, &["sales_order", "shipment", "void"])?;
    let voided: HashSet<u64> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Void(v) => Some(v.target_seq),
            _ => None,
        })
        .collect();
    let mut orders: BTreeMap<String, OrderView> = BTreeMap::new();
    for e in entries.iter().filter(|e| !voided.contains(&e.seq)) {
        match &e.event {
            Event::SalesOrder(o) => {
                let mut lines: BTreeMap<&str, OrderLineView> = BTreeMap::new();
                for l in &o.lines {
                    let v = lines.entry(&l.product).or_insert_with(|| OrderLineView {
                        product: l.product.clone(),
                        ordered_count: 0,
                        ordered_grams: 0,
                        shipped_count: 0,
                        shipped_grams: 0,
                    });
                    v.ordered_count += l.count.unwrap_or(0);
                    v.ordered_grams += l.grams.map_or(0, |g| g.0);
                }
                orders.insert(
                    o.order_no.clone(),
                    OrderView {
                        order_no: o.order_no.clone(),
                        customer: o.customer.name.clone(),
                        ordered_on: o.ordered_on.clone(),
                        seq: e.seq,
                        lines: lines.into_values().collect(),
                        shipments: Vec::new(),
                        complete: false,
                    },
                );
            }
            Event::Shipment(s) => {
                let Some(o) = s.order_no.as_ref().and_then(|n| orders.get_mut(n)) else {
                    continue;
                };
                o.shipments.push(s.shipment_no.clone());
                for l in &s.lines {
                    let i = match o.lines.iter().position(|x| x.product == l.product) {
                        Some(i) => i,
                        None => {
                            o.lines.push(OrderLineView {
                                product: l.product.clone(),
                                ordered_count: 0,
                                ordered_grams: 0,
                                shipped_count: 0,
                                shipped_grams: 0,
                            });
                            o.lines.len() - 1
                        }
                    };
                    o.lines[i].shipped_count += l.count.unwrap_or(0);
                    o.lines[i].shipped_grams += l.grams.map_or(0, |g| g.0);
                }
            }
            _ => {}
        }
    }
    let mut out: Vec<OrderView> = orders.into_values().collect();
    for o in &mut out {
        o.complete = o
            .lines
            .iter()
            .all(|l| l.shipped_count >= l.ordered_count && l.shipped_grams >= l.ordered_grams);
    }
    out.sort_by_key(|o| o.seq);
    Ok(out)
}

/// 收支: record an income or an expense. The amount is positive (the direction gives the
/// sign); a cash movement is paid, so it cannot be "on credit".
pub fn record_income_expense(
    ledger: &mut Ledger,
    ie: IncomeExpense,
) -> Result<Entry, ProducerError> {
    if ie.payment == PaymentMethod::Credit {
        return Err(ProducerError::Missing(
            "payment: an income or expense is paid (cash, bank transfer, WeChat Pay, Alipay), \
             not on credit"
                .into(),
        ));
    }
    let mut v = append_all(ledger, vec![ie.into()])?;
    v.pop()
        .ok_or_else(|| ProducerError::Missing("no entry appended".into()))
}

/// Income, expense and net, by category, over entries in `[from, to)` (ms since the epoch;
/// `None` = unbounded). Voided entries are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CashSummary {
    pub income: Fen,
    pub expense: Fen,
    pub net: Fen,
    pub by_category: Vec<CashCategory>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashCategory {
    pub direction: CashDirection,
    pub category: String,
    pub entries: u64,
    pub total: Fen,
}

pub fn cash_summary(
    ledger: &Ledger,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<CashSummary, ProducerError> {
    let entries = entries_of(ledger, &["income_expense", "void"])?;
    let voided: HashSet<u64> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Void(v) => Some(v.target_seq),
            _ => None,
        })
        .collect();
    let mut by: BTreeMap<(u8, String), CashCategory> = BTreeMap::new();
    let mut s = CashSummary::default();
    for e in &entries {
        let Event::IncomeExpense(ie) = &e.event else {
            continue;
        };
        let at = e.at.0;
        if voided.contains(&e.seq) || from.is_some_and(|f| at < f) || to.is_some_and(|t| at >= t) {
            continue;
        }
        let key = match ie.direction {
            CashDirection::Income => {
                s.income = Fen(s.income.0 + ie.amount.0);
                0
            }
            CashDirection::Expense => {
                s.expense = Fen(s.expense.0 + ie.amount.0);
                1
            }
        };
        let c = by
            .entry((key, ie.category.clone()))
            .or_insert_with(|| CashCategory {
                direction: ie.direction,
                category: ie.category.clone(),
                entries: 0,
                total: Fen(0),
            });
        c.entries += 1;
        c.total = Fen(c.total.0 + ie.amount.0);
    }
    s.net = Fen(s.income.0 - s.expense.0);
    s.by_category = by.into_values().collect();
    Ok(s)
}
