//! Errors of the coder drivers. A coder *fault* (head fault, ink out) is not here: it is a value
//! in [`super::CoderStatus`]. An error means the exchange itself failed, and the caller must know
//! which kind: a transport failure needs a reconnect, a refusal does not.

use super::CoderProtocol;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum CoderError {
    #[error("transport error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the coder closed the connection")]
    Closed,
    #[error("no reply from the coder within {0:?}")]
    Timeout(Duration),
    #[error("the coder refused {command}: {detail}")]
    Refused {
        command: &'static str,
        detail: String,
    },
    #[error("unexpected reply to {command}: {got}")]
    Unexpected { command: &'static str, got: String },
    #[error("{what} is not supported by the {protocol} protocol")]
    Unsupported {
        what: &'static str,
        protocol: CoderProtocol,
    },
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// What generic code (the device manager, the job controller) does about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoderErrorKind {
    /// The link is gone or out of step: reconnect, then resync.
    Transport,
    /// The coder answered "no": the link is fine.
    Refused,
    /// The coder answered something we do not understand: resync before trusting it again.
    Protocol,
    /// The protocol has no such command.
    Unsupported,
    /// The caller passed something the protocol cannot carry; nothing was sent.
    Invalid,
}

impl CoderError {
    pub fn kind(&self) -> CoderErrorKind {
        match self {
            CoderError::Io(_) | CoderError::Closed | CoderError::Timeout(_) => {
                CoderErrorKind::Transport
            }
            CoderError::Refused { .. } => CoderErrorKind::Refused,
            CoderError::Unexpected { .. } => CoderErrorKind::Protocol,
            CoderError::Unsupported { .. } => CoderErrorKind::Unsupported,
            CoderError::Invalid(_) => CoderErrorKind::Invalid,
        }
    }
}
