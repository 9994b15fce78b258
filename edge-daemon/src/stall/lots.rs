//! 台账 projection: purchase lots, sale lines, and which lots each sale line came from.
//!
//! Design: a sale line is attributed FIFO by product when it is appended — the oldest lots
//! with something left give first, in the line's own measure (grams for weighed lines,
//! items for counted ones); what no lot covers is kept against lot 0 ("no purchase on
//! record"). A `sale_attribution` entry replaces a line's attribution as a whole: the old
//! shares go back to their lots, the new ones are taken, and the correction is refused
//! (nothing changes) when a lot is not a purchase of that product or has too little left.
//! Voiding a sale gives its shares back; voiding a purchase empties its lot. All of it is
//! derived from the entries, in their order, so a rebuild gives the same tables.

use rusqlite::{Connection, OptionalExtension, params};
use trace_core::event::{Purchase, SaleAttribution, SaleTicket};

/// A refusal (the entry is not appended) or a storage error.
pub(crate) type Checked = Result<Result<(), String>, rusqlite::Error>;

pub(crate) fn purchase(
    conn: &Connection,
    seq: i64,
    at: i64,
    p: &Purchase,
) -> Result<(), rusqlite::Error> {
    let g = p.grams.map_or(0, |g| g.0);
    let c = i64::from(p.count.unwrap_or(0));
    conn.prepare_cached(
        "INSERT INTO stall_lots (seq, at, product, batch, supplier, origin, grams, count, amount, \
         left_grams, left_count) VALUES (?1, ?9, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?6, ?7)",
    )?
    .execute(params![
        seq, p.product, p.batch, p.supplier, p.origin, g, c, p.amount.0, at
    ])?;
    Ok(())
}

pub(crate) fn sale(
    conn: &Connection,
    seq: i64,
    at: i64,
    t: &SaleTicket,
) -> Result<(), rusqlite::Error> {
    let mut ins = conn.prepare_cached(
        "INSERT INTO stall_sale_lines (seq, line, at, product, grams, count, amount, payment, buyer) \
         VALUES (?1, ?2, ?9, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let payment = serde_json::to_value(t.payment)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    for (i, l) in t.lines.iter().enumerate() {
        let g = l.grams.map_or(0, |g| g.0);
        let c = i64::from(l.count.unwrap_or(0));
        let line = i64::try_from(i).unwrap_or(i64::MAX);
        ins.execute(params![
            seq, line, l.product, g, c, l.amount.0, payment, t.buyer, at
        ])?;
        fifo(conn, seq, line, &l.product, g, c)?;
    }
    Ok(())
}

/// Take `grams` (or `count`) of `product` from the oldest lots with something left.
fn fifo(
    conn: &Connection,
    seq: i64,
    line: i64,
    product: &str,
    grams: i64,
    count: i64,
) -> Result<(), rusqlite::Error> {
    let weighed = grams > 0;
    let mut need = if weighed { grams } else { count };
    if need <= 0 {
        return Ok(());
    }
    let lots: Vec<(i64, i64)> = {
        let sql = if weighed {
            "SELECT seq, left_grams FROM stall_lots WHERE product = ?1 AND left_grams > 0 \
             AND seq < ?2 ORDER BY seq"
        } else {
            "SELECT seq, left_count FROM stall_lots WHERE product = ?1 AND left_count > 0 \
             AND seq < ?2 ORDER BY seq"
        };
        let mut s = conn.prepare_cached(sql)?;
        s.query_map(params![product, seq], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    for (lot, left) in lots {
        if need == 0 {
            break;
        }
        let take = left.min(need);
        take_share(conn, seq, line, lot, weighed, take, seq)?;
        need -= take;
    }
    if need > 0 {
        take_share(conn, seq, line, 0, weighed, need, seq)?;
    }
    Ok(())
}

fn take_share(
    conn: &Connection,
    sale: i64,
    line: i64,
    lot: i64,
    weighed: bool,
    qty: i64,
    by: i64,
) -> Result<(), rusqlite::Error> {
    let (g, c) = if weighed { (qty, 0) } else { (0, qty) };
    conn.prepare_cached(
        "INSERT INTO stall_alloc (sale_seq, line, lot_seq, grams, count, by_seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![sale, line, lot, g, c, by])?;
    if lot != 0 {
        conn.prepare_cached(
            "UPDATE stall_lots SET left_grams = left_grams - ?2, left_count = left_count - ?3 \
             WHERE seq = ?1",
        )?
        .execute(params![lot, g, c])?;
    }
    Ok(())
}

/// Give a line's shares (or every line's, `line` None) back to their lots and forget them.
fn release(conn: &Connection, sale: i64, line: Option<i64>) -> Result<(), rusqlite::Error> {
    let rows: Vec<(i64, i64, i64, i64)> = {
        let mut s = conn.prepare_cached(
            "SELECT line, lot_seq, grams, count FROM stall_alloc WHERE sale_seq = ?1 \
             AND (?2 IS NULL OR line = ?2)",
        )?;
        s.query_map(params![sale, line], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?
    };
    for (_, lot, g, c) in &rows {
        if *lot != 0 {
            conn.prepare_cached(
                "UPDATE stall_lots SET left_grams = left_grams + ?2, left_count = left_count + ?3 \
                 WHERE seq = ?1 AND voided = 0",
            )?
            .execute(params![lot, g, c])?;
        }
    }
    conn.prepare_cached(
        "DELETE FROM stall_alloc WHERE sale_seq = ?1 AND (?2 IS NULL OR line = ?2)",
    )?
    .execute(params![sale, line])?;
    Ok(())
}

pub(crate) fn attribution(conn: &Connection, seq: i64, a: &SaleAttribution) -> Checked {
    let sale = i64::try_from(a.sale_seq).unwrap_or(i64::MAX);
    let line = i64::from(a.line);
    let row: Option<(String, i64, i64, i64)> = conn
        .query_row(
            "SELECT product, grams, count, voided FROM stall_sale_lines WHERE seq = ?1 AND line = ?2",
            params![sale, line],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((product, grams, count, voided)) = row else {
        return Ok(Err(format!(
            "entry {} has no sale line {}",
            a.sale_seq, a.line
        )));
    };
    if voided != 0 {
        return Ok(Err(format!("sale {} is voided", a.sale_seq)));
    }
    let weighed = grams > 0;
    let total: i64 = a
        .lots
        .iter()
        .map(|l| {
            if weighed {
                l.grams.map_or(0, |g| g.0)
            } else {
                i64::from(l.count.unwrap_or(0))
            }
        })
        .sum();
    let want = if weighed { grams } else { count };
    if total != want {
        return Ok(Err(format!(
            "the shares add up to {total}, the line sold {want} {}",
            if weighed { "g" } else { "items" }
        )));
    }
    // Give the old shares back first: a correction may move goods between the same lots.
    release(conn, sale, Some(line))?;
    for l in &a.lots {
        let lot = i64::try_from(l.purchase_seq).unwrap_or(i64::MAX);
        let qty = if weighed {
            l.grams.map_or(0, |g| g.0)
        } else {
            i64::from(l.count.unwrap_or(0))
        };
        let found: Option<(String, i64, i64, i64)> = conn
            .query_row(
                "SELECT product, left_grams, left_count, voided FROM stall_lots WHERE seq = ?1",
                params![lot],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((p, lg, lc, v)) = found else {
            return Ok(Err(format!("entry {lot} is not a purchase")));
        };
        if p != product || v != 0 {
            return Ok(Err(format!(
                "purchase {lot} is not a usable lot of {product}"
            )));
        }
        let left = if weighed { lg } else { lc };
        if qty > left {
            return Ok(Err(format!(
                "purchase {lot} has only {left} left, {qty} asked"
            )));
        }
        take_share(conn, sale, line, lot, weighed, qty, seq)?;
    }
    Ok(Ok(()))
}

/// A void: a sale gives its shares back; a purchase's lot is emptied (its past shares stay,
/// as history of what was believed then).
pub(crate) fn void(conn: &Connection, target: i64, kind: &str) -> Result<(), rusqlite::Error> {
    match kind {
        "sale_ticket" => {
            release(conn, target, None)?;
            conn.prepare_cached("UPDATE stall_sale_lines SET voided = 1 WHERE seq = ?1")?
                .execute(params![target])?;
        }
        "purchase" => {
            conn.prepare_cached(
                "UPDATE stall_lots SET voided = 1, left_grams = 0, left_count = 0 WHERE seq = ?1",
            )?
            .execute(params![target])?;
        }
        _ => {}
    }
    Ok(())
}
