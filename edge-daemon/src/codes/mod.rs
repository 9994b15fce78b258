//! # Product codes on the line box: templates, pools, generation, disabling, lookup
//!
//! The pure parts (template rules, the encryption, the code's shape) live in
//! `trace_core::product_code`; this module keeps them in the ledger:
//!
//! - a template is saved as a `code_template` entry (synced, so the cloud can decode its codes);
//! - serials are handed out by `codes_allocated` entries **before** any code is written or
//!   printed. The pool's next free serial is a projection committed in the same transaction,
//!   and an allocation that overlaps earlier serials is refused, so a serial is never issued
//!   twice, whatever crashed in between: at worst a crash leaves allocated-but-unused serials,
//!   which reconciliation counts;
//! - `codes_disabled` / `codes_enabled` entries take ranges out of service and back;
//! - [`CodeDirectory`] answers "what is this scanned code?" for the other workflows.
//!
//! The key of a template is derived from the box's ticket-code key (which the cloud holds
//! from provisioning) with `CodeKey::derive`, so no new secret needs distributing.
//!
//! | file | what |
//! |---|---|
//! | `projection.rs` | the `codes_*` tables, checked and updated inside the append transaction |
//! | `directory.rs` | [`CodeDirectory`]: scanned code → [`CodeInfo`] or a typed [`CodeRejection`] |
//! | `export.rs` | CSV / TXT / ZIP files of a batch's codes for external printers |

mod directory;
pub mod export;
pub(crate) mod projection;

pub use directory::{CodeDirectory, CodeInfo, CodeRejection};
pub use export::{ExportFormat, ExportReport, export};

use crate::ledger::{Ledger, LedgerError};
use rusqlite::OptionalExtension;
use serde::Serialize;
use trace_core::event::{CodeRange, CodeTemplateSaved, CodesAllocated, CodesToggled};
use trace_core::product_code::{
    BatchCodes, CodeKey, CodeVars, ProductCodec, Template, TemplateError, VarsError,
};
use trace_core::{EntryDraft, Event};

/// Why a codes operation refused or failed. Refusals change nothing.
#[derive(Debug, thiserror::Error)]
pub enum CodesError {
    #[error("template: {0}")]
    Template(#[from] TemplateError),
    #[error("{0}")]
    Vars(#[from] VarsError),
    #[error("no code template {0:?} on this box (see `codes template list`)")]
    UnknownTemplate(String),
    #[error(
        "template {template:?} has {left} serials left of {capacity}; {requested} were asked for"
    )]
    Exhausted {
        template: String,
        capacity: u64,
        left: u64,
        requested: u64,
    },
    #[error("count must be at least 1")]
    Count,
    #[error("stored template {id:?} cannot be read: {detail}")]
    Stored { id: String, detail: String },
    #[error("{0}")]
    Export(String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// A template as stored, with the entry that saved it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredTemplate {
    pub seq: u64,
    /// Serials handed out so far (the next free serial).
    pub allocated: u64,
    #[serde(flatten)]
    pub template: Template,
}

/// Serials handed out by one `codes_allocated` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allocation {
    pub seq: u64,
    pub range: CodeRange,
}

fn sql<'a>(ledger: &'a Ledger, what: &'static str) -> impl Fn(rusqlite::Error) -> CodesError + 'a {
    move |e| CodesError::Ledger(LedgerError::sqlite(ledger.path(), what, e))
}

/// Validate and save a template (a `code_template` entry). Saving the same template again is
/// a no-op entry; changing one that has codes allocated is refused.
pub fn save_template(ledger: &mut Ledger, template: Template) -> Result<u64, CodesError> {
    template.validate()?;
    let e = ledger.append(EntryDraft::new(Event::CodeTemplate(CodeTemplateSaved {
        template,
    })))?;
    Ok(e.seq)
}

pub fn templates(ledger: &Ledger) -> Result<Vec<StoredTemplate>, CodesError> {
    let err = sql(ledger, "listing code templates");
    let mut stmt = ledger
        .conn()
        .prepare(
            "SELECT t.id, t.body, t.seq, coalesce(p.next_serial, 0) FROM codes_templates t \
             LEFT JOIN codes_pools p ON p.pool = t.id ORDER BY t.id",
        )
        .map_err(&err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(&err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(&err)?;
    rows.into_iter()
        .map(|(id, body, seq, next)| {
            Ok(StoredTemplate {
                template: parse_template(&id, &body)?,
                seq: seq as u64,
                allocated: next as u64,
            })
        })
        .collect()
}

fn parse_template(id: &str, body: &str) -> Result<Template, CodesError> {
    serde_json::from_str(body).map_err(|e| CodesError::Stored {
        id: id.to_owned(),
        detail: e.to_string(),
    })
}

pub fn template(ledger: &Ledger, id: &str) -> Result<Template, CodesError> {
    let body: Option<String> = ledger
        .conn()
        .query_row(
            "SELECT body FROM codes_templates WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql(ledger, "reading a code template"))?;
    let body = body.ok_or_else(|| CodesError::UnknownTemplate(id.to_owned()))?;
    parse_template(id, &body)
}

/// The codec of a stored template under the box's code secret (its ticket key).
pub fn codec(ledger: &Ledger, secret: &[u8; 32], id: &str) -> Result<ProductCodec, CodesError> {
    let t = template(ledger, id)?;
    let key = CodeKey::derive(secret, &t.issuer, t.number);
    Ok(ProductCodec::new(t, &key)?)
}

/// `serial → code` for one batch of a stored template: what the coder feed prints.
pub fn batch_encoder(
    ledger: &Ledger,
    secret: &[u8; 32],
    template_id: &str,
    vars: &CodeVars,
) -> Result<BatchCodes, CodesError> {
    Ok(codec(ledger, secret, template_id)?.for_batch(vars)?)
}

/// The next serial a template's pool would hand out.
pub fn next_serial(ledger: &Ledger, pool: &str) -> Result<u64, CodesError> {
    let n: Option<i64> = ledger
        .conn()
        .query_row(
            "SELECT next_serial FROM codes_pools WHERE pool = ?1",
            [pool],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql(ledger, "reading a code pool"))?;
    Ok(n.map_or(0, |n| n as u64))
}

/// Durably hand out `count` fresh serials of a template (its pool is the template id) for
/// `batch`. Committed before the caller writes or prints any code.
pub fn allocate(
    ledger: &mut Ledger,
    template_id: &str,
    batch: Option<&str>,
    count: u64,
) -> Result<Allocation, CodesError> {
    if count == 0 {
        return Err(CodesError::Count);
    }
    let t = template(ledger, template_id)?;
    let first = next_serial(ledger, template_id)?;
    let left = t.serial_capacity.saturating_sub(first);
    if count > left {
        return Err(CodesError::Exhausted {
            template: template_id.to_owned(),
            capacity: t.serial_capacity,
            left,
            requested: count,
        });
    }
    let range = CodeRange {
        first,
        last: first + count - 1,
    };
    let e = ledger.append(EntryDraft::new(Event::CodesAllocated(CodesAllocated {
        pool: template_id.to_owned(),
        level: t.level,
        range,
        template: Some(template_id.to_owned()),
        batch: batch.map(str::to_owned),
    })))?;
    Ok(Allocation { seq: e.seq, range })
}

/// Disable (停用) or re-enable (启用) serials of a template's pool.
pub fn set_disabled(
    ledger: &mut Ledger,
    template_id: &str,
    ranges: Vec<CodeRange>,
    disabled: bool,
    reason: Option<String>,
) -> Result<u64, CodesError> {
    template(ledger, template_id)?;
    let body = CodesToggled {
        pool: template_id.to_owned(),
        ranges,
        reason,
    };
    let event = if disabled {
        Event::CodesDisabled(trace_core::event::CodesDisabled(body))
    } else {
        Event::CodesEnabled(trace_core::event::CodesEnabled(body))
    };
    Ok(ledger.append(EntryDraft::new(event))?.seq)
}

#[cfg(test)]
mod tests;
