//! # trace-core: the language edge and cloud share
//!
//! Everything that crosses the boundary between a baytrace box and the cloud is defined here:
//! identifiers, money and weight units, the ledger entry and its event vocabulary, the canonical
//! byte encoding that entries are hashed over, the hash chain, trace codes and the sync wire
//! format with its MQTT topics.
//!
//! Why one pure crate: the edge and the cloud must agree bit for bit on what an entry *is* (its
//! canonical bytes, hence its hash), or the cloud would quarantine honest devices. Keeping that
//! agreement in a crate with no I/O, no async runtime and property tests on every wire type makes
//! it cheap to check and impossible to drift.
//!
//! | module | what |
//! |---|---|
//! | [`ids`] | `DeviceId`, 统一社会信用代码 [`CreditCode`], 身份证号 [`ResidentId`], GB/T 2260 [`RegionCode`], masks |
//! | [`units`] | [`Fen`], [`Grams`], parsing of typed 元/斤/kg, line amounts with a documented rounding rule |
//! | [`event`] | the event vocabulary v3 (`Event::KINDS`) and `Event::validate` |
//! | [`entry`], [`canonical`], [`hash`] | the sealed entry, its canonical bytes, SHA-256/SM3 chain |
//! | [`label`] | EAN-13 variable-measure labels a label scale prints (`2x` + item + price/weight + check) |
//! | [`ticket`] | 20-digit receipt trace codes: device number + keyed permutation + Damm check digit |
//! | [`whereabouts`] | 去向查询: the graph walk from a raw lot, batch or code to every destination |
//! | [`wire`] | sync messages, the lz4 envelope, detached Ed25519/SM2 signatures, MQTT [`topics`] |
#![forbid(unsafe_code)]

pub mod canonical;
pub mod credentials;
pub mod entry;
pub mod event;
pub mod fragment;
pub mod hash;
pub mod ids;
pub mod label;
pub mod product_code;
#[cfg(test)]
mod proptests;
pub mod ticket;
pub mod time;
pub mod units;
pub mod whereabouts;
pub mod wire;

pub use wire::topics;

pub use canonical::{CanonicalError, canonical_bytes};
pub use entry::{Entry, EntryDraft, Timestamp};
pub use event::Event;
pub use event::{EventError, VOCABULARY_VERSION};
pub use hash::{Digest, HashAlg};
pub use ids::{CreditCode, DeviceId, RegionCode, ResidentId};
pub use ticket::{TicketCode, TicketCodec};
pub use ulid::Ulid;
pub use units::{Fen, Grams, PriceUnit};
pub use wire::{Ack, DeviceState, DownlinkDoc, EntryBatch, SeqRange, WIRE_VERSION};
