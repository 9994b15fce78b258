//! Chinese TIJ `ESC STX` binary protocol: codec ([`protocol`]) and driver ([`TijCoder`]).

mod driver;
pub mod protocol;

pub use driver::{TijCoder, TijConfig, status_text};
pub use protocol::{TijCodec, TijDeviceCodec, TijReply, TijRequest};

#[cfg(test)]
mod tests;
