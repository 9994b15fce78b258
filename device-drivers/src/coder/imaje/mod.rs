//! Markem-Imaje 9040 binary protocol: codec ([`protocol`]) and driver ([`ImajeCoder`]).

mod driver;
pub mod protocol;

pub use driver::{ImajeCoder, ImajeConfig};
pub use protocol::{ImajeCodec, ImajeDeviceCodec, ImajeReply, ImajeRequest};

#[cfg(test)]
mod tests;
