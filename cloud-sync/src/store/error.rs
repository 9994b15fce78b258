//! Store errors. Callers act on [`ErrorKind`]: the ingest loop answers `Refused` with a refusal
//! to the device and logs it, retries nothing; `Backend` means the store itself is failing (disk,
//! corruption) and the batch must not be acked.

use trace_core::DeviceId;

/// What generic code should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is not acceptable; nothing was changed. Do not retry the same input.
    Refused,
    /// The named device (or row) does not exist.
    NotFound,
    /// A registration collides with an existing one.
    Conflict,
    /// The store failed; the operation may be retried later.
    Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("device {0} is not registered")]
    UnknownDevice(DeviceId),
    #[error(
        "batch of device {batch} contains an entry of device {entry} (seq {seq}); batch refused"
    )]
    DeviceMismatch {
        batch: DeviceId,
        entry: DeviceId,
        seq: u64,
    },
    #[error("entry seq {0} is outside 1..=9223372036854775807; batch refused")]
    InvalidSeq(u64),
    #[error("device number {0} must have at most 6 digits")]
    InvalidDeviceNo(u32),
    #[error("device {0} is already registered")]
    DeviceExists(DeviceId),
    #[error("device number {0} is already registered to another device")]
    DeviceNoTaken(u32),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("schema migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("postgres connection pool: {0}")]
    Pool(String),
    #[error("device {0} is not quarantined; nothing to release")]
    NotQuarantined(DeviceId),
    #[error("the store's writer thread has stopped")]
    WriterGone,
    #[error("store task failed: {0}")]
    Task(String),
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::DeviceMismatch { .. }
            | StoreError::InvalidSeq(_)
            | StoreError::InvalidDeviceNo(_) => ErrorKind::Refused,
            StoreError::UnknownDevice(_) => ErrorKind::NotFound,
            StoreError::NotQuarantined(_) => ErrorKind::Refused,
            StoreError::DeviceExists(_) | StoreError::DeviceNoTaken(_) => ErrorKind::Conflict,
            StoreError::Corrupt(_)
            | StoreError::Sqlite(_)
            | StoreError::Migration(_)
            | StoreError::Postgres(_)
            | StoreError::Pool(_)
            | StoreError::WriterGone
            | StoreError::Task(_) => ErrorKind::Backend,
        }
    }
}
