//! Value types shared by every coder protocol.

use serde::{Deserialize, Serialize};

/// The wire protocols we drive. Names are the CLI's `--protocol` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoderProtocol {
    /// Videojet / Zipher CLARiTY text protocol (TTO).
    Zipher,
    /// Chinese TIJ `ESC STX` binary protocol.
    Tij,
    /// Markem-Imaje 9040 binary protocol.
    #[serde(rename = "imaje-9040")]
    Imaje9040,
    /// Configurable line-oriented TCP text protocol (laser markers).
    TextTcp,
}

impl CoderProtocol {
    pub const ALL: [CoderProtocol; 4] = [
        CoderProtocol::Zipher,
        CoderProtocol::Tij,
        CoderProtocol::Imaje9040,
        CoderProtocol::TextTcp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CoderProtocol::Zipher => "zipher",
            CoderProtocol::Tij => "tij",
            CoderProtocol::Imaje9040 => "imaje-9040",
            CoderProtocol::TextTcp => "text-tcp",
        }
    }
}

impl std::fmt::Display for CoderProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for CoderProtocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CoderProtocol::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!("unknown coder protocol {s:?}; one of zipher, tij, imaje-9040, text-tcp")
            })
    }
}

/// What the coder itself says it printed. Both kinds are monotonic between buffer clears, and
/// both are compared against the *position* [`super::InFlight`] gave each queued code: a code is
/// printed once the evidence value reaches its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PrintEvidence {
    /// Index of the last record printed from the serialization buffer (CLARiTY `SLR`); records
    /// are indexed in the order they were added.
    LastPrintedIndex(u64),
    /// Cumulative print counter (TIJ print total, Imaje print counter, laser mark count).
    PrintCounter(u64),
}

impl PrintEvidence {
    /// The value positions are compared against.
    pub fn value(self) -> u64 {
        match self {
            PrintEvidence::LastPrintedIndex(v) | PrintEvidence::PrintCounter(v) => v,
        }
    }
}

/// The state after a buffer clear: the evidence at that moment and the position the next queued
/// code will take (for a counter: counter + 1; for CLARiTY: the coder's next index, `SNI`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub evidence: PrintEvidence,
    pub next_position: u64,
}

/// Result of [`super::Coder::queue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QueueOutcome {
    /// The first `accepted` codes are in the coder's buffer.
    pub accepted: usize,
    /// The coder reported its buffer full (back-pressure): stop pushing for now.
    pub full: bool,
}

/// Coarse running state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoderState {
    Running,
    Stopped,
    Starting,
    Stopping,
    Offline,
    Unknown,
}

/// One fault the coder reports. `code` is the device's own number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoderFault {
    pub code: u32,
    pub text: String,
    /// The coder says an operator can clear it remotely.
    pub clearable: bool,
}

/// Status as values: a fault is not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoderStatus {
    pub state: CoderState,
    pub faults: Vec<CoderFault>,
}

impl CoderStatus {
    /// Printing can proceed: running and no fault.
    pub fn is_printing(&self) -> bool {
        self.state == CoderState::Running && self.faults.is_empty()
    }
}
