//! # edge-daemon: the baytrace box
//!
//! The library behind `baytrace-edge`: the append-only, hash-chained SQLite ledger with its
//! projections and outbox ([`ledger`]), the layered configuration ([`config`]), the device's
//! keys ([`keys`]) and the installer CLI ([`cli`]); in later work the device manager, the sync
//! client and the local touchscreen UI. The binary is a thin `main.rs` so tests can start every
//! piece in-process.
#![forbid(unsafe_code)]

pub mod baseline;
pub mod cli;
pub mod codes;
pub mod config;
pub mod keys;
pub mod ledger;
pub mod line;
pub mod lineui;
pub mod producer;
pub mod stall;
pub mod sync;
pub mod synth;
pub mod timefmt;
pub mod ui;
