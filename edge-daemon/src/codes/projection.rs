//! The codes projections (`codes_*` tables), applied inside the ledger's append transaction.
//!
//! Returns `Ok(Err(reason))` to refuse the entry (the ledger rolls it back and reports the
//! reason) and `Err` for a storage failure. Every check runs before anything is written, so a
//! refused entry changes nothing.
//!
//! Rules: a template's (issuer, number) belongs to one template id; a template that has codes
//! allocated cannot change (its codes would decode differently); an allocation never overlaps
//! serials handed out before (the pool's `next_serial` only moves forward) and stays inside the
//! template's capacity; serials can only be disabled or enabled once allocated.

use rusqlite::{Connection, OptionalExtension, params};
use trace_core::Event;
use trace_core::event::{CodeRange, CodesToggled};
use trace_core::product_code::Template;

type Outcome = rusqlite::Result<Result<(), String>>;

pub(crate) fn apply(conn: &Connection, seq: i64, event: &Event) -> Outcome {
    match event {
        Event::CodeTemplate(t) => {
            if let Err(e) = t.validate() {
                return Ok(Err(e.to_string()));
            }
            save_template(conn, seq, &t.template)
        }
        Event::CodesAllocated(a) => {
            if let Err(e) = a.validate() {
                return Ok(Err(e.to_string()));
            }
            allocate(
                conn,
                seq,
                &a.pool,
                a.template.as_deref(),
                a.range,
                a.batch.as_deref(),
            )
        }
        Event::CodesDisabled(t) => toggle(conn, seq, &t.0, true),
        Event::CodesEnabled(t) => toggle(conn, seq, &t.0, false),
        _ => Ok(Ok(())),
    }
}

fn save_template(conn: &Connection, seq: i64, t: &Template) -> Outcome {
    let body = match serde_json::to_string(t) {
        Ok(b) => b,
        Err(e) => return Ok(Err(format!("template cannot be stored: {e}"))),
    };
    let holder: Option<String> = conn
        .query_row(
            "SELECT id FROM codes_templates WHERE issuer = ?1 AND number = ?2",
            params![t.issuer, t.number],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = holder.filter(|h| h != &t.id) {
        return Ok(Err(format!(
            "issuer {} template number {} already belongs to template {other:?}: pick another number",
            t.issuer, t.number
        )));
    }
    let existing: Option<String> = conn
        .query_row(
            "SELECT body FROM codes_templates WHERE id = ?1",
            [&t.id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(old) = existing {
        let same = serde_json::from_str::<Template>(&old).is_ok_and(|o| &o == t);
        let used: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM codes_allocations WHERE pool = ?1)",
            [&t.id],
            |r| r.get(0),
        )?;
        if used && !same {
            return Ok(Err(format!(
                "template {:?} already has codes allocated, and changing it would change what \
                 they decode to: save the new version under a new id",
                t.id
            )));
        }
    }
    conn.prepare_cached(
        "INSERT INTO codes_templates (id, issuer, number, body, seq) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(id) DO UPDATE SET issuer = ?2, number = ?3, body = ?4, seq = ?5",
    )?
    .execute(params![t.id, t.issuer, t.number, body, seq])?;
    Ok(Ok(()))
}

fn next_serial(conn: &Connection, pool: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT next_serial FROM codes_pools WHERE pool = ?1")?
        .query_row([pool], |r| r.get(0))
        .optional()
}

fn allocate(
    conn: &Connection,
    seq: i64,
    pool: &str,
    template: Option<&str>,
    range: CodeRange,
    batch: Option<&str>,
) -> Outcome {
    let (Ok(first), Ok(last)) = (i64::try_from(range.first), i64::try_from(range.last)) else {
        return Ok(Err(format!(
            "serials {}..={} are beyond what the box stores (2^63)",
            range.first, range.last
        )));
    };
    if let Some(id) = template {
        let body: Option<String> = conn
            .query_row(
                "SELECT body FROM codes_templates WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        // A template this box does not know is some other module's pool; only ours are
        // checked against a capacity.
        if let Some(t) = body.and_then(|b| serde_json::from_str::<Template>(&b).ok())
            && range.last >= t.serial_capacity
        {
            return Ok(Err(format!(
                "template {id:?} has serials 0..{}; serial {} does not exist",
                t.serial_capacity, range.last
            )));
        }
    }
    let next = next_serial(conn, pool)?.unwrap_or(0);
    if first < next {
        return Ok(Err(format!(
            "serials {first}..={last} of pool {pool:?} overlap serials already allocated \
             (the next free serial is {next}): a serial is never issued twice"
        )));
    }
    conn.prepare_cached(
        "INSERT INTO codes_pools (pool, next_serial) VALUES (?1, ?2) \
         ON CONFLICT(pool) DO UPDATE SET next_serial = ?2",
    )?
    .execute(params![pool, last + 1])?;
    conn.prepare_cached(
        "INSERT INTO codes_allocations (pool, first, last, batch, seq) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![pool, first, last, batch, seq])?;
    Ok(Ok(()))
}

fn toggle(conn: &Connection, seq: i64, t: &CodesToggled, disabled: bool) -> Outcome {
    if let Err(e) = t.validate() {
        return Ok(Err(e.to_string()));
    }
    let next = next_serial(conn, &t.pool)?;
    let Some(next) = next else {
        return Ok(Err(format!("pool {:?} has no codes allocated", t.pool)));
    };
    for r in &t.ranges {
        if i64::try_from(r.last).map_or(true, |l| l >= next) {
            return Ok(Err(format!(
                "serials {}..={} of pool {:?} include serials never allocated (allocated: 0..{next})",
                r.first, r.last, t.pool
            )));
        }
    }
    let mut ins = conn.prepare_cached(
        "INSERT INTO codes_toggles (pool, first, last, disabled, reason, seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for r in &t.ranges {
        // Both fit: last < next ≤ i64::MAX and first ≤ last.
        ins.execute(params![
            t.pool,
            r.first as i64,
            r.last as i64,
            disabled,
            t.reason,
            seq
        ])?;
    }
    Ok(Ok(()))
}
