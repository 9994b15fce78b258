//! The cloud store: one trait, one implementation per backend.
//!
//! Why a trait: SQLite (one file, embedded) is the default and is enough for a market; a city
//! runs PostgreSQL behind several cloud instances. Both must behave identically, so the rules
//! that decide what an entry is (stored, duplicate, quarantined) live in the backend-neutral
//! [`crate::ingest`] module and every backend runs the same conformance suite
//! (`tests/common/conformance.rs`).
//!
//! Shape: methods are async and return `Send` futures, because the callers (the MQTT ingest
//! loop, the axum views) are tokio tasks. The SQLite backend hands writes to its one writer
//! thread and runs reads on blocking threads, so no call blocks the runtime; a PostgreSQL
//! backend maps the same methods onto tokio-postgres directly. Generic callers take
//! `S: CloudStore` (static dispatch); the binary picks the backend once at start-up.

mod any;
mod error;
mod types;

pub use any::{AnyStore, StoreSpec};

pub use error::{ErrorKind, StoreError};
pub use types::{
    Alert, CodeDisabledInfo, DeviceRecord, DeviceStatus, IngestOutcome, MAX_DEVICE_NO,
    ProductCodeView, QuarantineInfo, ReleaseOutcome, StoreStats, TicketView, UpstreamPurchase,
    VoidInfo,
};

use std::future::Future;
use std::ops::RangeInclusive;
use trace_core::product_code::ScannedCode;
use trace_core::{DeviceId, Entry};

pub type StoreResult<T> = Result<T, StoreError>;

pub trait CloudStore: Send + Sync + 'static {
    /// Register a box. Refuses a second registration of the same id or device number.
    fn register_device(&self, rec: DeviceRecord) -> impl Future<Output = StoreResult<()>> + Send;

    fn get_device(
        &self,
        id: &DeviceId,
    ) -> impl Future<Output = StoreResult<Option<DeviceRecord>>> + Send;

    /// Every device's sync health, ordered by id.
    fn list_devices(&self) -> impl Future<Output = StoreResult<Vec<DeviceStatus>>> + Send;

    /// Ingest one batch of `device`'s entries in one transaction.
    ///
    /// Refuses the whole batch (nothing stored) when an entry belongs to another device or
    /// has seq 0; otherwise every entry ends stored, duplicate or quarantined. Idempotent: the
    /// same batch again changes nothing and reports duplicates.
    fn ingest(
        &self,
        device: &DeviceId,
        entries: Vec<Entry>,
    ) -> impl Future<Output = StoreResult<IngestOutcome>> + Send;

    /// Ingest several batches of one device, in order, with the same result per batch as
    /// `ingest` called on each in turn. A backend may commit them together (group commit: one
    /// disk flush for the lot); the results come back only once all of them are durable, so an
    /// ack derived from any of them is true. The default runs them one by one.
    fn ingest_many(
        &self,
        device: &DeviceId,
        batches: Vec<Vec<Entry>>,
    ) -> impl Future<Output = Vec<StoreResult<IngestOutcome>>> + Send {
        async move {
            let mut out = Vec::with_capacity(batches.len());
            for entries in batches {
                out.push(self.ingest(device, entries).await);
            }
            out
        }
    }

    /// Record the device's presence (from its retained `state` topic and last will).
    fn set_online(
        &self,
        device: &DeviceId,
        online: bool,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Look up a sale ticket by its exact code.
    fn ticket(&self, code: &str) -> impl Future<Output = StoreResult<Option<TicketView>>> + Send;

    /// Resolve a product code (already parsed: shape and check symbol are right) from the
    /// synced templates, allocations and disabled ranges (see [`crate::codes`]). `None` for a
    /// code that does not decode under any known template or whose serial was never
    /// allocated: the two are deliberately indistinguishable.
    fn product_code(
        &self,
        code: &ScannedCode,
    ) -> impl Future<Output = StoreResult<Option<ProductCodeView>>> + Send;

    /// Stored entries of `device` with seq in `range`, ascending (for re-export and audits).
    /// Callers page through long ranges.
    fn entries(
        &self,
        device: &DeviceId,
        range: RangeInclusive<u64>,
    ) -> impl Future<Output = StoreResult<Vec<Entry>>> + Send;

    /// Missing ranges of `device` below its highest stored seq.
    fn missing(
        &self,
        device: &DeviceId,
    ) -> impl Future<Output = StoreResult<Vec<(u64, u64)>>> + Send;

    fn stats(&self) -> impl Future<Output = StoreResult<StoreStats>> + Send;

    /// Quarantined devices, ordered by id.
    fn quarantines(&self) -> impl Future<Output = StoreResult<Vec<QuarantineInfo>>> + Send;

    /// An operator lifts `device`'s quarantine after investigating it.
    ///
    /// Design (what happens to the held entries, explicitly): they are moved, in one
    /// transaction, from quarantine into the `quarantine_released` audit archive and never
    /// become ledger entries; the device's stored chain (1..=hwm and any stored entries above
    /// a gap) is untouched; the quarantine flag and its counter are cleared and a
    /// `quarantine_released` alert records `note`. The box's synced mark is the cloud's acked
    /// hwm, so it still holds every entry after it as unsynced and re-sends them: at its next
    /// reconnect (it plans from its mark), or as soon as its next new entry is stored above the
    /// hole and the ack lists `hwm+1..` as missing. Each re-sent entry is verified from scratch
    /// (own hash, links to the stored neighbours). If the box's chain really is broken, the
    /// first bad entry quarantines the device again with a new alert; nothing unverified is
    /// ever stored.
    ///
    /// Refused (nothing changed) when the device is not quarantined; NotFound when unknown.
    fn release_quarantine(
        &self,
        device: &DeviceId,
        note: &str,
    ) -> impl Future<Output = StoreResult<ReleaseOutcome>> + Send;

    /// Alerts with id greater than `after`, oldest first, at most `limit`.
    fn alerts(
        &self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<Alert>>> + Send;
}

/// The audit line of a release (both backends write the same words).
pub(crate) fn release_detail(archived: u64, hwm: u64, note: &str) -> String {
    let mut d = format!(
        "released by the operator: {archived} held entries archived, none stored; \
         the device re-sends from seq {} and each entry is verified again",
        hwm + 1
    );
    if !note.trim().is_empty() {
        d.push_str("; note: ");
        d.push_str(note.trim());
    }
    d
}
