//! Toledo continuous output (8142/8530 style; cloned by KERN, Liden, Fairbanks, Cardinal, Rice
//! Lake): the scale streams fixed frames without being asked.
//!
//! Frame: `STX SWA SWB SWC` + 6 ASCII digits displayed weight + 6 digits tare + `CR` + checksum,
//! 18 bytes. Checksum = two's complement of the 7-bit sum of every preceding byte, STX and CR
//! included. SWA bits 0–2 give the decimal position; SWB carries net, negative, over-capacity,
//! motion, kg/lb and power-up bits. Vendors differ in constant bits (never reject on them), in
//! whether the tare field and the checksum are present, and in the decimal-code table: all three
//! are [`ContinuousConfig`].
//!
//! Design: the decoder searches for STX and validates a whole frame; any failure drops exactly
//! one byte and resyncs, so a frame hiding behind noise is still found.

use super::stats::DecodeStats;
use super::weight::{WeightUnit, scaled_to_grams};
use super::{WeightReading, WeightStatus};
use bytes::{Buf, BufMut, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder};

const STX: u8 = 0x02;
const CR: u8 = 0x0D;

/// Layout choices that vary by vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContinuousConfig {
    /// Frames carry the checksum byte after CR.
    pub checksum: bool,
    /// Frames carry the 6-digit tare field.
    pub tare_field: bool,
    /// Power of ten applied to the digits for each SWA decimal code 0–7. Default (Mettler
    /// Toledo, inferred): XXXX00, XXXXX0, XXXXXX, XXXXX.X, XXXX.XX, XXX.XXX, XX.XXXX, X.XXXXX.
    pub decimal_exponents: [i8; 8],
}

impl Default for ContinuousConfig {
    fn default() -> Self {
        Self {
            checksum: true,
            tare_field: true,
            decimal_exponents: [2, 1, 0, -1, -2, -3, -4, -5],
        }
    }
}

impl ContinuousConfig {
    pub fn frame_len(&self) -> usize {
        4 + 6 + if self.tare_field { 6 } else { 0 } + 1 + usize::from(self.checksum)
    }
}

/// One frame, as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContinuousFrame {
    pub swa: u8,
    pub swb: u8,
    pub swc: u8,
    /// The six weight digits as a number (no sign, no decimal point).
    pub weight: u32,
    /// The six tare digits, when the layout has them.
    pub tare: Option<u32>,
}

impl ContinuousFrame {
    pub fn decimal_code(&self) -> u8 {
        self.swa & 0x07
    }
    pub fn net(&self) -> bool {
        self.swb & 0x01 != 0
    }
    pub fn negative(&self) -> bool {
        self.swb & 0x02 != 0
    }
    pub fn over_capacity(&self) -> bool {
        self.swb & 0x04 != 0
    }
    pub fn motion(&self) -> bool {
        self.swb & 0x08 != 0
    }
    pub fn unit(&self) -> WeightUnit {
        if self.swb & 0x10 != 0 {
            WeightUnit::Kg
        } else {
            WeightUnit::Lb
        }
    }
    pub fn power_up(&self) -> bool {
        self.swb & 0x40 != 0
    }

    /// The frame as a reading.
    pub fn reading(&self, cfg: &ContinuousConfig) -> WeightReading {
        let exp = i32::from(cfg.decimal_exponents[usize::from(self.decimal_code())]);
        let unit = self.unit();
        let sign = if self.negative() { -1 } else { 1 };
        let grams = scaled_to_grams(i128::from(self.weight) * sign, exp, unit);
        let tare_grams = self
            .tare
            .map(|t| scaled_to_grams(i128::from(t), exp, unit))
            .unwrap_or(0);
        let status = if self.power_up() {
            WeightStatus::Error
        } else if self.over_capacity() {
            WeightStatus::Overload
        } else if self.motion() {
            WeightStatus::Unstable
        } else {
            WeightStatus::Ok
        };
        if matches!(status, WeightStatus::Error | WeightStatus::Overload) {
            return WeightReading::state(status);
        }
        WeightReading {
            grams,
            stable: !self.motion(),
            net: self.net(),
            tare_grams,
            status,
        }
    }
}

/// `(-(Σ (b & 0x7F))) & 0x7F`.
pub fn checksum(bytes: &[u8]) -> u8 {
    let sum = bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(b & 0x7F));
    sum.wrapping_neg() & 0x7F
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, b| match b & 0x7F {
        d @ b'0'..=b'9' => Some(acc * 10 + u32::from(d - b'0')),
        // Some indicators blank leading zeros.
        b' ' => Some(acc * 10),
        _ => None,
    })
}

/// Host-side codec: decodes frames, encodes the `P`/`T`/`Z`/`C` + CR LF commands some
/// indicators accept in this mode.
#[derive(Debug, Default)]
pub struct ContinuousCodec {
    cfg: ContinuousConfig,
    stats: DecodeStats,
}

impl ContinuousCodec {
    pub fn new(cfg: ContinuousConfig) -> Self {
        Self {
            cfg,
            stats: DecodeStats::default(),
        }
    }
    pub fn config(&self) -> &ContinuousConfig {
        &self.cfg
    }
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    fn parse(&self, f: &[u8]) -> Option<ContinuousFrame> {
        let tare_len = if self.cfg.tare_field { 6 } else { 0 };
        let cr_at = 10 + tare_len;
        if f[cr_at] & 0x7F != CR {
            return None;
        }
        if self.cfg.checksum && checksum(&f[..=cr_at]) != f[cr_at + 1] & 0x7F {
            return None;
        }
        // SWA bit 5 is documented as always 1 and bit 6 always 0; a byte failing that is
        // not a status byte, which keeps a stray STX inside digits from parsing.
        if f[1] & 0x60 != 0x20 {
            return None;
        }
        Some(ContinuousFrame {
            swa: f[1] & 0x7F,
            swb: f[2] & 0x7F,
            swc: f[3] & 0x7F,
            weight: digits(&f[4..10])?,
            tare: if self.cfg.tare_field {
                Some(digits(&f[10..16])?)
            } else {
                None
            },
        })
    }
}

impl Decoder for ContinuousCodec {
    type Item = ContinuousFrame;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<ContinuousFrame>, std::io::Error> {
        let len = self.cfg.frame_len();
        loop {
            match src.iter().position(|b| b & 0x7F == STX) {
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
            if src.len() < len {
                return Ok(None);
            }
            match self.parse(&src[..len]) {
                Some(frame) => {
                    src.advance(len);
                    self.stats.frame();
                    return Ok(Some(frame));
                }
                None => {
                    src.advance(1);
                    self.stats.bad(1);
                }
            }
        }
    }
}

/// Commands accepted in continuous mode by some indicators (KERN, IND445).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContinuousCommand {
    Print,
    Tare,
    Zero,
    Clear,
}

impl ContinuousCommand {
    pub fn byte(self) -> u8 {
        match self {
            ContinuousCommand::Print => b'P',
            ContinuousCommand::Tare => b'T',
            ContinuousCommand::Zero => b'Z',
            ContinuousCommand::Clear => b'C',
        }
    }
}

impl Encoder<ContinuousCommand> for ContinuousCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: ContinuousCommand, dst: &mut BytesMut) -> std::io::Result<()> {
        dst.put_u8(item.byte());
        dst.put_slice(b"\r\n");
        Ok(())
    }
}

/// Bytes of a frame as the scale sends it.
pub fn encode_frame(cfg: &ContinuousConfig, f: &ContinuousFrame, dst: &mut BytesMut) {
    let start = dst.len();
    dst.put_slice(&[STX, f.swa, f.swb, f.swc]);
    dst.put_slice(format!("{:06}", f.weight % 1_000_000).as_bytes());
    if cfg.tare_field {
        dst.put_slice(format!("{:06}", f.tare.unwrap_or(0) % 1_000_000).as_bytes());
    }
    dst.put_u8(CR);
    if cfg.checksum {
        let c = checksum(&dst[start..]);
        dst.put_u8(c);
    }
}

/// A frame for `grams` in kg with three decimals (SWA 0x2D: ×1 divisions, code 101), as the
/// simulator sends it.
pub fn frame_for(grams: i64, tare_grams: i64, motion: bool, overload: bool) -> ContinuousFrame {
    let mut swb = 0x10; // kg
    if tare_grams != 0 {
        swb |= 0x01;
    }
    if grams < 0 {
        swb |= 0x02;
    }
    if overload {
        swb |= 0x04;
    }
    if motion {
        swb |= 0x08;
    }
    ContinuousFrame {
        swa: 0x2D,
        swb,
        swc: 0x20,
        weight: (grams.unsigned_abs() % 1_000_000) as u32,
        tare: Some((tare_grams.unsigned_abs() % 1_000_000) as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(c: &mut ContinuousCodec, bytes: &[u8], chunk: usize) -> Vec<ContinuousFrame> {
        crate::testutil::feed_chunks(c, bytes, chunk)
    }

    #[test]
    fn checksum_matches_the_worked_example() {
        let mut f = vec![STX, 0x31, 0x30, 0x20];
        f.extend_from_slice(b"001234000000");
        f.push(CR);
        assert_eq!(checksum(&f), 0x26);
    }

    #[test]
    fn documented_frame_is_2345_grams() {
        // SWA 0x2D (code 101 = XXX.XXX), SWB bit 4 (kg).
        let mut bytes = vec![STX, 0x2D, 0x10, 0x20];
        bytes.extend_from_slice(b"002345000000\r");
        bytes.push(checksum(&bytes));
        assert_eq!(bytes.len(), 18);
        let mut c = ContinuousCodec::default();
        let frames = decode_all(&mut c, &bytes, 1);
        assert_eq!(frames.len(), 1);
        let r = frames[0].reading(&ContinuousConfig::default());
        assert_eq!(r, WeightReading::weight(2345, true, false, 0));
        let mut again = BytesMut::new();
        encode_frame(&ContinuousConfig::default(), &frames[0], &mut again);
        assert_eq!(&again[..], &bytes[..]);
    }

    #[test]
    fn status_bits_become_states() {
        let cfg = ContinuousConfig::default();
        assert_eq!(
            frame_for(1000, 0, true, false).reading(&cfg).status,
            WeightStatus::Unstable
        );
        assert_eq!(
            frame_for(1000, 0, false, true).reading(&cfg).status,
            WeightStatus::Overload
        );
        let neg = frame_for(-120, 0, false, false).reading(&cfg);
        assert_eq!(neg.grams, -120);
        let net = frame_for(800, 200, false, false).reading(&cfg);
        assert!(net.net);
        assert_eq!(net.tare_grams, 200);
        let mut lb = frame_for(1000, 0, false, false);
        lb.swb &= !0x10;
        lb.swa = 0x2A; // XXXXXX: 1000 lb
        assert_eq!(lb.reading(&cfg).grams, 453_592);
    }

    #[test]
    fn variants_without_tare_or_checksum() {
        let cfg = ContinuousConfig {
            checksum: false,
            tare_field: false,
            ..Default::default()
        };
        let f = ContinuousFrame {
            tare: None,
            ..frame_for(5, 0, false, false)
        };
        let mut b = BytesMut::new();
        encode_frame(&cfg, &f, &mut b);
        assert_eq!(b.len(), 11);
        let mut c = ContinuousCodec::new(cfg);
        assert_eq!(decode_all(&mut c, &b, 3), vec![f]);
    }

    #[test]
    fn bad_checksum_and_truncation_are_counted() {
        let cfg = ContinuousConfig::default();
        let good = frame_for(1500, 0, false, false);
        let mut bytes = BytesMut::new();
        encode_frame(&cfg, &good, &mut bytes);
        let mut corrupt = bytes.clone();
        corrupt[17] ^= 0x01;
        let truncated = bytes[..9].to_vec();
        let mut stream = Vec::new();
        stream.extend_from_slice(b"\xff\x7e");
        stream.extend_from_slice(&corrupt);
        stream.extend_from_slice(&truncated);
        stream.extend_from_slice(&bytes);
        for chunk in [1, 5, stream.len()] {
            let mut c = ContinuousCodec::new(cfg);
            let got = decode_all(&mut c, &stream, chunk);
            assert_eq!(got, vec![good], "chunk {chunk}");
            assert!(c.stats().bad_frames >= 2);
            assert_eq!(c.stats().frames, 1);
        }
    }

    fn frame() -> impl Strategy<Value = ContinuousFrame> {
        (
            0u8..8,
            any::<u8>(),
            any::<u8>(),
            0u32..1_000_000,
            0u32..1_000_000,
        )
            .prop_map(|(code, swb, swc, weight, tare)| ContinuousFrame {
                swa: 0x20 | (code & 7) | 0x08,
                swb: swb & 0x7F,
                swc: swc & 0x7F,
                weight,
                tare: Some(tare),
            })
    }

    proptest! {
        #[test]
        fn frames_round_trip(fs in proptest::collection::vec(frame(), 1..8), chunk in 1usize..40) {
            let cfg = ContinuousConfig::default();
            let mut bytes = BytesMut::new();
            for f in &fs {
                bytes.extend_from_slice(b"\x00\xff");
                encode_frame(&cfg, f, &mut bytes);
            }
            let mut c = ContinuousCodec::new(cfg);
            prop_assert_eq!(decode_all(&mut c, &bytes, chunk), fs);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut c = ContinuousCodec::default();
            for f in decode_all(&mut c, &bytes, 9) {
                let _ = f.reading(&ContinuousConfig::default());
            }
        }
    }
}
