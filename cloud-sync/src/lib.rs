//! # cloud-sync: the baytrace cloud
//!
//! The cloud receives every box's ledger over MQTT, stores it exactly once in effect, verifies
//! its hash chain, and serves the views (public trace page, operators, regulators).
//!
//! This crate is built in layers so each can be tested alone:
//! - [`ingest`]: the backend-neutral rules that decide each entry's fate (pure);
//! - [`ranges`]: contiguous high-water mark and missing ranges per device (pure);
//! - [`store`]: the [`store::CloudStore`] trait the MQTT loop and the views call;
//! - [`sqlite`]: the default backend (one file, one writer thread, pooled readers).
#![forbid(unsafe_code)]

pub mod ingest;
pub mod ranges;
pub mod sqlite;
pub mod store;
pub mod testkit;

pub use sqlite::{SqliteConfig, SqliteStore, Synchronous};
pub use store::{CloudStore, ErrorKind, StoreError};
