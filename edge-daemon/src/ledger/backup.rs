//! Online backup and verified restore.
//!
//! Backup uses SQLite's online backup API, so it is a consistent snapshot taken while the
//! daemon keeps appending (a file copy of a WAL database is not). Both directions write to a
//! temporary file in the destination directory, fsync it, and link it into place only when
//! complete: a crash or a full disk never leaves a half-written backup or ledger under the
//! real name. Neither ever overwrites an existing file; a restore that would replace a ledger
//! must be asked for by moving the old file aside first, which also keeps the evidence.

use super::error::SqlContext;
use super::{Ledger, LedgerError, LedgerOptions, OpenCheck, VerifyReport, parent_dir, schema};
use super::{sync_dir, sync_file};
use rusqlite::{Connection, MAIN_DB};
use std::path::{Path, PathBuf};

impl Ledger {
    /// Write a consistent copy of this ledger to `dest` (which must not exist).
    pub fn backup_to(&self, dest: &Path) -> Result<(), LedgerError> {
        refuse_existing(dest)?;
        let tmp = temp_beside(dest, "backup");
        let res = (|| {
            self.conn()
                .backup(MAIN_DB, &tmp, None)
                .ctx(&tmp, "writing the backup")?;
            // The copy keeps the WAL flag; fold it into a single self-contained file.
            let c = Connection::open(&tmp).ctx(&tmp, "finishing the backup")?;
            c.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))
                .ctx(&tmp, "finishing the backup")?;
            c.close()
                .map_err(|(_, e)| LedgerError::sqlite(&tmp, "finishing the backup", e))?;
            sync_file(&tmp)?;
            link_into_place(&tmp, dest)
        })();
        remove_temp(&tmp);
        res
    }

    /// Restore the backup `from` into a new ledger at `to`. The backup's chain is verified
    /// first; a damaged backup is refused and `to` is not created.
    pub fn restore(from: &Path, to: &Path) -> Result<VerifyReport, LedgerError> {
        refuse_existing(to)?;
        let opts = LedgerOptions {
            check: OpenCheck::Quick,
            ..LedgerOptions::default()
        };
        let src = Ledger::open(from, &opts)?;
        let report = src.verify()?;
        if let Some(bad) = &report.first_bad {
            return Err(LedgerError::Corrupt {
                path: from.to_path_buf(),
                detail: format!(
                    "the backup's chain is broken at entry {} ({:?}: {}); choose an older backup",
                    bad.seq, bad.problem, bad.detail
                ),
            });
        }
        let tmp = temp_beside(to, "restore");
        let res = (|| {
            src.conn()
                .backup(MAIN_DB, &tmp, None)
                .ctx(&tmp, "writing the restored ledger")?;
            let c = Connection::open(&tmp).ctx(&tmp, "finishing the restore")?;
            c.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))
                .ctx(&tmp, "finishing the restore")?;
            c.close()
                .map_err(|(_, e)| LedgerError::sqlite(&tmp, "finishing the restore", e))?;
            sync_file(&tmp)?;
            link_into_place(&tmp, to)
        })();
        remove_temp(&tmp);
        res?;
        Ok(report)
    }
}

fn refuse_existing(p: &Path) -> Result<(), LedgerError> {
    for f in [p.to_path_buf(), schema::wal_path(p)] {
        if f.exists() {
            return Err(LedgerError::AlreadyExists { path: f });
        }
    }
    Ok(())
}

fn temp_beside(dest: &Path, what: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map_or_else(|| "ledger".into(), |n| n.to_string_lossy().into_owned());
    parent_dir(dest).join(format!(".{name}.{what}-{}", std::process::id()))
}

/// `link(2)` refuses an existing name, unlike `rename(2)`: never clobber a file that appeared
/// meanwhile.
fn link_into_place(tmp: &Path, dest: &Path) -> Result<(), LedgerError> {
    std::fs::hard_link(tmp, dest).map_err(|e| LedgerError::io(dest, "linking into place", &e))?;
    sync_dir(&parent_dir(dest))
}

fn remove_temp(tmp: &Path) {
    for p in [
        tmp.to_path_buf(),
        schema::wal_path(tmp),
        schema::shm_path(tmp),
    ] {
        let _ = std::fs::remove_file(p);
    }
}
