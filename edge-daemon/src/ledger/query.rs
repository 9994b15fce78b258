//! Reading the ledger: entries by seq, the outbox, status and the projections.
//!
//! Kept apart from the write path in `mod.rs` because reads never need a write lock or a
//! transaction: each is one statement on the ledger's connection (WAL readers do not block
//! the writer).

use super::error::SqlContext;
use super::row::{SELECT_COLUMNS, StoredRow};
use super::{Ledger, LedgerError, LedgerStatus, StockLevel};
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use trace_core::{Entry, Timestamp};

impl Ledger {
    pub fn get(&self, seq: u64) -> Result<Option<Entry>, LedgerError> {
        Ok(self.range(seq..=seq)?.pop())
    }

    /// Entries with `from <= seq <= to`, in order.
    pub fn range(&self, r: RangeInclusive<u64>) -> Result<Vec<Entry>, LedgerError> {
        let from = i64::try_from(*r.start()).unwrap_or(i64::MAX);
        let to = i64::try_from(*r.end()).unwrap_or(i64::MAX);
        self.select(
            &format!(
                "SELECT {SELECT_COLUMNS} FROM entries WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq"
            ),
            params![from, to],
        )
    }

    /// Up to `limit` entries the cloud has not acknowledged, oldest first.
    pub fn outbox(&self, limit: usize) -> Result<Vec<Entry>, LedgerError> {
        let synced = i64::try_from(self.synced_seq()?).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select(
            &format!("SELECT {SELECT_COLUMNS} FROM entries WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
            params![synced, limit],
        )
    }

    pub fn synced_seq(&self) -> Result<u64, LedgerError> {
        let s: i64 = self
            .conn
            .query_row("SELECT synced_seq FROM sync_mark WHERE one = 1", [], |r| {
                r.get(0)
            })
            .ctx(&self.path, "reading the sync mark")?;
        Ok(u64::try_from(s).unwrap_or(0))
    }

    pub fn status(&self) -> Result<LedgerStatus, LedgerError> {
        let head = self.head()?;
        let synced_seq = self.synced_seq()?;
        let oldest: Option<i64> = self
            .conn
            .query_row(
                "SELECT at FROM entries WHERE seq > ?1 ORDER BY seq LIMIT 1",
                [i64::try_from(synced_seq).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .optional()
            .ctx(&self.path, "reading the outbox")?;
        Ok(LedgerStatus {
            device: self.device.clone(),
            hash_alg: self.alg,
            head_seq: head.seq,
            head_hash: head.hash,
            synced_seq,
            backlog: head.seq.saturating_sub(synced_seq),
            oldest_unsynced_at: oldest.map(Timestamp),
        })
    }

    /// The highest ticket counter indexed so far (0 when none): a box that mints its codes
    /// from a counter continues above it.
    pub fn max_ticket_counter(&self) -> Result<u64, LedgerError> {
        let n: Option<i64> = self
            .conn
            .query_row("SELECT max(counter) FROM ticket_counters", [], |r| r.get(0))
            .ctx(&self.path, "reading ticket counters")?;
        Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }

    /// The entry that holds `ticket_code`, if any: by its counter when the ledger has the
    /// box's key ([`Ledger::set_ticket_codec`]) and the code is the box's, else by the code
    /// (and, without the key, by reading the bodies of the sales indexed by counter).
    pub fn ticket_seq(&self, ticket_code: &str) -> Result<Option<u64>, LedgerError> {
        let counter = self.ticket_codec.as_ref().and_then(|codec| {
            let code = trace_core::TicketCode::parse(ticket_code).ok()?;
            i64::try_from(codec.decode(&code).ok()?).ok()
        });
        if let Some(n) = counter {
            let s: Option<i64> = self
                .conn
                .query_row(
                    "SELECT seq FROM ticket_counters WHERE counter = ?1",
                    [n],
                    |r| r.get(0),
                )
                .optional()
                .ctx(&self.path, "reading ticket counters")?;
            if let Some(s) = s {
                return Ok(u64::try_from(s).ok());
            }
        }
        let s: Option<i64> = self
            .conn
            .query_row(
                "SELECT seq FROM ticket_codes WHERE ticket_code = ?1",
                [ticket_code],
                |r| r.get(0),
            )
            .optional()
            .ctx(&self.path, "reading ticket codes")?;
        let s = match (s, counter.is_none() && self.ticket_codec.is_none()) {
            (None, true) => super::projection::by_text_among_counted(&self.conn, ticket_code)
                .ctx(&self.path, "reading ticket codes")?,
            (s, _) => s,
        };
        Ok(s.and_then(|s| u64::try_from(s).ok()))
    }

    pub fn stock(&self, product: &str, batch: &str) -> Result<StockLevel, LedgerError> {
        let s = self
            .conn
            .query_row(
                "SELECT grams, count FROM stock WHERE product = ?1 AND batch = ?2",
                [product, batch],
                |r| {
                    Ok(StockLevel {
                        grams: r.get(0)?,
                        count: r.get(1)?,
                    })
                },
            )
            .optional()
            .ctx(&self.path, "reading stock")?;
        Ok(s.unwrap_or_default())
    }

    /// Number of entries per kind.
    pub fn kind_counts(&self) -> Result<BTreeMap<String, u64>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT kind, n FROM kind_counts")
            .ctx(&self.path, "reading kind counts")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .ctx(&self.path, "reading kind counts")?;
        let mut out = BTreeMap::new();
        for r in rows {
            let (k, n) = r.ctx(&self.path, "reading kind counts")?;
            out.insert(k, u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    /// The seq of the void entry that voided `seq`, if it was voided.
    pub fn voided_by(&self, seq: u64) -> Result<Option<u64>, LedgerError> {
        let s: Option<i64> = self
            .conn
            .query_row(
                "SELECT void_seq FROM voids WHERE target_seq = ?1",
                [i64::try_from(seq).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .optional()
            .ctx(&self.path, "reading voids")?;
        Ok(s.and_then(|s| u64::try_from(s).ok()))
    }

    fn select(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<Entry>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .ctx(&self.path, "reading entries")?;
        let rows = stmt
            .query_map(p, StoredRow::from_row)
            .ctx(&self.path, "reading entries")?;
        let mut out = Vec::new();
        for r in rows {
            let r = r.ctx(&self.path, "reading entries")?;
            let seq = r.seq;
            out.push(r.decode(&self.device).map_err(|d| LedgerError::Corrupt {
                path: self.path.clone(),
                detail: format!("entry {seq}: {d}; run `baytrace-edge ledger verify`"),
            })?);
        }
        Ok(out)
    }
}
