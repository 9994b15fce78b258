//! The UI server's shared state and the one way handlers touch the ledger file.

use super::auth::Sessions;
use super::devices::DeviceHub;
use super::options::UiOptions;
use crate::ledger::WriterHandle;
use rusqlite::Connection;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use trace_core::{Entry, EntryDraft, Event};

pub struct UiState {
    pub opts: UiOptions,
    pub writer: WriterHandle,
    pub sessions: Sessions,
    pub devices: DeviceHub,
    /// Sales are minted one at a time: the ticket number is "sales so far + 1".
    pub sale_lock: tokio::sync::Mutex<()>,
    db: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for UiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiState")
            .field("device", &self.opts.device)
            .finish_non_exhaustive()
    }
}

/// Why a handler failed for reasons other than the user's input.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("ledger file: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("ledger: {0}")]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("{0}")]
    Other(String),
}

impl UiState {
    pub fn new(
        opts: UiOptions,
        writer: WriterHandle,
        devices: DeviceHub,
    ) -> Result<UiState, StoreError> {
        // A second connection on the WAL file: reads never wait for the writer's fsync.
        let conn = Connection::open(&opts.ledger)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(UiState {
            opts,
            writer,
            sessions: Sessions::default(),
            devices,
            sale_lock: tokio::sync::Mutex::new(()),
            db: Arc::new(Mutex::new(conn)),
        })
    }

    /// Run `f` on the UI's connection off the async threads.
    pub async fn db<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let c = db.lock().unwrap_or_else(|p| p.into_inner());
            f(&c)
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?
    }

    /// Append through the group-commit writer; returns once the entry is on stable storage.
    pub async fn append(&self, event: Event) -> Result<Entry, StoreError> {
        event
            .validate()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let h = self.writer.clone();
        tokio::task::spawn_blocking(move || h.append(EntryDraft::new(event)))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?
            .map_err(StoreError::from)
    }
}
