//! The device manager: config → running drivers, supervised, reporting typed events.
//!
//! Why: the edge daemon must keep talking to its scale and scanner through cable pulls, power
//! cuts and installers re-plugging USB, without the stall noticing more than a status light.
//! The manager takes the devices from config (a closed, tagged enum, so a typo'd driver or key
//! fails at load), rejects conflicts before anything opens (two devices on one port, a driver on
//! the wrong kind of transport), then runs one supervisor task per device: connect, stream,
//! and on failure reconnect with exponential backoff. Everything it learns goes out as
//! [`DeviceEvent`]s on a broadcast channel; health is a value anyone can read.
//!
//! Printers and coders are named here (so one config file lists every device and port conflicts
//! are checked across all of them) but run by their own drivers; their options stay opaque.

mod backoff;
mod config;
mod events;
mod supervisor;

pub use backoff::Backoff;
pub use config::{
    ConfigError, DeviceConfig, DeviceKind, ExternalDeviceConfig, ScaleDeviceConfig,
    ScannerDeviceConfig, validate,
};
pub use events::{DeviceEvent, DeviceEventKind, DeviceHealth, HealthState};
pub use supervisor::{DeviceManager, ManagerError, ManagerHandle};
