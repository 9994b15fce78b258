//! # Product codes: templates, encrypted variables, generation and decoding (4.2.5, 4.2.6)
//!
//! A pre-packaged food producer prints one code per item (unit), case and batch. The code must
//! be short (it is printed by an inkjet at line speed and scanned by WeChat), must not be
//! enumerable (a counterfeiter who sees one code must not be able to produce the next), must be
//! generated offline on the line box, and must decode for the owner and the cloud back to the
//! template, the serial and the fields the enterprise chose to hide.
//!
//! How: the serial and the fields marked `encrypted` are packed into one number (mixed radix),
//! and that number is put through a keyed format-preserving permutation ([`fpe`]: a Feistel
//! network with AES-128 or SM4 round functions) of a binary domain 2^20 times larger than the
//! packed values ([`template::GUARD_BITS`]). The result is written in Crockford base 32 behind a
//! readable prefix (issuer and template number, so the right key can be found) and ahead of a
//! check symbol ([`base32`]). Distinct serials give distinct codes because the permutation is a
//! bijection; a guessed code decodes to an issued one with probability ≤ 2^-20.
//!
//! | module | what |
//! |---|---|
//! | [`template`] | the template, its validation and the token layout |
//! | [`codec`] | [`ProductCodec`]: encode (per batch, [`BatchCodes::code_for`]), decode, preview |
//! | [`scan`] | [`ScannedCode::parse`]: URL, GS1 Digital Link or bare token, key-free checks |
//! | [`fpe`], [`sm4t`] | the permutation; SM4 encryption with T-tables for its round function |
//! | [`base32`], [`gtin`], [`day`] | the alphabet, GS1 mod-10, dates |

pub mod base32;
pub mod codec;
pub mod day;
pub mod fpe;
pub mod gtin;
pub mod scan;
pub mod sm4t;
pub mod template;
#[cfg(test)]
mod tests;

pub use codec::{
    BatchCodes, CodeKey, CodeVars, DecodeError, DecodedCode, Preview, ProductCodec,
    SerialOutOfRange, VarsError,
};
pub use day::Day;
pub use fpe::CipherKind;
pub use gtin::{Gtin, GtinError};
pub use scan::{Gs1Parts, ScanError, ScannedCode};
pub use template::{Field, Layout, Output, Template, TemplateError};
