//! Queries for the views, the operator commands and re-export, on pooled connections with
//! cached prepared statements. Mirrors `sqlite/read.rs` query for query.

use super::write::digest;
use super::{to_i64, to_u64};
use crate::store::{
    Alert, DeviceRecord, DeviceStatus, QuarantineInfo, StoreError, StoreResult, StoreStats,
    TicketView, UpstreamPurchase, VoidInfo,
};
use deadpool_postgres::ClientWrapper;
use std::collections::HashMap;
use std::ops::RangeInclusive;
use tokio_postgres::Row;
use trace_core::{DeviceId, Entry, Event, HashAlg, Timestamp};

/// The device's row key and hash algorithm.
pub(super) async fn device_key(
    c: &ClientWrapper,
    id: &DeviceId,
) -> StoreResult<Option<(i64, HashAlg)>> {
    let stmt = c
        .prepare_cached("SELECT key, hash_alg FROM devices WHERE id = $1")
        .await?;
    let Some(row) = c.query_opt(&stmt, &[&id.as_str()]).await? else {
        return Ok(None);
    };
    let alg: String = row.get(1);
    Ok(Some((
        row.get(0),
        alg.parse().map_err(StoreError::Corrupt)?,
    )))
}

async fn dev_key(c: &ClientWrapper, id: &DeviceId) -> StoreResult<i64> {
    Ok(device_key(c, id)
        .await?
        .ok_or_else(|| StoreError::UnknownDevice(id.clone()))?
        .0)
}

fn device_id(s: String) -> StoreResult<DeviceId> {
    DeviceId::new(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn device_no(v: i64) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("device number {v}")))
}

pub(super) async fn get_device(
    c: &ClientWrapper,
    id: &DeviceId,
) -> StoreResult<Option<DeviceRecord>> {
    let stmt = c
        .prepare_cached(
            "SELECT entity, device_no, public_key, code_key, hash_alg, market, stall_no
             FROM devices WHERE id = $1",
        )
        .await?;
    let Some(r) = c.query_opt(&stmt, &[&id.as_str()]).await? else {
        return Ok(None);
    };
    let code_key: Vec<u8> = r.get(3);
    let alg: String = r.get(4);
    Ok(Some(DeviceRecord {
        id: id.clone(),
        entity: r.get(0),
        device_no: device_no(r.get(1))?,
        public_key: r.get(2),
        code_key: code_key
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("code key of {id} is not 32 bytes")))?,
        hash_alg: alg.parse().map_err(StoreError::Corrupt)?,
        market: r.get(5),
        stall_no: r.get(6),
    }))
}

pub(super) async fn list_devices(c: &ClientWrapper) -> StoreResult<Vec<DeviceStatus>> {
    let mut gaps: HashMap<i64, Vec<(u64, u64)>> = HashMap::new();
    let stmt = c
        .prepare_cached("SELECT dev, first, last FROM gaps ORDER BY dev, first")
        .await?;
    for r in c.query(&stmt, &[]).await? {
        gaps.entry(r.get(0))
            .or_default()
            .push((to_u64(r.get(1))?, to_u64(r.get(2))?));
    }
    let stmt = c
        .prepare_cached(
            "SELECT d.key, d.id, d.entity, s.hwm, s.head_hash, s.max_seq,
                    s.quarantined_at IS NOT NULL, s.online, s.last_seen, s.entry_count, s.lag_ms,
                    s.quarantine_count
             FROM devices d JOIN device_state s ON s.dev = d.key ORDER BY d.id",
        )
        .await?;
    let mut out = Vec::new();
    for r in c.query(&stmt, &[]).await? {
        let key: i64 = r.get(0);
        let head: Option<Vec<u8>> = r.get(4);
        out.push(DeviceStatus {
            id: device_id(r.get(1))?,
            entity: r.get(2),
            hwm: to_u64(r.get(3))?,
            head_hash: head.as_deref().map(digest).transpose()?,
            max_seq: to_u64(r.get(5))?,
            missing: gaps.remove(&key).unwrap_or_default(),
            quarantined: r.get(6),
            online: r.get(7),
            last_seen: r.get::<_, Option<i64>>(8).map(Timestamp),
            entries: to_u64(r.get(9))?,
            lag_ms: r.get(10),
            quarantined_entries: to_u64(r.get(11))?,
        });
    }
    Ok(out)
}

pub(super) async fn ticket(c: &ClientWrapper, code: &str) -> StoreResult<Option<TicketView>> {
    // The sale, its device and its first void in one round trip.
    let stmt = c
        .prepare_cached(
            "SELECT t.dev, t.seq, d.id, d.device_no, d.entity, e.at, e.event, d.market,
                    d.stall_no, v.seq, v.reason
             FROM tickets t
             JOIN devices d ON d.key = t.dev
             JOIN entries e ON e.dev = t.dev AND e.seq = t.seq
             LEFT JOIN LATERAL (
                 SELECT seq, reason FROM voids
                 WHERE dev = t.dev AND target_seq = t.seq ORDER BY seq LIMIT 1
             ) v ON TRUE
             WHERE t.code = $1",
        )
        .await?;
    let Some(r) = c.query_opt(&stmt, &[&code]).await? else {
        return Ok(None);
    };
    let (dev, seq): (i64, i64) = (r.get(0), r.get(1));
    let event: String = r.get(6);
    let Event::SaleTicket(sale) = parse_event(&event)? else {
        return Err(StoreError::Corrupt(format!(
            "ticket {code} points at a non-sale entry"
        )));
    };
    let voided = match r.get::<_, Option<i64>>(9) {
        Some(s) => Some(VoidInfo {
            seq: to_u64(s)?,
            reason: r.get(10),
        }),
        None => None,
    };

    // Per line: the latest purchase before the sale of the line's batch, else of its product,
    // with the purchase's event for its certificates.
    let by_batch = c
        .prepare_cached(
            "SELECT p.seq, p.at, p.supplier, p.product, p.batch, p.origin, p.upstream_code, e.event
             FROM purchases p JOIN entries e ON e.dev = p.dev AND e.seq = p.seq
             WHERE p.dev = $1 AND p.batch = $2 AND p.product = $3 AND p.seq < $4
             ORDER BY p.seq DESC LIMIT 1",
        )
        .await?;
    let by_product = c
        .prepare_cached(
            "SELECT p.seq, p.at, p.supplier, p.product, p.batch, p.origin, p.upstream_code, e.event
             FROM purchases p JOIN entries e ON e.dev = p.dev AND e.seq = p.seq
             WHERE p.dev = $1 AND p.product = $2 AND p.seq < $3
             ORDER BY p.seq DESC LIMIT 1",
        )
        .await?;
    let mut upstream = Vec::new();
    for (line, l) in sale.lines.iter().enumerate() {
        let mut found = match &l.batch {
            Some(b) => c.query_opt(&by_batch, &[&dev, b, &l.product, &seq]).await?,
            None => None,
        };
        if found.is_none() {
            found = c.query_opt(&by_product, &[&dev, &l.product, &seq]).await?;
        }
        if let Some(p) = found {
            upstream.push(purchase(line, &p)?);
        }
    }
    Ok(Some(TicketView {
        code: code.to_string(),
        device: device_id(r.get(2))?,
        device_no: device_no(r.get(3))?,
        entity: r.get(4),
        market: r.get(7),
        stall_no: r.get(8),
        seq: to_u64(seq)?,
        at: Timestamp(r.get(5)),
        lines: sale.lines,
        total: sale.total,
        payment: sale.payment,
        voided,
        upstream,
    }))
}

fn purchase(line: usize, r: &Row) -> StoreResult<UpstreamPurchase> {
    let event: String = r.get(7);
    let certificates = match parse_event(&event)? {
        Event::Purchase(p) => p.certificates,
        _ => Vec::new(),
    };
    Ok(UpstreamPurchase {
        line,
        seq: to_u64(r.get(0))?,
        at: Timestamp(r.get(1)),
        supplier: r.get(2),
        product: r.get(3),
        batch: r.get(4),
        origin: r.get(5),
        upstream_code: r.get(6),
        certificates,
    })
}

pub(super) async fn entries(
    c: &ClientWrapper,
    device: &DeviceId,
    range: RangeInclusive<u64>,
) -> StoreResult<Vec<Entry>> {
    let dev = dev_key(c, device).await?;
    let stmt = c
        .prepare_cached(
            "SELECT seq, id, at, v, event, prev_hash, hash FROM entries
             WHERE dev = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
        )
        .await?;
    let rows = c
        .query(
            &stmt,
            &[&dev, &to_i64(*range.start()), &to_i64(*range.end())],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.get(1);
        let event: String = r.get(4);
        let prev: Vec<u8> = r.get(5);
        let hash: Vec<u8> = r.get(6);
        let v: i32 = r.get(3);
        out.push(Entry {
            device: device.clone(),
            seq: to_u64(r.get(0))?,
            id: id
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("entry id {id:?}: {e}")))?,
            at: Timestamp(r.get(2)),
            v: u16::try_from(v).map_err(|_| StoreError::Corrupt(format!("entry version {v}")))?,
            event: parse_event(&event)?,
            prev_hash: digest(&prev)?,
            hash: digest(&hash)?,
        });
    }
    Ok(out)
}

pub(super) async fn missing(c: &ClientWrapper, device: &DeviceId) -> StoreResult<Vec<(u64, u64)>> {
    let dev = dev_key(c, device).await?;
    let stmt = c
        .prepare_cached("SELECT first, last FROM gaps WHERE dev = $1 ORDER BY first")
        .await?;
    c.query(&stmt, &[&dev])
        .await?
        .iter()
        .map(|r| Ok((to_u64(r.get(0))?, to_u64(r.get(1))?)))
        .collect()
}

pub(super) async fn stats(c: &ClientWrapper) -> StoreResult<StoreStats> {
    let stmt = c
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM devices),
                    (SELECT COALESCE(SUM(entry_count), 0)::bigint FROM device_state),
                    (SELECT COALESCE(SUM(ticket_count), 0)::bigint FROM device_state),
                    (SELECT COALESCE(SUM(purchase_count), 0)::bigint FROM device_state),
                    (SELECT COUNT(*) FROM device_state WHERE quarantined_at IS NOT NULL),
                    (SELECT COALESCE(SUM(quarantine_count), 0)::bigint FROM device_state),
                    (SELECT COUNT(*) FROM gaps),
                    (SELECT COALESCE(SUM(last - first + 1), 0)::bigint FROM gaps),
                    (SELECT COUNT(*) FROM alerts)",
        )
        .await?;
    let r = c.query_one(&stmt, &[]).await?;
    let n = |i: usize| u64::try_from(r.get::<_, i64>(i)).unwrap_or(0);
    Ok(StoreStats {
        devices: n(0),
        entries: n(1),
        tickets: n(2),
        purchases: n(3),
        quarantined_devices: n(4),
        quarantined_entries: n(5),
        missing_ranges: n(6),
        missing_entries: n(7),
        alerts: n(8),
    })
}

pub(super) async fn quarantines(c: &ClientWrapper) -> StoreResult<Vec<QuarantineInfo>> {
    // The cause is the first chain alert after the device's last release (if any).
    let stmt = c
        .prepare_cached(
            "SELECT d.id, s.quarantined_at, s.hwm, s.quarantine_count,
                    (SELECT MIN(seq) FROM quarantine q WHERE q.dev = d.key),
                    (SELECT MAX(seq) FROM quarantine q WHERE q.dev = d.key),
                    a.id, a.kind, a.seq, a.detail, a.created_at
             FROM devices d JOIN device_state s ON s.dev = d.key
             LEFT JOIN LATERAL (
                 SELECT id, kind, seq, detail, created_at FROM alerts
                 WHERE dev = d.key
                   AND kind IN ('bad_hash', 'conflict', 'chain_break', 'after_break')
                   AND id > COALESCE((SELECT MAX(id) FROM alerts
                                      WHERE dev = d.key AND kind = 'quarantine_released'), 0)
                 ORDER BY id LIMIT 1
             ) a ON TRUE
             WHERE s.quarantined_at IS NOT NULL
             ORDER BY d.id",
        )
        .await?;
    let mut out = Vec::new();
    for r in c.query(&stmt, &[]).await? {
        let device = device_id(r.get(0))?;
        let held_seqs = match (r.get::<_, Option<i64>>(4), r.get::<_, Option<i64>>(5)) {
            (Some(a), Some(b)) => Some((to_u64(a)?, to_u64(b)?)),
            _ => None,
        };
        let cause = match r.get::<_, Option<i64>>(6) {
            Some(id) => Some(Alert {
                id,
                device: device.clone(),
                kind: r.get(7),
                seq: r.get::<_, Option<i64>>(8).map(to_u64).transpose()?,
                detail: r.get(9),
                at: Timestamp(r.get(10)),
            }),
            None => None,
        };
        out.push(QuarantineInfo {
            device,
            since: Timestamp(r.get(1)),
            hwm: to_u64(r.get(2))?,
            held_entries: to_u64(r.get(3))?,
            held_seqs,
            cause,
        });
    }
    Ok(out)
}

pub(super) async fn alerts(c: &ClientWrapper, after: i64, limit: u32) -> StoreResult<Vec<Alert>> {
    let stmt = c
        .prepare_cached(
            "SELECT a.id, d.id, a.kind, a.seq, a.detail, a.created_at
             FROM alerts a JOIN devices d ON d.key = a.dev
             WHERE a.id > $1 ORDER BY a.id LIMIT $2",
        )
        .await?;
    let mut out = Vec::new();
    for r in c.query(&stmt, &[&after, &i64::from(limit)]).await? {
        out.push(Alert {
            id: r.get(0),
            device: device_id(r.get(1))?,
            kind: r.get(2),
            seq: r.get::<_, Option<i64>>(3).map(to_u64).transpose()?,
            detail: r.get(4),
            at: Timestamp(r.get(5)),
        });
    }
    Ok(out)
}

fn parse_event(json: &str) -> StoreResult<Event> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("stored event: {e}")))
}
