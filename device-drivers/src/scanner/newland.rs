//! Newland "pack" framing (FM/HR series, ESC_AddLen): `STX` + length + data + `ETX` + BCC,
//! BCC = XOR of every byte from STX through ETX.
//!
//! The length is 4 ASCII digits in the manual we have; some firmware sends a 2-byte binary
//! length instead (inferred), so it is [`LengthField`]. Length-prefixed frames survive codes
//! that contain CR or LF, which suffix framing cannot.

use super::aim::split_aim;
use super::line::code_text;
use super::{DecodeStats, Scan};
use bytes::{Buf, BufMut, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder};

pub const STX: u8 = 0x02;
pub const ETX: u8 = 0x03;
const MAX_DATA: usize = 9999;

/// How the length is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LengthField {
    /// Four ASCII decimal digits.
    #[default]
    Ascii4,
    /// Two bytes, big-endian.
    BinaryU16,
}

impl LengthField {
    fn width(self) -> usize {
        match self {
            LengthField::Ascii4 => 4,
            LengthField::BinaryU16 => 2,
        }
    }
    fn parse(self, b: &[u8]) -> Option<usize> {
        match self {
            LengthField::Ascii4 => std::str::from_utf8(b).ok()?.parse().ok(),
            LengthField::BinaryU16 => Some(usize::from(u16::from_be_bytes([b[0], b[1]]))),
        }
    }
}

fn bcc(b: &[u8]) -> u8 {
    b.iter().fold(0, |a, x| a ^ x)
}

/// Host-side codec.
#[derive(Debug, Default)]
pub struct NewlandCodec {
    length: LengthField,
    aim: bool,
    stats: DecodeStats,
}

impl NewlandCodec {
    pub fn new(length: LengthField, aim_prefix: bool) -> Self {
        Self {
            length,
            aim: aim_prefix,
            stats: DecodeStats::default(),
        }
    }
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }
}

impl Decoder for NewlandCodec {
    type Item = Scan;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Scan>, std::io::Error> {
        let w = self.length.width();
        loop {
            match src.iter().position(|b| *b == STX) {
                Some(0) => {}
                Some(i) => {
                    src.advance(i);
                    self.stats.skip(i);
                }
                None => {
                    self.stats.skip(src.len());
                    src.clear();
                    return Ok(None);
                }
            }
            if src.len() < 1 + w {
                return Ok(None);
            }
            let Some(len) = self.length.parse(&src[1..1 + w]).filter(|l| *l <= MAX_DATA) else {
                src.advance(1);
                self.stats.bad(1);
                continue;
            };
            let total = 1 + w + len + 2;
            if src.len() < total {
                return Ok(None);
            }
            let frame = &src[..total];
            if frame[total - 2] != ETX || bcc(&frame[..total - 1]) != frame[total - 1] {
                src.advance(1);
                self.stats.bad(1);
                continue;
            }
            let text = code_text(&frame[1 + w..1 + w + len]);
            let Some(text) = text else {
                src.advance(total);
                self.stats.bad(total);
                continue;
            };
            src.advance(total);
            self.stats.frame();
            let (sym, rest) = if self.aim {
                split_aim(&text)
            } else {
                (None, text.as_str())
            };
            return Ok(Some(Scan::new(rest.to_string(), sym)));
        }
    }
}

/// Encodes a code as the scanner packs it (simulator and tests). Codes longer than the length
/// field can express are refused.
impl Encoder<&str> for NewlandCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: &str, dst: &mut BytesMut) -> std::io::Result<()> {
        let data = item.as_bytes();
        if data.len() > MAX_DATA {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("code of {} bytes exceeds {MAX_DATA}", data.len()),
            ));
        }
        let start = dst.len();
        dst.put_u8(STX);
        match self.length {
            LengthField::Ascii4 => dst.put_slice(format!("{:04}", data.len()).as_bytes()),
            LengthField::BinaryU16 => dst.put_u16(data.len() as u16),
        }
        dst.put_slice(data);
        dst.put_u8(ETX);
        let b = bcc(&dst[start..]);
        dst.put_u8(b);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(c: &mut NewlandCodec, bytes: &[u8], chunk: usize) -> Vec<String> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for part in bytes.chunks(chunk.max(1)) {
            buf.extend_from_slice(part);
            while let Some(s) = c.decode(&mut buf).unwrap() {
                out.push(s.text);
            }
        }
        out
    }

    #[test]
    fn pack_is_byte_exact() {
        let mut c = NewlandCodec::default();
        let mut dst = BytesMut::new();
        c.encode("AB", &mut dst).unwrap();
        // STX ^ "0002" ^ "AB" ^ ETX; the three '0's cancel in pairs but are written out.
        let bcc = [0x02u8, b'0', b'0', b'0', b'2', b'A', b'B', 0x03]
            .iter()
            .fold(0, |a, b| a ^ b);
        assert_eq!(
            &dst[..],
            &[0x02, b'0', b'0', b'0', b'2', b'A', b'B', 0x03, bcc]
        );
        assert_eq!(decode_all(&mut c, &dst, 1), vec!["AB"]);
        let mut b = NewlandCodec::new(LengthField::BinaryU16, false);
        let mut dst = BytesMut::new();
        b.encode("AB", &mut dst).unwrap();
        assert_eq!(&dst[..4], &[0x02, 0x00, 0x02, b'A']);
        assert_eq!(decode_all(&mut b, &dst, 2), vec!["AB"]);
    }

    #[test]
    fn codes_with_cr_lf_survive() {
        let mut c = NewlandCodec::default();
        let mut dst = BytesMut::new();
        c.encode("line1\rline2", &mut dst).unwrap();
        assert!(
            decode_all(&mut c, &dst, 3).is_empty(),
            "control chars are noise"
        );
        let mut dst = BytesMut::new();
        c.encode("01\u{1d}21X", &mut dst).unwrap();
        assert_eq!(decode_all(&mut c, &dst, 3), vec!["01\u{1d}21X"]);
    }

    #[test]
    fn bad_bcc_truncation_and_noise_are_counted() {
        let mut c = NewlandCodec::default();
        let mut good = BytesMut::new();
        c.encode("6901234567892", &mut good).unwrap();
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xFF;
        let stream = [&b"\xff\x00zz"[..], &bad, &good[..6], &good].concat();
        for chunk in [1, 5, stream.len()] {
            let mut c = NewlandCodec::default();
            assert_eq!(decode_all(&mut c, &stream, chunk), vec!["6901234567892"]);
            assert!(c.stats().bad_frames >= 2, "{:?}", c.stats());
        }
    }

    proptest! {
        #[test]
        fn packs_round_trip(codes in proptest::collection::vec("[ -~]{1,60}", 1..6), chunk in 1usize..40, binary in any::<bool>()) {
            let lf = if binary { LengthField::BinaryU16 } else { LengthField::Ascii4 };
            let mut c = NewlandCodec::new(lf, false);
            let mut bytes = BytesMut::new();
            for code in &codes {
                bytes.extend_from_slice(b"\xff");
                c.encode(code.as_str(), &mut bytes).unwrap();
            }
            prop_assert_eq!(decode_all(&mut c, &bytes, chunk), codes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut c = NewlandCodec::new(LengthField::BinaryU16, true);
            let _ = decode_all(&mut c, &bytes, 7);
        }
    }
}
