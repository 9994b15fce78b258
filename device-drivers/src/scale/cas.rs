//! CAS ECR ("CAS-M") exchange: host `ENQ` → scale `ACK` → host `DC1` → scale weight frame
//! `SOH STX STA SIGN W5..W0 UN1 UN0 BCC ETX EOT` (15 bytes).
//!
//! STA is `S` stable / `U` unstable; SIGN `-` negative, space positive, `F` overload; BCC is the
//! XOR of STA through UN0. The six weight characters usually include the decimal point; when
//! they do not, [`CasConfig::implied_decimals`] says where it is (model setup, inferred).
//! Zero and tare are the key codes `<ZK>` TAB and `<TK>` TAB; the scale does not confirm them.

use super::stats::DecodeStats;
use super::weight::{WeightUnit, parse_grams, scaled_to_grams};
use super::{WeightReading, WeightStatus};
use bytes::{Buf, BufMut, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder};

pub const SOH: u8 = 0x01;
pub const STX: u8 = 0x02;
pub const ETX: u8 = 0x03;
pub const EOT: u8 = 0x04;
pub const ENQ: u8 = 0x05;
pub const ACK: u8 = 0x06;
pub const DC1: u8 = 0x11;
pub const NAK: u8 = 0x15;
pub const FRAME_LEN: usize = 15;

/// What the model's setup decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CasConfig {
    /// Decimal places when the weight field has no decimal point.
    pub implied_decimals: u8,
}

impl Default for CasConfig {
    fn default() -> Self {
        Self {
            implied_decimals: 3,
        }
    }
}

/// Host → scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasCommand {
    Enq,
    Dc1,
    Zero,
    Tare,
}

impl CasCommand {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            CasCommand::Enq => &[ENQ],
            CasCommand::Dc1 => &[DC1],
            CasCommand::Zero => b"<ZK>\t",
            CasCommand::Tare => b"<TK>\t",
        }
    }
}

/// SIGN byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasSign {
    Positive,
    Negative,
    Overload,
}

/// A weight frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CasFrame {
    pub stable: bool,
    pub sign: CasSign,
    /// The six weight characters as sent (`" 1.234"`, `"001234"`, `"FFFFFF"`).
    pub weight: [u8; 6],
    pub unit: WeightUnit,
}

impl CasFrame {
    /// A frame for `grams` in kg with three decimals, as the simulator sends it.
    pub fn for_grams(grams: i64, stable: bool, overload: bool) -> Self {
        let mut weight = [b'F'; 6];
        let sign = if overload {
            CasSign::Overload
        } else {
            let text = format!("{:>6}", super::format_kg(grams.abs() % 100_000));
            weight.copy_from_slice(&text.as_bytes()[text.len() - 6..]);
            if grams < 0 {
                CasSign::Negative
            } else {
                CasSign::Positive
            }
        };
        Self {
            stable,
            sign,
            weight,
            unit: WeightUnit::Kg,
        }
    }

    pub fn reading(&self, cfg: &CasConfig) -> WeightReading {
        if self.sign == CasSign::Overload || self.weight.contains(&b'F') {
            return WeightReading::state(WeightStatus::Overload);
        }
        let Ok(text) = std::str::from_utf8(&self.weight) else {
            return WeightReading::state(WeightStatus::Error);
        };
        let grams = if text.contains('.') {
            parse_grams(text, self.unit).ok()
        } else {
            text.trim().parse::<i64>().ok().map(|m| {
                scaled_to_grams(i128::from(m), -i32::from(cfg.implied_decimals), self.unit)
            })
        };
        match grams {
            Some(g) => {
                let g = if self.sign == CasSign::Negative {
                    -g
                } else {
                    g
                };
                WeightReading::weight(g, self.stable, false, 0)
            }
            None => WeightReading::state(WeightStatus::Error),
        }
    }
}

/// Scale → host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasReply {
    Ack,
    Nak,
    Weight(CasFrame),
}

fn unit_bytes(u: WeightUnit) -> [u8; 2] {
    match u {
        WeightUnit::Kg => *b"kg",
        WeightUnit::Lb => *b"lb",
        WeightUnit::G => *b" g",
    }
}

fn bcc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

/// Host-side codec.
#[derive(Debug, Default)]
pub struct CasCodec {
    cfg: CasConfig,
    stats: DecodeStats,
}

impl CasCodec {
    pub fn new(cfg: CasConfig) -> Self {
        Self {
            cfg,
            stats: DecodeStats::default(),
        }
    }
    pub fn config(&self) -> &CasConfig {
        &self.cfg
    }
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }
}

fn parse_frame(f: &[u8]) -> Option<CasFrame> {
    if f[1] != STX || f[13] != ETX || f[14] != EOT || bcc(&f[2..12]) != f[12] {
        return None;
    }
    let stable = match f[2] {
        b'S' => true,
        b'U' => false,
        _ => return None,
    };
    let sign = match f[3] {
        b' ' | b'+' => CasSign::Positive,
        b'-' => CasSign::Negative,
        b'F' => CasSign::Overload,
        _ => return None,
    };
    let mut weight = [0u8; 6];
    weight.copy_from_slice(&f[4..10]);
    if !weight
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b' ' | b'F'))
    {
        return None;
    }
    let unit = WeightUnit::parse(std::str::from_utf8(&f[10..12]).ok()?)?;
    Some(CasFrame {
        stable,
        sign,
        weight,
        unit,
    })
}

impl Decoder for CasCodec {
    type Item = CasReply;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<CasReply>, std::io::Error> {
        loop {
            let Some(&first) = src.first() else {
                return Ok(None);
            };
            match first {
                ACK | NAK => {
                    src.advance(1);
                    self.stats.frame();
                    return Ok(Some(if first == ACK {
                        CasReply::Ack
                    } else {
                        CasReply::Nak
                    }));
                }
                SOH => {
                    if src.len() < FRAME_LEN {
                        return Ok(None);
                    }
                    match parse_frame(&src[..FRAME_LEN]) {
                        Some(f) => {
                            src.advance(FRAME_LEN);
                            self.stats.frame();
                            return Ok(Some(CasReply::Weight(f)));
                        }
                        None => {
                            src.advance(1);
                            self.stats.bad(1);
                        }
                    }
                }
                _ => {
                    let n = src
                        .iter()
                        .position(|b| matches!(*b, ACK | NAK | SOH))
                        .unwrap_or(src.len());
                    src.advance(n);
                    self.stats.skip(n);
                }
            }
        }
    }
}

impl Encoder<CasCommand> for CasCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: CasCommand, dst: &mut BytesMut) -> std::io::Result<()> {
        dst.put_slice(item.bytes());
        Ok(())
    }
}

/// Bytes of a reply as the scale sends them.
pub fn encode_reply(reply: &CasReply, dst: &mut BytesMut) {
    match reply {
        CasReply::Ack => dst.put_u8(ACK),
        CasReply::Nak => dst.put_u8(NAK),
        CasReply::Weight(f) => {
            let start = dst.len();
            dst.put_slice(&[SOH, STX, if f.stable { b'S' } else { b'U' }]);
            dst.put_u8(match f.sign {
                CasSign::Positive => b' ',
                CasSign::Negative => b'-',
                CasSign::Overload => b'F',
            });
            dst.put_slice(&f.weight);
            dst.put_slice(&unit_bytes(f.unit));
            let b = bcc(&dst[start + 2..]);
            dst.put_slice(&[b, ETX, EOT]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(c: &mut CasCodec, bytes: &[u8], chunk: usize) -> Vec<CasReply> {
        crate::testutil::feed_chunks(c, bytes, chunk)
    }

    #[test]
    fn commands_are_byte_exact() {
        let mut c = CasCodec::default();
        let mut dst = BytesMut::new();
        for cmd in [
            CasCommand::Enq,
            CasCommand::Dc1,
            CasCommand::Zero,
            CasCommand::Tare,
        ] {
            c.encode(cmd, &mut dst).unwrap();
        }
        assert_eq!(
            &dst[..],
            &[
                0x05, 0x11, 0x3C, 0x5A, 0x4B, 0x3E, 0x09, 0x3C, 0x54, 0x4B, 0x3E, 0x09
            ]
        );
    }

    #[test]
    fn weight_frame_is_byte_exact() {
        let mut bytes = vec![SOH, STX, b'S', b' '];
        bytes.extend_from_slice(b" 1.234kg");
        let b = bcc(&bytes[2..]);
        bytes.extend_from_slice(&[b, ETX, EOT]);
        let mut enc = BytesMut::new();
        encode_reply(
            &CasReply::Weight(CasFrame::for_grams(1234, true, false)),
            &mut enc,
        );
        assert_eq!(&enc[..], &bytes[..]);
        let mut c = CasCodec::default();
        let got = decode_all(&mut c, &[&[ACK][..], &bytes].concat(), 1);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], CasReply::Ack);
        let CasReply::Weight(f) = got[1] else {
            panic!()
        };
        assert_eq!(
            f.reading(&CasConfig::default()),
            WeightReading::weight(1234, true, false, 0)
        );
    }

    #[test]
    fn implied_decimals_overload_and_negative() {
        let cfg = CasConfig::default();
        let f = CasFrame {
            stable: false,
            sign: CasSign::Negative,
            weight: *b"000250",
            unit: WeightUnit::Kg,
        };
        assert_eq!(
            f.reading(&cfg),
            WeightReading::weight(-250, false, false, 0)
        );
        assert_eq!(
            CasFrame::for_grams(0, true, true).reading(&cfg).status,
            WeightStatus::Overload
        );
    }

    #[test]
    fn bad_bcc_and_noise_are_counted() {
        let mut good = BytesMut::new();
        encode_reply(
            &CasReply::Weight(CasFrame::for_grams(500, true, false)),
            &mut good,
        );
        let mut bad = good.clone();
        bad[12] ^= 0x20;
        let stream = [&b"zz\xff"[..], &bad, &good[..9], &good].concat();
        for chunk in [1, 4, stream.len()] {
            let mut c = CasCodec::default();
            let got = decode_all(&mut c, &stream, chunk);
            assert_eq!(
                got,
                vec![CasReply::Weight(CasFrame::for_grams(500, true, false))]
            );
            assert!(c.stats().bad_frames >= 2);
        }
    }

    proptest! {
        #[test]
        fn frames_round_trip(ws in proptest::collection::vec((-99_999i64..99_999, any::<bool>(), any::<bool>()), 1..8), chunk in 1usize..30) {
            let mut bytes = BytesMut::new();
            let mut want = Vec::new();
            for (g, stable, over) in ws {
                bytes.extend_from_slice(b"\x00\x7f");
                let r = CasReply::Weight(CasFrame::for_grams(g, stable, over));
                encode_reply(&r, &mut bytes);
                want.push(r);
                if !over {
                    let CasReply::Weight(f) = r else { unreachable!() };
                    prop_assert_eq!(f.reading(&CasConfig::default()).grams, g);
                }
            }
            let mut c = CasCodec::default();
            prop_assert_eq!(decode_all(&mut c, &bytes, chunk), want);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut c = CasCodec::default();
            for r in decode_all(&mut c, &bytes, 3) {
                if let CasReply::Weight(f) = r { let _ = f.reading(&CasConfig::default()); }
            }
        }
    }
}
