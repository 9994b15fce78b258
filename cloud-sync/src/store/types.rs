//! What the store takes and gives: the device registry record, ingest outcomes (what an `Ack`
//! carries), and the read models the views and `device list --json` render.

use serde::Serialize;
use trace_core::event::{Certificate, CodeLevel, PaymentMethod, SaleLine};
use trace_core::product_code::Day;
use trace_core::{DeviceId, Digest, Fen, HashAlg, Timestamp};

/// Highest device number: it is embedded in ticket codes as 6 digits.
pub const MAX_DEVICE_NO: u32 = 999_999;

/// A registered box. Created by `baytrace-cloud device add`.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: DeviceId,
    /// The stall or enterprise the box belongs to (its registry id or name).
    pub entity: String,
    /// The market the stall is in (empty: not given).
    pub market: String,
    /// The stall's number in its market (empty: not given).
    pub stall_no: String,
    /// 6-digit number embedded in the box's ticket codes.
    pub device_no: u32,
    /// Ed25519 public key the box signs its batches with.
    pub public_key: Vec<u8>,
    /// Secret key of the box's ticket-code permutation.
    pub code_key: [u8; 32],
    /// Hash function of the box's ledger chain.
    pub hash_alg: HashAlg,
}

impl std::fmt::Debug for DeviceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code key is a secret: never in logs.
        f.debug_struct("DeviceRecord")
            .field("id", &self.id)
            .field("entity", &self.entity)
            .field("market", &self.market)
            .field("stall_no", &self.stall_no)
            .field("device_no", &self.device_no)
            .field("public_key_len", &self.public_key.len())
            .field("code_key", &"<redacted>")
            .field("hash_alg", &self.hash_alg)
            .finish()
    }
}

/// One device's sync health, as `device list --json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceStatus {
    pub id: DeviceId,
    pub entity: String,
    /// Contiguous high-water seq: every entry `1..=hwm` is stored.
    pub hwm: u64,
    /// Hash of entry `hwm` (None before the first entry).
    pub head_hash: Option<Digest>,
    /// Highest seq stored.
    pub max_seq: u64,
    /// Missing ranges below `max_seq`, inclusive.
    pub missing: Vec<(u64, u64)>,
    pub quarantined: bool,
    /// Entries of this device kept aside in quarantine.
    pub quarantined_entries: u64,
    pub online: bool,
    /// Cloud time of the last batch or presence change.
    pub last_seen: Option<Timestamp>,
    /// Entries stored for this device.
    pub entries: u64,
    /// Cloud receive time minus device time of the newest entry of the last batch, ms.
    pub lag_ms: Option<i64>,
}

/// Result of ingesting one batch: the counts and exactly what the device's `Ack` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestOutcome {
    pub stored: u32,
    pub duplicates: u32,
    /// Entries set aside in quarantine by this batch.
    pub quarantined: u32,
    pub hwm: u64,
    pub head_hash: Option<Digest>,
    pub missing: Vec<(u64, u64)>,
    /// The device is quarantined (by this batch or earlier).
    pub device_quarantined: bool,
}

/// What the public trace page shows for a ticket code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketView {
    pub code: String,
    pub device: DeviceId,
    pub device_no: u32,
    /// The stall / entity the box is registered to.
    pub entity: String,
    pub market: String,
    pub stall_no: String,
    pub seq: u64,
    /// Device wall-clock time of the sale (UTC ms).
    pub at: Timestamp,
    pub lines: Vec<SaleLine>,
    pub total: Fen,
    pub payment: PaymentMethod,
    /// A later void entry cancelled the ticket.
    pub voided: Option<VoidInfo>,
    /// Purchases of the same products into the same stall, when known.
    pub upstream: Vec<UpstreamPurchase>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoidInfo {
    pub seq: u64,
    pub reason: String,
}

/// The purchase a sale line's goods most likely came from: same batch when the line names
/// one, else the latest purchase of the same product before the sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamPurchase {
    /// Index into [`TicketView::lines`].
    pub line: usize,
    pub seq: u64,
    pub at: Timestamp,
    pub supplier: String,
    pub product: String,
    pub batch: String,
    pub origin: Option<String>,
    pub upstream_code: Option<String>,
    /// 承诺达标合格证, 检疫证明, … as the purchase recorded them.
    pub certificates: Vec<Certificate>,
}

/// Store-wide counters for `/metrics` and the operator overview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    pub devices: u64,
    pub entries: u64,
    pub tickets: u64,
    pub purchases: u64,
    pub quarantined_devices: u64,
    pub quarantined_entries: u64,
    pub missing_ranges: u64,
    pub missing_entries: u64,
    pub alerts: u64,
}

/// An incident the operator must see: a chain break, a conflicting re-send, a tampered entry,
/// a ticket code collision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: i64,
    pub device: DeviceId,
    pub kind: String,
    pub seq: Option<u64>,
    pub detail: String,
    pub at: Timestamp,
}

/// A quarantined device, as `baytrace-cloud quarantine list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineInfo {
    pub device: DeviceId,
    /// Cloud time the device was quarantined.
    pub since: Timestamp,
    /// Contiguous high-water seq: what the cloud holds of the device's chain.
    pub hwm: u64,
    /// Entries held aside (never stored as ledger entries).
    pub held_entries: u64,
    /// Lowest and highest seq held aside.
    pub held_seqs: Option<(u64, u64)>,
    /// The alert that put the device in quarantine.
    pub cause: Option<Alert>,
}

/// What `quarantine release` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseOutcome {
    pub device: DeviceId,
    /// Held entries moved out of quarantine into the audit archive (`quarantine_released`);
    /// none of them became a ledger entry.
    pub archived_entries: u64,
    /// The device's contiguous high-water seq: it re-sends everything after it, and each
    /// re-sent entry is verified from scratch against the stored chain.
    pub hwm: u64,
    /// The `quarantine_released` alert recording the operator's decision.
    pub alert_id: i64,
}

/// What the public page shows for a product code (issue 6, 预包装食品 4.2.5–4.2.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductCodeView {
    /// The canonical token (upper case), however the code was scanned or typed.
    pub token: String,
    /// The box that issued it.
    pub device: DeviceId,
    /// The producer: the entity on record for the box.
    pub entity: String,
    pub market: String,
    pub template: String,
    pub level: CodeLevel,
    /// 14 digits, when the template names a GTIN.
    pub gtin: Option<String>,
    /// The enterprise's product code, when the template has no GTIN.
    pub product_code: Option<String>,
    /// From the product library or the batch record, when the box recorded one.
    pub product_name: Option<String>,
    pub batch: Option<String>,
    pub production_date: Option<Day>,
    pub expiry_date: Option<Day>,
    /// Never shown on the page (consecutive serials tell how many items were made).
    pub serial: u64,
    /// The `codes_allocated` entry that issued the serial.
    pub allocated_seq: u64,
    /// The latest `codes_disabled` / `codes_enabled` covering the serial disabled it.
    pub disabled: Option<CodeDisabledInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeDisabledInfo {
    pub seq: u64,
    pub reason: Option<String>,
}
