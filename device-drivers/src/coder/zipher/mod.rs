//! Videojet / Zipher CLARiTY text protocol: codec ([`protocol`]) and driver ([`ZipherCoder`]).

mod driver;
pub mod protocol;

pub use driver::{ZipherCoder, ZipherConfig};
pub use protocol::{ZipherCodec, ZipherCommand, ZipherDeviceCodec, ZipherFault, ZipherReply};

#[cfg(test)]
mod tests;
