use super::lookup::CodeRejection;
use crate::ledger::LedgerError;
use trace_core::EventError;
use trace_core::event::CodeLevel;
use trace_core::ids::EntityIdError;

/// Why an operation refused. Nothing was recorded in every case.
#[derive(Debug, thiserror::Error)]
pub enum ProducerError {
    #[error("code {code} {rejection}")]
    Code {
        code: String,
        rejection: CodeRejection,
    },
    #[error("code {code} was scanned twice in this operation")]
    ScannedTwice { code: String },
    #[error("{code} is already in {parent} (entry {seq}); take it out first (disaggregate)")]
    AlreadyPacked {
        code: String,
        parent: String,
        seq: u64,
    },
    #[error("{code} already left this box in shipment {shipment_no}")]
    AlreadyShipped { code: String, shipment_no: String },
    #[error("{code} is packed in {parent}: ship {parent} whole, or take {code} out first")]
    InsideParent { code: String, parent: String },
    #[error("a {parent:?} code holds {expected:?} codes, but {code} is a {found:?}")]
    Level {
        code: String,
        parent: CodeLevel,
        expected: CodeLevel,
        found: CodeLevel,
    },
    #[error("{code} is a {found:?} code, not a {expected:?}")]
    ParentLevel {
        code: String,
        expected: CodeLevel,
        found: CodeLevel,
    },
    #[error("{code} is not in {parent}")]
    NotInParent { code: String, parent: String },
    #[error("only {available} codes are ready to pack, {wanted} asked for")]
    NotEnough { wanted: usize, available: usize },
    #[error("{what} {name} is not recorded on this box")]
    Unknown { what: &'static str, name: String },
    #[error("{what} {name} is already recorded (entry {seq})")]
    Duplicate {
        what: &'static str,
        name: String,
        seq: u64,
    },
    #[error("{code} is not in this box's stock (never received here, or already sold)")]
    NotInStock { code: String },
    #[error(
        "{code} is not in the shipment data this box has from its suppliers; enter the goods by hand or sync first"
    )]
    NotInManifest { code: String },
    #[error("{field}: {source}")]
    InvalidId {
        field: &'static str,
        source: EntityIdError,
    },
    #[error("{0}")]
    Missing(String),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl From<rusqlite::Error> for ProducerError {
    fn from(e: rusqlite::Error) -> Self {
        ProducerError::Ledger(LedgerError::Internal {
            what: "reading the producer projections",
            detail: e.to_string(),
        })
    }
}
