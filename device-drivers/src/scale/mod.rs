//! Scales: one trait, one pure codec per vendor protocol, one driver over any transport.
//!
//! Why this shape: the stall's scale decides the price of everything sold by weight, and the
//! box meets many models (Mettler Toledo, Toledo clones, CAS, nameless Chinese indicators,
//! Dahua label scales). Each protocol lives in its own module as a `tokio_util::codec`
//! decoder/encoder with no I/O, tested byte by byte; [`ScaleDriver`] does the I/O and the
//! request/response dance; the device manager only sees the [`Scale`] trait.
//!
//! A scale saying "unstable" or "overload" is a reading with a status, not an error. An error
//! means the transport failed or the scale did not answer.

pub mod ascii;
pub mod cas;
pub mod continuous;
pub mod dahua;
mod driver;
pub mod mtsics;
mod stats;
pub mod toledo8217;
mod weight;

#[cfg(feature = "sim")]
pub mod sim;

pub use driver::{ScaleDriver, ScaleOptions, readings};
pub use stats::DecodeStats;
pub use weight::{WeightParseError, WeightUnit, format_kg, parse_grams, scaled_to_grams};

use serde::{Deserialize, Serialize};
use std::future::Future;

/// What the scale says about the weight on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightStatus {
    Ok,
    Unstable,
    Overload,
    Underload,
    Error,
}

/// One weight, as the installer CLI prints it:
/// `{"grams":1234,"stable":true,"net":false,"tare_grams":0,"status":"ok"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightReading {
    /// Displayed weight in integer grams (net when `net`); 0 when `status` says there is none.
    pub grams: i64,
    pub stable: bool,
    pub net: bool,
    pub tare_grams: i64,
    pub status: WeightStatus,
}

impl WeightReading {
    /// A weight the scale reported, stable or not.
    pub fn weight(grams: i64, stable: bool, net: bool, tare_grams: i64) -> Self {
        Self {
            grams,
            stable,
            net,
            tare_grams,
            status: if stable {
                WeightStatus::Ok
            } else {
                WeightStatus::Unstable
            },
        }
    }

    /// No usable weight: the scale reports only a state.
    pub fn state(status: WeightStatus) -> Self {
        Self {
            grams: 0,
            stable: false,
            net: false,
            tare_grams: 0,
            status,
        }
    }

    /// Safe to price: stable and in range.
    pub fn is_usable(&self) -> bool {
        self.stable && self.status == WeightStatus::Ok
    }
}

/// What a scale did with a zero / tare / clear-tare command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "reason")]
pub enum CommandOutcome {
    /// The scale confirmed it.
    Done,
    /// Sent; this protocol has no confirmation.
    Sent,
    /// The scale refused (not stable, out of range, …).
    Refused(String),
}

/// The protocol names the CLI and config use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScaleProtocol {
    #[serde(rename = "mt-sics")]
    MtSics,
    #[serde(rename = "toledo-8217")]
    Toledo8217,
    #[serde(rename = "toledo-continuous")]
    ToledoContinuous,
    #[serde(rename = "cas")]
    Cas,
    #[serde(rename = "ascii-indicator")]
    AsciiIndicator,
    #[serde(rename = "dahua-tm")]
    DahuaTm,
}

impl ScaleProtocol {
    pub const ALL: [ScaleProtocol; 6] = [
        ScaleProtocol::MtSics,
        ScaleProtocol::Toledo8217,
        ScaleProtocol::ToledoContinuous,
        ScaleProtocol::Cas,
        ScaleProtocol::AsciiIndicator,
        ScaleProtocol::DahuaTm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ScaleProtocol::MtSics => "mt-sics",
            ScaleProtocol::Toledo8217 => "toledo-8217",
            ScaleProtocol::ToledoContinuous => "toledo-continuous",
            ScaleProtocol::Cas => "cas",
            ScaleProtocol::AsciiIndicator => "ascii-indicator",
            ScaleProtocol::DahuaTm => "dahua-tm",
        }
    }

    /// Readings arrive without being asked for.
    pub fn is_continuous(self) -> bool {
        matches!(self, ScaleProtocol::ToledoContinuous)
    }
}

impl std::fmt::Display for ScaleProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ScaleProtocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScaleProtocol::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ScaleProtocol::ALL.iter().map(|p| p.name()).collect();
                format!("unknown scale protocol {s:?}; known: {}", names.join(", "))
            })
    }
}

/// Why a scale operation failed (not: what the scale reported).
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    #[error("scale I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("scale closed the connection")]
    Disconnected,
    #[error("scale did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("{protocol} cannot {operation}")]
    Unsupported {
        protocol: ScaleProtocol,
        operation: &'static str,
    },
    #[error("scale answered {0:?}, which does not fit the command")]
    UnexpectedReply(String),
}

/// What generic code (the supervisor) should do about a [`ScaleError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleErrorKind {
    /// Reconnect with backoff.
    Connection,
    /// Fix the config.
    Config,
    /// The scale is talking but not making sense; report a fault and keep going.
    Protocol,
}

impl ScaleError {
    pub fn kind(&self) -> ScaleErrorKind {
        match self {
            ScaleError::Transport(t) => match t.kind() {
                crate::transport::TransportErrorKind::Config => ScaleErrorKind::Config,
                crate::transport::TransportErrorKind::Unavailable => ScaleErrorKind::Connection,
            },
            ScaleError::Io(_) | ScaleError::Disconnected | ScaleError::Timeout(_) => {
                ScaleErrorKind::Connection
            }
            ScaleError::Unsupported { .. } => ScaleErrorKind::Config,
            ScaleError::UnexpectedReply(_) => ScaleErrorKind::Protocol,
        }
    }
}

/// A weighing scale.
///
/// Design: methods take `&mut self` because a serial scale answers one command at a time;
/// concurrent callers go through the device manager, which owns the driver.
pub trait Scale: Send {
    /// One current reading (asks the scale, or waits for its next frame on continuous output).
    fn read_weight(&mut self) -> impl Future<Output = Result<WeightReading, ScaleError>> + Send;
    /// Set zero.
    fn zero(&mut self) -> impl Future<Output = Result<CommandOutcome, ScaleError>> + Send;
    /// Take the current weight as tare.
    fn tare(&mut self) -> impl Future<Output = Result<CommandOutcome, ScaleError>> + Send;
    /// Clear the tare.
    fn clear_tare(&mut self) -> impl Future<Output = Result<CommandOutcome, ScaleError>> + Send;
    /// True when readings arrive unasked, so a stream needs no polling interval.
    fn is_continuous(&self) -> bool;
    /// Counters of the protocol decoder (frames, bad frames, skipped bytes).
    fn decode_stats(&self) -> DecodeStats;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_json_is_the_cli_contract() {
        let r = WeightReading::weight(1234, true, false, 0);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"grams":1234,"stable":true,"net":false,"tare_grams":0,"status":"ok"}"#
        );
        for (s, json) in [
            (WeightStatus::Unstable, "\"unstable\""),
            (WeightStatus::Overload, "\"overload\""),
            (WeightStatus::Underload, "\"underload\""),
            (WeightStatus::Error, "\"error\""),
        ] {
            assert_eq!(serde_json::to_string(&s).unwrap(), json);
        }
    }

    #[test]
    fn protocol_names_round_trip() {
        for p in ScaleProtocol::ALL {
            assert_eq!(p.name().parse::<ScaleProtocol>(), Ok(p));
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.name())
            );
        }
        assert!(
            "mt_sics"
                .parse::<ScaleProtocol>()
                .unwrap_err()
                .contains("mt-sics")
        );
    }
}
