//! Toledo 8217 "weight only" request/response (Mettler Toledo Ariva/Viva retail scales,
//! protocol option 3; 9600 7E1).
//!
//! The host sends single bytes (`W` weight, `Z` zero, `T` tare, `C` clear tare) with no
//! terminator. A good reading is `STX [spaces] 1.234 [N] CR`; a reading the scale cannot give is
//! `STX ? <status> CR`, the status byte carrying motion / over / under / net bits. Whether bit 6
//! of the status means "bad command" or is always set varies by firmware: configurable.

use super::stats::DecodeStats;
use super::weight::{WeightUnit, format_kg, parse_grams};
use super::{WeightReading, WeightStatus};
use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

const STX: u8 = 0x02;
const CR: u8 = 0x0D;
/// Longest frame: STX, up to 12 characters, CR.
const MAX_FRAME: usize = 16;

/// Host → scale commands: one byte each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toledo8217Command {
    Weight,
    Zero,
    Tare,
    ClearTare,
}

impl Toledo8217Command {
    pub fn byte(self) -> u8 {
        match self {
            Toledo8217Command::Weight => b'W',
            Toledo8217Command::Zero => b'Z',
            Toledo8217Command::Tare => b'T',
            Toledo8217Command::ClearTare => b'C',
        }
    }
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'W' => Some(Toledo8217Command::Weight),
            b'Z' => Some(Toledo8217Command::Zero),
            b'T' => Some(Toledo8217Command::Tare),
            b'C' => Some(Toledo8217Command::ClearTare),
            _ => None,
        }
    }
}

/// The status byte of a `STX ? s CR` reply (parity bit ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Toledo8217Status(pub u8);

impl Toledo8217Status {
    pub fn motion(self) -> bool {
        self.0 & 0x01 != 0
    }
    pub fn over_capacity(self) -> bool {
        self.0 & 0x02 != 0
    }
    pub fn under_zero(self) -> bool {
        self.0 & 0x04 != 0
    }
    pub fn outside_zero_capture(self) -> bool {
        self.0 & 0x08 != 0
    }
    pub fn center_of_zero(self) -> bool {
        self.0 & 0x10 != 0
    }
    pub fn net(self) -> bool {
        self.0 & 0x20 != 0
    }
    pub fn bit6(self) -> bool {
        self.0 & 0x40 != 0
    }
}

/// Scale → host replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toledo8217Reply {
    Weight { grams: i64, net: bool },
    Status(Toledo8217Status),
}

/// Decoder settings for what the protocol leaves to the scale's setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Toledo8217Config {
    /// The unit the scale is set up to send (the reply carries none).
    pub unit: WeightUnit,
    /// Treat status bit 6 as "bad command from host" (newer Odoo) rather than always-set.
    pub bit6_is_bad_command: bool,
}

impl Default for Toledo8217Config {
    fn default() -> Self {
        Self {
            unit: WeightUnit::Kg,
            bit6_is_bad_command: false,
        }
    }
}

impl Toledo8217Reply {
    /// As a reading, given the tare the driver knows of.
    pub fn reading(self, cfg: &Toledo8217Config, tare_grams: i64) -> WeightReading {
        match self {
            Toledo8217Reply::Weight { grams, net } => {
                WeightReading::weight(grams, true, net, if net { tare_grams } else { 0 })
            }
            Toledo8217Reply::Status(s) => {
                let status = if cfg.bit6_is_bad_command && s.bit6() {
                    WeightStatus::Error
                } else if s.over_capacity() {
                    WeightStatus::Overload
                } else if s.under_zero() {
                    WeightStatus::Underload
                } else if s.motion() {
                    WeightStatus::Unstable
                } else {
                    WeightStatus::Error
                };
                WeightReading {
                    net: s.net(),
                    ..WeightReading::state(status)
                }
            }
        }
    }
}

/// Host-side codec.
#[derive(Debug, Default)]
pub struct Toledo8217Codec {
    cfg: Toledo8217Config,
    stats: DecodeStats,
}

impl Toledo8217Codec {
    pub fn new(cfg: Toledo8217Config) -> Self {
        Self {
            cfg,
            stats: DecodeStats::default(),
        }
    }
    pub fn config(&self) -> &Toledo8217Config {
        &self.cfg
    }
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    fn parse(&self, payload: &[u8]) -> Option<Toledo8217Reply> {
        if let [b'?', s] = payload {
            return Some(Toledo8217Reply::Status(Toledo8217Status(s & 0x7F)));
        }
        let text = std::str::from_utf8(payload).ok()?;
        let (text, net) = match text.strip_suffix('N') {
            Some(t) => (t, true),
            None => (text, false),
        };
        if !text
            .bytes()
            .all(|b| b == b' ' || b == b'.' || b.is_ascii_digit())
        {
            return None;
        }
        let grams = parse_grams(text, self.cfg.unit).ok()?;
        Some(Toledo8217Reply::Weight { grams, net })
    }
}

impl Decoder for Toledo8217Codec {
    type Item = Toledo8217Reply;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, std::io::Error> {
        loop {
            // Resync on STX.
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
            let window = &src[1..src.len().min(MAX_FRAME)];
            let cr = window.iter().position(|b| *b == CR);
            let stx = window.iter().position(|b| *b == STX);
            let complete = cr.filter(|c| stx.is_none_or(|s| s > *c));
            match (complete, stx) {
                (Some(c), _) => {
                    let reply = self.parse(&src[1..1 + c]);
                    src.advance(c + 2);
                    match reply {
                        Some(r) => {
                            self.stats.frame();
                            return Ok(Some(r));
                        }
                        None => self.stats.bad(c + 2),
                    }
                }
                (_, Some(s)) => {
                    // A new frame started before this one ended: truncated frame.
                    src.advance(s + 1);
                    self.stats.bad(s + 1);
                }
                (None, None) if src.len() >= MAX_FRAME => {
                    src.advance(1);
                    self.stats.bad(1);
                }
                (None, None) => return Ok(None),
            }
        }
    }
}

impl Encoder<Toledo8217Command> for Toledo8217Codec {
    type Error = std::io::Error;
    fn encode(&mut self, item: Toledo8217Command, dst: &mut BytesMut) -> std::io::Result<()> {
        dst.put_u8(item.byte());
        Ok(())
    }
}

/// Bytes of a reply as the scale sends them: weights in kg with three decimals, right-justified
/// in seven characters; the status byte with bit 6 set so it stays printable.
pub fn encode_reply(reply: &Toledo8217Reply, dst: &mut BytesMut) {
    dst.put_u8(STX);
    match reply {
        Toledo8217Reply::Weight { grams, net } => {
            dst.put_slice(format!("{:>7}", format_kg(*grams)).as_bytes());
            if *net {
                dst.put_u8(b'N');
            }
        }
        Toledo8217Reply::Status(s) => {
            dst.put_u8(b'?');
            dst.put_u8(0x40 | (s.0 & 0x3F));
        }
    }
    dst.put_u8(CR);
}

/// The identify exchange: host sends `Ehello`, scale echoes `STX E CR hello`; then `F`.
pub const PROBE_REQUEST: &[u8] = b"Ehello";
pub const PROBE_REPLY: &[u8] = b"\x02E\rhello";
pub const PROBE_END: &[u8] = b"F";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(c: &mut Toledo8217Codec, bytes: &[u8], chunk: usize) -> Vec<Toledo8217Reply> {
        crate::testutil::feed_chunks(c, bytes, chunk)
    }

    #[test]
    fn commands_are_single_bytes() {
        let mut c = Toledo8217Codec::default();
        let mut dst = BytesMut::new();
        for cmd in [
            Toledo8217Command::Weight,
            Toledo8217Command::Zero,
            Toledo8217Command::Tare,
            Toledo8217Command::ClearTare,
        ] {
            c.encode(cmd, &mut dst).unwrap();
            assert_eq!(Toledo8217Command::from_byte(cmd.byte()), Some(cmd));
        }
        assert_eq!(&dst[..], b"WZTC");
    }

    #[test]
    fn replies_are_byte_exact() {
        let mut c = Toledo8217Codec::default();
        assert_eq!(
            decode_all(&mut c, b"\x02  1.234\r", 1),
            vec![Toledo8217Reply::Weight {
                grams: 1234,
                net: false
            }]
        );
        assert_eq!(
            decode_all(&mut c, b"\x02  0.500N\r", 1),
            vec![Toledo8217Reply::Weight {
                grams: 500,
                net: true
            }]
        );
        let got = decode_all(&mut c, b"\x02?D\r", 1);
        assert_eq!(got, vec![Toledo8217Reply::Status(Toledo8217Status(0x44))]);
        let Toledo8217Reply::Status(s) = got[0] else {
            unreachable!()
        };
        assert!(s.under_zero() && !s.motion() && s.bit6());
        let r = got[0].reading(&Toledo8217Config::default(), 0);
        assert_eq!(r.status, WeightStatus::Underload);
        // Parity bit set on the status byte is ignored.
        assert_eq!(
            decode_all(&mut c, b"\x02?\xC1\r", 4),
            vec![Toledo8217Reply::Status(Toledo8217Status(0x41))]
        );
        let mut dst = BytesMut::new();
        encode_reply(
            &Toledo8217Reply::Weight {
                grams: 1234,
                net: false,
            },
            &mut dst,
        );
        assert_eq!(&dst[..], b"\x02  1.234\r");
        dst.clear();
        encode_reply(&Toledo8217Reply::Status(Toledo8217Status(0x01)), &mut dst);
        assert_eq!(&dst[..], b"\x02?A\r");
    }

    #[test]
    fn status_maps_to_reading_states() {
        let cfg = Toledo8217Config::default();
        let st = |b| {
            Toledo8217Reply::Status(Toledo8217Status(b))
                .reading(&cfg, 0)
                .status
        };
        assert_eq!(st(0x41), WeightStatus::Unstable);
        assert_eq!(st(0x42), WeightStatus::Overload);
        assert_eq!(st(0x44), WeightStatus::Underload);
        assert_eq!(st(0x48), WeightStatus::Error);
    }

    #[test]
    fn noise_truncation_and_bad_payloads_are_counted() {
        let stream = b"\xff\x00\x02  1.0\x02  2.000\r\x02abc\r\x02  3.000N\r";
        for chunk in [1, 2, stream.len()] {
            let mut c = Toledo8217Codec::default();
            let got = decode_all(&mut c, stream, chunk);
            assert_eq!(
                got,
                vec![
                    Toledo8217Reply::Weight {
                        grams: 2000,
                        net: false
                    },
                    Toledo8217Reply::Weight {
                        grams: 3000,
                        net: true
                    }
                ]
            );
            assert_eq!(c.stats().bad_frames, 2, "chunk {chunk}");
            assert_eq!(c.stats().frames, 2);
        }
    }

    fn reply() -> impl Strategy<Value = Toledo8217Reply> {
        prop_oneof![
            (0i64..999_999, any::<bool>())
                .prop_map(|(grams, net)| Toledo8217Reply::Weight { grams, net }),
            (0u8..0x40).prop_map(|b| Toledo8217Reply::Status(Toledo8217Status(0x40 | b))),
        ]
    }

    proptest! {
        #[test]
        fn replies_round_trip(rs in proptest::collection::vec(reply(), 1..10), chunk in 1usize..20, noise in proptest::collection::vec(0x80u8..=0xFF, 0..4)) {
            let mut bytes = BytesMut::new();
            for r in &rs {
                bytes.extend_from_slice(&noise);
                encode_reply(r, &mut bytes);
            }
            let mut c = Toledo8217Codec::default();
            prop_assert_eq!(decode_all(&mut c, &bytes, chunk), rs);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut c = Toledo8217Codec::default();
            let _ = decode_all(&mut c, &bytes, 5);
        }
    }
}
