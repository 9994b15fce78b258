//! Everything that changes the PostgreSQL store.
//!
//! Ingest follows [`crate::ingest`] exactly as the SQLite backend does; the differences are
//! PostgreSQL's: the device's state row is locked first (instances may share a device's
//! batches), links come in one `ANY` query, and rows go in as arrays through `UNNEST`, one
//! statement per table. Any error rolls the transaction back, so an ack derived from the
//! outcome always describes what is durably stored.

use super::{to_i64, to_u64};
use crate::ingest::{self, DeviceIngestState, Link, Verdict, Verified};
use crate::ranges::SeqRanges;
use crate::store::{
    DeviceRecord, IngestOutcome, MAX_DEVICE_NO, ReleaseOutcome, StoreError, StoreResult,
};
use deadpool_postgres::{ClientWrapper, Transaction};
use std::collections::{HashMap, HashSet};
use tokio_postgres::error::SqlState;
use trace_core::{DeviceId, Digest, Entry, Event, HashAlg, Timestamp};

pub(super) async fn register_device(
    client: &mut ClientWrapper,
    rec: &DeviceRecord,
) -> StoreResult<()> {
    if rec.device_no > MAX_DEVICE_NO {
        return Err(StoreError::InvalidDeviceNo(rec.device_no));
    }
    let tx = client.transaction().await?;
    let key: Result<i64, _> = tx
        .query_one(
            "INSERT INTO devices (id, entity, device_no, public_key, code_key, hash_alg,
                                  registered_at, market, stall_no)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING key",
            &[
                &rec.id.as_str(),
                &rec.entity,
                &i64::from(rec.device_no),
                &rec.public_key,
                &rec.code_key.as_slice(),
                &rec.hash_alg.as_str(),
                &Timestamp::now().0,
                &rec.market,
                &rec.stall_no,
            ],
        )
        .await
        .map(|r| r.get(0));
    let key = match key {
        Ok(k) => k,
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            // Which unique constraint says which conflict it is.
            let on_id = e
                .as_db_error()
                .and_then(|d| d.constraint())
                .is_some_and(|c| c.contains("_id_"));
            return Err(if on_id {
                StoreError::DeviceExists(rec.id.clone())
            } else {
                StoreError::DeviceNoTaken(rec.device_no)
            });
        }
        Err(e) => return Err(e.into()),
    };
    tx.execute("INSERT INTO device_state (dev) VALUES ($1)", &[&key])
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_online(
    client: &ClientWrapper,
    device: &DeviceId,
    online: bool,
) -> StoreResult<()> {
    let stmt = client
        .prepare_cached(
            "UPDATE device_state SET online = $1, last_seen = $2
             WHERE dev = (SELECT key FROM devices WHERE id = $3)",
        )
        .await?;
    let n = client
        .execute(&stmt, &[&online, &Timestamp::now().0, &device.as_str()])
        .await?;
    if n == 0 {
        return Err(StoreError::UnknownDevice(device.clone()));
    }
    Ok(())
}

/// The device's state row, locked for the rest of the transaction.
struct Locked {
    dev: i64,
    alg: HashAlg,
    state: DeviceIngestState,
    hwm: u64,
    head: Option<Digest>,
}

async fn lock_state(tx: &Transaction<'_>, device: &DeviceId) -> StoreResult<Locked> {
    let stmt = tx
        .prepare_cached(
            "SELECT d.key, d.hash_alg, s.hwm, s.head_hash, s.max_seq,
                    s.quarantined_at IS NOT NULL
             FROM devices d JOIN device_state s ON s.dev = d.key
             WHERE d.id = $1
             FOR UPDATE OF s",
        )
        .await?;
    let row = tx
        .query_opt(&stmt, &[&device.as_str()])
        .await?
        .ok_or_else(|| StoreError::UnknownDevice(device.clone()))?;
    let dev: i64 = row.get(0);
    let alg: String = row.get(1);
    let head: Option<Vec<u8>> = row.get(3);
    let max = to_u64(row.get(4))?;
    let stmt = tx
        .prepare_cached("SELECT first, last FROM gaps WHERE dev = $1 ORDER BY first")
        .await?;
    let mut gaps = Vec::new();
    for r in tx.query(&stmt, &[&dev]).await? {
        gaps.push((to_u64(r.get(0))?, to_u64(r.get(1))?));
    }
    let ranges = SeqRanges::from_parts(max, gaps).ok_or_else(|| {
        StoreError::Corrupt(format!("gap rows of device key {dev} are inconsistent"))
    })?;
    Ok(Locked {
        dev,
        alg: alg.parse().map_err(StoreError::Corrupt)?,
        state: DeviceIngestState {
            ranges,
            quarantined: row.get(5),
        },
        hwm: to_u64(row.get(2))?,
        head: head.as_deref().map(digest).transpose()?,
    })
}

async fn fetch_links(
    tx: &Transaction<'_>,
    dev: i64,
    seqs: &[u64],
) -> StoreResult<HashMap<u64, Link>> {
    let mut links = HashMap::with_capacity(seqs.len());
    if seqs.is_empty() {
        return Ok(links);
    }
    let stmt = tx
        .prepare_cached("SELECT seq, prev_hash, hash FROM entries WHERE dev = $1 AND seq = ANY($2)")
        .await?;
    let wanted: Vec<i64> = seqs.iter().map(|s| to_i64(*s)).collect();
    for r in tx.query(&stmt, &[&dev, &wanted]).await? {
        let prev: Vec<u8> = r.get(1);
        let hash: Vec<u8> = r.get(2);
        links.insert(
            to_u64(r.get(0))?,
            Link {
                prev_hash: digest(&prev)?,
                hash: digest(&hash)?,
            },
        );
    }
    if let Some(seq) = seqs.iter().find(|s| !links.contains_key(s)) {
        return Err(StoreError::Corrupt(format!(
            "entry {seq} is counted but not stored"
        )));
    }
    Ok(links)
}

/// Column arrays of one batch's rows, filled in seq order.
#[derive(Default)]
struct Rows {
    e_seq: Vec<i64>,
    e_id: Vec<String>,
    e_at: Vec<i64>,
    e_v: Vec<i32>,
    e_kind: Vec<&'static str>,
    e_event: Vec<String>,
    e_prev: Vec<Vec<u8>>,
    e_hash: Vec<Vec<u8>>,
    q_seq: Vec<i64>,
    q_hash: Vec<Vec<u8>>,
    q_reason: Vec<&'static str>,
    q_entry: Vec<String>,
    t_code: Vec<String>,
    t_seq: Vec<i64>,
    l_seq: Vec<i64>,
    l_no: Vec<i64>,
    l_product: Vec<String>,
    l_batch: Vec<Option<String>>,
    l_grams: Vec<Option<i64>>,
    l_amount: Vec<i64>,
    p_seq: Vec<i64>,
    p_at: Vec<i64>,
    p_supplier: Vec<String>,
    p_product: Vec<String>,
    p_batch: Vec<String>,
    p_grams: Vec<Option<i64>>,
    p_amount: Vec<i64>,
    p_origin: Vec<Option<String>>,
    p_upstream: Vec<Option<String>>,
    v_seq: Vec<i64>,
    v_target: Vec<i64>,
    v_reason: Vec<String>,
    codes: super::codes::CodeRows,
}

impl Rows {
    fn store(&mut self, e: &Entry, event: &str) {
        let seq = to_i64(e.seq);
        self.e_seq.push(seq);
        self.e_id.push(e.id.to_string());
        self.e_at.push(e.at.0);
        self.e_v.push(i32::from(e.v));
        self.e_kind.push(e.event.kind());
        self.e_event.push(event.to_owned());
        self.e_prev.push(e.prev_hash.0.to_vec());
        self.e_hash.push(e.hash.0.to_vec());
        self.codes.add(seq, &e.event);
        #[allow(unreachable_patterns)] // the vocabulary grows; new kinds have no projection yet
        match &e.event {
            Event::SaleTicket(t) => {
                self.t_code.push(t.ticket_code.clone());
                self.t_seq.push(seq);
                for (no, l) in t.lines.iter().enumerate() {
                    self.l_seq.push(seq);
                    self.l_no.push(to_i64(no as u64));
                    self.l_product.push(l.product.clone());
                    self.l_batch.push(l.batch.clone());
                    self.l_grams.push(l.grams.map(|g| g.0));
                    self.l_amount.push(l.amount.0);
                }
            }
            Event::Purchase(p) => {
                self.p_seq.push(seq);
                self.p_at.push(e.at.0);
                self.p_supplier.push(p.supplier.clone());
                self.p_product.push(p.product.clone());
                self.p_batch.push(p.batch.clone());
                self.p_grams.push(p.grams.map(|g| g.0));
                self.p_amount.push(p.amount.0);
                self.p_origin.push(p.origin.clone());
                self.p_upstream.push(p.upstream_code.clone());
            }
            Event::Void(v) => {
                self.v_seq.push(seq);
                self.v_target.push(to_i64(v.target_seq));
                self.v_reason.push(v.reason.clone());
            }
            _ => {}
        }
    }
}

pub(super) async fn ingest(
    client: &mut ClientWrapper,
    device: &DeviceId,
    batch: Verified,
) -> StoreResult<IngestOutcome> {
    let Verified {
        entries,
        alg: verified_with,
        mut valid,
        events,
    } = batch;
    let now = Timestamp::now().0;
    let tx = client.transaction().await?;
    let locked = lock_state(&tx, device).await?;
    let dev = locked.dev;
    if locked.alg != verified_with {
        // The caller's cached algorithm is stale; the registry in this transaction decides.
        valid = ingest::verify(locked.alg, &entries);
    }
    let old = locked.state;
    let mut state = old.clone();
    let links = fetch_links(&tx, dev, &ingest::needed_links(&state.ranges, &entries)).await?;
    let classified = ingest::classify(&mut state, &valid, &entries, links);

    let (mut stored, mut duplicates, mut quarantined) = (0u32, 0u32, 0u32);
    let mut newest_at: Option<i64> = None;
    let mut rows = Rows::default();
    for ((e, verdict), event) in entries.iter().zip(&classified.verdicts).zip(&events) {
        match verdict {
            Verdict::Store => {
                rows.store(e, event);
                stored += 1;
                newest_at = newest_at.max(Some(e.at.0));
            }
            Verdict::Duplicate => duplicates += 1,
            Verdict::Quarantine(reason) => {
                rows.q_seq.push(to_i64(e.seq));
                rows.q_hash.push(e.hash.0.to_vec());
                rows.q_reason.push(reason.as_str());
                rows.q_entry.push(
                    serde_json::to_string(e)
                        .map_err(|err| StoreError::Corrupt(format!("entry encoding: {err}")))?,
                );
                quarantined += 1;
            }
        }
    }
    let (tickets, aside_rows) = write_rows(&tx, dev, &rows, now).await?;
    if let Some((seq, reason, detail)) = &classified.quarantined_by {
        tracing::warn!(device = %device, seq, reason = reason.as_str(), "device quarantined: {detail}");
        alert(&tx, dev, reason.as_str(), Some(*seq), detail, now).await?;
    }

    let (removed, added) = state.ranges.gap_changes(&old.ranges);
    if !removed.is_empty() {
        let firsts: Vec<i64> = removed.into_iter().map(to_i64).collect();
        tx.execute(
            "DELETE FROM gaps WHERE dev = $1 AND first = ANY($2)",
            &[&dev, &firsts],
        )
        .await?;
    }
    if !added.is_empty() {
        let (firsts, lasts): (Vec<i64>, Vec<i64>) = added
            .into_iter()
            .map(|(f, l)| (to_i64(f), to_i64(l)))
            .unzip();
        tx.execute(
            "INSERT INTO gaps (dev, first, last)
             SELECT $1, f, l FROM UNNEST($2::bigint[], $3::bigint[]) AS u(f, l)",
            &[&dev, &firsts, &lasts],
        )
        .await?;
    }
    let hwm = state.ranges.hwm();
    let head_hash = if hwm == locked.hwm {
        locked.head
    } else {
        let stmt = tx
            .prepare_cached("SELECT hash FROM entries WHERE dev = $1 AND seq = $2")
            .await?;
        let h: Vec<u8> = tx.query_one(&stmt, &[&dev, &to_i64(hwm)]).await?.get(0);
        Some(digest(&h)?)
    };
    let stmt = tx
        .prepare_cached(
            "UPDATE device_state SET hwm = $2, head_hash = $3, max_seq = $4,
                 entry_count = entry_count + $5, last_seen = $6,
                 lag_ms = COALESCE($7, lag_ms),
                 quarantined_at = CASE WHEN $8 THEN COALESCE(quarantined_at, $6) END,
                 ticket_count = ticket_count + $9,
                 purchase_count = purchase_count + $10,
                 quarantine_count = quarantine_count + $11
             WHERE dev = $1",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &dev,
            &to_i64(hwm),
            &head_hash.as_ref().map(|h| h.0.to_vec()),
            &to_i64(state.ranges.max()),
            &i64::from(stored),
            &now,
            &newest_at.map(|at| now - at),
            &state.quarantined,
            &tickets,
            &to_i64(rows.p_seq.len() as u64),
            &aside_rows,
        ],
    )
    .await?;
    tx.commit().await?;
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

/// Write a batch's rows, one statement per table. Returns the tickets projected (a code that
/// already belongs to another sale is not, and raises an alert) and the quarantine rows added.
async fn write_rows(tx: &Transaction<'_>, dev: i64, r: &Rows, now: i64) -> StoreResult<(i64, i64)> {
    if !r.e_seq.is_empty() {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO entries (dev, seq, id, at, v, kind, event, prev_hash, hash, received_at)
                 SELECT $1, u.*, $10 FROM UNNEST($2::bigint[], $3::text[], $4::bigint[],
                     $5::int[], $6::text[], $7::text[], $8::bytea[], $9::bytea[]) AS u",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &dev, &r.e_seq, &r.e_id, &r.e_at, &r.e_v, &r.e_kind, &r.e_event, &r.e_prev,
                &r.e_hash, &now,
            ],
        )
        .await?;
    }
    let mut tickets = 0i64;
    if !r.t_code.is_empty() {
        // Codes are unique by construction; a collision is a bug or a forgery. The first holder
        // keeps the code so no page shows another stall's sale.
        let stmt = tx
            .prepare_cached(
                "INSERT INTO tickets (code, dev, seq)
                 SELECT c, $1, s FROM UNNEST($2::text[], $3::bigint[]) AS u(c, s)
                 ON CONFLICT (code) DO NOTHING RETURNING seq",
            )
            .await?;
        let fresh: HashSet<i64> = tx
            .query(&stmt, &[&dev, &r.t_code, &r.t_seq])
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        tickets = to_i64(fresh.len() as u64);
        for (code, seq) in r.t_code.iter().zip(&r.t_seq) {
            if !fresh.contains(seq) {
                let detail = format!("ticket code {code} already belongs to another sale");
                alert(
                    tx,
                    dev,
                    "ticket_code_collision",
                    Some(to_u64(*seq)?),
                    &detail,
                    now,
                )
                .await?;
            }
        }
        let stmt = tx
            .prepare_cached(
                "INSERT INTO ticket_lines (dev, seq, line_no, product, batch, grams, amount)
                 SELECT $1, u.* FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[],
                     $6::bigint[], $7::bigint[]) AS u",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &dev,
                &r.l_seq,
                &r.l_no,
                &r.l_product,
                &r.l_batch,
                &r.l_grams,
                &r.l_amount,
            ],
        )
        .await?;
    }
    if !r.p_seq.is_empty() {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO purchases
                   (dev, seq, at, supplier, product, batch, grams, amount, origin, upstream_code)
                 SELECT $1, u.* FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[],
                     $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::text[]) AS u",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &dev,
                &r.p_seq,
                &r.p_at,
                &r.p_supplier,
                &r.p_product,
                &r.p_batch,
                &r.p_grams,
                &r.p_amount,
                &r.p_origin,
                &r.p_upstream,
            ],
        )
        .await?;
    }
    if !r.v_seq.is_empty() {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO voids (dev, seq, target_seq, reason)
                 SELECT $1, u.* FROM UNNEST($2::bigint[], $3::bigint[], $4::text[]) AS u",
            )
            .await?;
        tx.execute(&stmt, &[&dev, &r.v_seq, &r.v_target, &r.v_reason])
            .await?;
    }
    r.codes.write(tx, dev).await?;
    let mut aside = 0i64;
    if !r.q_seq.is_empty() {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO quarantine (dev, seq, hash, reason, entry, received_at)
                 SELECT $1, u.*, $6 FROM UNNEST($2::bigint[], $3::bytea[], $4::text[], $5::text[])
                     AS u
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        let n = tx
            .execute(
                &stmt,
                &[&dev, &r.q_seq, &r.q_hash, &r.q_reason, &r.q_entry, &now],
            )
            .await?;
        aside = to_i64(n);
    }
    Ok((tickets, aside))
}

pub(super) async fn release_quarantine(
    client: &mut ClientWrapper,
    device: &DeviceId,
    note: &str,
) -> StoreResult<ReleaseOutcome> {
    let now = Timestamp::now().0;
    let tx = client.transaction().await?;
    // The same row lock ingest takes: no batch of this device is half-way while we release.
    let row = tx
        .query_opt(
            "SELECT d.key, s.hwm, s.quarantined_at IS NOT NULL
             FROM devices d JOIN device_state s ON s.dev = d.key
             WHERE d.id = $1 FOR UPDATE OF s",
            &[&device.as_str()],
        )
        .await?
        .ok_or_else(|| StoreError::UnknownDevice(device.clone()))?;
    let (dev, hwm, quarantined): (i64, i64, bool) = (row.get(0), row.get(1), row.get(2));
    if !quarantined {
        return Err(StoreError::NotQuarantined(device.clone()));
    }
    let archived = tx
        .execute(
            "WITH moved AS (DELETE FROM quarantine WHERE dev = $1 RETURNING *)
             INSERT INTO quarantine_released
                 (dev, seq, hash, reason, entry, received_at, released_at)
             SELECT dev, seq, hash, reason, entry, received_at, $2 FROM moved",
            &[&dev, &now],
        )
        .await?;
    tx.execute(
        "UPDATE device_state SET quarantined_at = NULL, quarantine_count = 0 WHERE dev = $1",
        &[&dev],
    )
    .await?;
    let hwm = to_u64(hwm)?;
    let detail = crate::store::release_detail(archived, hwm, note);
    let alert_id = alert(&tx, dev, "quarantine_released", None, &detail, now).await?;
    tx.commit().await?;
    tracing::warn!(device = %device, archived, hwm, "quarantine released by the operator");
    Ok(ReleaseOutcome {
        device: device.clone(),
        archived_entries: archived,
        hwm,
        alert_id,
    })
}

async fn alert(
    tx: &Transaction<'_>,
    dev: i64,
    kind: &str,
    seq: Option<u64>,
    detail: &str,
    now: i64,
) -> StoreResult<i64> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO alerts (dev, kind, seq, detail, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .await?;
    Ok(tx
        .query_one(&stmt, &[&dev, &kind, &seq.map(to_i64), &detail, &now])
        .await?
        .get(0))
}

pub(super) fn digest(b: &[u8]) -> StoreResult<Digest> {
    Digest::from_slice(b).ok_or_else(|| StoreError::Corrupt(format!("hash of {} bytes", b.len())))
}
