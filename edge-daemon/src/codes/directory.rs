//! What is this scanned code? One answer for every workflow that scans (shipping, aggregation,
//! a distributor's receipt): the code's owner, template, level, batch and serial, or a typed
//! reason to refuse it.
//!
//! Order of checks, cheapest first: the shape and check symbol (no key, no database), then the
//! issuer (is it ours at all?), the template, the decryption (a forged or mistyped code does
//! not decode), the allocation (was this serial ever issued?), and the disable state.

use crate::ledger::{Ledger, LedgerError};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;
use trace_core::DeviceId;
use trace_core::event::CodeLevel;
use trace_core::product_code::{CodeKey, CodeVars, ProductCodec, ScanError, ScannedCode, Template};

/// A code of this box, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeInfo {
    /// The box that issued it (whose ledger allocated the serial).
    pub owner: DeviceId,
    pub issuer: String,
    pub template: String,
    /// The template's GTIN, or its product code when it has none.
    pub product: String,
    pub level: CodeLevel,
    pub serial: u64,
    /// From the code itself when the template carries it, else from the allocation.
    pub batch: Option<String>,
    /// Everything the code carries (batch, dates).
    pub vars: CodeVars,
    /// The canonical token (upper case), the same however the code was scanned or typed.
    pub token: String,
    /// Ledger entry that allocated the serial.
    pub allocated_seq: u64,
    pub disabled: bool,
}

/// Why a scanned code is refused.
#[derive(Debug, thiserror::Error)]
pub enum CodeRejection {
    #[error("not a readable product code: {0}")]
    Malformed(#[from] ScanError),
    #[error("code of another enterprise (issuer {issuer}), not of this box")]
    Foreign { issuer: String },
    #[error("code of issuer {issuer} template number {number}, which this box does not have")]
    UnknownTemplate { issuer: String, number: u16 },
    #[error("unknown code: {0}")]
    Unknown(String),
    #[error("code {} (template {}, serial {}) is disabled (停用)", .0.token, .0.template, .0.serial)]
    Disabled(Box<CodeInfo>),
    #[error(transparent)]
    Storage(#[from] LedgerError),
}

impl CodeRejection {
    /// A stable name for UIs and counters.
    pub fn kind(&self) -> &'static str {
        match self {
            CodeRejection::Malformed(_) => "malformed",
            CodeRejection::Foreign { .. } => "foreign",
            CodeRejection::UnknownTemplate { .. } => "unknown_template",
            CodeRejection::Unknown(_) => "unknown",
            CodeRejection::Disabled(_) => "disabled",
            CodeRejection::Storage(_) => "storage",
        }
    }
}

/// Resolves scanned codes against one box's templates, pools and disabled ranges.
pub struct CodeDirectory {
    owner: DeviceId,
    secret: [u8; 32],
}

impl std::fmt::Debug for CodeDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeDirectory")
            .field("owner", &self.owner)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl CodeDirectory {
    /// `secret`: the box's 32-byte ticket-code key (`DeviceKeys::ticket_key`).
    pub fn new(owner: DeviceId, secret: [u8; 32]) -> CodeDirectory {
        CodeDirectory { owner, secret }
    }

    /// For workflows that must not take a disabled code: a disabled one is
    /// `Err(CodeRejection::Disabled(info))`.
    pub fn accept(&self, ledger: &Ledger, scanned: &str) -> Result<CodeInfo, CodeRejection> {
        let info = self.resolve(ledger, scanned)?;
        if info.disabled {
            return Err(CodeRejection::Disabled(Box::new(info)));
        }
        Ok(info)
    }

    /// For views: a disabled code resolves, with `disabled: true`.
    pub fn resolve(&self, ledger: &Ledger, scanned: &str) -> Result<CodeInfo, CodeRejection> {
        self.resolve_conn(ledger.conn(), scanned)
            .map_err(|e| match e {
                Fail::Reject(r) => r,
                Fail::Sql(e) => CodeRejection::Storage(LedgerError::sqlite(
                    ledger.path(),
                    "resolving a code",
                    e,
                )),
            })
    }

    /// [`CodeDirectory::resolve`] over any connection to a ledger file (e.g. a read-only one
    /// held beside the writer, so a workflow can look codes up while it appends).
    pub fn resolve_on(&self, conn: &Connection, scanned: &str) -> Result<CodeInfo, CodeRejection> {
        self.resolve_conn(conn, scanned).map_err(|e| match e {
            Fail::Reject(r) => r,
            Fail::Sql(e) => CodeRejection::Storage(LedgerError::sqlite(
                Path::new(conn.path().unwrap_or("(ledger)")),
                "resolving a code",
                e,
            )),
        })
    }

    fn resolve_conn(&self, conn: &Connection, scanned: &str) -> Result<CodeInfo, Fail> {
        let s = ScannedCode::parse(scanned).map_err(|e| Fail::Reject(e.into()))?;
        let row: Option<(String, String)> = conn
            .query_row(
                "SELECT id, body FROM codes_templates WHERE issuer = ?1 AND number = ?2",
                params![s.issuer, s.number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, body)) = row else {
            let ours: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM codes_templates WHERE issuer = ?1)",
                [&s.issuer],
                |r| r.get(0),
            )?;
            return Err(Fail::Reject(if ours {
                CodeRejection::UnknownTemplate {
                    issuer: s.issuer,
                    number: s.number,
                }
            } else {
                CodeRejection::Foreign { issuer: s.issuer }
            }));
        };
        let unknown = |m: String| Fail::Reject(CodeRejection::Unknown(m));
        let t: Template = serde_json::from_str(&body)
            .map_err(|e| unknown(format!("template {id:?} cannot be read: {e}")))?;
        let product = t
            .gtin
            .clone()
            .or_else(|| t.product_code.clone())
            .unwrap_or_default();
        let key = CodeKey::derive(&self.secret, &t.issuer, t.number);
        let codec = ProductCodec::new(t, &key)
            .map_err(|e| unknown(format!("template {id:?} is invalid: {e}")))?;
        let d = codec.decode(&s).map_err(|e| unknown(e.to_string()))?;
        let serial = i64::try_from(d.serial).unwrap_or(i64::MAX);
        let alloc: Option<(Option<String>, i64)> = conn
            .prepare_cached(
                "SELECT batch, seq FROM codes_allocations \
                 WHERE pool = ?1 AND first <= ?2 AND last >= ?2 ORDER BY first DESC LIMIT 1",
            )?
            .query_row(params![id, serial], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((alloc_batch, seq)) = alloc else {
            return Err(unknown(format!(
                "serial {} of template {id:?} was never issued",
                d.serial
            )));
        };
        let disabled: Option<bool> = conn
            .prepare_cached(
                "SELECT disabled FROM codes_toggles \
                 WHERE pool = ?1 AND first <= ?2 AND last >= ?2 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![id, serial], |r| r.get(0))
            .optional()?;
        Ok(CodeInfo {
            owner: self.owner.clone(),
            issuer: d.issuer,
            template: d.template,
            product,
            level: d.level,
            serial: d.serial,
            batch: d.vars.batch.clone().or(alloc_batch),
            vars: d.vars,
            token: s.token,
            allocated_seq: seq as u64,
            disabled: disabled.unwrap_or(false),
        })
    }
}

enum Fail {
    Reject(CodeRejection),
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Sql(e)
    }
}
