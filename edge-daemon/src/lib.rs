//! # edge-daemon: the baytrace box
//!
//! The library behind `baytrace-edge`: the append-only, hash-chained SQLite ledger with its
//! projections and outbox, the installer CLI, and (in later work) the device manager, the sync
//! client and the local touchscreen UI. The binary is a thin `main.rs` so tests can start every
//! piece in-process.
#![forbid(unsafe_code)]
