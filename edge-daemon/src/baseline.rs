//! The yardstick for ledger benchmarks: a bare rusqlite INSERT of the same bytes.
//!
//! Why: "entries per second" means little on its own (an SD card and an NVMe disk differ by
//! 100×). Measured side by side with the cheapest possible write of the same rows, under the
//! same WAL + `synchronous=FULL`, the ratio shows what the ledger's own work costs (hashing,
//! JSON, projections, the head row, the writer thread) on whatever disk the box has.

use rusqlite::{Connection, params};
use std::path::Path;
use trace_core::{DeviceId, Digest, Entry, EntryDraft, HashAlg};

/// The stored columns of one sealed entry, computed up front so the baseline does no work
/// the database does not do.
#[derive(Debug, Clone)]
pub struct RowBytes {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub v: i64,
    pub kind: &'static str,
    pub body: String,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// Seal `drafts` into a chain and keep their column values.
pub fn rows_for(drafts: Vec<EntryDraft>, device: &DeviceId, alg: HashAlg) -> Vec<RowBytes> {
    let mut prev = Digest::ZERO;
    drafts
        .into_iter()
        .zip(1i64..)
        .filter_map(|(d, seq)| {
            let e = Entry::seal(d, device.clone(), u64::try_from(seq).ok()?, prev, alg).ok()?;
            prev = e.hash;
            // The very text the ledger stores in its `body` column.
            let body = crate::ledger::body_json(&e.event).ok()?;
            Some(RowBytes {
                seq,
                id: e.id.to_string(),
                at: e.at.0,
                v: i64::from(e.v),
                kind: e.event.kind(),
                body,
                prev_hash: e.prev_hash.0,
                hash: e.hash.0,
            })
        })
        .collect()
}

/// A plain table with the ledger's columns and nothing else: no triggers, no projections.
pub struct BareTable {
    conn: Connection,
}

impl BareTable {
    /// Create (or reuse) `path` with the ledger's durability settings.
    pub fn open(path: &Path) -> rusqlite::Result<BareTable> {
        let conn = Connection::open(path)?;
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS bare (
                seq INTEGER PRIMARY KEY, id TEXT NOT NULL, at INTEGER NOT NULL,
                v INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
                prev_hash BLOB NOT NULL, hash BLOB NOT NULL) STRICT;
             DELETE FROM bare;",
        )?;
        Ok(BareTable { conn })
    }

    /// One row per transaction (one fsync each), like a single `append`.
    pub fn insert_one(&mut self, r: &RowBytes) -> rusqlite::Result<()> {
        self.insert_batch(std::slice::from_ref(r))
    }

    /// All rows in one transaction, like `append_batch` or one group commit.
    pub fn insert_batch(&mut self, rows: &[RowBytes]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut s = tx.prepare_cached(
                // seq left to SQLite (next rowid) so repeated runs keep appending.
                "INSERT INTO bare (id, at, v, kind, body, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for r in rows {
                s.execute(params![
                    r.id,
                    r.at,
                    r.v,
                    r.kind,
                    r.body,
                    &r.prev_hash[..],
                    &r.hash[..]
                ])?;
            }
        }
        tx.commit()
    }
}
