//! Barcode / QR scanners: a stream of scans from serial, USB CDC-ACM, Newland packs or a USB
//! HID keyboard wedge.
//!
//! Why: at the stall and at the distributor's door, a scan is how a trace code enters the box
//! (a purchase imported from the seller's receipt QR, a case received by scanning its label).
//! Scanners are cheap and configured by printed programming barcodes, so the box must accept
//! whatever suffix and framing the scanner happens to be set to. Byte framing is a pure codec
//! ([`line`], [`newland`]); key-code decoding for keyboard wedges is pure ([`keymap`]); only
//! [`evdev`] touches the input device, and it stays thin because it cannot be tested here.

pub mod aim;
mod driver;
pub mod evdev;
pub mod keymap;
pub mod line;
pub mod newland;

#[cfg(feature = "sim")]
pub mod sim;

pub use crate::scale::DecodeStats;
pub use aim::Symbology;
pub use driver::{ScannerDriver, ScannerOptions, scans};

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::SystemTime;

/// One scanned code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    pub text: String,
    /// Known when the scanner sends an AIM identifier (or the protocol says).
    pub symbology: Option<Symbology>,
    pub at: SystemTime,
}

impl Scan {
    pub fn new(text: String, symbology: Option<Symbology>) -> Self {
        Self {
            text,
            symbology,
            at: SystemTime::now(),
        }
    }
}

/// Scanner protocol names, as the CLI and config use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScannerProtocol {
    #[serde(rename = "serial-line")]
    SerialLine,
    #[serde(rename = "newland-pack")]
    NewlandPack,
    #[serde(rename = "evdev")]
    Evdev,
}

impl ScannerProtocol {
    pub const ALL: [ScannerProtocol; 3] = [
        ScannerProtocol::SerialLine,
        ScannerProtocol::NewlandPack,
        ScannerProtocol::Evdev,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ScannerProtocol::SerialLine => "serial-line",
            ScannerProtocol::NewlandPack => "newland-pack",
            ScannerProtocol::Evdev => "evdev",
        }
    }
}

impl std::fmt::Display for ScannerProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ScannerProtocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScannerProtocol::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!("unknown scanner protocol {s:?}; known: serial-line, newland-pack, evdev")
            })
    }
}

/// Why scanning failed.
#[derive(Debug, thiserror::Error)]
pub enum ScannerError {
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    #[error("scanner I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("scanner went away")]
    Disconnected,
    #[error("{protocol} scanners need an {expected} transport")]
    WrongTransport {
        protocol: ScannerProtocol,
        expected: &'static str,
    },
}

/// What generic code should do about a [`ScannerError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerErrorKind {
    Connection,
    Config,
}

impl ScannerError {
    pub fn kind(&self) -> ScannerErrorKind {
        match self {
            ScannerError::Transport(t) => match t.kind() {
                crate::transport::TransportErrorKind::Config => ScannerErrorKind::Config,
                crate::transport::TransportErrorKind::Unavailable => ScannerErrorKind::Connection,
            },
            ScannerError::WrongTransport { .. } => ScannerErrorKind::Config,
            ScannerError::Io(_) | ScannerError::Disconnected => ScannerErrorKind::Connection,
        }
    }
}

/// A barcode scanner.
pub trait Scanner: Send {
    /// Wait for the next scan.
    fn next_scan(&mut self) -> impl Future<Output = Result<Scan, ScannerError>> + Send;
    /// Counters of the framing decoder.
    fn decode_stats(&self) -> DecodeStats;
}
