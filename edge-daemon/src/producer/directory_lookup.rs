//! The real box's [`CodeLookup`]: the codes module's decoder ([`CodeDirectory`]) over this box's
//! own ledger file, through a read-only connection of its own so the producer operations can
//! look codes up while they hold the ledger for appending (WAL lets both coexist).

use super::lookup::{CodeFacts, CodeLookup, CodeRejection};
use crate::codes::{self, CodeDirectory};
use crate::ledger::LedgerError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

pub struct DirectoryLookup {
    dir: CodeDirectory,
    conn: Connection,
}

impl DirectoryLookup {
    /// Opens `ledger` read-only beside whatever writer holds it.
    pub fn open(ledger: &Path, dir: CodeDirectory) -> Result<DirectoryLookup, LedgerError> {
        let conn = Connection::open_with_flags(
            ledger,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| LedgerError::sqlite(ledger, "opening the ledger to look codes up", e))?;
        Ok(DirectoryLookup { dir, conn })
    }
}

impl CodeLookup for DirectoryLookup {
    fn lookup(&self, code: &str) -> Result<CodeFacts, CodeRejection> {
        match self.dir.resolve_on(&self.conn, code) {
            Ok(info) if info.disabled => Err(CodeRejection::Disabled),
            Ok(info) => Ok(CodeFacts {
                level: info.level,
                product: info.product,
                batch: info.batch,
                production_date: info.vars.production_date.map(|d| d.to_string()),
                expiry_date: info.vars.expiry_date.map(|d| d.to_string()),
            }),
            Err(codes::CodeRejection::Malformed(e)) => Err(CodeRejection::Malformed(e.to_string())),
            Err(codes::CodeRejection::Foreign { issuer }) => {
                Err(CodeRejection::ForeignEnterprise(format!("issuer {issuer}")))
            }
            Err(codes::CodeRejection::Disabled(_)) => Err(CodeRejection::Disabled),
            Err(
                codes::CodeRejection::UnknownTemplate { .. } | codes::CodeRejection::Unknown(_),
            ) => Err(CodeRejection::Unknown),
            Err(codes::CodeRejection::Storage(e)) => Err(CodeRejection::Unreadable(e.to_string())),
        }
    }
}
