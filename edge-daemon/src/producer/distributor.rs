//! The distributor's side (流通企业端, §4.3): goods in by scanning the upstream's codes (a case
//! brings its units, from the upstream's [`Manifest`]) or by hand, sales by scanning, and the
//! stock-take that turns differences into adjustment entries.
//!
//! Selling a single unit out of a received case records the case's opening (a disaggregation)
//! in the same transaction as the sale, so the case can never later be sold "whole" with a
//! unit that already left.

use super::ProducerError;
use super::query::{children, dispatched, expand, parent_of, received, stock_of};
use super::records::append_all;
use super::shipping::{Manifest, ShipmentInput, split_by_key, units_under};
use crate::ledger::Ledger;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use trace_core::event::{
    Disaggregation, GoodsLine, Purchase, ScanReceipt, Shipment, StockAdjustment, StockCount,
    StockTake,
};
use trace_core::{Entry, Event, Fen, Grams};

/// What one manifest knows: its packing, its codes, and each unit's line.
struct Known<'a> {
    m: &'a Manifest,
    kids: HashMap<String, Vec<String>>,
    all: HashSet<String>,
    line_of: HashMap<String, usize>,
}

impl<'a> Known<'a> {
    fn new(m: &'a Manifest) -> Known<'a> {
        let mut kids: HashMap<String, Vec<String>> = HashMap::new();
        for a in &m.contents {
            kids.entry(a.parent.clone())
                .or_default()
                .extend(a.children.iter().cloned());
        }
        let mut all = HashSet::new();
        let mut line_of = HashMap::new();
        for (i, l) in m.lines.iter().enumerate() {
            for c in &l.codes {
                for u in units_under(c, &kids) {
                    line_of.entry(u).or_insert(i);
                }
            }
        }
        let tops = m
            .codes
            .iter()
            .chain(m.lines.iter().flat_map(|l| l.codes.iter()));
        for t in tops {
            let mut stack = vec![t.clone()];
            while let Some(c) = stack.pop() {
                if all.insert(c.clone())
                    && let Some(k) = kids.get(&c)
                {
                    stack.extend(k.iter().cloned());
                }
            }
        }
        Known {
            m,
            kids,
            all,
            line_of,
        }
    }
}

/// 扫码进货: scan the codes of goods that arrived; each must be in a manifest this box has
/// from its suppliers and not received before. One receipt per upstream shipment, all in one
/// transaction.
pub fn receive_by_scan(
    ledger: &mut Ledger,
    manifests: &[Manifest],
    scanned: &[String],
) -> Result<Vec<Entry>, ProducerError> {
    if scanned.is_empty() {
        return Err(ProducerError::Missing(
            "scan the codes of the goods received".into(),
        ));
    }
    let known: Vec<Known<'_>> = manifests.iter().map(Known::new).collect();
    let mut covered = HashSet::new();
    let mut groups: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for code in scanned {
        let Some(mi) = known.iter().position(|k| k.all.contains(code)) else {
            return Err(ProducerError::NotInManifest { code: code.clone() });
        };
        for u in units_under(code, &known[mi].kids) {
            if !covered.insert(u.clone()) {
                return Err(ProducerError::ScannedTwice { code: code.clone() });
            }
            if let Some(r) = received(ledger, &u)? {
                return Err(ProducerError::Duplicate {
                    what: "received code",
                    name: u,
                    seq: r.seq,
                });
            }
        }
        groups.entry(mi).or_default().push(code.clone());
    }
    let mut events: Vec<Event> = Vec::new();
    for (mi, codes) in groups {
        let k = &known[mi];
        let mut lines: BTreeMap<usize, GoodsLine> = BTreeMap::new();
        let mut inside = HashSet::new();
        for code in &codes {
            for (li, part) in split_by_key(code, &k.kids, &k.line_of) {
                let n = units_under(&part, &k.kids).len() as u64;
                let line = lines.entry(li).or_insert_with(|| {
                    let mut l = k.m.lines[li].clone();
                    l.codes.clear();
                    l.count = Some(0);
                    l.grams = None;
                    l
                });
                line.count = Some(line.count.unwrap_or(0) + n);
                line.codes.push(part);
            }
            let mut stack = vec![code.clone()];
            while let Some(c) = stack.pop() {
                if let Some(ch) = k.kids.get(&c) {
                    inside.insert(c);
                    stack.extend(ch.iter().cloned());
                }
            }
        }
        let contents =
            k.m.contents
                .iter()
                .filter(|a| inside.contains(&a.parent))
                .cloned()
                .collect();
        events.push(
            ScanReceipt {
                supplier: k.m.supplier.clone(),
                codes,
                lines: lines.into_values().collect(),
                shipment_no: Some(k.m.shipment_no.clone()),
                contents,
            }
            .into(),
        );
    }
    append_all(ledger, events)
}

/// 手工录入进货: goods without codes (or whose upstream data the box lacks).
pub fn receive_by_hand(
    ledger: &mut Ledger,
    supplier: &str,
    line: GoodsLine,
    amount: Fen,
) -> Result<Entry, ProducerError> {
    let count = line
        .count
        .map(|c| {
            u32::try_from(c)
                .map_err(|_| ProducerError::Missing(format!("count {c} is too large for one line")))
        })
        .transpose()?;
    let p = Purchase {
        supplier: supplier.to_owned(),
        product: line.product,
        batch: line.batch,
        grams: line.grams,
        count,
        amount,
        origin: None,
        upstream_code: None,
        origin_code: None,
        supplier_party: None,
        product_code: line.product_code,
        unit_price: None,
        price_unit: None,
        plate_number: None,
        vouchers: vec![],
        certificates: vec![],
    };
    let mut v = append_all(ledger, vec![p.into()])?;
    v.pop()
        .ok_or_else(|| ProducerError::Missing("no entry appended".into()))
}

/// 销售: sell the scanned codes (cases, or single units out of a case) to a customer.
pub fn sell(ledger: &mut Ledger, input: ShipmentInput) -> Result<Vec<Entry>, ProducerError> {
    if input.codes.is_empty() {
        return Err(ProducerError::Missing(
            "scan the codes of the goods sold".into(),
        ));
    }
    super::orders::check_order(ledger, input.order_no.as_deref())?;
    let scanned: HashSet<&String> = input.codes.iter().collect();
    if scanned.len() != input.codes.len() {
        let mut seen = HashSet::new();
        let dup = input.codes.iter().find(|c| !seen.insert(*c)).cloned();
        return Err(ProducerError::ScannedTwice {
            code: dup.unwrap_or_default(),
        });
    }
    let mut opened: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut kids: HashMap<String, Vec<String>> = HashMap::new();
    let mut key_of: HashMap<String, (String, String)> = HashMap::new();
    for code in &input.codes {
        if let Some(shipment_no) = dispatched(ledger, code)? {
            return Err(ProducerError::AlreadyShipped {
                code: code.clone(),
                shipment_no,
            });
        }
        if received(ledger, code)?.is_none() {
            return Err(ProducerError::NotInStock { code: code.clone() });
        }
        // A scanned code inside another scanned code is the same goods twice.
        let mut up = parent_of(ledger, code)?;
        let direct = up.clone();
        while let Some((p, _)) = up {
            if scanned.contains(&p) {
                return Err(ProducerError::ScannedTwice { code: code.clone() });
            }
            up = parent_of(ledger, &p)?;
        }
        if let Some((p, _)) = direct {
            opened.entry(p).or_default().push(code.clone());
        }
        for c in expand(ledger, code)? {
            let k = children(ledger, &c)?;
            if k.is_empty() {
                let r = received(ledger, &c)?;
                let (Some(product), Some(batch)) = r.map_or((None, None), |r| (r.product, r.batch))
                else {
                    return Err(ProducerError::Missing(format!(
                        "code {c} was received without a product and batch"
                    )));
                };
                key_of.insert(c, (product, batch));
            } else {
                kids.insert(c, k);
            }
        }
    }
    let mut lines: BTreeMap<(String, String), GoodsLine> = BTreeMap::new();
    for top in &input.codes {
        for (key, part) in split_by_key(top, &kids, &key_of) {
            let n = units_under(&part, &kids).len() as u64;
            let line = lines
                .entry(key.clone())
                .or_insert_with(|| GoodsLine::counted(&key.0, &key.1, 0));
            line.count = Some(line.count.unwrap_or(0) + n);
            line.codes.push(part);
        }
    }
    let mut events: Vec<Event> = opened
        .into_iter()
        .map(|(parent, children)| {
            Disaggregation {
                parent,
                children,
                reason: Some("拆箱销售".into()),
            }
            .into()
        })
        .collect();
    events.push(
        Shipment {
            shipment_no: input.shipment_no,
            customer: input.customer,
            lines: lines.into_values().collect(),
            codes: input.codes,
            plate_number: input.plate_number,
            destination: None,
            order_no: input.order_no,
        }
        .into(),
    );
    append_all(ledger, events)
}

/// One line of a stock-take: what the books said, what was counted, the difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockDifference {
    pub product: String,
    pub batch: String,
    pub book_count: i64,
    pub counted_count: i64,
    pub book_grams: i64,
    pub counted_grams: i64,
}

impl StockDifference {
    pub fn count_diff(&self) -> i64 {
        self.counted_count - self.book_count
    }

    pub fn grams_diff(&self) -> i64 {
        self.counted_grams - self.book_grams
    }
}

/// 盘点: record what was counted against the books; each difference becomes a stock
/// adjustment entry, in the same transaction, so the books then equal the count.
/// `counted`: (product, batch, units counted, grams counted if weighed).
pub fn stock_take(
    ledger: &mut Ledger,
    counted: &[(String, String, u64, Option<Grams>)],
    counted_by: Option<String>,
) -> Result<(Vec<Entry>, Vec<StockDifference>), ProducerError> {
    let mut lines = Vec::new();
    let mut diffs = Vec::new();
    let mut adjustments: Vec<Event> = Vec::new();
    for (product, batch, count, grams) in counted {
        let (book_g, book_c) = stock_of(ledger, product, batch)?;
        let c = i64::try_from(*count)
            .map_err(|_| ProducerError::Missing(format!("count {count} is too large")))?;
        let g = grams.map_or(book_g, |g| g.0);
        let d = StockDifference {
            product: product.clone(),
            batch: batch.clone(),
            book_count: book_c,
            counted_count: c,
            book_grams: book_g,
            counted_grams: g,
        };
        lines.push(StockCount {
            product: product.clone(),
            batch: batch.clone(),
            book_grams: grams.map(|_| Grams(book_g.max(0))),
            counted_grams: *grams,
            book_count: Some(u64::try_from(book_c).unwrap_or(0)),
            counted_count: Some(*count),
        });
        if d.count_diff() != 0 || d.grams_diff() != 0 {
            adjustments.push(
                StockAdjustment {
                    product: product.clone(),
                    batch: batch.clone(),
                    reason: "盘点差异 stock-take difference".into(),
                    delta_grams: (d.grams_diff() != 0).then_some(Grams(d.grams_diff())),
                    delta_count: (d.count_diff() != 0).then_some(d.count_diff()),
                }
                .into(),
            );
        }
        diffs.push(d);
    }
    let mut events: Vec<Event> = vec![StockTake { lines, counted_by }.into()];
    events.extend(adjustments);
    Ok((append_all(ledger, events)?, diffs))
}
