//! # The receipt QR's fragment: a compact, signed copy of a sale ticket's lines
//!
//! The QR on a stall receipt is the public trace URL `{public_base}/t/{code}#{fragment}`. A
//! browser never sends the fragment to a server, so the URL works as a plain link, while the
//! buyer's own box (a shop or restaurant buying at the market) can read the fragment with its
//! scanner and fill in its purchase with **no network**: the lines are in the QR, signed by the
//! selling box's key, and the key is checked against the key directory the cloud distributes
//! (a downlink document held on the box).
//!
//! Why a hand-made binary layout and not JSON: a QR's module count grows with its bytes, and a
//! receipt QR must stay scannable from crumpled thermal paper; a two-line ticket is ~150 bytes
//! here against ~400 as JSON. The signature reuses [`SignedEnvelope`] (Ed25519 or SM2), so the
//! fragment is `base64url(SignedEnvelope(payload))`.
//!
//! Payload v1 (do not reorder; add a new version instead):
//! ```text
//! u8 version (1) · str device · 10 bytes ticket code as BCD · varint at (UTC ms)
//! · varint total (fen) · varint n_fees · n × (str name · zigzag amount)
//! · varint n_lines · n × (str product · u8 unit (0 jin, 1 kg, 2 item) · varint quantity
//!   (grams or count) · varint unit_price · varint amount · str batch · str origin)
//! ```
//! `str` is a varint byte length then UTF-8; an empty string means "none".

use crate::wire::sign::{SignAlg, SignError, SignKey, SignedEnvelope, VerifyKey};
use crate::{DeviceId, Fen, PriceUnit, TicketCode, Timestamp};
use serde::{Deserialize, Serialize};

const VERSION: u8 = 1;
/// A fragment longer than this is refused before decoding (a QR cannot hold more anyway).
pub const MAX_FRAGMENT: usize = 2_000;

/// One line as the fragment carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FragmentLine {
    pub product: String,
    pub price_unit: PriceUnit,
    /// Grams for 斤/kg prices, a count for per-item prices.
    pub quantity: u64,
    pub unit_price: Fen,
    pub amount: Fen,
    pub batch: Option<String>,
    pub origin: Option<String>,
}

/// The signed content of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFragment {
    /// The selling box.
    pub device: DeviceId,
    pub code: String,
    pub at: Timestamp,
    pub total: Fen,
    /// Extra fees (positive) and discounts (negative).
    pub fees: Vec<(String, Fen)>,
    pub lines: Vec<FragmentLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragmentError {
    #[error("the fragment is not base64url")]
    Base64,
    #[error("the fragment is too long ({0} characters)")]
    TooLong(usize),
    #[error("the fragment is not a signed ticket: {0}")]
    Envelope(SignError),
    #[error("the fragment is damaged: {0}")]
    Malformed(&'static str),
    #[error("fragment version {0} is not supported")]
    Version(u8),
    #[error("seller {0} is not in the key directory")]
    UnknownSeller(String),
    #[error("the signature does not verify: the ticket was altered or forged")]
    BadSignature,
    #[error("the URL's code {url} differs from the signed code {signed}")]
    CodeMismatch { url: String, signed: String },
    #[error("the signed code belongs to device number {found}, the seller's is {expected}")]
    DeviceNoMismatch { expected: u32, found: u32 },
    #[error("cannot sign: {0}")]
    Sign(SignError),
    #[error("the ticket code {0} is not a valid trace code")]
    Code(String),
}

impl FragmentError {
    /// A short stable name, for the UI's message catalogue.
    pub fn reason(&self) -> &'static str {
        match self {
            FragmentError::Base64
            | FragmentError::TooLong(_)
            | FragmentError::Envelope(_)
            | FragmentError::Malformed(_)
            | FragmentError::Version(_)
            | FragmentError::Code(_) => "damaged",
            FragmentError::UnknownSeller(_) => "unknown_seller",
            FragmentError::BadSignature
            | FragmentError::CodeMismatch { .. }
            | FragmentError::DeviceNoMismatch { .. } => "forged",
            FragmentError::Sign(_) => "sign",
        }
    }
}

/// One box's public key as the cloud publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryKey {
    pub device: DeviceId,
    /// `ed25519` or `sm2`.
    pub alg: String,
    /// Hex of the public key bytes.
    pub public_key: String,
    /// The 6-digit number the box's ticket codes start with, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_no: Option<u32>,
    /// Seller shown on the purchase (entity name, market and stall).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The body of the `key_directory` downlink document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDirectory {
    pub keys: Vec<DirectoryKey>,
}

impl KeyDirectory {
    pub fn find(&self, device: &str) -> Option<&DirectoryKey> {
        self.keys.iter().find(|k| k.device.as_str() == device)
    }
}

/// A fragment that verified, with the directory entry of its seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTicket {
    pub ticket: TicketFragment,
    pub seller: DirectoryKey,
}

impl TicketFragment {
    /// Encode and sign: the text after `#` in the receipt's URL.
    pub fn sign(&self, key: &SignKey) -> Result<String, FragmentError> {
        let payload = self.encode()?;
        let env = SignedEnvelope::sign(payload, key).map_err(FragmentError::Sign)?;
        Ok(b64_encode(&env.to_bytes()))
    }

    fn encode(&self) -> Result<Vec<u8>, FragmentError> {
        let mut o = Vec::with_capacity(160);
        o.push(VERSION);
        put_str(&mut o, self.device.as_str());
        o.extend_from_slice(&bcd(&self.code)?);
        put_var(&mut o, u64::try_from(self.at.0).unwrap_or(0));
        put_var(&mut o, non_neg(self.total)?);
        put_var(&mut o, self.fees.len() as u64);
        for (name, amount) in &self.fees {
            put_str(&mut o, name);
            put_var(&mut o, zigzag(amount.0));
        }
        put_var(&mut o, self.lines.len() as u64);
        for l in &self.lines {
            put_str(&mut o, &l.product);
            o.push(match l.price_unit {
                PriceUnit::Jin => 0,
                PriceUnit::Kg => 1,
                PriceUnit::Item => 2,
            });
            put_var(&mut o, l.quantity);
            put_var(&mut o, non_neg(l.unit_price)?);
            put_var(&mut o, non_neg(l.amount)?);
            put_str(&mut o, l.batch.as_deref().unwrap_or(""));
            put_str(&mut o, l.origin.as_deref().unwrap_or(""));
        }
        Ok(o)
    }

    fn decode(b: &[u8]) -> Result<TicketFragment, FragmentError> {
        let mut r = Reader { b, i: 0 };
        let v = r.u8()?;
        if v != VERSION {
            return Err(FragmentError::Version(v));
        }
        let device = DeviceId::new(r.str()?).map_err(|_| FragmentError::Malformed("device id"))?;
        let code = unbcd(r.take(10)?)?;
        let at = Timestamp(i64::try_from(r.var()?).map_err(|_| FragmentError::Malformed("time"))?);
        let total = r.fen()?;
        let n_fees = r.count()?;
        let mut fees = Vec::with_capacity(n_fees);
        for _ in 0..n_fees {
            let name = r.str()?.to_owned();
            let z = r.var()?;
            fees.push((name, Fen(unzigzag(z))));
        }
        let n_lines = r.count()?;
        let mut lines = Vec::with_capacity(n_lines);
        for _ in 0..n_lines {
            let product = r.str()?.to_owned();
            let price_unit = match r.u8()? {
                0 => PriceUnit::Jin,
                1 => PriceUnit::Kg,
                2 => PriceUnit::Item,
                _ => return Err(FragmentError::Malformed("price unit")),
            };
            lines.push(FragmentLine {
                product,
                price_unit,
                quantity: r.var()?,
                unit_price: r.fen()?,
                amount: r.fen()?,
                batch: r.opt_str()?,
                origin: r.opt_str()?,
            });
        }
        if r.i != b.len() {
            return Err(FragmentError::Malformed("trailing bytes"));
        }
        Ok(TicketFragment {
            device,
            code,
            at,
            total,
            fees,
            lines,
        })
    }

    /// Check a scanned fragment: signature against the seller's key in `dir`, the signed code
    /// against the code in the URL's path (when given) and the seller's device number.
    pub fn verify(
        fragment: &str,
        url_code: Option<&str>,
        dir: &KeyDirectory,
    ) -> Result<VerifiedTicket, FragmentError> {
        if fragment.len() > MAX_FRAGMENT {
            return Err(FragmentError::TooLong(fragment.len()));
        }
        let bytes = b64_decode(fragment).ok_or(FragmentError::Base64)?;
        let env = SignedEnvelope::from_bytes(&bytes).map_err(FragmentError::Envelope)?;
        // Decode before verifying only to learn whose key to use; nothing is trusted yet.
        let claimed = TicketFragment::decode(&env.payload)?;
        let seller = dir
            .find(claimed.device.as_str())
            .ok_or_else(|| FragmentError::UnknownSeller(claimed.device.to_string()))?;
        let alg = match seller.alg.as_str() {
            "ed25519" => SignAlg::Ed25519,
            "sm2" => SignAlg::Sm2,
            _ => return Err(FragmentError::UnknownSeller(claimed.device.to_string())),
        };
        let key_bytes = hex::decode(&seller.public_key)
            .map_err(|_| FragmentError::UnknownSeller(claimed.device.to_string()))?;
        let key = VerifyKey::from_bytes(alg, &key_bytes)
            .map_err(|_| FragmentError::UnknownSeller(claimed.device.to_string()))?;
        env.verify(&key).map_err(|_| FragmentError::BadSignature)?;
        if let Some(u) = url_code
            && u != claimed.code
        {
            return Err(FragmentError::CodeMismatch {
                url: u.to_owned(),
                signed: claimed.code,
            });
        }
        if let Some(expected) = seller.device_no {
            let found = TicketCode::parse(&claimed.code)
                .map_err(|_| FragmentError::Code(claimed.code.clone()))?
                .device_no();
            if found != expected {
                return Err(FragmentError::DeviceNoMismatch { expected, found });
            }
        }
        Ok(VerifiedTicket {
            ticket: claimed,
            seller: seller.clone(),
        })
    }
}

/// Split a scanned receipt URL `…/t/{code}#{fragment}` into code and fragment.
pub fn split_url(url: &str) -> Option<(&str, &str)> {
    let (path, frag) = url.trim().split_once('#')?;
    let code = path.rsplit_once("/t/")?.1;
    let code = code.split(['?', '/']).next()?;
    Some((code, frag))
}

fn non_neg(f: Fen) -> Result<u64, FragmentError> {
    u64::try_from(f.0).map_err(|_| FragmentError::Malformed("negative amount"))
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

fn put_var(o: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        o.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    o.push(v as u8);
}

fn put_str(o: &mut Vec<u8>, s: &str) {
    put_var(o, s.len() as u64);
    o.extend_from_slice(s.as_bytes());
}

fn bcd(code: &str) -> Result<[u8; 10], FragmentError> {
    let d = code.as_bytes();
    if d.len() != 20 || !d.iter().all(u8::is_ascii_digit) {
        return Err(FragmentError::Code(code.to_owned()));
    }
    let mut out = [0u8; 10];
    for (i, pair) in d.chunks(2).enumerate() {
        out[i] = ((pair[0] - b'0') << 4) | (pair[1] - b'0');
    }
    Ok(out)
}

fn unbcd(b: &[u8]) -> Result<String, FragmentError> {
    let mut s = String::with_capacity(20);
    for &x in b {
        for n in [x >> 4, x & 0x0f] {
            if n > 9 {
                return Err(FragmentError::Malformed("code digits"));
            }
            s.push(char::from(b'0' + n));
        }
    }
    Ok(s)
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FragmentError> {
        let end = self
            .i
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or(FragmentError::Malformed("truncated"))?;
        let s = &self.b[self.i..end];
        self.i = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, FragmentError> {
        Ok(self.take(1)?[0])
    }
    fn var(&mut self) -> Result<u64, FragmentError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(FragmentError::Malformed("varint"))
    }
    fn count(&mut self) -> Result<usize, FragmentError> {
        // Each item takes at least one byte: a count beyond what is left is a lie.
        let n = usize::try_from(self.var()?).map_err(|_| FragmentError::Malformed("count"))?;
        if n > self.b.len() - self.i {
            return Err(FragmentError::Malformed("count"));
        }
        Ok(n)
    }
    fn fen(&mut self) -> Result<Fen, FragmentError> {
        i64::try_from(self.var()?)
            .map(Fen)
            .map_err(|_| FragmentError::Malformed("amount"))
    }
    fn str(&mut self) -> Result<&'a str, FragmentError> {
        let n = self.count()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| FragmentError::Malformed("text"))
    }
    fn opt_str(&mut self) -> Result<Option<String>, FragmentError> {
        let s = self.str()?;
        Ok((!s.is_empty()).then(|| s.to_owned()))
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (RFC 4648 §5): safe in a URL fragment as is.
pub fn b64_encode(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..=c.len() {
            s.push(char::from(B64[((n >> (18 - 6 * k)) & 63) as usize]));
        }
    }
    s
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for ch in s.bytes() {
        let v = B64.iter().position(|&x| x == ch)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding of fewer than 6 bits.
    (bits < 6 && acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SignKey {
        SignKey::ed25519_from_seed(&[9u8; 32])
    }

    fn dir(device_no: Option<u32>) -> KeyDirectory {
        KeyDirectory {
            keys: vec![DirectoryKey {
                device: DeviceId::new("stall-a01").unwrap(),
                alg: "ed25519".into(),
                public_key: hex::encode(key().verify_key().to_bytes()),
                device_no,
                name: Some("陈记鲜档".into()),
            }],
        }
    }

    fn ticket() -> TicketFragment {
        TicketFragment {
            device: DeviceId::new("stall-a01").unwrap(),
            code: crate::TicketCodec::new(123_456, &[3u8; 32])
                .unwrap()
                .mint(7)
                .unwrap()
                .to_string(),
            at: Timestamp(1_795_000_000_000),
            total: Fen(3_260),
            fees: vec![("抹零".into(), Fen(-6))],
            lines: vec![
                FragmentLine {
                    product: "猪肉".into(),
                    price_unit: PriceUnit::Jin,
                    quantity: 812,
                    unit_price: Fen(1_680),
                    amount: Fen(2_728),
                    batch: Some("JN-20261122-001".into()),
                    origin: Some("广东省江门市".into()),
                },
                FragmentLine {
                    product: "鸡蛋".into(),
                    price_unit: PriceUnit::Item,
                    quantity: 6,
                    unit_price: Fen(90),
                    amount: Fen(540),
                    batch: None,
                    origin: None,
                },
            ],
        }
    }

    #[test]
    fn round_trip_verifies_and_is_compact() {
        let t = ticket();
        let f = t.sign(&key()).unwrap();
        assert!(f.len() < 300, "fragment is {} chars", f.len());
        let v = TicketFragment::verify(&f, Some(&t.code), &dir(Some(123_456))).unwrap();
        assert_eq!(v.ticket, t);
        assert_eq!(v.seller.name.as_deref(), Some("陈记鲜档"));
    }

    #[test]
    fn altered_byte_is_refused_as_forged() {
        let f = ticket().sign(&key()).unwrap();
        let mut bytes = b64_decode(&f).unwrap();
        let last = bytes.len() - 20;
        bytes[last] ^= 0x01;
        let err = TicketFragment::verify(&b64_encode(&bytes), None, &dir(None)).unwrap_err();
        assert!(
            matches!(
                err,
                FragmentError::BadSignature | FragmentError::Malformed(_)
            ),
            "{err:?}"
        );
    }

    #[test]
    fn other_key_unknown_seller_and_swapped_code_are_refused() {
        let t = ticket();
        let forged = t.sign(&SignKey::ed25519_from_seed(&[1u8; 32])).unwrap();
        let e = TicketFragment::verify(&forged, None, &dir(None)).unwrap_err();
        assert_eq!(e, FragmentError::BadSignature);
        assert_eq!(e.reason(), "forged");
        let good = t.sign(&key()).unwrap();
        let e = TicketFragment::verify(&good, None, &KeyDirectory::default()).unwrap_err();
        assert_eq!(e.reason(), "unknown_seller");
        let e =
            TicketFragment::verify(&good, Some("99999999999999999999"), &dir(None)).unwrap_err();
        assert!(matches!(e, FragmentError::CodeMismatch { .. }));
        let e = TicketFragment::verify(&good, None, &dir(Some(1))).unwrap_err();
        assert!(matches!(e, FragmentError::DeviceNoMismatch { .. }));
        assert_eq!(
            TicketFragment::verify("!!", None, &dir(None)).unwrap_err(),
            FragmentError::Base64
        );
    }

    #[test]
    fn split_url_and_base64() {
        assert_eq!(
            split_url("https://t.example.cn/t/123#abc"),
            Some(("123", "abc"))
        );
        assert_eq!(split_url("https://t.example.cn/t/123"), None);
        for n in 0..40u8 {
            let v: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(b64_decode(&b64_encode(&v)).unwrap(), v);
        }
        assert_eq!(zigzag(-6), 11);
        assert_eq!(unzigzag(zigzag(i64::MIN)), i64::MIN);
    }
}
