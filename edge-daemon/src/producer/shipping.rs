//! Shipments (销售发货, §4.2.3): the codes scanned at dispatch are linked to the sale, and the
//! lines (product, batch, quantity, dates) are derived from what the codes are, so the
//! document cannot disagree with the goods. [`Manifest`] is the shipment as the receiving
//! distributor's box needs it to scan the goods in (a case brings its units).

use super::ProducerError;
use super::lookup::{CodeFacts, CodeLookup};
use super::query::{children, dispatched, entries_of, expand, parent_of};
use super::records::{append_all, entity_record};
use crate::ledger::Ledger;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use trace_core::event::{Aggregation, CodeLevel, GoodsLine, Party, PartyKind, Shipment};
use trace_core::{Entry, Event};

/// A shipment as the sales person and the dispatch scanner give it.
#[derive(Debug, Clone)]
pub struct ShipmentInput {
    pub shipment_no: String,
    pub customer: Party,
    /// The sale order (销售单) this shipment fulfils.
    pub order_no: Option<String>,
    pub plate_number: Option<String>,
    /// Codes scanned at dispatch: pallets, cases or loose units.
    pub codes: Vec<String>,
}

/// Ship the scanned codes. Every code and everything packed in it must be ours, enabled,
/// on this box and not inside another parent; nothing is recorded otherwise.
pub fn ship(
    ledger: &mut Ledger,
    lookup: &dyn CodeLookup,
    input: ShipmentInput,
) -> Result<Entry, ProducerError> {
    if input.codes.is_empty() {
        return Err(ProducerError::Missing(
            "scan the codes of the goods to ship".into(),
        ));
    }
    if let Some(seq) = shipment_seq(ledger, &input.shipment_no)? {
        return Err(ProducerError::Duplicate {
            what: "shipment",
            name: input.shipment_no,
            seq,
        });
    }
    super::orders::check_order(ledger, input.order_no.as_deref())?;
    let mut seen = HashSet::new();
    let mut facts: HashMap<String, CodeFacts> = HashMap::new();
    let mut kids: HashMap<String, Vec<String>> = HashMap::new();
    for top in &input.codes {
        if !seen.insert(top.clone()) {
            return Err(ProducerError::ScannedTwice { code: top.clone() });
        }
        if let Some((parent, _)) = parent_of(ledger, top)? {
            return Err(ProducerError::InsideParent {
                code: top.clone(),
                parent,
            });
        }
        for c in expand(ledger, top)? {
            let f = lookup.lookup(&c).map_err(|rejection| ProducerError::Code {
                code: c.clone(),
                rejection,
            })?;
            if let Some(shipment_no) = dispatched(ledger, &c)? {
                return Err(ProducerError::AlreadyShipped {
                    code: c,
                    shipment_no,
                });
            }
            if c != *top && !seen.insert(c.clone()) {
                return Err(ProducerError::ScannedTwice { code: c });
            }
            let k = children(ledger, &c)?;
            if !k.is_empty() {
                kids.insert(c.clone(), k);
            }
            facts.insert(c, f);
        }
    }
    // Units are the leaves; each must say its batch.
    let mut key_of: HashMap<String, (String, String)> = HashMap::new();
    for (c, f) in &facts {
        if kids.contains_key(c) {
            continue;
        }
        let batch = f.batch.clone().ok_or_else(|| {
            ProducerError::Missing(format!(
                "code {c} carries no batch: commission it for a production batch first"
            ))
        })?;
        key_of.insert(c.clone(), (f.product.clone(), batch));
    }
    let mut lines: BTreeMap<(String, String), GoodsLine> = BTreeMap::new();
    for top in &input.codes {
        for (key, code) in split_by_key(top, &kids, &key_of) {
            let units = units_under(&code, &kids);
            let line = lines.entry(key.clone()).or_insert_with(|| {
                let first = units.first().and_then(|u| facts.get(u));
                let mut l = GoodsLine::counted(&key.0, &key.1, 0);
                l.production_date = first.and_then(|f| f.production_date.clone());
                l.expiry_date = first.and_then(|f| f.expiry_date.clone());
                l
            });
            line.count = Some(line.count.unwrap_or(0) + units.len() as u64);
            line.codes.push(code);
        }
    }
    let s = Shipment {
        shipment_no: input.shipment_no,
        customer: input.customer,
        lines: lines.into_values().collect(),
        codes: input.codes,
        plate_number: input.plate_number,
        destination: None,
        order_no: input.order_no,
    };
    let mut v = append_all(ledger, vec![s.into()])?;
    v.pop()
        .ok_or_else(|| ProducerError::Missing("no entry appended".into()))
}

/// The leaves under `code` (itself when it holds nothing).
pub(crate) fn units_under(code: &str, kids: &HashMap<String, Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![code.to_owned()];
    let mut seen = HashSet::new();
    while let Some(c) = stack.pop() {
        if !seen.insert(c.clone()) {
            continue;
        }
        match kids.get(&c) {
            Some(k) if !k.is_empty() => stack.extend(k.iter().rev().cloned()),
            _ => out.push(c),
        }
    }
    out
}

/// Which line each part of `top` belongs to: the whole code when all its units share one
/// key (the usual single-batch case), else its children, recursively (a mixed pallet).
pub(crate) fn split_by_key<K: Clone + Ord>(
    top: &str,
    kids: &HashMap<String, Vec<String>>,
    key_of: &HashMap<String, K>,
) -> Vec<(K, String)> {
    let keys: std::collections::BTreeSet<K> = units_under(top, kids)
        .iter()
        .filter_map(|u| key_of.get(u).cloned())
        .collect();
    match (keys.len(), kids.get(top)) {
        (1, _) => vec![(keys.into_iter().next().expect("one key"), top.to_owned())],
        (_, Some(k)) if !k.is_empty() => k
            .iter()
            .flat_map(|c| split_by_key(c, kids, key_of))
            .collect(),
        _ => Vec::new(),
    }
}

fn shipment_seq(ledger: &Ledger, no: &str) -> Result<Option<u64>, ProducerError> {
    let s: Option<i64> = ledger
        .conn()
        .prepare_cached("SELECT seq FROM prod_dispatched WHERE shipment_no = ?1 LIMIT 1")?
        .query_row([no], |r| r.get(0))
        .optional()?;
    Ok(s.and_then(|s| u64::try_from(s).ok()))
}

/// A shipment as the receiving box needs it to scan the goods in: the lines, the top-level
/// codes and what each case and pallet holds. Carried as a document (synced through the
/// cloud, or handed over as a file) — never trusted for more than "which codes came in what".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub supplier: Party,
    pub shipment_no: String,
    /// The sale order the shipment fulfils (the receiving box shows it with the goods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_no: Option<String>,
    pub lines: Vec<GoodsLine>,
    pub codes: Vec<String>,
    pub contents: Vec<Aggregation>,
}

/// Build the manifest of shipment `shipment_no` from this box's ledger.
pub fn manifest(ledger: &Ledger, shipment_no: &str) -> Result<Manifest, ProducerError> {
    let s = entries_of(ledger, &["shipment"])?
        .into_iter()
        .find_map(|e| match e.event {
            Event::Shipment(s) if s.shipment_no == shipment_no => Some(s),
            _ => None,
        })
        .ok_or_else(|| ProducerError::Unknown {
            what: "shipment",
            name: shipment_no.to_owned(),
        })?;
    let supplier = match entity_record(ledger)? {
        Some(e) => Party {
            kind: Some(PartyKind::Enterprise),
            credit_code: e.credit_code,
            ..Party::named(e.name)
        },
        None => Party::named(ledger.device().as_str()),
    };
    let mut contents = Vec::new();
    let mut done = HashSet::new();
    let tops = s
        .codes
        .iter()
        .chain(s.lines.iter().flat_map(|l| l.codes.iter()));
    for top in tops {
        for c in expand(ledger, top)? {
            let k = children(ledger, &c)?;
            if k.is_empty() || !done.insert(c.clone()) {
                continue;
            }
            contents.push(Aggregation {
                parent_level: parent_level(ledger, &c)?,
                parent: c,
                children: k,
            });
        }
    }
    Ok(Manifest {
        supplier,
        shipment_no: s.shipment_no,
        order_no: s.order_no,
        lines: s.lines,
        codes: s.codes,
        contents,
    })
}

fn parent_level(ledger: &Ledger, code: &str) -> Result<CodeLevel, ProducerError> {
    let l: Option<String> = ledger
        .conn()
        .prepare_cached("SELECT level FROM prod_parents WHERE code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()?;
    Ok(match l.as_deref() {
        Some("pallet") => CodeLevel::Pallet,
        _ => CodeLevel::Case,
    })
}
