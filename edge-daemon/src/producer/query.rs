//! Reads: stock per batch and its history, packing, dispatch, and whereabouts on this box.

use super::ProducerError;
use crate::ledger::Ledger;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use trace_core::Entry;
use trace_core::whereabouts::{Graph, Query, Report};

/// Current stock of one product and batch (finished goods or a raw lot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockRow {
    pub product: String,
    pub batch: String,
    pub grams: i64,
    pub count: i64,
}

/// One movement in or out (出入库记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    pub seq: u64,
    /// `raw_in`, `raw_used`, `produced`, `shipped`, `received`, `adjusted`.
    pub kind: String,
    pub doc: Option<String>,
    pub grams: i64,
    pub count: i64,
}

/// Every product and batch with its current stock, by product then batch.
pub fn stock(ledger: &Ledger) -> Result<Vec<StockRow>, ProducerError> {
    let mut stmt = ledger
        .conn()
        .prepare("SELECT product, batch, grams, count FROM prod_stock ORDER BY product, batch")?;
    let rows = stmt.query_map([], |r| {
        Ok(StockRow {
            product: r.get(0)?,
            batch: r.get(1)?,
            grams: r.get(2)?,
            count: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The in/out history of one product and batch, oldest first.
pub fn moves(ledger: &Ledger, product: &str, batch: &str) -> Result<Vec<Move>, ProducerError> {
    let mut stmt = ledger.conn().prepare(
        "SELECT seq, kind, doc, grams, count FROM prod_moves \
         WHERE product = ?1 AND batch = ?2 ORDER BY seq, rowid",
    )?;
    let rows = stmt.query_map([product, batch], |r| {
        Ok(Move {
            seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            kind: r.get(1)?,
            doc: r.get(2)?,
            grams: r.get(3)?,
            count: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whereabouts over this box's own entries (the cloud asks the same over every box's).
pub fn whereabouts(ledger: &Ledger, q: &Query) -> Result<Report, ProducerError> {
    let entries = entries_of(
        ledger,
        &[
            "raw_material_purchase",
            "production_batch",
            "aggregation",
            "disaggregation",
            "shipment",
            "scan_receipt",
            "void",
        ],
    )?;
    Ok(Graph::build(&entries).query(q))
}

/// Entries of the given kinds, in seq order.
pub(crate) fn entries_of(ledger: &Ledger, kinds: &[&str]) -> Result<Vec<Entry>, ProducerError> {
    let seqs = seqs_of(ledger, kinds)?;
    let mut out = Vec::with_capacity(seqs.len());
    for s in seqs {
        out.extend(ledger.get(s)?);
    }
    Ok(out)
}

fn seqs_of(ledger: &Ledger, kinds: &[&str]) -> Result<Vec<u64>, ProducerError> {
    let list = kinds
        .iter()
        .map(|k| format!("'{}'", k.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(",");
    let mut stmt = ledger.conn().prepare(&format!(
        "SELECT seq FROM entries WHERE kind IN ({list}) ORDER BY seq"
    ))?;
    let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(u64::try_from(r?).unwrap_or(0));
    }
    Ok(out)
}

/// The parent `code` is packed in now, with the entry that packed it.
pub(crate) fn parent_of(
    ledger: &Ledger,
    code: &str,
) -> Result<Option<(String, u64)>, ProducerError> {
    Ok(ledger
        .conn()
        .prepare_cached("SELECT parent, seq FROM prod_packs WHERE child = ?1")?
        .query_row([code], |r| {
            Ok((r.get(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
        })
        .optional()?)
}

pub(crate) fn dispatched(ledger: &Ledger, code: &str) -> Result<Option<String>, ProducerError> {
    Ok(super::projection::dispatched(ledger.conn(), code)?)
}

/// `code` and everything packed under it now; the first element is `code`.
pub(crate) fn expand(ledger: &Ledger, code: &str) -> Result<Vec<String>, ProducerError> {
    Ok(super::projection::expand(ledger.conn(), code)?)
}

pub(crate) fn children(ledger: &Ledger, parent: &str) -> Result<Vec<String>, ProducerError> {
    let mut stmt = ledger
        .conn()
        .prepare_cached("SELECT child FROM prod_packs WHERE parent = ?1 ORDER BY seq, child")?;
    let rows = stmt.query_map([parent], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The entry that recorded raw lot `lot` / batch `batch`, if any.
pub(crate) fn lot_seq(ledger: &Ledger, lot: &str) -> Result<Option<u64>, ProducerError> {
    one_seq(ledger, "SELECT seq FROM prod_raw_lots WHERE lot = ?1", lot)
}

pub(crate) fn batch_seq(ledger: &Ledger, batch: &str) -> Result<Option<u64>, ProducerError> {
    one_seq(
        ledger,
        "SELECT seq FROM prod_batches WHERE batch = ?1",
        batch,
    )
}

/// A code scanned in on this box: the entry, and the product and batch its line named.
pub(crate) struct Received {
    pub seq: u64,
    pub product: Option<String>,
    pub batch: Option<String>,
}

pub(crate) fn received(ledger: &Ledger, code: &str) -> Result<Option<Received>, ProducerError> {
    Ok(ledger
        .conn()
        .prepare_cached("SELECT seq, product, batch FROM prod_received WHERE code = ?1")?
        .query_row(params![code], |r| {
            Ok(Received {
                seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                product: r.get(1)?,
                batch: r.get(2)?,
            })
        })
        .optional()?)
}

pub(crate) fn stock_of(
    ledger: &Ledger,
    product: &str,
    batch: &str,
) -> Result<(i64, i64), ProducerError> {
    Ok(ledger
        .conn()
        .prepare_cached("SELECT grams, count FROM prod_stock WHERE product = ?1 AND batch = ?2")?
        .query_row([product, batch], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0)))
}

fn one_seq(ledger: &Ledger, sql: &str, key: &str) -> Result<Option<u64>, ProducerError> {
    let s: Option<i64> = ledger
        .conn()
        .prepare_cached(sql)?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(s.and_then(|s| u64::try_from(s).ok()))
}
