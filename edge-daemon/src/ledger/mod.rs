//! # The edge ledger: append-only, hash-chained, durable
//!
//! Every business action on a box is an [`Entry`] in one SQLite file. Why SQLite and one file:
//! the entry, its hash link and every projection it touches (stock, ticket codes, voids) commit
//! in one transaction, so a crash leaves all of them or none; the outbox is simply "entries
//! after the sync mark", so it cannot disagree with the ledger either.
//!
//! Invariants this module keeps:
//! - `seq` is dense from 1; `prev_hash` of entry n is the hash of n-1 (zero for 1);
//!   `hash = H(prev_hash ‖ seq as u64 big-endian ‖ canonical(entry))` with the deployment's
//!   algorithm (`meta`); see `trace_core::entry` for the contract.
//! - Rows are never updated or deleted (triggers abort it); corrections are new entries.
//! - An `append` that returned `Ok` is on stable storage (see [`schema`] for why
//!   `synchronous=FULL`).
//! - Opening never modifies a file it then refuses (newer schema, damaged, foreign).
//!
//! Design: one [`Ledger`] owns one connection and is used from one thread. Writers that must
//! share it (scale events, the UI, the coder at line speed) go through [`LedgerWriter`], which
//! owns the ledger on its own thread and commits everything queued in one transaction. The
//! expensive, seq-independent work (canonical bytes, body JSON) is done by the submitting
//! thread ([`Encoded`]), so the writer's critical section is hash + INSERT + projections.

mod backup;
mod error;
pub(crate) mod projection;
mod query;
mod row;
pub mod schema;
mod verify;
mod writer;

pub use error::{LedgerError, LedgerErrorKind};
pub(crate) use row::stored_body;
pub use verify::{BadEntry, Problem, VerifyReport};
pub use writer::{LedgerWriter, Pending, WriterHandle, WriterOptions};

use error::SqlContext;
use nix::unistd::{AccessFlags, access};
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use trace_core::entry::PreparedDraft;
use trace_core::{
    DeviceId, Digest, Entry, EntryDraft, Event, HashAlg, TicketCode, TicketCodec, Timestamp,
    VOCABULARY_VERSION,
};

/// How thoroughly [`Ledger::open`] checks the file before using it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpenCheck {
    /// Header, size and schema only: cheap, for `status` and short commands.
    #[default]
    Header,
    /// Also `PRAGMA quick_check` over every page: for the daemon's start and `verify`.
    Quick,
}

#[derive(Debug, Clone)]
pub struct LedgerOptions {
    pub check: OpenCheck,
    /// How long to wait for another connection's write lock before reporting `Busy`.
    pub busy_timeout: Duration,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            check: OpenCheck::Header,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// The last committed entry (seq 0 and a zero hash for an empty ledger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Head {
    pub seq: u64,
    pub hash: Digest,
}

/// What `status` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerStatus {
    pub device: DeviceId,
    pub hash_alg: HashAlg,
    pub head_seq: u64,
    pub head_hash: Digest,
    pub synced_seq: u64,
    pub backlog: u64,
    /// Device clock of the oldest entry not yet acknowledged by the cloud, UTC ms.
    pub oldest_unsynced_at: Option<Timestamp>,
}

/// Stock of one (product, batch) from purchases minus sales lines with that batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StockLevel {
    pub grams: i64,
    pub count: i64,
}

pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    device: DeviceId,
    alg: HashAlg,
    created_at: Timestamp,
    /// The box's ticket-code key, when known: its own sale tickets are then indexed by the
    /// counter their code was minted from (`ticket_counters`), see [`Ledger::set_ticket_codec`].
    ticket_codec: Option<TicketCodec>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("path", &self.path)
            .field("device", &self.device)
            .field("alg", &self.alg)
            .finish()
    }
}

impl Ledger {
    /// Create an empty ledger at `path` for `device`. Refuses an existing file. The file is
    /// built under a temporary name and linked into place, so a crash never leaves a
    /// half-initialised ledger at `path`.
    pub fn create(
        path: &Path,
        device: DeviceId,
        alg: HashAlg,
        opts: &LedgerOptions,
    ) -> Result<Ledger, LedgerError> {
        if path.exists() || schema::wal_path(path).exists() {
            return Err(LedgerError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
        let dir = parent_dir(path);
        writable(&dir, path)?;
        let name = path
            .file_name()
            .map_or_else(|| "ledger".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{name}.init-{}", std::process::id()));
        let built = build_empty(&tmp, &device, alg);
        let linked = built.and_then(|()| {
            sync_file(&tmp)?;
            std::fs::hard_link(&tmp, path).map_err(|e| LedgerError::io(path, "creating", &e))?;
            sync_dir(&dir)
        });
        for p in [tmp.clone(), schema::wal_path(&tmp), schema::shm_path(&tmp)] {
            let _ = std::fs::remove_file(p);
        }
        linked?;
        Ledger::open(path, opts)
    }

    /// Open an existing ledger. Refuses, without changing the file: a missing file, a foreign
    /// or damaged file, a newer schema, a file or directory that cannot be written.
    pub fn open(path: &Path, opts: &LedgerOptions) -> Result<Ledger, LedgerError> {
        std::fs::metadata(path).map_err(|e| LedgerError::io(path, "opening", &e))?;
        schema::check_header(path)?;
        writable(&parent_dir(path), path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ctx(path, "opening")?;
        conn.busy_timeout(opts.busy_timeout)
            .ctx(path, "setting the busy timeout")?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .ctx(path, "reading the schema version")?;
        if version > schema::SCHEMA_VERSION {
            return Err(LedgerError::NewerSchema {
                path: path.to_path_buf(),
                found: version,
                supported: schema::SCHEMA_VERSION,
            });
        }
        if version <= 0 {
            return Err(LedgerError::NotALedger {
                path: path.to_path_buf(),
                detail: "an SQLite database without the baytrace ledger schema".into(),
            });
        }
        if opts.check == OpenCheck::Quick {
            schema::quick_check(&conn, path)?;
        }
        schema::configure(&conn, path, opts.busy_timeout)?;
        if version < schema::SCHEMA_VERSION {
            schema::migrations()
                .to_latest(&mut conn)
                .map_err(|e| LedgerError::Internal {
                    what: "migrating the schema",
                    detail: e.to_string(),
                })?;
        }
        let meta = read_meta(&conn, path)?;
        let bad = |what: &str| LedgerError::NotALedger {
            path: path.to_path_buf(),
            detail: format!("meta.{what} is missing or invalid"),
        };
        let device = meta
            .get("device_id")
            .and_then(|d| DeviceId::new(d.clone()).ok())
            .ok_or_else(|| bad("device_id"))?;
        let alg = meta
            .get("hash_alg")
            .and_then(|a| HashAlg::from_str(a).ok())
            .ok_or_else(|| bad("hash_alg"))?;
        let created_at = meta
            .get("created_at")
            .and_then(|c| c.parse().ok())
            .map(Timestamp)
            .ok_or_else(|| bad("created_at"))?;
        Ok(Ledger {
            conn,
            path: path.to_path_buf(),
            device,
            alg,
            created_at,
            ticket_codec: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn device(&self) -> &DeviceId {
        &self.device
    }

    pub fn hash_alg(&self) -> HashAlg {
        self.alg
    }

    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// Give the ledger the box's ticket-code key. From then on (and in every [`LedgerWriter`]
    /// spawned from it) a sale whose code this key decodes is indexed by its counter, which
    /// grows, instead of by the code, which is random by design: bursts append to the index
    /// instead of dirtying pages all over it. Lookups by code ([`Ledger::ticket_seq`]) decode
    /// with the same key. A box appends its sales with the key; codes it cannot decode (other
    /// devices' numbers, appends without the key) are kept by code, as before.
    pub fn set_ticket_codec(&mut self, codec: TicketCodec) {
        self.ticket_codec = Some(codec);
    }

    pub fn ticket_codec(&self) -> Option<&TicketCodec> {
        self.ticket_codec.as_ref()
    }

    /// Seal and durably append one entry, with its projections, in one transaction.
    pub fn append(&mut self, draft: EntryDraft) -> Result<Entry, LedgerError> {
        let mut out = self.append_batch(vec![draft])?;
        out.pop().ok_or(LedgerError::Internal {
            what: "appending",
            detail: "no entry returned".into(),
        })
    }

    /// Append all drafts in one transaction: all are committed, or none (one refusal refuses
    /// the batch).
    pub fn append_batch(&mut self, drafts: Vec<EntryDraft>) -> Result<Vec<Entry>, LedgerError> {
        let encoded = drafts
            .into_iter()
            .map(|d| Encoded::new(d, &self.device, self.ticket_codec.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        self.append_encoded(encoded)
    }

    /// [`Ledger::append_batch`] for drafts already encoded (by the submitting thread).
    pub(crate) fn append_encoded(
        &mut self,
        drafts: Vec<Encoded>,
    ) -> Result<Vec<Entry>, LedgerError> {
        let (start, hashes) = self.commit_all(&drafts)?;
        Ok(build_entries(drafts, start, &hashes))
    }

    /// Write every draft in one transaction; returns the head before it and each new hash.
    /// Nothing is consumed, so a refused batch can be retried draft by draft.
    fn commit_all(&mut self, drafts: &[Encoded]) -> Result<(Head, Vec<Digest>), LedgerError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(&path, "starting a write transaction")?;
        let start = read_head(&tx, &path)?;
        let mut head = start;
        let mut acc = projection::Deltas::default();
        let mut hashes = Vec::with_capacity(drafts.len());
        for d in drafts {
            append_in(&tx, &path, self.alg, &mut head, &mut acc, d)?;
            hashes.push(head.hash);
        }
        acc.flush(&tx).map_err(|e| e.into_ledger(&path))?;
        write_head(&tx, &path, head)?;
        tx.commit().ctx(&path, "committing")?;
        Ok((start, hashes))
    }

    /// Group commit: one transaction, one fsync, but each draft stands alone: a refused draft
    /// is reported and the others commit. A storage failure fails them all (nothing
    /// committed). Refusals are rare, so the batch is first tried whole; only when it is
    /// refused is it redone draft by draft with savepoints.
    pub(crate) fn append_group(
        &mut self,
        drafts: Vec<Encoded>,
    ) -> Result<Vec<Result<Entry, LedgerError>>, LedgerError> {
        match self.commit_all(&drafts) {
            Ok((start, hashes)) => Ok(build_entries(drafts, start, &hashes)
                .into_iter()
                .map(Ok)
                .collect()),
            Err(e) if e.kind() == LedgerErrorKind::Rejected && drafts.len() > 1 => {
                self.append_each(drafts)
            }
            Err(e) if e.kind() == LedgerErrorKind::Rejected => Ok(vec![Err(e)]),
            Err(e) => Err(e),
        }
    }

    /// One transaction with a savepoint per draft, so a refusal rolls back only its draft.
    fn append_each(
        &mut self,
        drafts: Vec<Encoded>,
    ) -> Result<Vec<Result<Entry, LedgerError>>, LedgerError> {
        let path = self.path.clone();
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(&path, "starting a write transaction")?;
        let mut head = read_head(&tx, &path)?;
        let mut acc = projection::Deltas::default();
        // For each draft: the head before it and the head after it, or its refusal.
        let mut links = Vec::with_capacity(drafts.len());
        for d in &drafts {
            let mut sp = tx.savepoint().ctx(&path, "starting a savepoint")?;
            let mut h = head;
            match append_in(&sp, &path, self.alg, &mut h, &mut acc, d) {
                Ok(()) => {
                    sp.commit().ctx(&path, "releasing a savepoint")?;
                    links.push(Ok((head, h)));
                    head = h;
                }
                Err(e) if e.kind() == LedgerErrorKind::Rejected => {
                    sp.rollback().ctx(&path, "rolling back a savepoint")?;
                    drop(sp);
                    links.push(Err(e));
                }
                Err(e) => return Err(e),
            }
        }
        acc.flush(&tx).map_err(|e| e.into_ledger(&path))?;
        write_head(&tx, &path, head)?;
        tx.commit().ctx(&path, "committing")?;
        Ok(drafts
            .into_iter()
            .zip(links)
            .map(|(d, link)| {
                link.map(|(before, after)| {
                    d.prepared.into_entry(after.seq, before.hash, after.hash)
                })
            })
            .collect())
    }

    pub fn head(&self) -> Result<Head, LedgerError> {
        read_head(&self.conn, &self.path)
    }

    /// Record that the cloud acknowledged every entry up to `seq`. The mark only moves
    /// forward and never past the head.
    pub fn mark_synced(&mut self, seq: u64) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(&path, "starting a write transaction")?;
        let head = read_head(&tx, &path)?;
        if seq > head.seq {
            return Err(LedgerError::Rejected(format!(
                "cannot mark entry {seq} synced: the head is {}",
                head.seq
            )));
        }
        let s = projection::seq_i64(seq).map_err(|e| e.into_ledger(&path))?;
        tx.execute(
            "UPDATE sync_mark SET synced_seq = max(synced_seq, ?1) WHERE one = 1",
            [s],
        )
        .ctx(&path, "moving the sync mark")?;
        tx.commit().ctx(&path, "committing")
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// A draft encoded outside the write transaction: its canonical bytes (the hash contract),
/// where its body JSON lies in them, and its id text. The writer thread only hashes, inserts
/// and projects.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    prepared: PreparedDraft,
    id_text: String,
    body: Body,
    /// A sale's ticket counter, when the box's key decodes its code (decoding costs a few
    /// HMACs, so it is done here, off the writer thread).
    ticket_counter: Option<u64>,
}

/// The `body` column's text: normally a slice of the canonical bytes (see
/// [`row::body_range`]), so the event is serialised once, not twice.
#[derive(Debug, Clone)]
enum Body {
    InCanonical(std::ops::Range<usize>),
    Own(String),
}

impl Encoded {
    /// Encode `draft` as an entry of `device`; refuses what has no canonical form.
    pub(crate) fn new(
        draft: EntryDraft,
        device: &DeviceId,
        codec: Option<&TicketCodec>,
    ) -> Result<Encoded, LedgerError> {
        let id_text = draft.id.to_string();
        let ticket_counter = match (&draft.event, codec) {
            (Event::SaleTicket(t), Some(codec)) => TicketCode::parse(&t.ticket_code)
                .ok()
                .and_then(|c| codec.decode(&c).ok()),
            _ => None,
        };
        let prepared = draft
            .prepare(device.clone())
            .map_err(|e| LedgerError::Rejected(e.to_string()))?;
        let d = prepared.draft();
        let body = match row::body_range(
            prepared.canonical(),
            d.at.0,
            device.as_str(),
            &id_text,
            d.event.kind(),
            VOCABULARY_VERSION,
        ) {
            Some(r) => Body::InCanonical(r),
            None => Body::Own(row::body_json(&d.event).map_err(LedgerError::Rejected)?),
        };
        Ok(Encoded {
            prepared,
            id_text,
            body,
            ticket_counter,
        })
    }

    /// The body as SQL text. The range was checked to be UTF-8 when it was found, so it is
    /// bound as bytes without checking again on the writer thread.
    fn body(&self) -> rusqlite::types::ToSqlOutput<'_> {
        let bytes = match &self.body {
            Body::InCanonical(r) => &self.prepared.canonical()[r.clone()],
            Body::Own(s) => s.as_bytes(),
        };
        rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(bytes))
    }
}

/// Entries of a committed batch, built without cloning: `start` is the head before it.
fn build_entries(drafts: Vec<Encoded>, start: Head, hashes: &[Digest]) -> Vec<Entry> {
    let mut prev = start.hash;
    drafts
        .into_iter()
        .zip(hashes)
        .zip(start.seq + 1..)
        .map(|((d, &hash), seq)| {
            let e = d.prepared.into_entry(seq, prev, hash);
            prev = hash;
            e
        })
        .collect()
}

/// Hash, insert and project one encoded draft as the entry after `head`, and move `head`.
fn append_in(
    conn: &Connection,
    path: &Path,
    alg: HashAlg,
    head: &mut Head,
    acc: &mut projection::Deltas,
    d: &Encoded,
) -> Result<(), LedgerError> {
    let seq = head.seq + 1;
    let hash = d.prepared.hash_at(seq, &head.hash, alg);
    let event = &d.prepared.draft().event;
    let seq_i = projection::seq_i64(seq).map_err(|e| e.into_ledger(path))?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO entries (seq, id, at, v, kind, body, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .and_then(|mut s| {
            s.execute(params![
                seq_i,
                d.id_text,
                d.prepared.draft().at.0,
                VOCABULARY_VERSION,
                event.kind(),
                d.body(),
                &head.hash.0[..],
                &hash.0[..],
            ])
        });
    if let Err(e) = inserted {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) {
            return Err(LedgerError::Rejected(format!(
                "entry id {} is already in the ledger",
                d.id_text
            )));
        }
        return Err(LedgerError::sqlite(path, "inserting the entry", e));
    }
    projection::apply(
        conn,
        seq,
        d.prepared.draft().at.0,
        event,
        d.ticket_counter,
        acc,
    )
    .map_err(|e| e.into_ledger(path))?;
    *head = Head { seq, hash };
    Ok(())
}

fn read_head(conn: &Connection, path: &Path) -> Result<Head, LedgerError> {
    let (seq, hash): (i64, Vec<u8>) = conn
        .prepare_cached("SELECT seq, hash FROM head WHERE one = 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
        .ctx(path, "reading the head")?;
    Ok(Head {
        seq: u64::try_from(seq).unwrap_or(0),
        hash: Digest::from_slice(&hash).unwrap_or(Digest::ZERO),
    })
}

fn write_head(conn: &Connection, path: &Path, head: Head) -> Result<(), LedgerError> {
    let seq = projection::seq_i64(head.seq).map_err(|e| e.into_ledger(path))?;
    conn.prepare_cached("UPDATE head SET seq = ?1, hash = ?2 WHERE one = 1")
        .and_then(|mut s| s.execute(params![seq, &head.hash.0[..]]))
        .ctx(path, "moving the head")?;
    Ok(())
}

fn read_meta(conn: &Connection, path: &Path) -> Result<BTreeMap<String, String>, LedgerError> {
    let mut stmt = conn
        .prepare("SELECT key, value FROM meta")
        .ctx(path, "reading meta")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx(path, "reading meta")?;
    rows.collect::<Result<_, _>>().ctx(path, "reading meta")
}

fn build_empty(tmp: &Path, device: &DeviceId, alg: HashAlg) -> Result<(), LedgerError> {
    let _ = std::fs::remove_file(tmp);
    let mut conn = Connection::open(tmp).ctx(tmp, "creating")?;
    conn.pragma_update(None, "synchronous", "FULL")
        .ctx(tmp, "setting synchronous=FULL")?;
    schema::migrations()
        .to_latest(&mut conn)
        .map_err(|e| match e {
            rusqlite_migration::Error::RusqliteError { err, .. } => {
                LedgerError::sqlite(tmp, "creating the schema", err)
            }
            other => LedgerError::Internal {
                what: "creating the schema",
                detail: other.to_string(),
            },
        })?;
    let now = Timestamp::now().0.to_string();
    let tx = conn.transaction().ctx(tmp, "writing meta")?;
    for (k, v) in [
        ("format", "baytrace-edge-ledger"),
        ("device_id", device.as_str()),
        ("hash_alg", alg.as_str()),
        ("created_at", now.as_str()),
    ] {
        tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", [k, v])
            .ctx(tmp, "writing meta")?;
    }
    tx.commit().ctx(tmp, "writing meta")?;
    conn.close()
        .map_err(|(_, e)| LedgerError::sqlite(tmp, "closing", e))
}

pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Refuse early, with a clear message, when SQLite would fail half-way (it needs to create
/// `-wal` and `-shm` beside the file).
fn writable(dir: &Path, path: &Path) -> Result<(), LedgerError> {
    let check = |p: &Path, what: &str| {
        access(p, AccessFlags::W_OK).map_err(|e| LedgerError::ReadOnly {
            path: path.to_path_buf(),
            detail: format!("{what} {} is not writable: {e}", p.display()),
        })
    };
    check(dir, "directory")?;
    if path.exists() {
        check(path, "file")?;
    }
    Ok(())
}

pub(crate) fn sync_file(path: &Path) -> Result<(), LedgerError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| LedgerError::io(path, "syncing", &e))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| LedgerError::io(dir, "syncing the directory", &e))
}

#[cfg(test)]
mod tests;
