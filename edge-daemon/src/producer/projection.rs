//! The producer/distributor projections (`prod_*` tables), kept in step with the chain inside
//! the append transaction like every projection (see `ledger::projection`).
//!
//! Besides keeping stock and packing current, this is the last line of defence for the
//! invariants a recall depends on, whoever appends: a child is in at most one parent, a code
//! leaves a box once, a code is scanned in once, a raw lot or batch number is recorded once.
//! The domain operations (`producer::*`) check the same things first to give a typed error;
//! here a violation refuses the entry, so the ledger cannot hold a contradiction even when a
//! caller skips them.
//!
//! Writes go straight to the tables (no batching like `Deltas`): producer events come at
//! human speed or one aggregation per case, not hundreds per second.

use crate::ledger::projection::ProjError;
use rusqlite::{Connection, OptionalExtension, params};
use trace_core::Event;
use trace_core::event::{Aggregation, CodeLevel, GoodsLine};

pub(crate) fn apply(conn: &Connection, seq: i64, event: &Event) -> Result<(), ProjError> {
    match event {
        Event::RawMaterialPurchase(r) => {
            if let Some(other) =
                one_i64(conn, "SELECT seq FROM prod_raw_lots WHERE lot = ?1", &r.lot)?
            {
                return reject(format!(
                    "raw lot {} is already recorded (entry {other})",
                    r.lot
                ));
            }
            conn.prepare_cached(
                "INSERT INTO prod_raw_lots (lot, material, supplier, seq) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![r.lot, r.material, r.supplier.name, seq])?;
            let grams = r.grams.map_or(0, |g| g.0);
            let count = count_i64(r.count);
            mv(
                conn,
                seq,
                &r.material,
                &r.lot,
                "raw_in",
                Some(&r.supplier.name),
                grams,
                count,
            )?;
        }
        Event::ProductionBatch(b) => {
            if let Some(other) = one_i64(
                conn,
                "SELECT seq FROM prod_batches WHERE batch = ?1",
                &b.batch,
            )? {
                return reject(format!(
                    "batch {} is already recorded (entry {other})",
                    b.batch
                ));
            }
            conn.prepare_cached(
                "INSERT INTO prod_batches (batch, product, seq) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![b.batch, b.product, seq])?;
            for l in &b.raw_lots {
                conn.prepare_cached(
                    "INSERT INTO prod_batch_lots (lot, batch) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )?
                .execute(params![l.lot, b.batch])?;
                let (g, c) = (l.grams.map_or(0, |g| g.0), count_i64(l.count));
                if g != 0 || c != 0 {
                    mv(
                        conn,
                        seq,
                        &l.material,
                        &l.lot,
                        "raw_used",
                        Some(&b.batch),
                        -g,
                        -c,
                    )?;
                }
            }
            let (g, c) = (b.grams.map_or(0, |g| g.0), count_i64(b.count));
            mv(conn, seq, &b.product, &b.batch, "produced", None, g, c)?;
        }
        Event::Aggregation(a) => pack(conn, seq, a, false)?,
        Event::Disaggregation(d) => {
            if let Some(no) = dispatched(conn, &d.parent)? {
                return reject(format!(
                    "{} already left this box in shipment {no}",
                    d.parent
                ));
            }
            if d.children.is_empty() {
                let n = conn
                    .prepare_cached("DELETE FROM prod_packs WHERE parent = ?1")?
                    .execute([&d.parent])?;
                if n == 0 {
                    return reject(format!("{} holds nothing to take out", d.parent));
                }
            }
            for c in &d.children {
                let n = conn
                    .prepare_cached("DELETE FROM prod_packs WHERE child = ?1 AND parent = ?2")?
                    .execute([c, &d.parent])?;
                if n == 0 {
                    return reject(format!("{c} is not in {}", d.parent));
                }
            }
        }
        Event::Shipment(s) => {
            let tops = s
                .codes
                .iter()
                .chain(s.lines.iter().flat_map(|l| l.codes.iter()));
            let mut all = Vec::new();
            for t in tops {
                for c in expand(conn, t)? {
                    if !all.contains(&c) {
                        all.push(c);
                    }
                }
            }
            for c in &all {
                if let Some(no) = dispatched(conn, c)? {
                    return reject(format!("{c} already left this box in shipment {no}"));
                }
                conn.prepare_cached(
                    "INSERT INTO prod_dispatched (code, seq, shipment_no) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![c, seq, s.shipment_no])?;
            }
            for l in &s.lines {
                line_move(conn, seq, l, "shipped", &s.shipment_no, -1)?;
            }
        }
        Event::ScanReceipt(r) => {
            for a in &r.contents {
                pack(conn, seq, a, true)?;
            }
            let doc = r.shipment_no.as_deref().unwrap_or("");
            for l in &r.lines {
                for top in &l.codes {
                    for c in expand(conn, top)? {
                        receive(conn, seq, &c, Some((&l.product, &l.batch)))?;
                    }
                }
                line_move(conn, seq, l, "received", doc, 1)?;
            }
            for top in &r.codes {
                for c in expand(conn, top)? {
                    let known = one_i64(conn, "SELECT seq FROM prod_received WHERE code = ?1", &c)?;
                    if known != Some(seq) {
                        receive(conn, seq, &c, None)?;
                    }
                }
            }
        }
        Event::Purchase(p) => {
            // A distributor's purchase entered by hand (no codes): stock in, like a receipt.
            let (g, c) = (p.grams.map_or(0, |g| g.0), i64::from(p.count.unwrap_or(0)));
            mv(
                conn,
                seq,
                &p.product,
                &p.batch,
                "received",
                Some(&p.supplier),
                g,
                c,
            )?;
        }
        Event::StockAdjustment(a) => {
            let (g, c) = (a.delta_grams.map_or(0, |g| g.0), a.delta_count.unwrap_or(0));
            mv(
                conn,
                seq,
                &a.product,
                &a.batch,
                "adjusted",
                Some(&a.reason),
                g,
                c,
            )?;
        }
        Event::SalesOrder(o) => {
            if let Some(other) = one_i64(
                conn,
                "SELECT seq FROM prod_orders WHERE order_no = ?1",
                &o.order_no,
            )? {
                return reject(format!(
                    "sale order {} is already recorded (entry {other})",
                    o.order_no
                ));
            }
            conn.prepare_cached(
                "INSERT INTO prod_orders (order_no, customer, ordered_on, seq) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![o.order_no, o.customer.name, o.ordered_on, seq])?;
        }
        Event::Void(v) => undo(conn, seq, v.target_seq)?,
        _ => {}
    }
    Ok(())
}

/// A void (already checked by the ledger: the target exists and precedes it) takes back what
/// the target did here: its rows go, its stock moves are reversed as `voided` moves. A
/// disaggregation cannot be voided (the units may have been packed elsewhere since): pack
/// them again instead.
fn undo(conn: &Connection, seq: i64, target: u64) -> Result<(), ProjError> {
    let t = crate::ledger::projection::seq_i64(target)?;
    let kind: Option<String> = conn
        .prepare_cached("SELECT kind FROM entries WHERE seq = ?1")?
        .query_row([t], |r| r.get(0))
        .optional()?;
    if kind.as_deref() == Some("disaggregation") {
        return reject(format!(
            "entry {target} took codes out of a case; pack them again (aggregation) instead of voiding it"
        ));
    }
    if kind.as_deref() == Some("aggregation") {
        let shipped: Option<String> = conn
            .prepare_cached(
                "SELECT d.code FROM prod_packs p JOIN prod_dispatched d ON d.code = p.parent \
                 WHERE p.seq = ?1 LIMIT 1",
            )?
            .query_row([t], |r| r.get(0))
            .optional()?;
        if let Some(code) = shipped {
            return reject(format!(
                "entry {target} packed {code}, which has already been shipped"
            ));
        }
    }
    for table in [
        "prod_raw_lots",
        "prod_batches",
        "prod_packs",
        "prod_dispatched",
        "prod_received",
        "prod_orders",
    ] {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE seq = ?1"))?
            .execute([t])?;
    }
    let moves: Vec<(String, String, Option<String>, i64, i64)> = conn
        .prepare_cached("SELECT product, batch, doc, grams, count FROM prod_moves WHERE seq = ?1")?
        .query_map([t], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    for (product, batch, doc, grams, count) in moves {
        mv(
            conn,
            seq,
            &product,
            &batch,
            "voided",
            doc.as_deref(),
            -grams,
            -count,
        )?;
    }
    Ok(())
}

fn reject(msg: String) -> Result<(), ProjError> {
    Err(ProjError::Rejected(msg))
}

fn count_i64(c: Option<u64>) -> i64 {
    c.map_or(0, |c| i64::try_from(c).unwrap_or(i64::MAX))
}

fn one_i64(conn: &Connection, sql: &str, key: &str) -> Result<Option<i64>, ProjError> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn dispatched(conn: &Connection, code: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT shipment_no FROM prod_dispatched WHERE code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()
}

/// `code` and everything packed under it on this box, now.
pub(crate) fn expand(conn: &Connection, code: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE t(code) AS (SELECT ?1 UNION SELECT p.child FROM prod_packs p \
         JOIN t ON p.parent = t.code) SELECT code FROM t",
    )?;
    let rows = stmt.query_map([code], |r| r.get(0))?;
    rows.collect()
}

fn pack(conn: &Connection, seq: i64, a: &Aggregation, upstream: bool) -> Result<(), ProjError> {
    if let Some(no) = dispatched(conn, &a.parent)? {
        return reject(format!(
            "{} already left this box in shipment {no}",
            a.parent
        ));
    }
    conn.prepare_cached(
        "INSERT INTO prod_parents (code, level) VALUES (?1, ?2) \
         ON CONFLICT(code) DO UPDATE SET level = ?2",
    )?
    .execute(params![a.parent, level_str(a.parent_level)])?;
    for c in &a.children {
        if let Some(no) = dispatched(conn, c)? {
            return reject(format!("{c} already left this box in shipment {no}"));
        }
        let current: Option<(String, i64)> = conn
            .prepare_cached("SELECT parent, seq FROM prod_packs WHERE child = ?1")?
            .query_row([c], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match current {
            // The upstream's packing, scanned in again as part of a bigger unit: same fact.
            Some((p, _)) if upstream && p == a.parent => continue,
            Some((p, at)) => {
                return reject(format!(
                    "{c} is already in {p} (entry {at}); take it out first"
                ));
            }
            None => {}
        }
        conn.prepare_cached("INSERT INTO prod_packs (child, parent, seq) VALUES (?1, ?2, ?3)")?
            .execute(params![c, a.parent, seq])?;
    }
    Ok(())
}

fn receive(
    conn: &Connection,
    seq: i64,
    code: &str,
    item: Option<(&str, &str)>,
) -> Result<(), ProjError> {
    if let Some(other) = one_i64(conn, "SELECT seq FROM prod_received WHERE code = ?1", code)? {
        return reject(format!("{code} was already received (entry {other})"));
    }
    conn.prepare_cached(
        "INSERT INTO prod_received (code, seq, product, batch) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![code, seq, item.map(|i| i.0), item.map(|i| i.1)])?;
    Ok(())
}

fn line_move(
    conn: &Connection,
    seq: i64,
    l: &GoodsLine,
    kind: &str,
    doc: &str,
    sign: i64,
) -> Result<(), ProjError> {
    let g = l.grams.map_or(0, |g| g.0);
    let c = count_i64(l.count);
    mv(
        conn,
        seq,
        &l.product,
        &l.batch,
        kind,
        Some(doc),
        sign * g,
        sign * c,
    )
}

#[allow(clippy::too_many_arguments)]
fn mv(
    conn: &Connection,
    seq: i64,
    product: &str,
    batch: &str,
    kind: &str,
    doc: Option<&str>,
    grams: i64,
    count: i64,
) -> Result<(), ProjError> {
    conn.prepare_cached(
        "INSERT INTO prod_moves (seq, product, batch, kind, doc, grams, count) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![seq, product, batch, kind, doc, grams, count])?;
    conn.prepare_cached(
        "INSERT INTO prod_stock (product, batch, grams, count) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(product, batch) DO UPDATE SET grams = grams + ?3, count = count + ?4",
    )?
    .execute(params![product, batch, grams, count])?;
    Ok(())
}

pub(crate) fn level_str(l: CodeLevel) -> &'static str {
    match l {
        CodeLevel::Unit => "unit",
        CodeLevel::Case => "case",
        CodeLevel::Pallet => "pallet",
        CodeLevel::Batch => "batch",
    }
}
