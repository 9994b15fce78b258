//! Reading a scanned or typed code: a public URL, a GS1 Digital Link or the bare token.
//!
//! This needs no key: it finds the token, checks its symbols and check symbol, and reads the
//! issuer and template number, which say whose key decodes the rest. Anything that fails here
//! is "malformed" and never reaches a database.

use super::base32::{self, Check};
use super::day::Day;
use super::gtin::Gtin;
use serde::Serialize;

/// The parts of a GS1 Digital Link besides the serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gs1Parts {
    /// 14 digits, check digit verified.
    pub gtin: String,
    pub batch: Option<String>,
    pub production_date: Option<Day>,
    pub expiry_date: Option<Day>,
}

/// A code whose shape and check symbol are right; not yet decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedCode {
    /// Canonical (upper case, look-alikes mapped) token.
    pub token: String,
    pub issuer: String,
    pub number: u16,
    pub gs1: Option<Gs1Parts>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("nothing was scanned")]
    Empty,
    #[error("{0:?} is not a baytrace product code or a GS1 Digital Link")]
    NotACode(String),
    #[error("character {ch:?} at position {position} of the code is not a code symbol")]
    Symbol { position: usize, ch: char },
    #[error("the code is {0} symbols, too short to be a product code")]
    TooShort(usize),
    #[error("check symbol does not match: a symbol is mistyped or two are swapped")]
    CheckSymbol,
    #[error("GS1 Digital Link: {0}")]
    DigitalLink(String),
}

/// Shortest token: 7 fixed symbols + 8 encrypted (40 bits).
const MIN_TOKEN: usize = 15;

impl ScannedCode {
    pub fn parse(input: &str) -> Result<ScannedCode, ScanError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ScanError::Empty);
        }
        if let Some(i) = s.find("/01/") {
            return Self::digital_link(&s[i + 4..]);
        }
        if let Some(i) = s.rfind("/c/") {
            let tok = s[i + 3..].split(['?', '#', '/']).next().unwrap_or("");
            return Self::token(tok, None);
        }
        if s.contains('/') || s.contains(':') {
            return Err(ScanError::NotACode(s.chars().take(80).collect()));
        }
        // Typed by hand: allow grouping spaces and dashes.
        let tok: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
            .collect();
        Self::token(&tok, None)
    }

    fn token(tok: &str, gs1: Option<Gs1Parts>) -> Result<ScannedCode, ScanError> {
        let mut canon = String::with_capacity(tok.len());
        let mut check = Check::default();
        let mut last = None;
        for (i, ch) in tok.chars().enumerate() {
            let v = u8::try_from(ch)
                .ok()
                .and_then(base32::value)
                .ok_or(ScanError::Symbol {
                    position: i + 1,
                    ch,
                })?;
            if let Some(prev) = last.replace(v) {
                check = check.feed(prev);
            }
            canon.push(char::from(base32::ALPHABET[usize::from(v)]));
        }
        if canon.len() < MIN_TOKEN {
            return Err(ScanError::TooShort(canon.len()));
        }
        if last != Some(check.symbol()) {
            return Err(ScanError::CheckSymbol);
        }
        let number = base32::read_fixed(&canon.as_bytes()[4..6]).unwrap_or(0) as u16;
        Ok(ScannedCode {
            issuer: canon[..4].to_owned(),
            number,
            token: canon,
            gs1,
        })
    }

    /// `rest` is what follows `/01/`: `{gtin}[/10/{batch}]/21/{serial}[?11=..&17=..]`.
    fn digital_link(rest: &str) -> Result<ScannedCode, ScanError> {
        let bad = |m: &str| ScanError::DigitalLink(m.to_owned());
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let query = query.split('#').next().unwrap_or("");
        let mut parts = path.split('/');
        let gtin = Gtin::parse(parts.next().unwrap_or(""))
            .map_err(|e| ScanError::DigitalLink(e.to_string()))?;
        let (mut batch, mut serial) = (None, None);
        while let Some(ai) = parts.next() {
            let value = parts.next().ok_or_else(|| bad("an AI without a value"))?;
            match ai {
                "10" if batch.is_none() && serial.is_none() => batch = Some(value.to_owned()),
                "21" if serial.is_none() => serial = Some(value.to_owned()),
                _ => return Err(bad(&format!("unexpected path element {ai}"))),
            }
        }
        let (mut production_date, mut expiry_date) = (None, None);
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let day = || Day::from_yymmdd(v).map_err(|e| ScanError::DigitalLink(e.to_string()));
            match k {
                "11" => production_date = Some(day()?),
                "17" => expiry_date = Some(day()?),
                // Other attributes (linkType, …) do not identify the item.
                _ => {}
            }
        }
        let serial = serial.ok_or_else(|| bad("no serial (AI 21)"))?;
        Self::token(
            &serial,
            Some(Gs1Parts {
                gtin: gtin.to_string(),
                batch,
                production_date,
                expiry_date,
            }),
        )
    }
}
