//! # cloud-sync: the baytrace cloud
//!
//! The cloud receives every box's ledger over MQTT, stores it exactly once in effect, verifies
//! its hash chain, and serves the views (public trace page, operators, regulators).
//!
//! This crate is built in layers so each can be tested alone:
//! - [`ingest`]: the backend-neutral rules that decide each entry's fate (pure);
//! - [`codes`]: product codes on the public page: projection rows and decoding (pure);
//! - [`ranges`]: contiguous high-water mark and missing ranges per device (pure);
//! - [`store`]: the [`store::CloudStore`] trait the MQTT loop and the views call;
//! - [`sqlite`]: the default backend (one file, one writer thread, pooled readers);
//! - [`postgres`]: the PostgreSQL backend (pooled async connections, several instances);
//! - [`service`]: MQTT ingest (signature, envelope and device checks, acks, presence);
//! - [`web`]: the public trace page, `/healthz`, `/metrics`;
//! - [`broker`]: the embedded MQTT broker for one-machine installs;
//! - [`provision`]: device credentials (`baytrace-cloud device add`);
//! - [`serve()`]: all of it started in-process ([`config::CloudConfig`] in, [`RunningCloud`] out).
#![forbid(unsafe_code)]

pub mod broker;
pub mod codes;
pub mod config;
pub mod ingest;
pub mod postgres;
pub mod provision;
pub mod ranges;
pub mod serve;
pub mod service;
pub mod sqlite;
pub mod store;
pub mod testkit;
pub mod web;

pub use broker::{EmbeddedBroker, start_embedded_broker, start_embedded_broker_with};
pub use config::CloudConfig;
pub use postgres::{PgConfig, PgStore};
pub use serve::{RunningCloud, ServeError, serve};
pub use sqlite::{SqliteConfig, SqliteStore, Synchronous};
pub use store::{AnyStore, CloudStore, ErrorKind, StoreError, StoreSpec};
