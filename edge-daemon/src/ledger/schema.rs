//! The on-disk format: embedded migrations, connection settings and the pre-open file check.
//!
//! Durability: `journal_mode=WAL` with `synchronous=FULL`. In WAL mode a commit appends the
//! transaction's pages to the `-wal` file; with `FULL` SQLite fsyncs the WAL before the commit
//! call returns, so an entry `append` has acknowledged survives power loss and kill -9, not
//! just a process crash (`NORMAL` would only fsync at checkpoints and could lose the last
//! commits on power loss). The price is one fsync per transaction, which is exactly why bursts
//! go through the group-commit writer: one fsync for everything queued.
//!
//! Migrations are embedded SQL files under `edge-daemon/migrations/`, applied by
//! `rusqlite_migration`, which records the version in `PRAGMA user_version`. Released files are
//! never edited. A file whose version is above ours was written by a newer binary: we refuse it
//! before touching anything rather than guess at its meaning.

use super::error::{LedgerError, SqlContext};
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

static MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../../migrations/0001_ledger.sql")),
    M::up(include_str!("../../migrations/0002_codes.sql")),
    M::up(include_str!("../../migrations/0003_line.sql")),
    M::up(include_str!("../../migrations/0004_producer.sql")),
    M::up(include_str!("../../migrations/0005_stall.sql")),
    M::up(include_str!("../../migrations/0006_stall_records.sql")),
    M::up(include_str!("../../migrations/0007_ticket_counters.sql")),
    M::up(include_str!("../../migrations/0008_line_screen.sql")),
];

/// The schema version this binary writes and understands.
pub const SCHEMA_VERSION: i64 = 8;

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

/// Settings every ledger connection uses. Returns an error if WAL cannot be enabled.
pub(crate) fn configure(conn: &Connection, path: &Path, busy: Duration) -> Result<(), LedgerError> {
    conn.busy_timeout(busy)
        .ctx(path, "setting the busy timeout")?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .ctx(path, "enabling WAL")?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(LedgerError::ReadOnly {
            path: path.to_path_buf(),
            detail: format!("SQLite kept journal_mode={mode} instead of WAL"),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .ctx(path, "setting synchronous=FULL")?;
    // 16 MiB of page cache (default 2 MiB): the ticket-code index takes random keys, so a
    // burst touches leaf pages all over it; keeping them cached saves reads, not durability.
    conn.pragma_update(None, "cache_size", -16_384)
        .ctx(path, "setting cache_size")?;
    // Every projection has its own statements (a sale alone runs a dozen): with rusqlite's
    // default cache of 16, mixed workloads would re-prepare SQL on every append.
    conn.set_prepared_statement_cache_capacity(64);
    // Keep the WAL from growing without bound during long bursts.
    conn.pragma_update(None, "wal_autocheckpoint", 1000)
        .ctx(path, "setting wal_autocheckpoint")?;
    Ok(())
}

/// What the first 100 bytes of the file say, checked before SQLite sees it so a foreign or
/// truncated file is refused without SQLite creating `-wal`/`-shm` files or rewriting a page.
pub(crate) fn check_header(path: &Path) -> Result<(), LedgerError> {
    let mut f = std::fs::File::open(path).map_err(|e| LedgerError::io(path, "opening", &e))?;
    let len = f
        .metadata()
        .map_err(|e| LedgerError::io(path, "reading metadata", &e))?
        .len();
    let mut h = [0u8; 100];
    if len < 100 || f.read_exact(&mut h).is_err() {
        return Err(LedgerError::NotALedger {
            path: path.to_path_buf(),
            detail: format!("file is {len} bytes, shorter than an SQLite header"),
        });
    }
    if &h[..16] != b"SQLite format 3\0" {
        return Err(LedgerError::NotALedger {
            path: path.to_path_buf(),
            detail: "no SQLite header".into(),
        });
    }
    let raw_page = u32::from(u16::from_be_bytes([h[16], h[17]]));
    let page_size = u64::from(if raw_page == 1 { 65536 } else { raw_page });
    if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) {
        return Err(LedgerError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("invalid page size {page_size} in the header"),
        });
    }
    let be32 = |o: usize| u64::from(u32::from_be_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]));
    let (change_counter, pages, valid_for) = (be32(24), be32(28), be32(92));
    // The in-header size is authoritative only when it was written by the same change as the
    // counter; pages still in the WAL may legitimately be missing from the main file.
    let wal_has_frames = wal_path(path).metadata().is_ok_and(|m| m.len() > 0);
    if !wal_has_frames
        && (len % page_size != 0 || (change_counter == valid_for && len < pages * page_size))
    {
        return Err(LedgerError::Corrupt {
            path: path.to_path_buf(),
            detail: format!(
                "file is truncated: {len} bytes, the header says {pages} pages of {page_size} bytes"
            ),
        });
    }
    Ok(())
}

pub(crate) fn wal_path(path: &Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-wal");
    s.into()
}

pub(crate) fn shm_path(path: &Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-shm");
    s.into()
}

/// Run `PRAGMA quick_check`: every page readable, b-trees well formed. O(file size).
pub(crate) fn quick_check(conn: &Connection, path: &Path) -> Result<(), LedgerError> {
    let mut stmt = conn
        .prepare("PRAGMA quick_check(5)")
        .ctx(path, "checking integrity")?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .ctx(path, "checking integrity")?
        .collect::<Result<_, _>>()
        .ctx(path, "checking integrity")?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        Err(LedgerError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("integrity check: {}", rows.join("; ")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
        assert_eq!(MIGRATIONS.len() as i64, SCHEMA_VERSION);
    }
}
