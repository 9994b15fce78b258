//! Projections: derived tables kept in step with the chain inside the append transaction.
//!
//! Why in the same transaction: a crash must leave the entry and its effects both or neither,
//! so the stock the stall sees is never out of step with the ledger it can prove. Every
//! projection can be rebuilt from `entries`; none is ever the source of truth.
//!
//! Kinds this module does not know (newer vocabulary) still count in `kind_counts` and are
//! otherwise stored untouched, so adding a kind needs no schema change.

use super::error::LedgerError;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use trace_core::Event;
use trace_core::event::{Purchase, SaleTicket};

/// Additive projection updates (counts, stock) summed over one transaction and written once
/// before it commits: a burst of 1000 sales touches a handful of stock rows, not 2500.
/// Checks that can refuse an entry (ticket code taken, bad void) still run per entry, and all
/// of them run before an entry adds anything here. Keys are looked up borrowed, so a product
/// and batch already in the map cost no allocation.
#[derive(Debug, Default)]
pub(crate) struct Deltas {
    kinds: HashMap<&'static str, i64>,
    /// product → batch → (grams, count)
    stock: HashMap<String, HashMap<String, (i64, i64)>>,
}

impl Deltas {
    fn stock(&mut self, product: &str, batch: &str, grams: i64, count: i64) {
        let batches = match self.stock.get_mut(product) {
            Some(b) => b,
            None => self.stock.entry(product.to_owned()).or_default(),
        };
        let e = match batches.get_mut(batch) {
            Some(e) => e,
            None => batches.entry(batch.to_owned()).or_default(),
        };
        e.0 += grams;
        e.1 += count;
    }

    /// Write the sums; call inside the transaction, before commit.
    pub fn flush(self, conn: &Connection) -> Result<(), ProjError> {
        let mut k = conn.prepare_cached(
            "INSERT INTO kind_counts (kind, n) VALUES (?1, ?2) \
             ON CONFLICT(kind) DO UPDATE SET n = n + ?2",
        )?;
        for (kind, n) in self.kinds {
            k.execute(params![kind, n])?;
        }
        let mut s = conn.prepare_cached(
            "INSERT INTO stock (product, batch, grams, count) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(product, batch) DO UPDATE SET grams = grams + ?3, count = count + ?4",
        )?;
        for (product, batches) in self.stock {
            for (batch, (grams, count)) in batches {
                s.execute(params![product, batch, grams, count])?;
            }
        }
        Ok(())
    }
}

/// Apply entry `seq` (`event`) to every projection it touches: checks and unique indexes now, additive
/// effects into `acc` only once the entry is accepted. A refusal leaves `acc` untouched and
/// the caller to roll back.
///
/// `ticket_counter` is a sale's counter when the box's key decodes its code: the sale is then
/// indexed by counter (appends in order), else by code (see migration 0007).
pub(crate) fn apply(
    conn: &Connection,
    seq: u64,
    at: i64,
    event: &Event,
    ticket_counter: Option<u64>,
    acc: &mut Deltas,
) -> Result<(), ProjError> {
    let seq = seq_i64(seq)?;
    let d = acc;

    if let Event::SaleTicket(t) = event {
        claim_ticket(conn, seq, &t.ticket_code, ticket_counter)?;
        sale_stock(d, t, -1);
    } else if let Event::Purchase(p) = event {
        purchase_stock(d, p, 1);
    } else if let Event::Void(v) = event {
        apply_void(conn, d, seq, v.target_seq, &v.reason)?;
    }
    crate::codes::projection::apply(conn, seq, event)?.map_err(ProjError::Rejected)?;
    crate::line::projection::apply(conn, seq, event)?.map_err(ProjError::Rejected)?;
    crate::producer::projection::apply(conn, seq, event)?;
    crate::stall::projection::apply(conn, seq, at, event)?.map_err(ProjError::Rejected)?;
    *d.kinds.entry(event.kind()).or_default() += 1;
    Ok(())
}

/// Record that `code` belongs to entry `seq`, refusing a code some entry already holds.
fn claim_ticket(
    conn: &Connection,
    seq: i64,
    code: &str,
    counter: Option<u64>,
) -> Result<(), ProjError> {
    // A code kept by code text (older entries, or appended without the key) must not be
    // claimed again by counter: that lookup reads one cached page and dirties none.
    let by_code = |conn: &Connection| -> Result<Option<i64>, ProjError> {
        Ok(conn
            .prepare_cached("SELECT seq FROM ticket_codes WHERE ticket_code = ?1")?
            .query_row([code], |r| r.get(0))
            .optional()?)
    };
    let taken = |other: i64| {
        ProjError::Rejected(format!(
            "ticket code {code} is already used by entry {other}"
        ))
    };
    let inserted = match counter {
        Some(n) => {
            if let Some(other) = by_code(conn)? {
                return Err(taken(other));
            }
            let n = seq_i64(n)?;
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO ticket_counters (counter, seq) VALUES (?1, ?2) \
                     ON CONFLICT(counter) DO NOTHING",
                )?
                .execute(params![n, seq])?;
            if inserted == 0 {
                let other: i64 = conn
                    .prepare_cached("SELECT seq FROM ticket_counters WHERE counter = ?1")?
                    .query_row([n], |r| r.get(0))?;
                return Err(taken(other));
            }
            inserted
        }
        None => {
            // Without the key the code's counter is unknown; if the box's own sales are
            // indexed by counter, look for the code among them the slow way (a tool appending
            // without the key is rare; a wrong "unused" would not be).
            if let Some(other) = by_text_among_counted(conn, code)? {
                return Err(taken(other));
            }
            conn.prepare_cached(
                "INSERT INTO ticket_codes (ticket_code, seq) VALUES (?1, ?2) \
                 ON CONFLICT(ticket_code) DO NOTHING",
            )?
            .execute(params![code, seq])?
        }
    };
    if inserted == 0 {
        return Err(taken(by_code(conn)?.unwrap_or_default()));
    }
    Ok(())
}

/// The entry among those indexed by counter whose code is `code`, found by reading their
/// bodies: for callers without the box's key. Empty `ticket_counters`, no cost.
pub(crate) fn by_text_among_counted(
    conn: &Connection,
    code: &str,
) -> Result<Option<i64>, rusqlite::Error> {
    conn.prepare_cached(
        "SELECT e.seq FROM ticket_counters c JOIN entries e ON e.seq = c.seq \
         WHERE json_extract(e.body, '$.ticket_code') = ?1 LIMIT 1",
    )?
    .query_row([code], |r| r.get(0))
    .optional()
}

fn apply_void(
    conn: &Connection,
    d: &mut Deltas,
    seq: i64,
    target: u64,
    reason: &str,
) -> Result<(), ProjError> {
    let target_i = seq_i64(target)?;
    if target_i >= seq || target_i < 1 {
        return Err(ProjError::Rejected(format!(
            "void targets entry {target}, which does not precede it"
        )));
    }
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT kind, body FROM entries WHERE seq = ?1",
            [target_i],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((kind, body)) = row else {
        return Err(ProjError::Rejected(format!(
            "void targets entry {target}, which does not exist"
        )));
    };
    if kind == "void" {
        return Err(ProjError::Rejected(format!(
            "entry {target} is itself a void; record the original action again instead"
        )));
    }
    let inserted = conn
        .prepare_cached(
            "INSERT INTO voids (target_seq, void_seq, reason) VALUES (?1, ?2, ?3) \
             ON CONFLICT(target_seq) DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![target_i, seq, reason]))?;
    if inserted == 0 {
        return Err(ProjError::Rejected(format!(
            "entry {target} is already voided"
        )));
    }
    // Undo the target's stock effect.
    let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let event: Option<Event> =
        serde_json::from_value(serde_json::json!({"kind": kind, "body": body})).ok();
    match event {
        Some(Event::SaleTicket(t)) => sale_stock(d, &t, 1),
        Some(Event::Purchase(p)) => purchase_stock(d, &p, -1),
        _ => {}
    }
    Ok(())
}

fn sale_stock(d: &mut Deltas, t: &SaleTicket, sign: i64) {
    for line in &t.lines {
        if let Some(batch) = &line.batch {
            d.stock(
                &line.product,
                batch,
                sign * line.grams.map_or(0, |g| g.0),
                sign * i64::from(line.count.unwrap_or(0)),
            );
        }
    }
}

fn purchase_stock(d: &mut Deltas, p: &Purchase, sign: i64) {
    d.stock(
        &p.product,
        &p.batch,
        sign * p.grams.map_or(0, |g| g.0),
        sign * i64::from(p.count.unwrap_or(0)),
    );
}

pub(crate) fn seq_i64(seq: u64) -> Result<i64, ProjError> {
    i64::try_from(seq).map_err(|_| ProjError::Rejected(format!("sequence {seq} out of range")))
}

/// Why a projection update failed: a business refusal, or storage.
#[derive(Debug)]
pub(crate) enum ProjError {
    Rejected(String),
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for ProjError {
    fn from(e: rusqlite::Error) -> Self {
        ProjError::Sql(e)
    }
}

impl ProjError {
    pub fn into_ledger(self, path: &Path) -> LedgerError {
        match self {
            ProjError::Rejected(m) => LedgerError::Rejected(m),
            ProjError::Sql(e) => LedgerError::sqlite(path, "updating projections", e),
        }
    }
}
