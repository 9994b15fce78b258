//! "Is this scanned code ours, enabled, and of which product and batch?"
//!
//! The codes module (templates, pools, the decoder of our own code strings) answers that on a
//! real box; the producer operations only need the answer, so they depend on this trait and
//! the lead wires the decoder in. [`TableLookup`] is a plain table implementation: the stand-in
//! for tests and for a box that imports a code list.

use std::collections::HashMap;
use trace_core::event::CodeLevel;

/// What a valid code of this enterprise stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeFacts {
    pub level: CodeLevel,
    pub product: String,
    /// The production batch the code was commissioned for (units; cases when the template
    /// carries it).
    pub batch: Option<String>,
    pub production_date: Option<String>,
    pub expiry_date: Option<String>,
}

/// Why a scanned code cannot be used. Each is a clear message for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeRejection {
    #[error("not a code this system can read ({0})")]
    Malformed(String),
    #[error("belongs to another enterprise ({0}), not to this one")]
    ForeignEnterprise(String),
    #[error("is disabled (停用): it must not be shipped or packed")]
    Disabled,
    #[error("is not a code this enterprise issued (never generated or not synced to this box)")]
    Unknown,
    #[error("cannot be checked: the box's code directory could not be read ({0})")]
    Unreadable(String),
}

pub trait CodeLookup {
    fn lookup(&self, code: &str) -> Result<CodeFacts, CodeRejection>;
}

/// Codes of one enterprise in a table, recognised by a prefix (the enterprise's part of the
/// URL, e.g. `https://t.baytrace.cn/p/91440101MA5XXXXX/`).
#[derive(Debug, Clone, Default)]
pub struct TableLookup {
    prefix: String,
    codes: HashMap<String, CodeFacts>,
    disabled: std::collections::HashSet<String>,
}

impl TableLookup {
    pub fn new(prefix: impl Into<String>) -> TableLookup {
        TableLookup {
            prefix: prefix.into(),
            ..TableLookup::default()
        }
    }

    pub fn insert(&mut self, code: impl Into<String>, facts: CodeFacts) {
        self.codes.insert(code.into(), facts);
    }

    pub fn disable(&mut self, code: &str) {
        self.disabled.insert(code.to_owned());
    }
}

impl CodeLookup for TableLookup {
    fn lookup(&self, code: &str) -> Result<CodeFacts, CodeRejection> {
        let t = code.trim();
        if t.is_empty() || t.chars().any(char::is_control) {
            return Err(CodeRejection::Malformed(
                "empty or control characters".into(),
            ));
        }
        if !t.starts_with(&self.prefix) {
            let owner = t.rsplit_once('/').map_or(t, |(head, _)| head);
            return Err(CodeRejection::ForeignEnterprise(owner.to_owned()));
        }
        if self.disabled.contains(t) {
            return Err(CodeRejection::Disabled);
        }
        self.codes.get(t).cloned().ok_or(CodeRejection::Unknown)
    }
}
