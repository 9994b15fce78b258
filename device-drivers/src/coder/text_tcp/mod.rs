//! Configurable line-oriented TCP text protocol for laser markers: codec and patterns
//! ([`protocol`]) and driver ([`TextTcpCoder`]).

mod driver;
pub mod protocol;

pub use driver::{TextTcpCoder, TextTcpConfig};
pub use protocol::{Pattern, TextLineCodec, render};

#[cfg(test)]
mod tests;
