//! Ticket trace codes: the 20-digit number printed on a sale receipt (and in its QR URL).
//!
//! ```text
//!   DDDDDD PPPPPPPPPPPPP C
//!   │      │             └ Damm check digit over the 19 digits before it
//!   │      └ 13 digits: keyed permutation of the device's ticket counter, domain [0, 10^13)
//!   └ 6 digits: the device number assigned at provisioning (1..=999999)
//! ```
//!
//! Why this shape:
//!
//! - **Numeric and fixed length**, because a consumer types it on the public page when the QR is
//!   smudged, and 20 digits is what market receipts already print.
//! - **Globally unique without coordination**: the device number is unique per box and the
//!   permutation is a bijection on a box's counters, so two boxes never collide and one box never
//!   repeats while its counter does not.
//! - **Minted offline** from the box's own counter and its 32-byte code key; **decodable** by the
//!   cloud, which holds the key, back to the counter (and from there to the ledger entry).
//! - **Check digit by the Damm algorithm**: a weakly totally anti-symmetric quasigroup of order
//!   10 detects every single-digit substitution and every transposition of adjacent digits, with
//!   one decimal digit (Luhn misses 09↔90; ISO 7064 MOD 11-2 needs an `X`). The tests check this
//!   exhaustively on random codes.
//!
//! ## Unpredictability
//!
//! The 13-digit body is `E_k(counter)` where `E_k` is a pseudo-random permutation of
//! `[0, 10^13)`: a 12-round balanced Feistel network on 44 bits (two 22-bit halves) whose round
//! function is HMAC-SHA256 keyed with the device's code key (over a domain tag, the device number,
//! the round number and the half-block), restricted to the decimal domain by cycle walking
//! (re-encrypt while the value is ≥ 10^13; 10^13/2^44 ≈ 0.57, so ≈ 1.8 passes on average).
//!
//! Without the key, every code a box has not yet shown is (computationally) uniform over the
//! ≈ 10^13 ≈ 2^43.2 values not yet seen: **43 bits of unpredictability**, above the 40 the design
//! asks. Someone who has seen `n` codes of a box and guesses a body succeeds with probability about
//! `n / 10^13` per try — one in ten million after a million tickets — and the public lookup is
//! rate-limited on top. The check digit adds no secrecy (anyone can compute it); it is there for
//! typing errors. Known bounds for many-round Feistel networks keep adaptive distinguishing
//! infeasible well beyond 2^22 ≈ 4 million observed codes per key, far more than a stall prints;
//! a box that gets near that is re-keyed with a new device number.

use serde::{Deserialize, Serialize};
use sha2::block_api::compress256;
use std::fmt;
use std::str::FromStr;

/// Codes per device: the counter domain `[0, 10^13)`.
pub const COUNTER_LIMIT: u64 = 10_000_000_000_000;
/// Highest device number (6 digits).
pub const MAX_DEVICE_NO: u32 = 999_999;

const ROUNDS: u8 = 12;
const HALF_BITS: u32 = 22;
const HALF_MASK: u64 = (1 << HALF_BITS) - 1;
const DOMAIN_TAG: &[u8; 18] = b"baytrace/ticket/v1";
/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Why a typed code is not a ticket code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketCodeError {
    #[error("a ticket code has 20 digits, this has {found}")]
    Length { found: usize },
    #[error("character {ch:?} at position {position} is not a digit")]
    NotDigit { position: usize, ch: char },
    #[error("check digit does not match: a digit is mistyped or two are swapped")]
    CheckDigit,
}

/// Why the codec refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketCodecError {
    #[error("device number {0} is outside 1..=999999")]
    DeviceNo(u32),
    #[error("counter {0} is outside the ticket domain [0, 10^13)")]
    CounterOutOfRange(u64),
    #[error("code belongs to device {found}, not {expected}")]
    WrongDevice { expected: u32, found: u32 },
}

/// A syntactically valid ticket code (20 digits, check digit correct). Serialises as the plain
/// 20-digit string.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TicketCode([u8; 20]);

impl TicketCode {
    /// Parse a code as a person typed it: spaces (also the full-width one), tabs and dashes
    /// anywhere are ignored. Positions in errors count characters of the input, from 1.
    pub fn parse(s: &str) -> Result<TicketCode, TicketCodeError> {
        let mut digits = Vec::with_capacity(20);
        for (i, ch) in s.chars().enumerate() {
            match ch {
                ' ' | '-' | '\t' | '\u{3000}' => {}
                '0'..='9' => digits.push(ch as u8 - b'0'),
                _ => {
                    return Err(TicketCodeError::NotDigit {
                        position: i + 1,
                        ch,
                    });
                }
            }
        }
        let arr: [u8; 20] = digits
            .try_into()
            .map_err(|d: Vec<u8>| TicketCodeError::Length { found: d.len() })?;
        if damm(&arr) != 0 {
            return Err(TicketCodeError::CheckDigit);
        }
        Ok(TicketCode(arr))
    }

    /// The device number in the first six digits.
    pub fn device_no(&self) -> u32 {
        self.0[..6].iter().fold(0, |n, &d| n * 10 + u32::from(d))
    }

    /// The 13-digit permuted body.
    fn body(&self) -> u64 {
        self.0[6..19].iter().fold(0, |n, &d| n * 10 + u64::from(d))
    }

    /// `1234 5678 9012 3456 7890`: for printing under the QR and reading aloud.
    pub fn grouped(&self) -> String {
        let s = self.to_string();
        let groups: Vec<&str> = (0..5).map(|i| &s[i * 4..i * 4 + 4]).collect();
        groups.join(" ")
    }

    fn assemble(device_no: u32, body: u64) -> TicketCode {
        let mut d = [0u8; 20];
        write_digits(&mut d[..6], u64::from(device_no));
        write_digits(&mut d[6..19], body);
        d[19] = damm(&d[..19]);
        TicketCode(d)
    }
}

fn write_digits(out: &mut [u8], mut v: u64) {
    for slot in out.iter_mut().rev() {
        *slot = (v % 10) as u8;
        v /= 10;
    }
}

/// The Damm operation table (a weakly totally anti-symmetric quasigroup of order 10).
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// The Damm interim digit of `digits`: the check digit of a body, 0 for a valid code.
pub fn damm(digits: &[u8]) -> u8 {
    digits
        .iter()
        .fold(0u8, |i, &d| DAMM[usize::from(i)][usize::from(d)])
}

impl fmt::Display for TicketCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TicketCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TicketCode({self})")
    }
}

impl FromStr for TicketCode {
    type Err = TicketCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TicketCode::parse(s)
    }
}

impl TryFrom<String> for TicketCode {
    type Error = TicketCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TicketCode::parse(&s)
    }
}

impl From<TicketCode> for String {
    fn from(c: TicketCode) -> String {
        c.to_string()
    }
}

/// Mints and decodes one device's ticket codes. Holds the device's code key: `Debug` hides it.
#[derive(Clone)]
pub struct TicketCodec {
    device_no: u32,
    /// HMAC-SHA256 with the key absorbed: the SHA-256 states after the `key ^ ipad` and
    /// `key ^ opad` blocks (RFC 2104). A round is then exactly two compressions; see
    /// [`TicketCodec::round`].
    inner: [u32; 8],
    outer: [u32; 8],
    /// The round's inner message block with everything but the round number and half filled in.
    block: [u8; 64],
}

impl fmt::Debug for TicketCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketCodec")
            .field("device_no", &self.device_no)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl TicketCodec {
    pub fn new(device_no: u32, key: &[u8; 32]) -> Result<TicketCodec, TicketCodecError> {
        if !(1..=MAX_DEVICE_NO).contains(&device_no) {
            return Err(TicketCodecError::DeviceNo(device_no));
        }
        let keyed = |pad: u8| {
            let mut b = [pad; 64];
            for (x, k) in b.iter_mut().zip(key) {
                *x ^= k;
            }
            let mut st = SHA256_IV;
            compress256(&mut st, &[b]);
            st
        };
        // Inner message: tag ‖ device number ‖ round ‖ half (27 bytes), then SHA-256 padding
        // for a 64 + 27 byte message.
        let mut block = [0u8; 64];
        block[..18].copy_from_slice(DOMAIN_TAG);
        block[18..22].copy_from_slice(&device_no.to_be_bytes());
        block[27] = 0x80;
        block[56..].copy_from_slice(&((64u64 + 27) * 8).to_be_bytes());
        Ok(TicketCodec {
            device_no,
            inner: keyed(0x36),
            outer: keyed(0x5c),
            block,
        })
    }

    pub fn device_no(&self) -> u32 {
        self.device_no
    }

    /// The code of ticket number `counter` of this device.
    pub fn mint(&self, counter: u64) -> Result<TicketCode, TicketCodecError> {
        if counter >= COUNTER_LIMIT {
            return Err(TicketCodecError::CounterOutOfRange(counter));
        }
        let mut x = self.feistel(counter, false);
        while x >= COUNTER_LIMIT {
            x = self.feistel(x, false);
        }
        Ok(TicketCode::assemble(self.device_no, x))
    }

    /// The counter a code of this device was minted from. Every well-formed code of the device
    /// decodes to some counter (the permutation is onto); whether that counter was ever issued is
    /// for the ledger to say, so a lookup must also find the entry.
    pub fn decode(&self, code: &TicketCode) -> Result<u64, TicketCodecError> {
        let found = code.device_no();
        if found != self.device_no {
            return Err(TicketCodecError::WrongDevice {
                expected: self.device_no,
                found,
            });
        }
        // Bodies are < 10^13 by construction (13 digits), so cycle walking back terminates.
        let mut x = self.feistel(code.body(), true);
        while x >= COUNTER_LIMIT {
            x = self.feistel(x, true);
        }
        Ok(x)
    }

    /// One pass of the 44-bit Feistel permutation (or its inverse).
    fn feistel(&self, x: u64, inverse: bool) -> u64 {
        let (mut l, mut r) = (x >> HALF_BITS, x & HALF_MASK);
        if inverse {
            for round in (0..ROUNDS).rev() {
                (l, r) = (r ^ self.round(round, l), l);
            }
        } else {
            for round in 0..ROUNDS {
                (l, r) = (r, l ^ self.round(round, r));
            }
        }
        (l << HALF_BITS) | r
    }

    /// HMAC-SHA256(key, tag ‖ device number ‖ round ‖ half as u32), first 32 bits, masked
    /// to a half. Written out as its two SHA-256 compressions (the key's pads are absorbed in
    /// `new`): the `hmac` crate's clone-update-finalize cost about twice as much, and this is
    /// on every sale append (the ledger decodes the counter) and every public lookup.
    /// `ticket::tests` pins minted codes and checks this against the `hmac` crate.
    fn round(&self, round: u8, half: u64) -> u64 {
        let mut b = self.block;
        b[22] = round;
        b[23..27].copy_from_slice(&(half as u32).to_be_bytes());
        let mut st = self.inner;
        compress256(&mut st, &[b]);
        // Outer message: the inner digest, then padding for a 64 + 32 byte message.
        let mut o = [0u8; 64];
        for (chunk, w) in o[..32].chunks_exact_mut(4).zip(st) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        o[32] = 0x80;
        o[56..].copy_from_slice(&((64u64 + 32) * 8).to_be_bytes());
        let mut out = self.outer;
        compress256(&mut out, &[o]);
        u64::from(out[0]) & HALF_MASK
    }
}

#[cfg(test)]
mod tests;
