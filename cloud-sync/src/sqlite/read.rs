//! Queries for the views, the operator commands and re-export. Run on pooled read-only
//! connections; each is a handful of primary-key or index lookups so `/t/{code}` stays fast
//! with millions of entries stored.

use super::write::digest;
use super::{device_key, to_i64, to_u64};
use crate::store::{
    Alert, DeviceRecord, DeviceStatus, QuarantineInfo, StoreError, StoreResult, StoreStats,
    TicketView, UpstreamPurchase, VoidInfo,
};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::ops::RangeInclusive;
use trace_core::{DeviceId, Entry, Event, Timestamp};

/// entity, device_no, public_key, code_key, hash_alg, market, stall_no
type DeviceRow = (String, u32, Vec<u8>, Vec<u8>, String, String, String);

pub(super) fn get_device(conn: &Connection, id: &DeviceId) -> StoreResult<Option<DeviceRecord>> {
    let row: Option<DeviceRow> = conn
        .prepare_cached(
            "SELECT entity, device_no, public_key, code_key, hash_alg, market, stall_no
             FROM devices WHERE id = ?1",
        )?
        .query_row([id.as_str()], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .optional()?;
    let Some((entity, device_no, public_key, code_key, alg, market, stall_no)) = row else {
        return Ok(None);
    };
    Ok(Some(DeviceRecord {
        id: id.clone(),
        entity,
        device_no,
        public_key,
        code_key: code_key
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("code key of {id} is not 32 bytes")))?,
        hash_alg: alg.parse().map_err(StoreError::Corrupt)?,
        market,
        stall_no,
    }))
}

pub(super) fn list_devices(conn: &Connection) -> StoreResult<Vec<DeviceStatus>> {
    let mut gaps: HashMap<i64, Vec<(u64, u64)>> = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT dev, first, last FROM gaps ORDER BY dev, first")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        gaps.entry(r.get(0)?)
            .or_default()
            .push((to_u64(r.get(1)?)?, to_u64(r.get(2)?)?));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT d.key, d.id, d.entity, s.hwm, s.head_hash, s.max_seq, s.quarantined_at IS NOT NULL,
                s.online, s.last_seen, s.entry_count, s.lag_ms, s.quarantine_count
         FROM devices d JOIN device_state s ON s.dev = d.key ORDER BY d.id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let key: i64 = r.get(0)?;
        let id: String = r.get(1)?;
        let head: Option<Vec<u8>> = r.get(4)?;
        out.push(DeviceStatus {
            id: DeviceId::new(id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            entity: r.get(2)?,
            hwm: to_u64(r.get(3)?)?,
            head_hash: head.as_deref().map(digest).transpose()?,
            max_seq: to_u64(r.get(5)?)?,
            missing: gaps.remove(&key).unwrap_or_default(),
            quarantined: r.get(6)?,
            online: r.get(7)?,
            last_seen: r.get::<_, Option<i64>>(8)?.map(Timestamp),
            entries: to_u64(r.get(9)?)?,
            lag_ms: r.get(10)?,
            quarantined_entries: to_u64(r.get(11)?)?,
        });
    }
    Ok(out)
}

pub(super) fn ticket(conn: &Connection, code: &str) -> StoreResult<Option<TicketView>> {
    // The sale, its device and its first void in one statement (the void columns are index
    // lookups on voids_target that almost always find nothing).
    type TicketRow = (
        i64,
        i64,
        String,
        u32,
        String,
        i64,
        String,
        String,
        String,
        Option<i64>,
        Option<String>,
    );
    let row: Option<TicketRow> = conn
        .prepare_cached(
            "SELECT t.dev, t.seq, d.id, d.device_no, d.entity, e.at, e.event, d.market, d.stall_no,
                    (SELECT v.seq FROM voids v WHERE v.dev = t.dev AND v.target_seq = t.seq
                     ORDER BY v.seq LIMIT 1),
                    (SELECT v.reason FROM voids v WHERE v.dev = t.dev AND v.target_seq = t.seq
                     ORDER BY v.seq LIMIT 1)
             FROM tickets t
             JOIN devices d ON d.key = t.dev
             JOIN entries e ON e.dev = t.dev AND e.seq = t.seq
             WHERE t.code = ?1",
        )?
        .query_row([code], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })
        .optional()?;
    let Some((dev, seq, device, device_no, entity, at, event, market, stall_no, void_seq, reason)) =
        row
    else {
        return Ok(None);
    };
    let Event::SaleTicket(sale) = parse_event(&event)? else {
        return Err(StoreError::Corrupt(format!(
            "ticket {code} points at a non-sale entry"
        )));
    };
    let voided = match void_seq {
        Some(s) => Some(VoidInfo {
            seq: to_u64(s)?,
            reason: reason.unwrap_or_default(),
        }),
        None => None,
    };

    // Per line: the latest purchase before the sale of the line's batch, else of its product,
    // with the purchase's event (its certificates live only there) in the same statement.
    let mut by_batch = conn.prepare_cached(
        "SELECT p.seq, p.at, p.supplier, p.product, p.batch, p.origin, p.upstream_code, e.event
         FROM purchases p JOIN entries e ON e.dev = p.dev AND e.seq = p.seq
         WHERE p.dev = ?1 AND p.batch = ?2 AND p.product = ?3 AND p.seq < ?4
         ORDER BY p.seq DESC LIMIT 1",
    )?;
    let mut by_product = conn.prepare_cached(
        "SELECT p.seq, p.at, p.supplier, p.product, p.batch, p.origin, p.upstream_code, e.event
         FROM purchases p JOIN entries e ON e.dev = p.dev AND e.seq = p.seq
         WHERE p.dev = ?1 AND p.product = ?2 AND p.seq < ?3
         ORDER BY p.seq DESC LIMIT 1",
    )?;
    let mut upstream: Vec<UpstreamPurchase> = Vec::with_capacity(sale.lines.len());
    for (line, l) in sale.lines.iter().enumerate() {
        // Two lines of one sale with the same product and batch have the same answer.
        if let Some(same) = sale.lines[..line]
            .iter()
            .position(|o| o.product == l.product && o.batch == l.batch)
        {
            if let Some(mut p) = upstream.iter().find(|u| u.line == same).cloned() {
                p.line = line;
                upstream.push(p);
            }
            continue;
        }
        let map = |r: &rusqlite::Row<'_>| -> rusqlite::Result<(i64, String, UpstreamPurchase)> {
            Ok((
                r.get(0)?,
                r.get(7)?,
                UpstreamPurchase {
                    line,
                    seq: 0,
                    at: Timestamp(r.get(1)?),
                    supplier: r.get(2)?,
                    product: r.get(3)?,
                    batch: r.get(4)?,
                    origin: r.get(5)?,
                    upstream_code: r.get(6)?,
                    certificates: Vec::new(),
                },
            ))
        };
        let found = match &l.batch {
            Some(b) => by_batch
                .query_row(params![dev, b, l.product, seq], map)
                .optional()?,
            None => None,
        };
        let found = match found {
            Some(f) => Some(f),
            None => by_product
                .query_row(params![dev, l.product, seq], map)
                .optional()?,
        };
        if let Some((pseq, event, mut p)) = found {
            p.seq = to_u64(pseq)?;
            if let Event::Purchase(purchase) = parse_event(&event)? {
                p.certificates = purchase.certificates;
            }
            upstream.push(p);
        }
    }
    Ok(Some(TicketView {
        code: code.to_string(),
        device: DeviceId::new(device).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        device_no,
        entity,
        market,
        stall_no,
        seq: to_u64(seq)?,
        at: Timestamp(at),
        lines: sale.lines,
        total: sale.total,
        payment: sale.payment,
        voided,
        upstream,
    }))
}

pub(super) fn entries(
    conn: &Connection,
    device: &DeviceId,
    range: RangeInclusive<u64>,
) -> StoreResult<Vec<Entry>> {
    let (dev, _) =
        device_key(conn, device)?.ok_or_else(|| StoreError::UnknownDevice(device.clone()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, id, at, v, event, prev_hash, hash FROM entries
         WHERE dev = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![dev, to_i64(*range.start()), to_i64(*range.end())])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(1)?;
        let event: String = r.get(4)?;
        let prev: Vec<u8> = r.get(5)?;
        let hash: Vec<u8> = r.get(6)?;
        out.push(Entry {
            device: device.clone(),
            seq: to_u64(r.get(0)?)?,
            id: id
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("entry id {id:?}: {e}")))?,
            at: Timestamp(r.get(2)?),
            v: r.get(3)?,
            event: parse_event(&event)?,
            prev_hash: digest(&prev)?,
            hash: digest(&hash)?,
        });
    }
    Ok(out)
}

pub(super) fn missing(conn: &Connection, device: &DeviceId) -> StoreResult<Vec<(u64, u64)>> {
    let (dev, _) =
        device_key(conn, device)?.ok_or_else(|| StoreError::UnknownDevice(device.clone()))?;
    let mut stmt =
        conn.prepare_cached("SELECT first, last FROM gaps WHERE dev = ?1 ORDER BY first")?;
    let mut rows = stmt.query([dev])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push((to_u64(r.get(0)?)?, to_u64(r.get(1)?)?));
    }
    Ok(out)
}

pub(super) fn stats(conn: &Connection) -> StoreResult<StoreStats> {
    let n = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<u64> {
        Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
    };
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM devices),
                    (SELECT COALESCE(SUM(entry_count), 0) FROM device_state),
                    (SELECT COALESCE(SUM(ticket_count), 0) FROM device_state),
                    (SELECT COALESCE(SUM(purchase_count), 0) FROM device_state),
                    (SELECT COUNT(*) FROM device_state WHERE quarantined_at IS NOT NULL),
                    (SELECT COALESCE(SUM(quarantine_count), 0) FROM device_state),
                    (SELECT COUNT(*) FROM gaps),
                    (SELECT COALESCE(SUM(last - first + 1), 0) FROM gaps),
                    (SELECT COUNT(*) FROM alerts)",
        )?
        .query_row([], |r| {
            Ok(StoreStats {
                devices: n(r, 0)?,
                entries: n(r, 1)?,
                tickets: n(r, 2)?,
                purchases: n(r, 3)?,
                quarantined_devices: n(r, 4)?,
                quarantined_entries: n(r, 5)?,
                missing_ranges: n(r, 6)?,
                missing_entries: n(r, 7)?,
                alerts: n(r, 8)?,
            })
        })?)
}

pub(super) fn alerts(conn: &Connection, after: i64, limit: u32) -> StoreResult<Vec<Alert>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, d.id, a.kind, a.seq, a.detail, a.created_at
         FROM alerts a JOIN devices d ON d.key = a.dev
         WHERE a.id > ?1 ORDER BY a.id LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![after, limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let device: String = r.get(1)?;
        out.push(Alert {
            id: r.get(0)?,
            device: DeviceId::new(device).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            kind: r.get(2)?,
            seq: r.get::<_, Option<i64>>(3)?.map(to_u64).transpose()?,
            detail: r.get(4)?,
            at: Timestamp(r.get(5)?),
        });
    }
    Ok(out)
}

pub(super) fn quarantines(conn: &Connection) -> StoreResult<Vec<QuarantineInfo>> {
    // The cause is the first chain alert after the device's last release (if any).
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, s.quarantined_at, s.hwm, s.quarantine_count,
                (SELECT MIN(seq) FROM quarantine q WHERE q.dev = d.key),
                (SELECT MAX(seq) FROM quarantine q WHERE q.dev = d.key),
                a.id, a.kind, a.seq, a.detail, a.created_at
         FROM devices d JOIN device_state s ON s.dev = d.key
         LEFT JOIN alerts a ON a.id = (
             SELECT id FROM alerts
             WHERE dev = d.key
               AND kind IN ('bad_hash', 'conflict', 'chain_break', 'after_break')
               AND id > COALESCE((SELECT MAX(id) FROM alerts
                                  WHERE dev = d.key AND kind = 'quarantine_released'), 0)
             ORDER BY id LIMIT 1)
         WHERE s.quarantined_at IS NOT NULL
         ORDER BY d.id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let device: String = r.get(0)?;
        let device = DeviceId::new(device).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let held_seqs = match (r.get::<_, Option<i64>>(4)?, r.get::<_, Option<i64>>(5)?) {
            (Some(a), Some(b)) => Some((to_u64(a)?, to_u64(b)?)),
            _ => None,
        };
        let cause = match r.get::<_, Option<i64>>(6)? {
            Some(id) => Some(Alert {
                id,
                device: device.clone(),
                kind: r.get(7)?,
                seq: r.get::<_, Option<i64>>(8)?.map(to_u64).transpose()?,
                detail: r.get(9)?,
                at: Timestamp(r.get(10)?),
            }),
            None => None,
        };
        out.push(QuarantineInfo {
            device,
            since: Timestamp(r.get(1)?),
            hwm: to_u64(r.get(2)?)?,
            held_entries: to_u64(r.get(3)?)?,
            held_seqs,
            cause,
        });
    }
    Ok(out)
}

fn parse_event(json: &str) -> StoreResult<Event> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("stored event: {e}")))
}
