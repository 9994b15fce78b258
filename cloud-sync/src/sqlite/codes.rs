//! Product codes on SQLite: the projection rows of [`crate::codes`] written in the ingest
//! transaction, and the lookups behind `/c/{token}` (a handful of primary-key probes on one
//! read connection).

use crate::codes::{self, BatchFacts, Candidate, CodeRow, Decoded, SerialFacts};
use crate::store::{ProductCodeView, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};
use trace_core::DeviceId;
use trace_core::Event;
use trace_core::product_code::ScannedCode;

/// Write `event`'s product-code rows (if any) for entry `seq` of device `dev`.
pub(super) fn project(tx: &Connection, dev: i64, seq: i64, event: &Event) -> StoreResult<()> {
    for row in codes::rows(event) {
        match row {
            // Latest seq wins, whatever order the entries arrive in.
            CodeRow::Template {
                id,
                issuer,
                number,
                body,
            } => tx
                .prepare_cached(
                    "INSERT INTO code_templates (dev, id, issuer, number, body, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (dev, id) DO UPDATE SET issuer = excluded.issuer,
                         number = excluded.number, body = excluded.body, seq = excluded.seq
                     WHERE excluded.seq > code_templates.seq",
                )?
                .execute(params![dev, id, issuer, number, body, seq])?,
            // The box never allocates a serial twice; a device that claims to is only
            // contradicting itself, and its first claim stands.
            CodeRow::Allocation {
                pool,
                first,
                last,
                batch,
            } => tx
                .prepare_cached(
                    "INSERT INTO code_allocations (dev, pool, first, last, batch, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                )?
                .execute(params![dev, pool, first, last, batch, seq])?,
            CodeRow::Toggle {
                pool,
                first,
                last,
                disabled,
                reason,
            } => tx
                .prepare_cached(
                    "INSERT INTO code_toggles (dev, pool, first, last, seq, disabled, reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                )?
                .execute(params![dev, pool, first, last, seq, disabled, reason])?,
            CodeRow::Batch {
                batch,
                product,
                gtin,
                product_code,
                produced_on,
                expires_on,
            } => tx
                .prepare_cached(
                    "INSERT INTO production_batches
                       (dev, batch, product, gtin, product_code, produced_on, expires_on, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (dev, batch) DO UPDATE SET product = excluded.product,
                         gtin = excluded.gtin, product_code = excluded.product_code,
                         produced_on = excluded.produced_on, expires_on = excluded.expires_on,
                         seq = excluded.seq
                     WHERE excluded.seq > production_batches.seq",
                )?
                .execute(params![
                    dev,
                    batch,
                    product,
                    gtin,
                    product_code,
                    produced_on,
                    expires_on,
                    seq
                ])?,
            CodeRow::Product {
                product_id,
                name,
                gtin,
            } => tx
                .prepare_cached(
                    "INSERT INTO products (dev, product_id, name, gtin, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (dev, product_id) DO UPDATE SET name = excluded.name,
                         gtin = excluded.gtin, seq = excluded.seq
                     WHERE excluded.seq > products.seq",
                )?
                .execute(params![dev, product_id, name, gtin, seq])?,
        };
    }
    Ok(())
}

/// See [`crate::store::CloudStore::product_code`].
pub(super) fn product_code(
    conn: &Connection,
    scanned: &ScannedCode,
) -> StoreResult<Option<ProductCodeView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.dev, d.id, d.entity, d.market, d.code_key, t.id, t.body
         FROM code_templates t JOIN devices d ON d.key = t.dev
         WHERE t.issuer = ?1 AND t.number = ?2 ORDER BY t.dev",
    )?;
    let rows = stmt
        .query_map(params![scanned.issuer, scanned.number], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut candidates = Vec::with_capacity(rows.len());
    for (dev, id, entity, market, code_key, template_id, body) in rows {
        candidates.push(Candidate {
            dev,
            device: DeviceId::new(id)
                .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?,
            entity,
            market,
            code_key,
            template_id,
            body,
        });
    }
    for d in codes::decode_all(scanned, candidates) {
        if let Some(facts) = serial_facts(conn, &d)? {
            return codes::view(d, &scanned.token, facts).map(Some);
        }
    }
    Ok(None)
}

/// The allocation, toggle, batch and product name of a decoded serial; `None` when the serial
/// was never allocated.
fn serial_facts(conn: &Connection, d: &Decoded) -> StoreResult<Option<SerialFacts>> {
    let dev = d.candidate.dev;
    let pool = d.template.id.as_str();
    let Ok(serial) = i64::try_from(d.code.serial) else {
        return Ok(None);
    };
    // Allocations are disjoint: the one starting at or below the serial is the only candidate.
    let alloc: Option<(i64, Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT last, batch, seq FROM code_allocations
             WHERE dev = ?1 AND pool = ?2 AND first <= ?3 ORDER BY first DESC LIMIT 1",
        )?
        .query_row(params![dev, pool, serial], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((_, allocation_batch, allocated_seq)) = alloc.filter(|a| a.0 >= serial) else {
        return Ok(None);
    };
    let toggle: Option<(bool, Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT disabled, reason, seq FROM code_toggles
             WHERE dev = ?1 AND pool = ?2 AND first <= ?3 AND last >= ?3
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![dev, pool, serial], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let batch_name = d.code.vars.batch.clone().or(allocation_batch.clone());
    let batch: Option<BatchFacts> = match &batch_name {
        Some(b) => conn
            .prepare_cached(
                "SELECT product, produced_on, expires_on FROM production_batches
                 WHERE dev = ?1 AND batch = ?2",
            )?
            .query_row(params![dev, b], |r| {
                Ok(BatchFacts {
                    product: r.get(0)?,
                    produced_on: r.get(1)?,
                    expires_on: r.get(2)?,
                })
            })
            .optional()?,
        None => None,
    };
    let (gtin, product_code) = codes::template_product(&d.template);
    let mut by_id =
        conn.prepare_cached("SELECT name FROM products WHERE dev = ?1 AND product_id = ?2")?;
    let mut name: Option<String> = None;
    for id in [batch.as_ref().map(|b| b.product.clone()), product_code]
        .into_iter()
        .flatten()
    {
        if name.is_none() {
            name = by_id.query_row(params![dev, id], |r| r.get(0)).optional()?;
        }
    }
    if let (None, Some(g)) = (&name, gtin) {
        name = conn
            .prepare_cached(
                "SELECT name FROM products WHERE dev = ?1 AND gtin = ?2 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![dev, g], |r| r.get(0))
            .optional()?;
    }
    Ok(Some(SerialFacts {
        allocation_batch,
        allocated_seq,
        toggle,
        batch,
        product_name: name,
    }))
}
