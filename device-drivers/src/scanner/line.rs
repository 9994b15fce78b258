//! Serial / USB CDC-ACM scanners: each code followed by a suffix (CR, LF, CR LF) — or by
//! nothing, in which case a pause in the bytes ends the code (the driver's inter-character
//! timeout calls [`LineScanCodec::flush`]).
//!
//! Text is UTF-8 when it decodes as UTF-8, else GB18030 (Chinese scanners in COM mode often send
//! GBK for Chinese QR content). A "code" with control characters other than the GS1/ISO 15434
//! separators (GS, RS, EOT) is line noise: skipped and counted.

use super::aim::split_aim;
use super::{DecodeStats, Scan};
use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder};

/// Longest code accepted (a QR holds at most ~7 KB).
pub const MAX_CODE: usize = 8192;

/// What ends a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Suffix {
    #[default]
    Cr,
    Lf,
    CrLf,
    /// No suffix: the inter-character timeout ends a code.
    None,
}

impl Suffix {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Suffix::Cr => b"\r",
            Suffix::Lf => b"\n",
            Suffix::CrLf => b"\r\n",
            Suffix::None => b"",
        }
    }
}

/// Turn raw code bytes into text, or `None` for noise.
pub(crate) fn code_text(bytes: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let (t, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                return None;
            }
            t.into_owned()
        }
    };
    let clean = !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\u{1d}' | '\u{1e}' | '\u{04}'));
    clean.then_some(text)
}

/// Host-side codec for suffix-terminated codes.
#[derive(Debug, Default)]
pub struct LineScanCodec {
    suffix: Suffix,
    aim: bool,
    stats: DecodeStats,
}

impl LineScanCodec {
    pub fn new(suffix: Suffix, aim_prefix: bool) -> Self {
        Self {
            suffix,
            aim: aim_prefix,
            stats: DecodeStats::default(),
        }
    }

    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    pub fn suffix(&self) -> Suffix {
        self.suffix
    }

    fn finish(&mut self, raw: &[u8]) -> Option<Scan> {
        match code_text(raw) {
            Some(text) => {
                self.stats.frame();
                let (sym, rest) = if self.aim {
                    split_aim(&text)
                } else {
                    (None, text.as_str())
                };
                Some(Scan::new(rest.to_string(), sym))
            }
            None if raw.iter().all(|b| matches!(b, b'\r' | b'\n')) => {
                self.stats.skip(raw.len());
                None
            }
            None => {
                self.stats.bad(raw.len());
                None
            }
        }
    }

    /// End the code in progress (the inter-character timeout expired).
    pub fn flush(&mut self, src: &mut BytesMut) -> Option<Scan> {
        if src.is_empty() {
            return None;
        }
        let raw = src.split();
        self.finish(&raw)
    }
}

impl Decoder for LineScanCodec {
    type Item = Scan;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Scan>, std::io::Error> {
        loop {
            // A stray LF after a CR-terminated code (scanner actually set to CR LF) is not a
            // code of its own.
            if self.suffix == Suffix::Cr {
                while src.first() == Some(&b'\n') {
                    let _ = src.split_to(1);
                    self.stats.skip(1);
                }
            }
            let end = match self.suffix {
                Suffix::Cr => src.iter().position(|b| *b == b'\r').map(|i| (i, 1)),
                Suffix::Lf => src.iter().position(|b| *b == b'\n').map(|i| (i, 1)),
                Suffix::CrLf => src.windows(2).position(|w| w == b"\r\n").map(|i| (i, 2)),
                Suffix::None => None,
            };
            let Some((i, n)) = end else {
                if src.len() > MAX_CODE {
                    let len = src.len();
                    src.clear();
                    self.stats.bad(len);
                }
                return Ok(None);
            };
            let mut raw = src.split_to(i + n);
            raw.truncate(i);
            if self.suffix == Suffix::Lf && raw.last() == Some(&b'\r') {
                raw.truncate(i - 1);
            }
            if raw.is_empty() {
                self.stats.skip(n);
                continue;
            }
            if let Some(scan) = self.finish(&raw) {
                return Ok(Some(scan));
            }
        }
    }
}

/// Encodes a code the way a scanner sends it (for the simulator and tests).
impl Encoder<&str> for LineScanCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: &str, dst: &mut BytesMut) -> std::io::Result<()> {
        dst.put_slice(item.as_bytes());
        dst.put_slice(self.suffix.bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scanner::Symbology;
    use proptest::prelude::*;

    fn decode_all(
        c: &mut LineScanCodec,
        bytes: &[u8],
        chunk: usize,
    ) -> Vec<(String, Option<Symbology>)> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for part in bytes.chunks(chunk.max(1)) {
            buf.extend_from_slice(part);
            while let Some(s) = c.decode(&mut buf).unwrap() {
                out.push((s.text, s.symbology));
            }
        }
        if let Some(s) = c.flush(&mut buf) {
            out.push((s.text, s.symbology));
        }
        out
    }

    #[test]
    fn every_suffix() {
        let want = vec![
            ("6901234567892".to_string(), None),
            ("ABC-1".to_string(), None),
        ];
        for (suffix, bytes) in [
            (Suffix::Cr, &b"6901234567892\rABC-1\r"[..]),
            (Suffix::Cr, &b"6901234567892\r\nABC-1\r\n"[..]),
            (Suffix::Lf, &b"6901234567892\nABC-1\n"[..]),
            (Suffix::Lf, &b"6901234567892\r\nABC-1\r\n"[..]),
            (Suffix::CrLf, &b"6901234567892\r\nABC-1\r\n"[..]),
        ] {
            for chunk in [1, 4, bytes.len()] {
                let mut c = LineScanCodec::new(suffix, false);
                assert_eq!(decode_all(&mut c, bytes, chunk), want, "{suffix:?}/{chunk}");
            }
        }
        let mut c = LineScanCodec::new(Suffix::None, false);
        assert_eq!(
            decode_all(&mut c, b"6901234567892", 3),
            vec![("6901234567892".to_string(), None)]
        );
    }

    #[test]
    fn aim_gbk_and_noise() {
        let mut c = LineScanCodec::new(Suffix::Cr, true);
        let mut bytes = b"]E06901234567892\r\x00\x07\xff\r".to_vec();
        // "猪肉" in GBK.
        bytes.extend_from_slice(&[0xD6, 0xED, 0xC8, 0xE2, b'\r']);
        bytes.extend_from_slice(b"01\x1d10ABC\r");
        let got = decode_all(&mut c, &bytes, 1);
        assert_eq!(
            got,
            vec![
                ("6901234567892".to_string(), Some(Symbology::Ean13)),
                ("猪肉".to_string(), None),
                ("01\u{1d}10ABC".to_string(), None),
            ]
        );
        assert_eq!(c.stats().bad_frames, 1);
        assert_eq!(c.stats().frames, 3);
    }

    #[test]
    fn encoding_is_byte_exact() {
        let mut c = LineScanCodec::new(Suffix::CrLf, false);
        let mut dst = BytesMut::new();
        c.encode("X1", &mut dst).unwrap();
        assert_eq!(&dst[..], b"X1\r\n");
    }

    proptest! {
        #[test]
        fn codes_round_trip(codes in proptest::collection::vec("[ -~]{1,40}|[猪肉鱼]{1,4}", 1..6),
                            suffix in prop_oneof![Just(Suffix::Cr), Just(Suffix::Lf), Just(Suffix::CrLf)],
                            chunk in 1usize..30) {
            let mut c = LineScanCodec::new(suffix, false);
            let mut bytes = BytesMut::new();
            for code in &codes {
                c.encode(code.as_str(), &mut bytes).unwrap();
            }
            let got: Vec<String> = decode_all(&mut c, &bytes, chunk).into_iter().map(|x| x.0).collect();
            prop_assert_eq!(got, codes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut c = LineScanCodec::new(Suffix::Cr, true);
            let _ = decode_all(&mut c, &bytes, 7);
        }
    }
}
