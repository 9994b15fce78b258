//! Mettler Toledo MT-SICS: ASCII command lines and replies, each ending CR LF.
//!
//! Replies are `<command> <status> [<value> <unit>]`. `SI` (immediate weight) answers with an
//! `S` prefix — `S S` stable, `S D` dynamic — not `SI`; we also accept `SI S` because one
//! emulator sends that. A line we cannot read is skipped and counted, never guessed at.

use super::stats::DecodeStats;
use super::weight::{WeightUnit, format_kg, parse_grams};
use bytes::{BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Longest reply line we buffer; longer runs without CR LF are noise.
pub const MAX_LINE: usize = 256;

/// Host → scale commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtSicsCommand {
    /// Stable weight.
    S,
    /// Immediate weight.
    SI,
    /// Immediate weight, repeated until the next command.
    SIR,
    /// Zero when stable.
    Z,
    /// Zero immediately.
    ZI,
    /// Tare when stable.
    T,
    /// Tare immediately.
    TI,
    /// Query tare.
    TA,
    /// Clear tare.
    TAC,
    /// Reset; answers with the serial number (`I4 A "…"`).
    Reset,
    /// Identification `I0`…`I5`.
    Ident(u8),
}

impl MtSicsCommand {
    pub fn text(self) -> String {
        match self {
            MtSicsCommand::S => "S".into(),
            MtSicsCommand::SI => "SI".into(),
            MtSicsCommand::SIR => "SIR".into(),
            MtSicsCommand::Z => "Z".into(),
            MtSicsCommand::ZI => "ZI".into(),
            MtSicsCommand::T => "T".into(),
            MtSicsCommand::TI => "TI".into(),
            MtSicsCommand::TA => "TA".into(),
            MtSicsCommand::TAC => "TAC".into(),
            MtSicsCommand::Reset => "@".into(),
            MtSicsCommand::Ident(n) => format!("I{}", n.min(9)),
        }
    }

    /// Parse a command line (the simulator's side).
    pub fn parse(line: &str) -> Option<MtSicsCommand> {
        Some(match line.trim() {
            "S" => MtSicsCommand::S,
            "SI" => MtSicsCommand::SI,
            "SIR" => MtSicsCommand::SIR,
            "Z" => MtSicsCommand::Z,
            "ZI" => MtSicsCommand::ZI,
            "T" => MtSicsCommand::T,
            "TI" => MtSicsCommand::TI,
            "TA" => MtSicsCommand::TA,
            "TAC" => MtSicsCommand::TAC,
            "@" => MtSicsCommand::Reset,
            s if s.len() == 2 && s.starts_with('I') => {
                MtSicsCommand::Ident(s.as_bytes()[1].checked_sub(b'0').filter(|d| *d <= 9)?)
            }
            _ => return None,
        })
    }
}

/// Why the scale would not do it: `I`, `+`, `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `I`: understood, not executable now (busy, never settled).
    NotExecutable,
    /// `+`: overload / above range.
    Over,
    /// `-`: underload / below range.
    Under,
}

impl Refusal {
    fn parse(s: &str) -> Option<Refusal> {
        match s {
            "I" => Some(Refusal::NotExecutable),
            "+" => Some(Refusal::Over),
            "-" => Some(Refusal::Under),
            _ => None,
        }
    }
    fn code(self) -> &'static str {
        match self {
            Refusal::NotExecutable => "I",
            Refusal::Over => "+",
            Refusal::Under => "-",
        }
    }
}

/// Scale → host replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MtSicsReply {
    /// `S S <w> <unit>` or `S D <w> <unit>`.
    Weight { stable: bool, grams: i64 },
    /// `S I`, `S +`, `S -`.
    WeightRefused(Refusal),
    /// `Z A`, `ZI S`, `ZI D`.
    Zeroed,
    /// `Z I`, `Z +`, `Z -` (and `ZI …`).
    ZeroRefused(Refusal),
    /// `T S <w>`, `TI S|D <w>`, `TA A <w>`: the tare now in effect.
    Tare { grams: i64 },
    /// `T I`, `T +`, `T -` (and `TI`, `TA`).
    TareRefused(Refusal),
    /// `TAC A`.
    TareCleared,
    /// `TAC I`.
    TareClearRefused,
    /// `I0`…`I5` and `@` answers: `I4 A "B021002593"`.
    Ident { command: String, text: String },
    /// `ES` syntax, `ET` transmission, `EL` logical error.
    Error(String),
}

impl MtSicsReply {
    /// Parse one line without its CR LF.
    pub fn parse(line: &str) -> Option<MtSicsReply> {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let weight = |v: &str, u: &str| parse_grams(v, WeightUnit::parse(u)?).ok();
        Some(match tokens.as_slice() {
            ["S" | "SI", "S", v, u] => MtSicsReply::Weight {
                stable: true,
                grams: weight(v, u)?,
            },
            ["S" | "SI", "D", v, u] => MtSicsReply::Weight {
                stable: false,
                grams: weight(v, u)?,
            },
            ["S" | "SI", r] => MtSicsReply::WeightRefused(Refusal::parse(r)?),
            ["Z", "A"] | ["ZI", "S" | "D"] => MtSicsReply::Zeroed,
            ["Z" | "ZI", r] => MtSicsReply::ZeroRefused(Refusal::parse(r)?),
            ["T", "S", v, u] | ["TI", "S" | "D", v, u] | ["TA", "A", v, u] => MtSicsReply::Tare {
                grams: weight(v, u)?,
            },
            ["T" | "TI" | "TA", r] => MtSicsReply::TareRefused(Refusal::parse(r)?),
            ["TAC", "A"] => MtSicsReply::TareCleared,
            ["TAC", "I"] => MtSicsReply::TareClearRefused,
            [cmd, "A", rest @ ..] if cmd.len() == 2 && cmd.starts_with('I') => MtSicsReply::Ident {
                command: (*cmd).to_string(),
                text: rest.join(" ").trim_matches('"').to_string(),
            },
            [e @ ("ES" | "ET" | "EL")] => MtSicsReply::Error((*e).to_string()),
            _ => return None,
        })
    }

    /// The line a scale sends (without CR LF); weights in kg with three decimals, the value
    /// right-justified in ten characters as Mettler prints it.
    pub fn to_line(&self) -> String {
        match self {
            MtSicsReply::Weight { stable, grams } => {
                format!(
                    "S {} {:>10} kg",
                    if *stable { "S" } else { "D" },
                    format_kg(*grams)
                )
            }
            MtSicsReply::WeightRefused(r) => format!("S {}", r.code()),
            MtSicsReply::Zeroed => "Z A".into(),
            MtSicsReply::ZeroRefused(r) => format!("Z {}", r.code()),
            MtSicsReply::Tare { grams } => format!("T S {:>10} kg", format_kg(*grams)),
            MtSicsReply::TareRefused(r) => format!("T {}", r.code()),
            MtSicsReply::TareCleared => "TAC A".into(),
            MtSicsReply::TareClearRefused => "TAC I".into(),
            MtSicsReply::Ident { command, text } => format!("{command} A \"{text}\""),
            MtSicsReply::Error(e) => e.clone(),
        }
    }
}

/// Host-side codec: encodes commands, decodes replies.
#[derive(Debug, Default)]
pub struct MtSicsCodec {
    stats: DecodeStats,
}

impl MtSicsCodec {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }
}

/// Split the next LF-terminated line off `src`, dropping over-long runs (counted as bad).
/// Shared by the line-oriented protocols.
pub(crate) fn next_line(
    src: &mut BytesMut,
    max: usize,
    stats: &mut DecodeStats,
) -> Option<BytesMut> {
    loop {
        match src.iter().position(|b| *b == b'\n') {
            Some(i) if i <= max => {
                let mut line = src.split_to(i + 1);
                line.truncate(i);
                while line.last() == Some(&b'\r') {
                    line.truncate(line.len() - 1);
                }
                return Some(line);
            }
            Some(i) => {
                let _ = src.split_to(i + 1);
                stats.bad(i + 1);
            }
            None if src.len() > max => {
                let n = src.len();
                src.clear();
                stats.bad(n);
                return None;
            }
            None => return None,
        }
    }
}

impl Decoder for MtSicsCodec {
    type Item = MtSicsReply;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<MtSicsReply>, std::io::Error> {
        while let Some(line) = next_line(src, MAX_LINE, &mut self.stats) {
            let parsed = std::str::from_utf8(&line).ok().and_then(MtSicsReply::parse);
            match parsed {
                Some(r) => {
                    self.stats.frame();
                    return Ok(Some(r));
                }
                None if line.iter().all(|b| b.is_ascii_whitespace()) => {
                    self.stats.skip(line.len() + 1)
                }
                None => self.stats.bad(line.len() + 1),
            }
        }
        Ok(None)
    }
}

impl Encoder<MtSicsCommand> for MtSicsCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: MtSicsCommand, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        dst.put_slice(item.text().as_bytes());
        dst.put_slice(b"\r\n");
        Ok(())
    }
}

/// Bytes of a reply as the scale sends them (for simulators and tests).
pub fn encode_reply(reply: &MtSicsReply, dst: &mut BytesMut) {
    dst.put_slice(reply.to_line().as_bytes());
    dst.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(codec: &mut MtSicsCodec, bytes: &[u8], chunk: usize) -> Vec<MtSicsReply> {
        crate::testutil::feed_chunks(codec, bytes, chunk)
    }

    #[test]
    fn commands_are_byte_exact() {
        let mut c = MtSicsCodec::new();
        let cases: [(MtSicsCommand, &[u8]); 11] = [
            (MtSicsCommand::S, b"S\r\n"),
            (MtSicsCommand::SI, b"SI\r\n"),
            (MtSicsCommand::SIR, b"SIR\r\n"),
            (MtSicsCommand::Z, b"Z\r\n"),
            (MtSicsCommand::ZI, b"ZI\r\n"),
            (MtSicsCommand::T, b"T\r\n"),
            (MtSicsCommand::TI, b"TI\r\n"),
            (MtSicsCommand::TA, b"TA\r\n"),
            (MtSicsCommand::TAC, b"TAC\r\n"),
            (MtSicsCommand::Reset, b"@\r\n"),
            (MtSicsCommand::Ident(2), b"I2\r\n"),
        ];
        for (cmd, bytes) in cases {
            let mut dst = BytesMut::new();
            c.encode(cmd, &mut dst).unwrap();
            assert_eq!(&dst[..], bytes);
            let line = std::str::from_utf8(&bytes[..bytes.len() - 2]).unwrap();
            assert_eq!(MtSicsCommand::parse(line), Some(cmd));
        }
    }

    #[test]
    fn replies_are_byte_exact() {
        let cases: Vec<(&[u8], MtSicsReply)> = vec![
            (
                b"S S      100.00 g\r\n",
                MtSicsReply::Weight {
                    stable: true,
                    grams: 100,
                },
            ),
            (
                b"S D      1.234 kg\r\n",
                MtSicsReply::Weight {
                    stable: false,
                    grams: 1234,
                },
            ),
            (
                b"SI S     -0.050 kg\r\n",
                MtSicsReply::Weight {
                    stable: true,
                    grams: -50,
                },
            ),
            (
                b"S I\r\n",
                MtSicsReply::WeightRefused(Refusal::NotExecutable),
            ),
            (b"S +\r\n", MtSicsReply::WeightRefused(Refusal::Over)),
            (b"S -\r\n", MtSicsReply::WeightRefused(Refusal::Under)),
            (b"Z A\r\n", MtSicsReply::Zeroed),
            (b"ZI D\r\n", MtSicsReply::Zeroed),
            (b"Z I\r\n", MtSicsReply::ZeroRefused(Refusal::NotExecutable)),
            (b"Z +\r\n", MtSicsReply::ZeroRefused(Refusal::Over)),
            (b"T S      0.250 kg\r\n", MtSicsReply::Tare { grams: 250 }),
            (b"TA A     0.250 kg\r\n", MtSicsReply::Tare { grams: 250 }),
            (b"T I\r\n", MtSicsReply::TareRefused(Refusal::NotExecutable)),
            (b"TAC A\r\n", MtSicsReply::TareCleared),
            (b"TAC I\r\n", MtSicsReply::TareClearRefused),
            (
                b"I4 A \"B021002593\"\r\n",
                MtSicsReply::Ident {
                    command: "I4".into(),
                    text: "B021002593".into(),
                },
            ),
            (b"ES\r\n", MtSicsReply::Error("ES".into())),
            (b"EL\r\n", MtSicsReply::Error("EL".into())),
            (b"ET\r\n", MtSicsReply::Error("ET".into())),
        ];
        for (bytes, want) in cases {
            let mut c = MtSicsCodec::new();
            assert_eq!(
                decode_all(&mut c, bytes, 64),
                vec![want.clone()],
                "{bytes:?}"
            );
        }
        // The simulator's encoding, byte for byte.
        let mut dst = BytesMut::new();
        encode_reply(
            &MtSicsReply::Weight {
                stable: true,
                grams: 1234,
            },
            &mut dst,
        );
        assert_eq!(&dst[..], b"S S      1.234 kg\r\n");
    }

    #[test]
    fn noise_is_skipped_and_counted() {
        let stream = b"S S      1.000 kg\r\n#~\xff\x00junk\r\nS D      2.000 kg\r\n\r\nS Q\r\n";
        for chunk in [1, 3, stream.len()] {
            let mut c = MtSicsCodec::new();
            let got = decode_all(&mut c, stream, chunk);
            assert_eq!(got.len(), 2);
            assert_eq!(c.stats().frames, 2);
            assert_eq!(c.stats().bad_frames, 2);
        }
    }

    #[test]
    fn over_long_lines_are_dropped() {
        let mut c = MtSicsCodec::new();
        let mut bytes = vec![b'x'; MAX_LINE * 3];
        bytes.extend_from_slice(b"\r\nS S      1.000 kg\r\n");
        let got = decode_all(&mut c, &bytes, 17);
        assert_eq!(
            got,
            vec![MtSicsReply::Weight {
                stable: true,
                grams: 1000
            }]
        );
        assert!(c.stats().bad_frames >= 1);
    }

    fn reply() -> impl Strategy<Value = MtSicsReply> {
        let refusal = prop_oneof![
            Just(Refusal::NotExecutable),
            Just(Refusal::Over),
            Just(Refusal::Under)
        ];
        prop_oneof![
            (any::<bool>(), -9_999_999i64..9_999_999)
                .prop_map(|(stable, grams)| MtSicsReply::Weight { stable, grams }),
            refusal.clone().prop_map(MtSicsReply::WeightRefused),
            Just(MtSicsReply::Zeroed),
            refusal.clone().prop_map(MtSicsReply::ZeroRefused),
            (0i64..9_999_999).prop_map(|grams| MtSicsReply::Tare { grams }),
            refusal.prop_map(MtSicsReply::TareRefused),
            Just(MtSicsReply::TareCleared),
            Just(MtSicsReply::TareClearRefused),
            "[A-Z0-9]{1,12}".prop_map(|text| MtSicsReply::Ident {
                command: "I4".into(),
                text
            }),
            prop_oneof![Just("ES"), Just("ET"), Just("EL")]
                .prop_map(|e| MtSicsReply::Error(e.into())),
        ]
    }

    proptest! {
        #[test]
        fn replies_round_trip(replies in proptest::collection::vec(reply(), 1..8), chunk in 1usize..40) {
            let mut bytes = BytesMut::new();
            for r in &replies {
                encode_reply(r, &mut bytes);
            }
            let mut c = MtSicsCodec::new();
            prop_assert_eq!(decode_all(&mut c, &bytes, chunk), replies);
            prop_assert_eq!(c.stats().bad_frames, 0);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut c = MtSicsCodec::new();
            let _ = decode_all(&mut c, &bytes, 7);
        }
    }
}
