//! # The packing line: one production job feeding one coder, each code printed at most once
//!
//! A job is a batch, a code pool (and template) and a coder. The promise (clause 4.2.7 and the
//! OPEN-SCS discipline): no code is ever printed twice, every allocated code is accounted for,
//! and per batch `allocated = encoded + scrapped + unused` exactly.
//!
//! How the pieces keep it:
//! - [`job`]: a pure state machine. Serials are allocated by a durable `codes_allocated` entry
//!   before any is sent; the coder's buffer is kept between low and high water marks; each
//!   code is confirmed only from the coder's own evidence (last printed index or print
//!   counter); after a fault or a reconnect everything in flight is settled by
//!   [`resync`](device_drivers::coder::resync) (stop, clear, read evidence): confirmed codes
//!   are `codes_encoded`, the rest `codes_scrapped`, and none is sent again.
//! - [`store`]: the job rows and *session* rows (which serial sits at which coder position)
//!   in the ledger file. A session row is durable before the first code it maps is sent, so a
//!   box killed mid-run can, on restart, clear the coder and read its evidence, then settle
//!   every unsettled serial exactly ([`job::recover`]).
//! - [`projection`]: keeps allocated / encoded / scrapped ranges per pool inside the ledger's
//!   append transaction and refuses any entry that would settle a serial twice, which is what
//!   makes the per-batch reconciliation exact ([`store::LineStore::reconcile`]).
//! - [`driver`]: the async loop performing the steps against any [`Coder`], with start, pause
//!   and stop.
//!
//! The code *string* printed for a serial comes from a [`CodeFormat`]: the `codes` module's
//! templates plug in there; [`PrefixFormat`] is the plain one used until then and in tests.
//!
//! [`Coder`]: device_drivers::coder::Coder

pub mod config;
pub mod driver;
pub mod job;
pub(crate) mod projection;
pub mod store;

pub use driver::{Control, LineConfig, LineFault, LineStats, run_job};
pub use job::{Step, Water};
pub use store::{JobSpec, JobState, LineStore, Reconciliation};

use std::path::{Path, PathBuf};

/// The string a coder prints for a serial.
pub trait CodeFormat: Send + Sync {
    fn format(&self, serial: u64) -> String;
}

impl<F: Fn(u64) -> String + Send + Sync> CodeFormat for F {
    fn format(&self, serial: u64) -> String {
        self(serial)
    }
}

/// `{prefix}{serial, zero-padded to width}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixFormat {
    pub prefix: String,
    pub width: usize,
}

impl PrefixFormat {
    pub fn format_serial(&self, serial: u64) -> String {
        format!("{}{serial:0w$}", self.prefix, w = self.width)
    }
}

impl CodeFormat for PrefixFormat {
    fn format(&self, serial: u64) -> String {
        format!("{}{serial:0w$}", self.prefix, w = self.width)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("{path}: {source}")]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("coder: {0}")]
    Coder(#[from] device_drivers::coder::CoderError),
    #[error("coder transport: {0}")]
    Transport(#[from] device_drivers::transport::TransportError),
    #[error("{0}")]
    Invalid(String),
    #[error("the coder's evidence is inconsistent: {0}")]
    Evidence(#[from] device_drivers::coder::InFlightError),
}

impl LineError {
    pub(crate) fn sql(path: &Path, source: rusqlite::Error) -> Self {
        LineError::Sql {
            path: path.to_path_buf(),
            source,
        }
    }
}
