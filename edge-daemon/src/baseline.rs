//! The yardstick for ledger benchmarks: a bare rusqlite INSERT of the same bytes.
//!
//! Why: "entries per second" means little on its own (an SD card and an NVMe disk differ by
//! 100×). Measured side by side with the cheapest possible write of the same rows, under the
//! same WAL + `synchronous=FULL`, the ratio shows what the ledger's own work costs (hashing,
//! JSON, projections, the head row, the writer thread) on whatever disk the box has.

use rusqlite::{Connection, params};
use std::path::Path;
use trace_core::{DeviceId, Digest, Entry, EntryDraft, HashAlg, TicketCodec};

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
    /// A sale's ticket code, and its counter when `rows_for` had the key (for
    /// [`BareTable::open_with_ledger_indexes`], which indexes like the ledger: by counter when
    /// known, else by code).
    pub ticket_code: Option<String>,
    pub ticket_counter: Option<i64>,
}

/// Seal `drafts` into a chain and keep their column values; `codec` decodes sales' counters.
pub fn rows_for(
    drafts: Vec<EntryDraft>,
    device: &DeviceId,
    alg: HashAlg,
    codec: Option<&TicketCodec>,
) -> Vec<RowBytes> {
    let mut prev = Digest::ZERO;
    drafts
        .into_iter()
        .zip(1i64..)
        .filter_map(|(d, seq)| {
            let e = Entry::seal(d, device.clone(), u64::try_from(seq).ok()?, prev, alg).ok()?;
            prev = e.hash;
            // The very text the ledger stores in its `body` column.
            let body = crate::ledger::stored_body(&e).ok()?;
            let ticket_code = match &e.event {
                trace_core::Event::SaleTicket(t) => Some(t.ticket_code.clone()),
                _ => None,
            };
            let ticket_counter = ticket_code.as_deref().zip(codec).and_then(|(c, codec)| {
                let code = trace_core::TicketCode::parse(c).ok()?;
                i64::try_from(codec.decode(&code).ok()?).ok()
            });
            Some(RowBytes {
                seq,
                id: e.id.to_string(),
                at: e.at.0,
                v: i64::from(e.v),
                kind: e.event.kind(),
                body,
                prev_hash: e.prev_hash.0,
                hash: e.hash.0,
                ticket_code,
                ticket_counter,
            })
        })
        .collect()
}

/// A plain table with the ledger's columns and nothing else: no triggers, no projections.
pub struct BareTable {
    conn: Connection,
    /// Also maintain the two indexes the ledger cannot do without (see
    /// [`BareTable::open_with_ledger_indexes`]).
    indexed: bool,
}

impl BareTable {
    /// Create (or reuse) `path` with the ledger's durability settings.
    pub fn open(path: &Path) -> rusqlite::Result<BareTable> {
        BareTable::open_inner(path, false)
    }

    /// Like [`BareTable::open`], plus the ledger's two indexes that no honest ledger can drop:
    /// the unique entry id (duplicate submissions are refused) and the unique ticket code
    /// (a receipt code maps to exactly one sale), the latter keyed by unguessable hence random
    /// codes. Not a baseline: a floor that shows what those indexes alone cost on this disk.
    pub fn open_with_ledger_indexes(path: &Path) -> rusqlite::Result<BareTable> {
        BareTable::open_inner(path, true)
    }

    fn open_inner(path: &Path, indexed: bool) -> rusqlite::Result<BareTable> {
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
        if indexed {
            conn.execute_batch(
                "CREATE UNIQUE INDEX IF NOT EXISTS bare_id ON bare (id);
                 CREATE TABLE IF NOT EXISTS bare_tickets (
                    ticket_code TEXT PRIMARY KEY NOT NULL, seq INTEGER NOT NULL
                 ) STRICT, WITHOUT ROWID;
                 CREATE TABLE IF NOT EXISTS bare_counters (
                    counter INTEGER PRIMARY KEY NOT NULL, seq INTEGER NOT NULL
                 ) STRICT;
                 DELETE FROM bare_tickets; DELETE FROM bare_counters;",
            )?;
        }
        Ok(BareTable { conn, indexed })
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
            let mut t = if self.indexed {
                Some((
                    tx.prepare_cached(
                        "INSERT INTO bare_tickets (ticket_code, seq) VALUES (?1, ?2)",
                    )?,
                    tx.prepare_cached("INSERT INTO bare_counters (counter, seq) VALUES (?1, ?2)")?,
                ))
            } else {
                None
            };
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
                if let (Some((by_code, by_counter)), Some(code)) = (t.as_mut(), &r.ticket_code) {
                    match r.ticket_counter {
                        Some(n) => by_counter.execute(params![n, tx.last_insert_rowid()])?,
                        None => by_code.execute(params![code, tx.last_insert_rowid()])?,
                    };
                }
            }
        }
        tx.commit()
    }
}
