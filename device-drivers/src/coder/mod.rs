//! # Industrial coders: printing each trace code at most once
//!
//! A packing line pushes one trace code per item into an inkjet, TIJ or laser coder. A code
//! printed twice breaks the recall chain; a code lost is merely scrapped. So the driver layer is
//! built around the coder's *own evidence* of what it printed (the CLARiTY "last printed index",
//! a TIJ or Imaje print counter), never around what the box believes it sent.
//!
//! The pieces:
//! - [`Coder`]: one async trait for every protocol (select a job, set fields, queue codes, read
//!   the buffer count and the print evidence, faults as values, start and stop, clear).
//! - One pure codec per protocol ([`zipher`], [`tij`], [`imaje`], [`text_tcp`]) and a driver over
//!   any `AsyncRead + AsyncWrite` transport; [`AnyCoder`] picks one from a [`CoderConfig`].
//! - [`InFlight`] and [`resync`]: the bookkeeping the production-line controller needs to keep
//!   the OPEN-SCS promise (allocated = encoded + scrapped + unused). Every code handed to
//!   [`Coder::queue`] gets a *position*: the evidence value that proves it printed. Evidence
//!   confirms codes in FIFO order; after a fault, a disconnect or a stop, [`resync`] stops the
//!   coder, clears its buffer, reads the evidence once more, confirms what it proves and scraps
//!   everything else. Nothing unconfirmed is ever sent again.
//! - [`sim`] (feature `sim`): simulators that speak the same bytes, consume their buffer at line
//!   speed and append every printed code to a log, with failure modes.
//!
//! Feeding loop the job controller is expected to run (`tests/coder_support` has a working one):
//! ```text
//! baseline = coder.clear_buffer()              ; inflight = InFlight::new(baseline)
//! loop:
//!   confirmed += inflight.confirm(coder.evidence())
//!   if coder.status() has faults, or any call failed (reconnect first if its kind is
//!      Transport): resync() → confirmed += r.confirmed, scrapped += r.scrapped;
//!      wait for the fault to clear; start
//!   if coder.buffer_count() < low_water: take codes up to high_water from the pool,
//!      inflight.push each (persist its position), coder.queue(batch),
//!      inflight.refuse_last(batch.len() - accepted) back to the pool
//! after a box crash: InFlight::restore(persisted positions), reconnect, resync
//! ```
//! Assumptions the model rests on, all true of the simulators and stated for real hardware:
//! the coder prints its buffer in FIFO order, its evidence survives a reconnect, and after a
//! stop and a buffer clear no queued code can still print.

mod any;
mod error;
mod inflight;
mod lines;
mod link;
mod types;

pub mod imaje;
pub mod text_tcp;
pub mod tij;
pub mod zipher;

#[cfg(feature = "sim")]
pub mod sim;

pub use any::{AnyCoder, CoderConfig};
pub use error::{CoderError, CoderErrorKind};
pub use inflight::{InFlight, InFlightError, Resync, resync};
pub use types::{
    Baseline, CoderFault, CoderProtocol, CoderState, CoderStatus, PrintEvidence, QueueOutcome,
};

use std::future::Future;

/// One industrial coder, whatever its protocol. Every call is one or a few request/reply
/// exchanges; none of them retries on its own, because a retried `queue` could put a code into
/// the buffer twice. A transport error leaves the connection unusable: reconnect, then
/// [`resync`].
pub trait Coder: Send {
    /// Which wire protocol this driver speaks.
    fn protocol(&self) -> CoderProtocol;

    /// Select the stored job (message) to print.
    fn select_job(&mut self, job: &str) -> impl Future<Output = Result<(), CoderError>> + Send;

    /// Set the current job's fixed variable fields (batch, dates…), by name.
    fn set_fields(
        &mut self,
        fields: &[(String, String)],
    ) -> impl Future<Output = Result<(), CoderError>> + Send;

    /// Put codes into the coder's print buffer, in order. The first `accepted` codes of the
    /// outcome are in the buffer; the rest were explicitly refused (buffer full) and are not.
    /// On `Err`, whether any code reached the buffer is unknown: treat them all as in flight
    /// and [`resync`].
    fn queue(
        &mut self,
        codes: &[String],
    ) -> impl Future<Output = Result<QueueOutcome, CoderError>> + Send;

    /// Codes waiting in the coder's buffer.
    fn buffer_count(&mut self) -> impl Future<Output = Result<u32, CoderError>> + Send;

    /// The coder's own record of what it printed.
    fn evidence(&mut self) -> impl Future<Output = Result<PrintEvidence, CoderError>> + Send;

    /// Running state and faults, as values.
    fn status(&mut self) -> impl Future<Output = Result<CoderStatus, CoderError>> + Send;

    /// Start printing (jet on / state Running).
    fn start(&mut self) -> impl Future<Output = Result<(), CoderError>> + Send;

    /// Stop printing. Codes stay in the buffer.
    fn stop(&mut self) -> impl Future<Output = Result<(), CoderError>> + Send;

    /// Empty the print buffer, then read the evidence: the returned baseline says which
    /// position the next queued code takes.
    fn clear_buffer(&mut self) -> impl Future<Output = Result<Baseline, CoderError>> + Send;
}

/// Codes travel inside text or binary frames: refuse anything that would break the framing
/// (the delimiter bytes of the protocol, control characters) instead of printing a corrupt code.
pub(crate) fn check_code(code: &str, forbidden: &[char], max_len: usize) -> Result<(), CoderError> {
    if code.is_empty() {
        return Err(CoderError::Invalid("empty code".into()));
    }
    if code.len() > max_len {
        return Err(CoderError::Invalid(format!(
            "code of {} bytes exceeds the protocol's {max_len}",
            code.len()
        )));
    }
    if let Some(c) = code
        .chars()
        .find(|c| c.is_control() || forbidden.contains(c))
    {
        return Err(CoderError::Invalid(format!(
            "code {code:?} contains {c:?}, which this protocol cannot carry"
        )));
    }
    Ok(())
}
