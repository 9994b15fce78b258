//! The common Chinese/Taiwanese indicator line format (计重秤 RS-232): `ST,GS,+ 123.456kg` CR LF.
//!
//! Fields: state (`ST` stable, `US` unstable, `OL` overload), mode (`GS` gross, `NT` net, `TR`
//! tare), then sign, a fixed-width value and the unit. Commands are short ASCII words (`RW` read,
//! `MZ` zero, `MT` tare, `CT` clear tare). Nameless indicators vary the tokens, so every token is
//! in [`AsciiIndicatorConfig`] with the documented ones as defaults.

use super::mtsics::next_line;
use super::stats::DecodeStats;
use super::weight::{WeightUnit, format_kg, parse_grams};
use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder};

const MAX_LINE: usize = 64;

/// Tokens and commands of one indicator model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AsciiIndicatorConfig {
    pub stable: Vec<String>,
    pub unstable: Vec<String>,
    pub overload: Vec<String>,
    pub gross: Vec<String>,
    pub net: Vec<String>,
    pub tare: Vec<String>,
    pub field_separator: char,
    pub read_command: String,
    pub zero_command: String,
    pub tare_command: String,
    pub clear_tare_command: String,
    pub command_suffix: String,
    /// The indicator streams lines on its own; reading waits for the next one instead of asking.
    pub continuous: bool,
}

impl Default for AsciiIndicatorConfig {
    fn default() -> Self {
        let v = |s: &str| vec![s.to_string()];
        Self {
            stable: v("ST"),
            unstable: v("US"),
            overload: v("OL"),
            gross: v("GS"),
            net: v("NT"),
            tare: v("TR"),
            field_separator: ',',
            read_command: "RW".into(),
            zero_command: "MZ".into(),
            tare_command: "MT".into(),
            clear_tare_command: "CT".into(),
            command_suffix: "\r\n".into(),
            continuous: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsciiState {
    Stable,
    Unstable,
    Overload,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsciiMode {
    Gross,
    Net,
    Tare,
}

/// One reported line. `grams` is `None` when the value field is not a number (e.g. `OL` lines
/// that print dashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsciiLine {
    pub state: AsciiState,
    pub mode: AsciiMode,
    pub grams: Option<i64>,
}

/// Host → indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsciiCommand {
    Read,
    Zero,
    Tare,
    ClearTare,
}

impl AsciiIndicatorConfig {
    pub fn command_text(&self, c: AsciiCommand) -> &str {
        match c {
            AsciiCommand::Read => &self.read_command,
            AsciiCommand::Zero => &self.zero_command,
            AsciiCommand::Tare => &self.tare_command,
            AsciiCommand::ClearTare => &self.clear_tare_command,
        }
    }

    /// Parse one line (without its terminator).
    pub fn parse_line(&self, line: &str) -> Option<AsciiLine> {
        let mut parts = line.splitn(3, self.field_separator);
        let (st, md, value) = (parts.next()?.trim(), parts.next()?.trim(), parts.next()?);
        let has = |set: &[String], t: &str| set.iter().any(|s| s == t);
        let state = if has(&self.stable, st) {
            AsciiState::Stable
        } else if has(&self.unstable, st) {
            AsciiState::Unstable
        } else if has(&self.overload, st) {
            AsciiState::Overload
        } else {
            return None;
        };
        let mode = if has(&self.gross, md) {
            AsciiMode::Gross
        } else if has(&self.net, md) {
            AsciiMode::Net
        } else if has(&self.tare, md) {
            AsciiMode::Tare
        } else {
            return None;
        };
        let value = value.trim();
        let split = value
            .rfind(|c: char| c.is_ascii_digit() || c == '.')
            .map(|i| i + 1)
            .unwrap_or(0);
        let (number, unit) = value.split_at(split);
        let grams = WeightUnit::parse(unit).and_then(|u| parse_grams(number, u).ok());
        if grams.is_none() && state != AsciiState::Overload {
            return None;
        }
        Some(AsciiLine { state, mode, grams })
    }

    /// The line an indicator sends (without terminator), value in kg, sign then eight
    /// right-justified characters: `ST,GS,+   1.234kg`.
    pub fn format_line(&self, l: &AsciiLine) -> String {
        let st = match l.state {
            AsciiState::Stable => &self.stable[0],
            AsciiState::Unstable => &self.unstable[0],
            AsciiState::Overload => &self.overload[0],
        };
        let md = match l.mode {
            AsciiMode::Gross => &self.gross[0],
            AsciiMode::Net => &self.net[0],
            AsciiMode::Tare => &self.tare[0],
        };
        let sep = self.field_separator;
        match l.grams {
            Some(g) => {
                let sign = if g < 0 { '-' } else { '+' };
                format!("{st}{sep}{md}{sep}{sign}{:>8}kg", format_kg(g.abs()))
            }
            None => format!("{st}{sep}{md}{sep}+ ------kg"),
        }
    }
}

/// Host-side codec.
#[derive(Debug, Default)]
pub struct AsciiIndicatorCodec {
    cfg: AsciiIndicatorConfig,
    stats: DecodeStats,
}

impl AsciiIndicatorCodec {
    pub fn new(cfg: AsciiIndicatorConfig) -> Self {
        Self {
            cfg,
            stats: DecodeStats::default(),
        }
    }
    pub fn config(&self) -> &AsciiIndicatorConfig {
        &self.cfg
    }
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }
}

impl Decoder for AsciiIndicatorCodec {
    type Item = AsciiLine;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<AsciiLine>, std::io::Error> {
        while let Some(line) = next_line(src, MAX_LINE, &mut self.stats) {
            let parsed = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| self.cfg.parse_line(l));
            match parsed {
                Some(l) => {
                    self.stats.frame();
                    return Ok(Some(l));
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

impl Encoder<AsciiCommand> for AsciiIndicatorCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: AsciiCommand, dst: &mut BytesMut) -> std::io::Result<()> {
        dst.put_slice(self.cfg.command_text(item).as_bytes());
        dst.put_slice(self.cfg.command_suffix.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(c: &mut AsciiIndicatorCodec, bytes: &[u8], chunk: usize) -> Vec<AsciiLine> {
        crate::testutil::feed_chunks(c, bytes, chunk)
    }

    #[test]
    fn documented_lines_parse() {
        let mut c = AsciiIndicatorCodec::default();
        let got = decode_all(
            &mut c,
            b"ST,GS,+ 123.456kg\r\nUS,NT,-   0.050kg\r\nST,TR,+   0.200kg\r\nOL,GS,+ ------kg\r\nST,GS,+  100.0  g\r\n",
            1,
        );
        assert_eq!(
            got,
            vec![
                AsciiLine {
                    state: AsciiState::Stable,
                    mode: AsciiMode::Gross,
                    grams: Some(123_456)
                },
                AsciiLine {
                    state: AsciiState::Unstable,
                    mode: AsciiMode::Net,
                    grams: Some(-50)
                },
                AsciiLine {
                    state: AsciiState::Stable,
                    mode: AsciiMode::Tare,
                    grams: Some(200)
                },
                AsciiLine {
                    state: AsciiState::Overload,
                    mode: AsciiMode::Gross,
                    grams: None
                },
                AsciiLine {
                    state: AsciiState::Stable,
                    mode: AsciiMode::Gross,
                    grams: Some(100)
                },
            ]
        );
    }

    #[test]
    fn commands_are_byte_exact() {
        let mut c = AsciiIndicatorCodec::default();
        let mut dst = BytesMut::new();
        for cmd in [
            AsciiCommand::Read,
            AsciiCommand::Zero,
            AsciiCommand::Tare,
            AsciiCommand::ClearTare,
        ] {
            c.encode(cmd, &mut dst).unwrap();
        }
        assert_eq!(&dst[..], b"RW\r\nMZ\r\nMT\r\nCT\r\n");
        let line = AsciiIndicatorConfig::default().format_line(&AsciiLine {
            state: AsciiState::Stable,
            mode: AsciiMode::Gross,
            grams: Some(1234),
        });
        assert_eq!(line, "ST,GS,+   1.234kg");
    }

    #[test]
    fn configurable_tokens() {
        let cfg = AsciiIndicatorConfig {
            stable: vec!["ST".into(), "S".into()],
            field_separator: ';',
            ..Default::default()
        };
        assert_eq!(cfg.parse_line("S;NT;+1.000kg").unwrap().grams, Some(1000));
        assert!(cfg.parse_line("ST,GS,+1.000kg").is_none());
    }

    #[test]
    fn noise_lines_are_counted() {
        let mut c = AsciiIndicatorCodec::default();
        let got = decode_all(
            &mut c,
            b"\xff\xfe\r\nST,GS,+   1.000kg\r\nXX,GS,+1kg\r\nST,GS,+ abc kg\r\n\r\nST,GS,+   2.000kg\r\n",
            3,
        );
        assert_eq!(got.len(), 2);
        assert_eq!(c.stats().bad_frames, 3);
    }

    fn line() -> impl Strategy<Value = AsciiLine> {
        (0u8..3, 0u8..3, -9_999_999i64..9_999_999).prop_map(|(s, m, g)| AsciiLine {
            state: [
                AsciiState::Stable,
                AsciiState::Unstable,
                AsciiState::Overload,
            ][s as usize],
            mode: [AsciiMode::Gross, AsciiMode::Net, AsciiMode::Tare][m as usize],
            grams: Some(g),
        })
    }

    proptest! {
        #[test]
        fn lines_round_trip(ls in proptest::collection::vec(line(), 1..8), chunk in 1usize..30) {
            let cfg = AsciiIndicatorConfig::default();
            let mut bytes = Vec::new();
            for l in &ls {
                bytes.extend_from_slice(b"#\x01~\r\n");
                bytes.extend_from_slice(cfg.format_line(l).as_bytes());
                bytes.extend_from_slice(b"\r\n");
            }
            let mut c = AsciiIndicatorCodec::new(cfg);
            prop_assert_eq!(decode_all(&mut c, &bytes, chunk), ls.clone());
            prop_assert_eq!(c.stats().bad_frames, ls.len() as u64);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut c = AsciiIndicatorCodec::default();
            let _ = decode_all(&mut c, &bytes, 11);
        }
    }
}
