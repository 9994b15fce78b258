//! What the manager tells the rest of the box: events as they happen, health as a value.

use super::DeviceKind;
use crate::scale::{DecodeStats, WeightReading};
use crate::scanner::Scan;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// One thing that happened to a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceEvent {
    pub device: String,
    pub at: SystemTime,
    pub kind: DeviceEventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeviceEventKind {
    Reading {
        reading: WeightReading,
    },
    Scan {
        scan: Scan,
    },
    Connected {
        uri: String,
    },
    Disconnected {
        reason: String,
    },
    /// The device is reachable but misbehaving, or cannot be opened.
    Fault {
        message: String,
    },
}

/// Where a device's supervisor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Connecting,
    Connected,
    /// Lost or never reached; the supervisor is waiting to retry.
    Disconnected,
    /// Opened only when used (Dahua PLU download).
    OnDemand,
    /// Run by its own driver (printers, coders).
    External,
    Stopped,
}

/// A device's health, as the UI and the `state` topic show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceHealth {
    pub name: String,
    pub driver: String,
    pub kind: DeviceKind,
    pub uri: String,
    pub state: HealthState,
    pub last_error: Option<String>,
    /// Successful connections after the first.
    pub reconnects: u64,
    /// Readings or scans delivered.
    pub events: u64,
    pub last_event_at: Option<SystemTime>,
    /// Decoder counters over every connection so far.
    pub decode: DecodeStats,
}
