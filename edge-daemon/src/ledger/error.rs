//! Ledger errors: one enum, each variant a situation an operator can act on.
//!
//! Why strings instead of wrapped `rusqlite::Error`s: the group-commit writer must hand the same
//! failure to every caller whose draft was in the failed transaction, so the error is `Clone`;
//! and every message says what to do next, which a raw SQLite code never does. The SQLite
//! detail is kept in `detail` for the log.

use std::path::{Path, PathBuf};

/// What generic code (the CLI's exit status, the sync client, the UI) acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerErrorKind {
    NotFound,
    AlreadyExists,
    /// Not an SQLite file, or an SQLite file that is not a baytrace ledger.
    NotALedger,
    /// Damaged or truncated file.
    Corrupt,
    /// Written by a newer baytrace-edge.
    NewerSchema,
    /// The file or its directory cannot be written.
    ReadOnly,
    DiskFull,
    Io,
    /// The draft was refused (duplicate ticket code, void of an unknown entry, ...); nothing
    /// was written.
    Rejected,
    /// Another process holds the write lock.
    Busy,
    /// The group-commit writer has stopped.
    Closed,
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum LedgerError {
    #[error("no ledger at {path}: create one with `baytrace-edge init --dir DIR --device ID`")]
    NotFound { path: PathBuf },
    #[error(
        "{path} already exists: refusing to overwrite it; choose another path or move it aside"
    )]
    AlreadyExists { path: PathBuf },
    #[error(
        "{path} is not a baytrace ledger ({detail}); check the path, or restore from a backup with `baytrace-edge restore`"
    )]
    NotALedger { path: PathBuf, detail: String },
    #[error(
        "{path} is damaged ({detail}); the file was left as it is: restore from a backup with `baytrace-edge restore --from BACKUP --db NEW_PATH`"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{path} has schema version {found}, newer than this baytrace-edge understands ({supported}); the file was left unchanged: upgrade baytrace-edge"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "cannot write {path} ({detail}): the ledger needs write access to the file and its directory (for the -wal and -shm files); check permissions and that the disk is not mounted read-only"
    )]
    ReadOnly { path: PathBuf, detail: String },
    #[error(
        "disk full while writing {path} ({detail}); nothing was committed: free space, then retry"
    )]
    DiskFull { path: PathBuf, detail: String },
    #[error(
        "I/O error on {path} while {what} ({detail}); nothing was committed: check the disk (full, file size limit, failing storage), then retry"
    )]
    Io {
        path: PathBuf,
        what: &'static str,
        detail: String,
    },
    #[error("entry refused: {0}; nothing was written")]
    Rejected(String),
    #[error(
        "{path} is locked by another process ({detail}); stop the other baytrace-edge (e.g. `systemctl stop baytrace-edge`) and retry"
    )]
    Busy { path: PathBuf, detail: String },
    #[error("the ledger writer has stopped; the entry was not written")]
    Closed,
    #[error("internal ledger error while {what}: {detail}")]
    Internal { what: &'static str, detail: String },
}

impl LedgerError {
    pub fn kind(&self) -> LedgerErrorKind {
        use LedgerErrorKind as K;
        match self {
            LedgerError::NotFound { .. } => K::NotFound,
            LedgerError::AlreadyExists { .. } => K::AlreadyExists,
            LedgerError::NotALedger { .. } => K::NotALedger,
            LedgerError::Corrupt { .. } => K::Corrupt,
            LedgerError::NewerSchema { .. } => K::NewerSchema,
            LedgerError::ReadOnly { .. } => K::ReadOnly,
            LedgerError::DiskFull { .. } => K::DiskFull,
            LedgerError::Io { .. } => K::Io,
            LedgerError::Rejected(_) => K::Rejected,
            LedgerError::Busy { .. } => K::Busy,
            LedgerError::Closed => K::Closed,
            LedgerError::Internal { .. } => K::Internal,
        }
    }

    /// Map an SQLite error met while doing `what` on `path` to the situation it means.
    pub(crate) fn sqlite(path: &Path, what: &'static str, e: rusqlite::Error) -> LedgerError {
        use rusqlite::ErrorCode as C;
        let path = path.to_path_buf();
        let detail = e.to_string();
        match e.sqlite_error_code() {
            Some(C::NotADatabase) => LedgerError::NotALedger { path, detail },
            Some(C::DatabaseCorrupt) => LedgerError::Corrupt { path, detail },
            Some(C::ReadOnly | C::CannotOpen | C::PermissionDenied) => {
                LedgerError::ReadOnly { path, detail }
            }
            Some(C::DiskFull) => LedgerError::DiskFull { path, detail },
            Some(C::SystemIoFailure) => LedgerError::Io { path, what, detail },
            Some(C::DatabaseBusy | C::DatabaseLocked) => LedgerError::Busy { path, detail },
            Some(C::ConstraintViolation) => LedgerError::Rejected(detail),
            _ => LedgerError::Internal { what, detail },
        }
    }

    pub(crate) fn io(path: &Path, what: &'static str, e: &std::io::Error) -> LedgerError {
        let path = path.to_path_buf();
        let detail = e.to_string();
        match e.kind() {
            std::io::ErrorKind::NotFound => LedgerError::NotFound { path },
            std::io::ErrorKind::AlreadyExists => LedgerError::AlreadyExists { path },
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                LedgerError::ReadOnly { path, detail }
            }
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::FileTooLarge => {
                LedgerError::DiskFull { path, detail }
            }
            _ => LedgerError::Io { path, what, detail },
        }
    }
}

/// Shorthand for mapping SQLite errors on a known path.
pub(crate) trait SqlContext<T> {
    fn ctx(self, path: &Path, what: &'static str) -> Result<T, LedgerError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, path: &Path, what: &'static str) -> Result<T, LedgerError> {
        self.map_err(|e| LedgerError::sqlite(path, what, e))
    }
}
