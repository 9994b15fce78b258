//! Encoding and decoding codes of one template: the hot path of code generation.
//!
//! Design: everything that is the same for every code of a batch (the URL up to the token, the
//! token's prefix, the plain fields, the check state after them, the packed encrypted fields)
//! is computed once in [`ProductCodec::for_batch`]; a code then costs one mixed-radix add,
//! ten block encryptions and ~15 symbol writes ([`BatchCodes::write_code`]).

use super::base32::{self, Check};
use super::day::Day;
use super::fpe::{Fpe, LANES};
use super::scan::{Gs1Parts, ScannedCode};
use super::template::{BATCH_CHARS, Field, Layout, Output, Template, TemplateError};
use crate::event::CodeLevel;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The 16-byte key of one template. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeKey(pub [u8; 16]);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(<redacted>)")
    }
}

impl CodeKey {
    /// A template's key from the owner's 32-byte code secret (on a box: its ticket key, which
    /// the cloud also holds), so no new key has to be distributed, and one leaked template key
    /// reveals nothing about another.
    pub fn derive(secret: &[u8; 32], issuer: &str, number: u16) -> CodeKey {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"baytrace/product-code/v1\0");
        mac.update(issuer.as_bytes());
        mac.update(&number.to_be_bytes());
        let out = mac.finalize().into_bytes();
        let mut k = [0u8; 16];
        k.copy_from_slice(&out[..16]);
        CodeKey(k)
    }
}

/// The values of a code's fields other than the serial (one set per production batch).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeVars {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_date: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<Day>,
}

/// Why a batch's values do not suit the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarsError {
    #[error("the template needs a value for {0}")]
    Missing(&'static str),
    #[error("the template has no {0} field; leave it out")]
    NotInTemplate(&'static str),
    #[error("batch {batch:?}: use 1 to {max_len} of 0-9 and A-Z")]
    Batch { batch: String, max_len: u8 },
    #[error("expiry date {expiry} is before production date {production}")]
    ExpiryBeforeProduction { production: Day, expiry: Day },
}

/// Why a scanned code does not decode under this template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("code is for issuer {issuer} template {number}, not this template")]
    OtherTemplate { issuer: String, number: u16 },
    #[error("code has {found} symbols, this template's codes have {expected}")]
    Length { expected: usize, found: usize },
    #[error("code does not decode to a code of this template (forged or mistyped)")]
    NotIssued,
    #[error("GS1 Digital Link does not match the template: {0}")]
    Gs1Mismatch(String),
}

/// What a code says, once decoded with the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecodedCode {
    pub template: String,
    pub issuer: String,
    pub number: u16,
    pub level: CodeLevel,
    pub serial: u64,
    #[serde(flatten)]
    pub vars: CodeVars,
}

/// A validated template with its key: encodes and decodes its codes.
#[derive(Debug, Clone)]
pub struct ProductCodec {
    template: Template,
    layout: Layout,
    fpe: Fpe,
}

/// The serial is outside the template's `0..serial_capacity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("serial {serial} is outside the template's range 0..{capacity}")]
pub struct SerialOutOfRange {
    pub serial: u64,
    pub capacity: u64,
}

fn tweak(issuer: &str, number: u16) -> [u8; 6] {
    let mut t = [0u8; 6];
    t[..4].copy_from_slice(&issuer.as_bytes()[..4]);
    t[4..].copy_from_slice(&number.to_be_bytes());
    t
}

fn pack_batch(b: &str) -> u128 {
    b.bytes().rev().fold(0u128, |acc, c| {
        let idx = BATCH_CHARS.iter().position(|&x| x == c).unwrap_or(0);
        acc * 37 + idx as u128 + 1
    })
}

fn unpack_batch(mut v: u128, max_len: u8) -> Option<String> {
    let mut s = String::new();
    let mut ended = false;
    for _ in 0..max_len {
        let d = (v % 37) as usize;
        v /= 37;
        if d == 0 {
            ended = true;
        } else if ended {
            return None;
        } else {
            s.push(char::from(BATCH_CHARS[d - 1]));
        }
    }
    (!s.is_empty() && v == 0).then_some(s)
}

fn batch_ok(b: &str, max_len: u8) -> bool {
    (1..=usize::from(max_len)).contains(&b.len()) && b.bytes().all(|c| BATCH_CHARS.contains(&c))
}

impl ProductCodec {
    pub fn new(template: Template, key: &CodeKey) -> Result<ProductCodec, TemplateError> {
        let layout = template.validate()?;
        let fpe = Fpe::new(
            template.cipher,
            &key.0,
            tweak(&template.issuer, template.number),
            5 * layout.encrypted_symbols as u32,
        );
        Ok(ProductCodec {
            template,
            layout,
            fpe,
        })
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    fn in_token(&self, f: &Field) -> bool {
        f.encrypted() || !self.template.digital_link()
    }

    fn value_of(f: &Field, vars: &CodeVars) -> u128 {
        match f {
            Field::Batch { .. } => vars.batch.as_deref().map_or(0, pack_batch),
            Field::ProductionDate { .. } => vars.production_date.map_or(0, |d| u128::from(d.0)),
            Field::ExpiryDate { .. } => vars.expiry_date.map_or(0, |d| u128::from(d.0)),
        }
    }

    /// Mixed-radix value of the fields selected by `pick`, first field least significant.
    fn pack(&self, vars: &CodeVars, pick: impl Fn(&Field) -> bool) -> u128 {
        self.template
            .fields
            .iter()
            .filter(|f| pick(f))
            .rev()
            .fold(0u128, |acc, f| acc * f.domain() + Self::value_of(f, vars))
    }

    fn unpack(&self, mut v: u128, vars: &mut CodeVars, pick: impl Fn(&Field) -> bool) -> bool {
        for f in self.template.fields.iter().filter(|f| pick(f)) {
            let d = v % f.domain();
            v /= f.domain();
            match *f {
                Field::Batch { max_len, .. } => match unpack_batch(d, max_len) {
                    Some(b) => vars.batch = Some(b),
                    None => return false,
                },
                // Below DAY_LIMIT by construction of the domain.
                Field::ProductionDate { .. } => vars.production_date = Some(Day(d as u16)),
                Field::ExpiryDate { .. } => vars.expiry_date = Some(Day(d as u16)),
            }
        }
        v == 0
    }

    /// Check a batch's values against the template.
    pub fn check_vars(&self, vars: &CodeVars) -> Result<(), VarsError> {
        let has = |name| self.template.fields.iter().any(|f| f.name() == name);
        for (name, given) in [
            ("batch", vars.batch.is_some()),
            ("production_date", vars.production_date.is_some()),
            ("expiry_date", vars.expiry_date.is_some()),
        ] {
            match (has(name), given) {
                (true, false) => return Err(VarsError::Missing(name)),
                (false, true) => return Err(VarsError::NotInTemplate(name)),
                _ => {}
            }
        }
        for f in &self.template.fields {
            if let (Field::Batch { max_len, .. }, Some(b)) = (f, &vars.batch)
                && !batch_ok(b, *max_len)
            {
                return Err(VarsError::Batch {
                    batch: b.clone(),
                    max_len: *max_len,
                });
            }
        }
        if let (Some(p), Some(e)) = (vars.production_date, vars.expiry_date)
            && e < p
        {
            return Err(VarsError::ExpiryBeforeProduction {
                production: p,
                expiry: e,
            });
        }
        Ok(())
    }

    /// The encoder for one batch's codes.
    pub fn for_batch(&self, vars: &CodeVars) -> Result<BatchCodes, VarsError> {
        self.check_vars(vars)?;
        let t = &self.template;
        let mut token_head = String::with_capacity(usize::from(t.code_length));
        token_head.push_str(&t.issuer);
        base32::push_fixed(&mut token_head, u128::from(t.number), 2);
        if self.layout.plain_symbols > 0 {
            let plain = self.pack(vars, |f| !f.encrypted());
            base32::push_fixed(&mut token_head, plain, self.layout.plain_symbols);
        }
        let check = Check::default()
            .feed_all(token_head.as_bytes())
            .unwrap_or_default();
        let (mut head, mut tail) = (String::new(), String::new());
        match &t.output {
            Output::Url { base } => {
                head.push_str(base);
                head.push_str("/c/");
            }
            Output::DigitalLink { host } => {
                head.push_str("https://");
                head.push_str(host);
                head.push_str("/01/");
                head.push_str(t.gtin().map(|g| g.to_string()).as_deref().unwrap_or(""));
                for f in t.fields.iter().filter(|f| !f.encrypted()) {
                    match f {
                        Field::Batch { .. } => {
                            head.push_str("/10/");
                            head.push_str(vars.batch.as_deref().unwrap_or(""));
                        }
                        Field::ProductionDate { .. } | Field::ExpiryDate { .. } => {
                            let (ai, day) = if let Field::ProductionDate { .. } = f {
                                ("11", vars.production_date)
                            } else {
                                ("17", vars.expiry_date)
                            };
                            tail.push(if tail.is_empty() { '?' } else { '&' });
                            tail.push_str(ai);
                            tail.push('=');
                            tail.push_str(&day.map(Day::yymmdd).unwrap_or_default());
                        }
                    }
                }
                head.push_str("/21/");
            }
        }
        head.push_str(&token_head);
        let rest = self.pack(vars, Field::encrypted);
        Ok(BatchCodes {
            head,
            tail,
            check,
            symbols: self.layout.encrypted_symbols,
            capacity: t.serial_capacity,
            offset: rest * u128::from(t.serial_capacity),
            fpe: self.fpe.clone(),
            vars: vars.clone(),
        })
    }

    /// Decode a scanned code of this template back to its serial and fields.
    pub fn decode(&self, s: &ScannedCode) -> Result<DecodedCode, DecodeError> {
        let t = &self.template;
        if s.issuer != t.issuer || s.number != t.number {
            return Err(DecodeError::OtherTemplate {
                issuer: s.issuer.clone(),
                number: s.number,
            });
        }
        let tok = s.token.as_bytes();
        if tok.len() != usize::from(t.code_length) {
            return Err(DecodeError::Length {
                expected: usize::from(t.code_length),
                found: tok.len(),
            });
        }
        let mut vars = CodeVars::default();
        let p0 = 6;
        let p1 = p0 + self.layout.plain_symbols;
        let p2 = p1 + self.layout.encrypted_symbols;
        if self.layout.plain_symbols > 0 {
            let plain = base32::read_fixed(&tok[p0..p1]).ok_or(DecodeError::NotIssued)?;
            if plain >= self.layout.plain_domain
                || !self.unpack(plain, &mut vars, |f| !f.encrypted())
            {
                return Err(DecodeError::NotIssued);
            }
        }
        let y = base32::read_fixed(&tok[p1..p2]).ok_or(DecodeError::NotIssued)?;
        let x = self.fpe.decrypt(y);
        if x >= self.layout.encrypted_domain {
            return Err(DecodeError::NotIssued);
        }
        let cap = u128::from(t.serial_capacity);
        let serial = (x % cap) as u64;
        if !self.unpack(x / cap, &mut vars, Field::encrypted) {
            return Err(DecodeError::NotIssued);
        }
        match (&t.output, &s.gs1) {
            (Output::DigitalLink { .. }, Some(g)) => self.gs1_fields(g, &mut vars)?,
            (Output::Url { .. }, Some(_)) => {
                return Err(DecodeError::Gs1Mismatch(
                    "this template's codes are public URLs, not GS1 Digital Links".into(),
                ));
            }
            _ => {}
        }
        Ok(DecodedCode {
            template: t.id.clone(),
            issuer: t.issuer.clone(),
            number: t.number,
            level: t.level,
            serial,
            vars,
        })
    }

    fn gs1_fields(&self, g: &Gs1Parts, vars: &mut CodeVars) -> Result<(), DecodeError> {
        let mismatch = |m: String| Err(DecodeError::Gs1Mismatch(m));
        let want = self
            .template
            .gtin()
            .map(|g| g.to_string())
            .unwrap_or_default();
        if g.gtin != want {
            return mismatch(format!("GTIN {} is not the template's {want}", g.gtin));
        }
        for f in self.template.fields.iter().filter(|f| !self.in_token(f)) {
            match *f {
                Field::Batch { max_len, .. } => match &g.batch {
                    Some(b) if batch_ok(b, max_len) => vars.batch = Some(b.clone()),
                    other => return mismatch(format!("batch (AI 10) {other:?}")),
                },
                Field::ProductionDate { .. } => {
                    vars.production_date = Some(
                        g.production_date
                            .ok_or_else(|| DecodeError::Gs1Mismatch("no AI 11".into()))?,
                    );
                }
                Field::ExpiryDate { .. } => {
                    vars.expiry_date = Some(
                        g.expiry_date
                            .ok_or_else(|| DecodeError::Gs1Mismatch("no AI 17".into()))?,
                    );
                }
            }
        }
        Ok(())
    }

    /// What the template's codes look like: layout figures and the first `n` codes of a batch.
    pub fn preview(&self, vars: &CodeVars, n: u64) -> Result<Preview, VarsError> {
        let codes = self.for_batch(vars)?;
        let sample = (0..n.min(self.template.serial_capacity))
            .filter_map(|s| codes.code_for(s).ok().map(|code| (s, code)))
            .collect();
        Ok(Preview {
            template: self.template.id.clone(),
            level: self.template.level,
            code_length: self.template.code_length,
            plain_symbols: self.layout.plain_symbols,
            encrypted_symbols: self.layout.encrypted_symbols,
            guard_bits: self.layout.guard_bits,
            serial_capacity: self.template.serial_capacity,
            sample,
        })
    }
}

/// See [`ProductCodec::preview`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub template: String,
    pub level: CodeLevel,
    pub code_length: u8,
    pub plain_symbols: usize,
    pub encrypted_symbols: usize,
    /// A guessed token decodes to an issued code with probability ≤ 2^-guard_bits.
    pub guard_bits: u32,
    pub serial_capacity: u64,
    /// (serial, code)
    pub sample: Vec<(u64, String)>,
}

/// Encoder for the codes of one batch: `serial → code`. Owns everything it needs, so it can
/// move to the thread that feeds a coder.
#[derive(Debug, Clone)]
pub struct BatchCodes {
    head: String,
    tail: String,
    check: Check,
    symbols: usize,
    capacity: u64,
    offset: u128,
    fpe: Fpe,
    vars: CodeVars,
}

impl BatchCodes {
    pub fn vars(&self) -> &CodeVars {
        &self.vars
    }

    /// Length in bytes of every code of this batch.
    pub fn code_len(&self) -> usize {
        self.head.len() + self.symbols + 1 + self.tail.len()
    }

    /// Append the code of `serial` to `out` (nothing is appended on error).
    #[inline]
    pub fn write_code(&self, serial: u64, out: &mut String) -> Result<(), SerialOutOfRange> {
        if serial >= self.capacity {
            return Err(SerialOutOfRange {
                serial,
                capacity: self.capacity,
            });
        }
        self.push_encrypted(self.fpe.encrypt(self.offset + u128::from(serial)), out);
        Ok(())
    }

    /// Write the codes of `first..=last` one after another, handing each `(serial, code)` to
    /// `sink`: the fast path for exports and coder feeds (eight codes encrypted side by side).
    pub fn each_code(
        &self,
        first: u64,
        last: u64,
        mut sink: impl FnMut(u64, &str),
    ) -> Result<(), SerialOutOfRange> {
        if last >= self.capacity {
            return Err(SerialOutOfRange {
                serial: last,
                capacity: self.capacity,
            });
        }
        let mut line = String::with_capacity(self.code_len());
        let mut s = first;
        while s <= last {
            let n = (last - s + 1).min(LANES as u64) as usize;
            let mut xs = [0u128; LANES];
            for (k, x) in xs.iter_mut().enumerate() {
                // Lanes past `last` repeat it; their output is ignored.
                *x = self.offset + u128::from(s + (k as u64).min(n as u64 - 1));
            }
            self.fpe.encrypt_lanes(&mut xs);
            for (k, &y) in xs[..n].iter().enumerate() {
                line.clear();
                self.push_encrypted(y, &mut line);
                sink(s + k as u64, &line);
            }
            match s.checked_add(n as u64) {
                Some(next) => s = next,
                None => break,
            }
        }
        Ok(())
    }

    #[inline]
    fn push_encrypted(&self, mut y: u128, out: &mut String) {
        let mut vals = [0u8; 25];
        for slot in vals[..self.symbols].iter_mut().rev() {
            *slot = (y & 31) as u8;
            y >>= 5;
        }
        let mut buf = [0u8; 26];
        let mut check = self.check;
        for (b, &v) in buf.iter_mut().zip(&vals[..self.symbols]) {
            check = check.feed(v);
            *b = base32::ALPHABET[usize::from(v)];
        }
        buf[self.symbols] = base32::ALPHABET[usize::from(check.symbol())];
        out.push_str(&self.head);
        // The alphabet is ASCII, so this never fails.
        out.push_str(std::str::from_utf8(&buf[..=self.symbols]).unwrap_or_default());
        out.push_str(&self.tail);
    }

    /// The code of `serial`.
    pub fn code_for(&self, serial: u64) -> Result<String, SerialOutOfRange> {
        let mut s = String::with_capacity(self.code_len());
        self.write_code(serial, &mut s)?;
        Ok(s)
    }
}
