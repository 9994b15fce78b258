//! Everything that changes the SQLite store. Runs only on the writer thread.
//!
//! Ingest follows [`crate::ingest`]: validate, load the device's state, fetch the few stored
//! links the rules need, classify, then write entries, quarantine, alert, projections and the
//! new state in one IMMEDIATE transaction. Any error rolls all of it back, so the ack the
//! caller derives from the outcome always describes what is durably stored.

use super::{device_key, to_i64, to_u64};
use crate::ingest::{self, DeviceIngestState, Link, Verdict, Verified};
use crate::ranges::SeqRanges;
use crate::store::{
    DeviceRecord, IngestOutcome, MAX_DEVICE_NO, ReleaseOutcome, StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::HashMap;
use trace_core::{DeviceId, Digest, Entry, Event, Timestamp};

pub(super) fn register_device(conn: &mut Connection, rec: &DeviceRecord) -> StoreResult<()> {
    if rec.device_no > MAX_DEVICE_NO {
        return Err(StoreError::InvalidDeviceNo(rec.device_no));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if device_key(&tx, &rec.id)?.is_some() {
        return Err(StoreError::DeviceExists(rec.id.clone()));
    }
    let taken: Option<i64> = tx
        .query_row(
            "SELECT key FROM devices WHERE device_no = ?1",
            [rec.device_no],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::DeviceNoTaken(rec.device_no));
    }
    tx.execute(
        "INSERT INTO devices (id, entity, device_no, public_key, code_key, hash_alg, registered_at,
                              market, stall_no)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            rec.id.as_str(),
            rec.entity,
            rec.device_no,
            rec.public_key,
            rec.code_key.as_slice(),
            rec.hash_alg.as_str(),
            Timestamp::now().0,
            rec.market,
            rec.stall_no
        ],
    )?;
    let key = tx.last_insert_rowid();
    tx.execute("INSERT INTO device_state (dev) VALUES (?1)", [key])?;
    tx.commit()?;
    Ok(())
}

pub(super) fn set_online(
    conn: &mut Connection,
    device: &DeviceId,
    online: bool,
) -> StoreResult<()> {
    let n = conn.execute(
        "UPDATE device_state SET online = ?1, last_seen = ?2
         WHERE dev = (SELECT key FROM devices WHERE id = ?3)",
        params![online, Timestamp::now().0, device.as_str()],
    )?;
    if n == 0 {
        return Err(StoreError::UnknownDevice(device.clone()));
    }
    Ok(())
}

/// One batch in its own IMMEDIATE transaction.
pub(super) fn ingest(
    conn: &mut Connection,
    device: &DeviceId,
    batch: Verified,
) -> StoreResult<IngestOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = ingest_in(&tx, device, batch)?;
    tx.commit()?;
    Ok(out)
}

/// Several batches of one device, in order, in ONE transaction (group commit): each batch runs
/// in its own savepoint, so a failing batch rolls back alone and reports its error exactly as
/// [`ingest`] would, while the others are committed together with one disk flush. If the
/// final commit fails, every batch reports the failure (nothing of the group is stored).
pub(super) fn ingest_group(
    conn: &mut Connection,
    device: &DeviceId,
    batches: Vec<StoreResult<Verified>>,
) -> Vec<StoreResult<IngestOutcome>> {
    let n = batches.len();
    let all_failed = |what: &str, e: &dyn std::fmt::Display| {
        (0..n)
            .map(|_| Err(StoreError::Task(format!("{what}: {e}"))))
            .collect()
    };
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return all_failed("cannot begin the group transaction", &e),
    };
    let mut out = Vec::with_capacity(n);
    for batch in batches {
        let result = batch.and_then(|b| {
            let sp = tx.savepoint()?;
            let r = ingest_in(&sp, device, b)?;
            sp.commit()?;
            Ok(r)
        });
        out.push(result);
    }
    match tx.commit() {
        Ok(()) => out,
        Err(e) => all_failed("group commit failed", &e),
    }
}

/// The body of an ingest, inside the caller's transaction or savepoint.
fn ingest_in(tx: &Connection, device: &DeviceId, batch: Verified) -> StoreResult<IngestOutcome> {
    let Verified {
        entries,
        alg: verified_with,
        mut valid,
        events,
    } = batch;
    let now = Timestamp::now().0;
    let (dev, alg) =
        device_key(tx, device)?.ok_or_else(|| StoreError::UnknownDevice(device.clone()))?;
    if alg != verified_with {
        // The caller's cached algorithm is stale; the registry in this transaction decides.
        valid = ingest::verify(alg, &entries);
    }
    let (old, old_hwm, old_head) = load_state(tx, dev)?;
    let mut state = old.clone();
    let links = fetch_links(tx, dev, &ingest::needed_links(&state.ranges, &entries))?;
    let classified = ingest::classify(&mut state, &valid, &entries, links);

    let (mut stored, mut duplicates, mut quarantined) = (0u32, 0u32, 0u32);
    let (mut tickets, mut purchases, mut aside_rows) = (0u32, 0u32, 0usize);
    let mut newest_at: Option<i64> = None;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO entries (dev, seq, id, at, v, kind, event, prev_hash, hash, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut aside = tx.prepare_cached(
            "INSERT OR IGNORE INTO quarantine (dev, seq, hash, reason, entry, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for ((e, verdict), event) in entries.iter().zip(&classified.verdicts).zip(&events) {
            match verdict {
                Verdict::Store => {
                    insert.execute(params![
                        dev,
                        to_i64(e.seq),
                        e.id.to_string(),
                        e.at.0,
                        e.v,
                        e.event.kind(),
                        event,
                        e.prev_hash.0.as_slice(),
                        e.hash.0.as_slice(),
                        now
                    ])?;
                    match project(tx, dev, e, now)? {
                        Projected::Ticket => tickets += 1,
                        Projected::Purchase => purchases += 1,
                        Projected::Other => {}
                    }
                    stored += 1;
                    newest_at = newest_at.max(Some(e.at.0));
                }
                Verdict::Duplicate => duplicates += 1,
                Verdict::Quarantine(reason) => {
                    let whole = serde_json::to_string(e)
                        .map_err(|err| StoreError::Corrupt(format!("entry encoding: {err}")))?;
                    aside_rows += aside.execute(params![
                        dev,
                        to_i64(e.seq),
                        e.hash.0.as_slice(),
                        reason.as_str(),
                        whole,
                        now
                    ])?;
                    quarantined += 1;
                }
            }
        }
    }
    if let Some((seq, reason, detail)) = &classified.quarantined_by {
        tracing::warn!(device = %device, seq, reason = reason.as_str(), "device quarantined: {detail}");
        alert(tx, dev, reason.as_str(), Some(*seq), detail, now)?;
    }

    let (removed, added) = state.ranges.gap_changes(&old.ranges);
    {
        let mut del = tx.prepare_cached("DELETE FROM gaps WHERE dev = ?1 AND first = ?2")?;
        for first in removed {
            del.execute(params![dev, to_i64(first)])?;
        }
        let mut add =
            tx.prepare_cached("INSERT INTO gaps (dev, first, last) VALUES (?1, ?2, ?3)")?;
        for (first, last) in added {
            add.execute(params![dev, to_i64(first), to_i64(last)])?;
        }
    }
    let hwm = state.ranges.hwm();
    let head_hash = if hwm == old_hwm {
        old_head
    } else {
        let h: Vec<u8> = tx.query_row(
            "SELECT hash FROM entries WHERE dev = ?1 AND seq = ?2",
            params![dev, to_i64(hwm)],
            |r| r.get(0),
        )?;
        Some(digest(&h)?)
    };
    tx.prepare_cached(
        "UPDATE device_state SET hwm = ?2, head_hash = ?3, max_seq = ?4,
             entry_count = entry_count + ?5, last_seen = ?6, lag_ms = COALESCE(?7, lag_ms),
             quarantined_at = CASE WHEN ?8 THEN COALESCE(quarantined_at, ?6) END,
             ticket_count = ticket_count + ?9, purchase_count = purchase_count + ?10,
             quarantine_count = quarantine_count + ?11
         WHERE dev = ?1",
    )?
    .execute(params![
        dev,
        to_i64(hwm),
        head_hash.as_ref().map(|h| h.0.to_vec()),
        to_i64(state.ranges.max()),
        stored,
        now,
        newest_at.map(|at| now - at),
        state.quarantined,
        tickets,
        purchases,
        to_i64(aside_rows as u64)
    ])?;
    Ok(IngestOutcome {
        stored,
        duplicates,
        quarantined,
        hwm,
        head_hash,
        missing: state.ranges.missing(),
        device_quarantined: state.quarantined,
    })
}

/// The device's ingest state, plus its hwm and head hash as stored.
fn load_state(tx: &Connection, dev: i64) -> StoreResult<(DeviceIngestState, u64, Option<Digest>)> {
    let (hwm, head, max, quarantined): (i64, Option<Vec<u8>>, i64, bool) = tx
        .prepare_cached(
            "SELECT hwm, head_hash, max_seq, quarantined_at IS NOT NULL
             FROM device_state WHERE dev = ?1",
        )?
        .query_row([dev], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let mut gaps = Vec::new();
    let mut stmt =
        tx.prepare_cached("SELECT first, last FROM gaps WHERE dev = ?1 ORDER BY first")?;
    let mut rows = stmt.query([dev])?;
    while let Some(r) = rows.next()? {
        gaps.push((to_u64(r.get(0)?)?, to_u64(r.get(1)?)?));
    }
    let max = to_u64(max)?;
    let ranges = SeqRanges::from_parts(max, gaps).ok_or_else(|| {
        StoreError::Corrupt(format!("gap rows of device key {dev} are inconsistent"))
    })?;
    let head = head.as_deref().map(digest).transpose()?;
    Ok((
        DeviceIngestState {
            ranges,
            quarantined,
        },
        to_u64(hwm)?,
        head,
    ))
}

fn fetch_links(tx: &Connection, dev: i64, seqs: &[u64]) -> StoreResult<HashMap<u64, Link>> {
    let mut stmt =
        tx.prepare_cached("SELECT prev_hash, hash FROM entries WHERE dev = ?1 AND seq = ?2")?;
    let mut links = HashMap::with_capacity(seqs.len());
    for &seq in seqs {
        let (prev, hash): (Vec<u8>, Vec<u8>) = stmt
            .query_row(params![dev, to_i64(seq)], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| StoreError::Corrupt(format!("entry {seq} is counted but not stored")))?;
        links.insert(
            seq,
            Link {
                prev_hash: digest(&prev)?,
                hash: digest(&hash)?,
            },
        );
    }
    Ok(links)
}

/// Which counter a projected entry adds to (kept per device so `stats()` never counts rows).
enum Projected {
    Ticket,
    Purchase,
    Other,
}

/// Projections for the views, written with the entry.
fn project(tx: &Connection, dev: i64, e: &Entry, now: i64) -> StoreResult<Projected> {
    let seq = to_i64(e.seq);
    super::codes::project(tx, dev, seq, &e.event)?;
    #[allow(unreachable_patterns)] // the vocabulary grows; new kinds have no projection yet
    match &e.event {
        Event::SaleTicket(t) => {
            let fresh = tx
                .prepare_cached(
                    "INSERT INTO tickets (code, dev, seq) VALUES (?1, ?2, ?3)
                     ON CONFLICT (code) DO NOTHING",
                )?
                .execute(params![t.ticket_code, dev, seq])?;
            let projected = if fresh == 0 {
                // Codes are unique by construction; a collision is a bug or a forgery. The
                // first holder keeps the code so no page shows another stall's sale.
                let detail = format!(
                    "ticket code {} already belongs to another sale",
                    t.ticket_code
                );
                alert(tx, dev, "ticket_code_collision", Some(e.seq), &detail, now)?;
                Projected::Other
            } else {
                Projected::Ticket
            };
            let mut line = tx.prepare_cached(
                "INSERT INTO ticket_lines (dev, seq, line_no, product, batch, grams, amount)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (no, l) in t.lines.iter().enumerate() {
                line.execute(params![
                    dev,
                    seq,
                    to_i64(no as u64),
                    l.product,
                    l.batch,
                    l.grams.map(|g| g.0),
                    l.amount.0
                ])?;
            }
            Ok(projected)
        }
        Event::Purchase(p) => {
            tx.prepare_cached(
                "INSERT INTO purchases
                   (dev, seq, at, supplier, product, batch, grams, amount, origin, upstream_code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                dev,
                seq,
                e.at.0,
                p.supplier,
                p.product,
                p.batch,
                p.grams.map(|g| g.0),
                p.amount.0,
                p.origin,
                p.upstream_code
            ])?;
            Ok(Projected::Purchase)
        }
        Event::Void(v) => {
            tx.prepare_cached(
                "INSERT INTO voids (dev, seq, target_seq, reason) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![dev, seq, to_i64(v.target_seq), v.reason])?;
            Ok(Projected::Other)
        }
        _ => Ok(Projected::Other),
    }
}

fn alert(
    tx: &Connection,
    dev: i64,
    kind: &str,
    seq: Option<u64>,
    detail: &str,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO alerts (dev, kind, seq, detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![dev, kind, seq.map(to_i64), detail, now],
    )?;
    Ok(())
}

pub(super) fn digest(b: &[u8]) -> StoreResult<Digest> {
    Digest::from_slice(b).ok_or_else(|| StoreError::Corrupt(format!("hash of {} bytes", b.len())))
}

/// See [`crate::store::CloudStore::release_quarantine`].
pub(super) fn release_quarantine(
    conn: &mut Connection,
    device: &DeviceId,
    note: &str,
) -> StoreResult<ReleaseOutcome> {
    let now = Timestamp::now().0;
    // IMMEDIATE: the write lock is taken before reading the flag, so no batch of this device
    // commits between the check and the release (also across processes: the CLI and `serve`).
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (dev, hwm, quarantined): (i64, i64, bool) = tx
        .query_row(
            "SELECT d.key, s.hwm, s.quarantined_at IS NOT NULL
             FROM devices d JOIN device_state s ON s.dev = d.key WHERE d.id = ?1",
            [device.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::UnknownDevice(device.clone()))?;
    if !quarantined {
        return Err(StoreError::NotQuarantined(device.clone()));
    }
    let archived = tx.execute(
        "INSERT INTO quarantine_released (dev, seq, hash, reason, entry, received_at, released_at)
         SELECT dev, seq, hash, reason, entry, received_at, ?2 FROM quarantine WHERE dev = ?1",
        params![dev, now],
    )?;
    let deleted = tx.execute("DELETE FROM quarantine WHERE dev = ?1", [dev])?;
    if deleted != archived {
        return Err(StoreError::Corrupt(format!(
            "archived {archived} quarantined entries but removed {deleted}"
        )));
    }
    tx.execute(
        "UPDATE device_state SET quarantined_at = NULL, quarantine_count = 0 WHERE dev = ?1",
        [dev],
    )?;
    let hwm = to_u64(hwm)?;
    let archived = archived as u64;
    let detail = crate::store::release_detail(archived, hwm, note);
    alert(&tx, dev, "quarantine_released", None, &detail, now)?;
    let alert_id = tx.last_insert_rowid();
    tx.commit()?;
    tracing::warn!(device = %device, archived, hwm, "quarantine released by the operator");
    Ok(ReleaseOutcome {
        device: device.clone(),
        archived_entries: archived,
        hwm,
        alert_id,
    })
}
