//! Code templates (追溯码模板, 4.2.5): what a code carries and how it is written, checked once
//! when the enterprise saves the template so generation can never fail half-way.
//!
//! A code is a *token* of `code_length` symbols of the base-32 alphabet:
//!
//! ```text
//!   IIII NN [PPP…] EEEEEEEE… C
//!   │    │   │      │        └ check symbol (ISO 7064 MOD 33,32) over everything before it
//!   │    │   │      └ encrypted segment: FPE of (serial, encrypted fields), mixed radix
//!   │    │   └ plain segment (public-URL form only): fields readable without the key
//!   │    └ template number 0..1024
//!   └ issuer: the enterprise's 4-symbol prefix, so one public host serves every enterprise
//! ```
//!
//! In the GS1 Digital Link form the token is the serial (AI 21, at most 20 characters), and
//! fields that are not encrypted are written as their own AIs (10 batch, 11 production date,
//! 17 expiry date), as GS1 intends; the GTIN is the template's and goes in AI 01.
//!
//! Fitting: the encrypted segment must hold every value of the serial and the encrypted fields
//! *and* leave [`GUARD_BITS`] to spare, so that a random or incremented guess decodes to an
//! issued code with probability at most 2^-20 even when the whole serial range is issued.

use super::base32;
use super::fpe::CipherKind;
use super::gtin::{Gtin, GtinError};
use crate::event::CodeLevel;
use serde::{Deserialize, Serialize};

/// Spare bits in the encrypted segment: a guessed code hits an issued one with p ≤ 2^-20.
pub const GUARD_BITS: u32 = 20;
/// The encrypted segment is never narrower than this, so the Feistel halves stay wide.
pub const MIN_ENCRYPTED_BITS: u32 = 40;
/// Issuer (4) + template number (2) + check (1).
pub const FIXED_SYMBOLS: usize = 7;
/// Longest token: 25 encrypted symbols (125 bits) is the permutation's limit.
pub const MAX_CODE_LENGTH: u8 = 48;
/// GS1 AI 21 holds at most 20 characters.
pub const MAX_DL_SERIAL: u8 = 20;
/// Template numbers are two symbols.
pub const MAX_TEMPLATE_NUMBER: u16 = 1024;
pub const MAX_BATCH_LEN: u8 = 20;
/// Batch characters: digits and capital letters (GS1 AI 10 safe, URL safe).
pub const BATCH_CHARS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// One variable of a code besides the serial (which every code has, always encrypted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case", deny_unknown_fields)]
pub enum Field {
    /// Batch number, 1..=`max_len` characters of `0-9A-Z`.
    Batch {
        max_len: u8,
        #[serde(default)]
        encrypted: bool,
    },
    ProductionDate {
        #[serde(default)]
        encrypted: bool,
    },
    ExpiryDate {
        #[serde(default)]
        encrypted: bool,
    },
}

impl Field {
    pub fn name(&self) -> &'static str {
        match self {
            Field::Batch { .. } => "batch",
            Field::ProductionDate { .. } => "production_date",
            Field::ExpiryDate { .. } => "expiry_date",
        }
    }

    pub fn encrypted(&self) -> bool {
        match *self {
            Field::Batch { encrypted, .. }
            | Field::ProductionDate { encrypted }
            | Field::ExpiryDate { encrypted } => encrypted,
        }
    }

    /// Number of values the field packs into.
    pub(crate) fn domain(&self) -> u128 {
        match *self {
            // Base 37: 0 ends the string, 1..=36 are the characters.
            Field::Batch { max_len, .. } => 37u128.pow(u32::from(max_len)),
            Field::ProductionDate { .. } | Field::ExpiryDate { .. } => {
                u128::from(super::day::DAY_LIMIT)
            }
        }
    }
}

/// How the code is written out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case", deny_unknown_fields)]
pub enum Output {
    /// `{base}/c/{token}` on our public host.
    Url { base: String },
    /// `https://{host}/01/{gtin}[/10/{batch}]/21/{token}[?11=YYMMDD&17=YYMMDD]`.
    DigitalLink { host: String },
}

/// A code template as the enterprise defines it. Serialised into the `codes_template` ledger
/// entry: do not rename fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The enterprise's name for it (`milk-250ml-unit`): a-z, 0-9, '-', '_', 1..=48.
    pub id: String,
    /// The enterprise's 4-symbol code prefix (base-32 alphabet).
    pub issuer: String,
    /// 0..1024, unique per issuer.
    pub number: u16,
    pub level: CodeLevel,
    /// GTIN-8/12/13/14 of the product (required for the Digital Link form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    /// The enterprise's own product code, when the product has no GTIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Serials run `0..serial_capacity`.
    pub serial_capacity: u64,
    /// Symbols in the token.
    pub code_length: u8,
    #[serde(default)]
    pub cipher: CipherKind,
    pub output: Output,
}

/// Why a template is refused. Each names what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template id {0:?}: use 1 to 48 of a-z, 0-9, '-' and '_'")]
    Id(String),
    #[error("issuer {0:?}: use exactly 4 symbols of 0-9 and A-Z without I, L, O, U")]
    Issuer(String),
    #[error("template number {0} is too large: use 0..1024")]
    Number(u16),
    #[error("give the product as either gtin or product_code, not {0}")]
    Product(&'static str),
    #[error("product_code {0:?}: use 1 to 32 printable characters without spaces")]
    ProductCode(String),
    #[error("gtin: {0}")]
    Gtin(#[from] GtinError),
    #[error("the GS1 Digital Link form needs a gtin (this template has a product_code)")]
    DigitalLinkNeedsGtin,
    #[error("field {0} is listed twice")]
    DuplicateField(&'static str),
    #[error("batch max_len {0}: use 1..=20")]
    BatchLen(u8),
    #[error("serial_capacity must be at least 1")]
    SerialCapacity,
    #[error(
        "the fields do not fit code_length {code_length}: the encrypted part needs {needed_bits} \
         bits ({data_bits} for the serial and encrypted fields + {GUARD_BITS} guard bits, at \
         least {MIN_ENCRYPTED_BITS}) = {needed_symbols} symbols, but {available_symbols} are left \
         after the prefix, plain fields and check symbol; make code_length at least {minimum} \
         or carry fewer or smaller fields"
    )]
    DoesNotFit {
        code_length: u8,
        data_bits: u32,
        needed_bits: u32,
        needed_symbols: usize,
        available_symbols: usize,
        minimum: usize,
    },
    #[error("code_length {0} is too long: at most {1} for this form")]
    TooLong(u8, u8),
    #[error("output url base {0:?}: use http(s)://host[/path] without a trailing slash")]
    Base(String),
    #[error(
        "output digital_link host {0:?}: use a host name (example.com), without scheme or path"
    )]
    Host(String),
}

/// Where each part of the token sits; derived from a valid template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub plain_symbols: usize,
    pub encrypted_symbols: usize,
    /// Values of (serial, encrypted fields): every packed value is below it.
    pub encrypted_domain: u128,
    pub plain_domain: u128,
    /// log2 of (segment capacity / encrypted_domain), rounded down.
    pub guard_bits: u32,
}

/// Bits needed to write every value below `domain` (domain ≥ 1).
fn bits_for(domain: u128) -> u32 {
    128 - (domain - 1).leading_zeros()
}

impl Template {
    pub fn digital_link(&self) -> bool {
        matches!(self.output, Output::DigitalLink { .. })
    }

    /// The GTIN in its 14-digit form (validated).
    pub fn gtin(&self) -> Option<Gtin> {
        self.gtin.as_deref().and_then(|g| Gtin::parse(g).ok())
    }

    /// Every rule, then the layout. Canonicalises nothing: the caller stores what it sent.
    pub fn validate(&self) -> Result<Layout, TemplateError> {
        let id_ok = (1..=48).contains(&self.id.len())
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(TemplateError::Id(self.id.clone()));
        }
        if self.issuer.len() != 4 || !self.issuer.bytes().all(|b| base32::ALPHABET.contains(&b)) {
            return Err(TemplateError::Issuer(self.issuer.clone()));
        }
        if self.number >= MAX_TEMPLATE_NUMBER {
            return Err(TemplateError::Number(self.number));
        }
        match (&self.gtin, &self.product_code) {
            (Some(_), Some(_)) => return Err(TemplateError::Product("both")),
            (None, None) => return Err(TemplateError::Product("neither")),
            (Some(g), None) => {
                Gtin::parse(g)?;
            }
            (None, Some(p)) => {
                if !(1..=32).contains(&p.chars().count())
                    || p.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(TemplateError::ProductCode(p.clone()));
                }
                if self.digital_link() {
                    return Err(TemplateError::DigitalLinkNeedsGtin);
                }
            }
        }
        let mut seen: Vec<&'static str> = Vec::new();
        for f in &self.fields {
            if seen.contains(&f.name()) {
                return Err(TemplateError::DuplicateField(f.name()));
            }
            seen.push(f.name());
            if let Field::Batch { max_len, .. } = *f
                && !(1..=MAX_BATCH_LEN).contains(&max_len)
            {
                return Err(TemplateError::BatchLen(max_len));
            }
        }
        if self.serial_capacity == 0 {
            return Err(TemplateError::SerialCapacity);
        }
        match &self.output {
            Output::Url { base } => {
                let rest = base
                    .strip_prefix("https://")
                    .or_else(|| base.strip_prefix("http://"));
                let ok = rest.is_some_and(|r| {
                    !r.is_empty()
                        && !r.starts_with('/')
                        && !r.ends_with('/')
                        && r.bytes()
                            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#')
                });
                if !ok {
                    return Err(TemplateError::Base(base.clone()));
                }
            }
            Output::DigitalLink { host } => {
                let ok = !host.is_empty()
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':');
                if !ok {
                    return Err(TemplateError::Host(host.clone()));
                }
            }
        }
        self.layout()
    }

    fn layout(&self) -> Result<Layout, TemplateError> {
        let dl = self.digital_link();
        let limit = if dl { MAX_DL_SERIAL } else { MAX_CODE_LENGTH };
        if self.code_length > limit {
            return Err(TemplateError::TooLong(self.code_length, limit));
        }
        // Products saturate: a domain past 2^125 cannot fit any code anyway.
        let mul = |a: u128, b: u128| a.saturating_mul(b);
        let mut enc = u128::from(self.serial_capacity);
        let mut plain = 1u128;
        for f in &self.fields {
            if f.encrypted() {
                enc = mul(enc, f.domain());
            } else if !dl {
                plain = mul(plain, f.domain());
            }
        }
        let plain_symbols = if plain <= 1 {
            0
        } else {
            bits_for(plain).div_ceil(5) as usize
        };
        let data_bits = bits_for(enc.max(2));
        let needed_bits = (data_bits + GUARD_BITS).max(MIN_ENCRYPTED_BITS);
        let needed_symbols = needed_bits.div_ceil(5) as usize;
        let available = usize::from(self.code_length).saturating_sub(FIXED_SYMBOLS + plain_symbols);
        if needed_symbols > available || needed_symbols > 25 {
            return Err(TemplateError::DoesNotFit {
                code_length: self.code_length,
                data_bits,
                needed_bits,
                needed_symbols,
                available_symbols: available,
                minimum: FIXED_SYMBOLS + plain_symbols + needed_symbols,
            });
        }
        // Any symbols beyond the need go to the encrypted part (up to its 125-bit limit): more
        // guard bits for free.
        let encrypted_symbols = available.min(25);
        if FIXED_SYMBOLS + plain_symbols + encrypted_symbols != usize::from(self.code_length) {
            return Err(TemplateError::TooLong(
                self.code_length,
                (FIXED_SYMBOLS + plain_symbols + 25) as u8,
            ));
        }
        let seg_bits = 5 * encrypted_symbols as u32;
        Ok(Layout {
            plain_symbols,
            encrypted_symbols,
            encrypted_domain: enc,
            plain_domain: plain,
            guard_bits: seg_bits - data_bits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Template {
        Template {
            id: "milk-250ml-unit".into(),
            issuer: "GZ0A".into(),
            number: 1,
            level: CodeLevel::Unit,
            gtin: Some("06901234567892".into()),
            product_code: None,
            fields: vec![
                Field::Batch {
                    max_len: 10,
                    encrypted: false,
                },
                Field::ProductionDate { encrypted: true },
            ],
            serial_capacity: 1_000_000_000,
            code_length: 20,
            cipher: CipherKind::Aes,
            output: Output::DigitalLink {
                host: "id.example.com".into(),
            },
        }
    }

    #[test]
    fn layout_of_the_sample() {
        let l = sample().validate().unwrap();
        // 10^9 serials × 2^15 days = 45 bits, + 20 guard bits = 65 bits = 13 symbols.
        assert_eq!(l.plain_symbols, 0);
        assert_eq!(l.encrypted_symbols, 13);
        assert_eq!(l.guard_bits, 20);
        let mut t = sample();
        t.code_length = 18;
        assert_eq!(
            t.validate(),
            Err(TemplateError::DoesNotFit {
                code_length: 18,
                data_bits: 45,
                needed_bits: 65,
                needed_symbols: 13,
                available_symbols: 11,
                minimum: 20,
            })
        );
        // Public-URL form: the plain batch moves into the token (37^10 → 53 bits = 11 symbols).
        t.output = Output::Url {
            base: "https://t.example.com".into(),
        };
        t.code_length = 31;
        let l = t.validate().unwrap();
        assert_eq!((l.plain_symbols, l.encrypted_symbols), (11, 13));
    }

    #[test]
    fn refusals_name_the_problem() {
        let with = |f: &dyn Fn(&mut Template)| {
            let mut t = sample();
            f(&mut t);
            t.validate().unwrap_err()
        };
        assert!(matches!(
            with(&|t| t.gtin = Some("06901234567893".into())),
            TemplateError::Gtin(GtinError::CheckDigit { expected: 2, .. })
        ));
        assert_eq!(
            with(&|t| t.issuer = "GZIA".into()),
            TemplateError::Issuer("GZIA".into())
        );
        assert_eq!(
            with(&|t| {
                t.gtin = None;
                t.product_code = Some("MILK-250".into());
            }),
            TemplateError::DigitalLinkNeedsGtin
        );
        assert_eq!(
            with(&|t| t.product_code = Some("X".into())),
            TemplateError::Product("both")
        );
        assert_eq!(
            with(&|t| t.fields.push(Field::ProductionDate { encrypted: false })),
            TemplateError::DuplicateField("production_date")
        );
        assert_eq!(
            with(&|t| t.code_length = 21),
            TemplateError::TooLong(21, MAX_DL_SERIAL)
        );
        assert_eq!(
            with(&|t| t.serial_capacity = 0),
            TemplateError::SerialCapacity
        );
        assert!(matches!(
            with(&|t| t.output = Output::Url {
                base: "t.example.com/".into()
            }),
            TemplateError::Base(_)
        ));
        let msg = with(&|t| t.code_length = 12).to_string();
        assert!(msg.contains("make code_length at least 20"), "{msg}");
    }
}
