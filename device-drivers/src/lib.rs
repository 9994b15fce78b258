//! # device-drivers: the stall's and the line's hardware
//!
//! One trait per device kind (scale, receipt printer, scanner, coder). Each vendor protocol is a
//! pure codec (bytes in, frames out, no I/O) wrapped by an async driver that runs over any
//! `AsyncRead + AsyncWrite` transport, so the same code drives a serial port, a TCP socket or a
//! pty in a test. Device-reported states (unstable weight, paper out, coder fault) are values,
//! not errors; an error means the transport or the protocol failed.
//!
//! Knows nothing of the ledger, MQTT or HTTP.
#![forbid(unsafe_code)]

#[cfg(feature = "sim")]
pub mod sim;

pub mod coder;
pub mod discover;
pub mod manager;
pub mod printer;
pub mod scale;
pub mod scanner;
pub mod transport;

#[cfg(test)]
mod testutil;
