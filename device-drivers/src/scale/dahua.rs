//! Dahua (上海大华) TM/TMA label scales: download PLU keys over TCP 4001.
//!
//! Why: the stall's main products must sit on the label scale's keys with today's prices; the
//! box pushes them instead of the merchant typing them on the scale. The scale is a TCP server;
//! the box sends one CR LF-terminated ASCII command and waits for a reply ending `CR LF ETX`
//! before the next. `!0IA` clears all PLUs; each `!0V` record sets one. Names travel as GB2312
//! 区位码: four decimal digits per character (zone = byte1 − 0xA0, position = byte2 − 0xA0),
//! ASCII first widened to full-width forms. Record fields after the label number are zero-filled
//! as the reference client does (discount flags and time bands unused).

use super::stats::DecodeStats;
use bytes::{Buf, BufMut, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::{Decoder, Encoder};

/// The scale's TCP port.
pub const DEFAULT_PORT: u16 = 4001;
/// Every reply ends with these bytes.
pub const REPLY_END: &[u8] = b"\r\n\x03";
/// Clear all PLUs.
pub const CLEAR_ALL_PLUS: &str = "!0IA";
/// Clear sales reports.
pub const CLEAR_REPORTS: &str = "!0HA";
const MAX_REPLY: usize = 1024;

/// How the item is sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WeighMode {
    #[default]
    Weighed,
    Counted,
    FixedWeight,
}

/// One PLU key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluRecord {
    /// Key number 1–4000.
    pub plu: u16,
    /// Item code printed in the label barcode, up to 7 digits.
    pub item_code: u32,
    /// Price in fen per kg (or per piece when counted), up to 6 digits.
    pub unit_price_fen: u32,
    #[serde(default)]
    pub mode: WeighMode,
    #[serde(default)]
    pub shelf_life_days: u16,
    #[serde(default)]
    pub tare_grams: u32,
    #[serde(default)]
    pub label_no: u8,
    pub name: String,
}

/// Why a PLU cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DahuaError {
    #[error("PLU {plu}: {field} {value} does not fit in {digits} digits")]
    FieldTooLarge {
        plu: u16,
        field: &'static str,
        value: u64,
        digits: usize,
    },
    #[error("PLU number {0} is outside 1–4000")]
    PluRange(u16),
    #[error("character {0:?} has no GB2312 code, so the scale cannot show it")]
    NotGb2312(char),
    #[error("區位 text {0:?} is not groups of four digits")]
    BadQuwei(String),
}

fn fixed(plu: u16, field: &'static str, value: u64, digits: usize) -> Result<String, DahuaError> {
    if value >= 10u64.pow(digits as u32) {
        return Err(DahuaError::FieldTooLarge {
            plu,
            field,
            value,
            digits,
        });
    }
    Ok(format!("{value:0digits$}"))
}

/// Widen ASCII to full-width forms, as the scale's font holds only GB2312 double-byte glyphs.
fn widen(c: char) -> char {
    match c {
        ' ' => '\u{3000}',
        '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
        _ => c,
    }
}

/// Text → 区位码 digits: `苹果` → `38272591`, `A` → `0333`.
pub fn quwei_encode(text: &str) -> Result<String, DahuaError> {
    let mut out = String::with_capacity(text.len() * 4);
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let wide = widen(c);
        let (bytes, _, had_errors) = encoding_rs::GBK.encode(wide.encode_utf8(&mut buf));
        match (&*bytes, had_errors) {
            ([b1 @ 0xA1..=0xFE, b2 @ 0xA1..=0xFE], false) => {
                out.push_str(&format!("{:02}{:02}", b1 - 0xA0, b2 - 0xA0));
            }
            _ => return Err(DahuaError::NotGb2312(c)),
        }
    }
    Ok(out)
}

/// 区位码 digits → text (the simulator's side; full-width forms stay full-width).
pub fn quwei_decode(digits: &str) -> Result<String, DahuaError> {
    let bad = || DahuaError::BadQuwei(digits.to_string());
    if !digits.len().is_multiple_of(4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let mut gb = Vec::with_capacity(digits.len() / 2);
    for chunk in digits.as_bytes().chunks(4) {
        let zone = (chunk[0] - b'0') * 10 + (chunk[1] - b'0');
        let pos = (chunk[2] - b'0') * 10 + (chunk[3] - b'0');
        if !(1..=94).contains(&zone) || !(1..=94).contains(&pos) {
            return Err(bad());
        }
        gb.extend_from_slice(&[zone + 0xA0, pos + 0xA0]);
    }
    let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&gb);
    if had_errors {
        return Err(bad());
    }
    Ok(text.into_owned())
}

impl PluRecord {
    /// The `!0V` command text (without CR LF).
    pub fn command(&self) -> Result<String, DahuaError> {
        let p = self.plu;
        if !(1..=4000).contains(&p) {
            return Err(DahuaError::PluRange(p));
        }
        let mode = match self.mode {
            WeighMode::Weighed => 0,
            WeighMode::Counted => 1,
            WeighMode::FixedWeight => 2,
        };
        let mut s = String::from("!0V");
        s += &fixed(p, "plu", u64::from(p), 4)?;
        s.push('A');
        s += &fixed(p, "item_code", u64::from(self.item_code), 7)?;
        s += &fixed(p, "unit_price_fen", u64::from(self.unit_price_fen), 6)?;
        s += &mode.to_string();
        s += "000000"; // special info 1/2/3
        s += &fixed(p, "shelf_life_days", u64::from(self.shelf_life_days), 3)?;
        s += "00"; // shop no.
        s += "00"; // department
        s += "0000000000000"; // 13-digit number
        s += &fixed(p, "tare_grams", u64::from(self.tare_grams), 5)?;
        s += &fixed(p, "label_no", u64::from(self.label_no), 2)?;
        s += &"0".repeat(26); // discount flag + four time bands
        s.push('B');
        s += &quwei_encode(&self.name)?;
        s += "CDE";
        Ok(s)
    }

    /// Parse a `!0V` command (the simulator's side). Names come back full-width where the
    /// sender widened ASCII.
    pub fn parse_command(cmd: &str) -> Option<PluRecord> {
        let rest = cmd.strip_prefix("!0V")?;
        let b = rest.as_bytes();
        if b.len() < 79 || b[4] != b'A' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| rest.get(r)?.parse::<u32>().ok();
        let name_start = 79;
        if b[name_start - 1] != b'B' {
            return None;
        }
        let name_end = name_start + rest.get(name_start..)?.find('C')?;
        Some(PluRecord {
            plu: num(0..4)? as u16,
            item_code: num(5..12)?,
            unit_price_fen: num(12..18)?,
            mode: match num(18..19)? {
                0 => WeighMode::Weighed,
                1 => WeighMode::Counted,
                2 => WeighMode::FixedWeight,
                _ => return None,
            },
            shelf_life_days: num(25..28)? as u16,
            tare_grams: num(45..50)?,
            label_no: num(50..52)? as u8,
            name: quwei_decode(rest.get(name_start..name_end)?).ok()?,
        })
    }
}

/// Host-side codec: commands out, replies (text before `CR LF ETX`) in.
#[derive(Debug, Default)]
pub struct DahuaCodec {
    stats: DecodeStats,
}

impl DahuaCodec {
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }
}

impl Decoder for DahuaCodec {
    type Item = String;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<String>, std::io::Error> {
        if let Some(i) = src.windows(3).position(|w| w == REPLY_END) {
            let reply = src.split_to(i);
            src.advance(3);
            self.stats.frame();
            return Ok(Some(String::from_utf8_lossy(&reply).into_owned()));
        }
        if src.len() > MAX_REPLY {
            let n = src.len() - 2;
            src.advance(n);
            self.stats.bad(n);
        }
        Ok(None)
    }
}

impl Encoder<&str> for DahuaCodec {
    type Error = std::io::Error;
    fn encode(&mut self, item: &str, dst: &mut BytesMut) -> std::io::Result<()> {
        dst.put_slice(item.as_bytes());
        dst.put_slice(b"\r\n");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quwei_matches_documented_examples() {
        assert_eq!(quwei_encode("苹果").unwrap(), "38272591");
        assert_eq!(quwei_encode("A").unwrap(), "0333");
        assert_eq!(quwei_encode(" ").unwrap(), "0101");
        assert_eq!(quwei_decode("38272591").unwrap(), "苹果");
        assert!(matches!(quwei_encode("€"), Err(DahuaError::NotGb2312('€'))));
        // In GBK but not GB2312 (traditional 蘋): no 区位 code.
        assert!(quwei_encode("蘋").is_err());
        assert!(quwei_decode("123").is_err());
        assert!(quwei_decode("9901").is_err());
    }

    #[test]
    fn plu_record_is_byte_exact() {
        let r = PluRecord {
            plu: 1,
            item_code: 1001,
            unit_price_fen: 2000,
            mode: WeighMode::Weighed,
            shelf_life_days: 3,
            tare_grams: 0,
            label_no: 1,
            name: "苹果".into(),
        };
        let cmd = r.command().unwrap();
        let want = [
            "!0V",
            "0001",
            "A",
            "0001001",
            "002000",
            "0",
            "000000",
            "003",
            "00",
            "00",
            "0000000000000",
            "00000",
            "01",
            &"0".repeat(26),
            "B",
            "38272591",
            "CDE",
        ]
        .concat();
        assert_eq!(cmd, want);
        assert_eq!(PluRecord::parse_command(&cmd), Some(r));
        let mut c = DahuaCodec::default();
        let mut dst = BytesMut::new();
        c.encode(CLEAR_ALL_PLUS, &mut dst).unwrap();
        assert_eq!(&dst[..], b"!0IA\r\n");
    }

    #[test]
    fn out_of_range_fields_are_refused() {
        let mut r = PluRecord {
            plu: 4001,
            item_code: 1,
            unit_price_fen: 1,
            mode: WeighMode::Counted,
            shelf_life_days: 0,
            tare_grams: 0,
            label_no: 0,
            name: "x".into(),
        };
        assert_eq!(r.command(), Err(DahuaError::PluRange(4001)));
        r.plu = 5;
        r.unit_price_fen = 1_000_000;
        assert!(matches!(
            r.command(),
            Err(DahuaError::FieldTooLarge {
                field: "unit_price_fen",
                ..
            })
        ));
    }

    #[test]
    fn replies_split_on_crlf_etx() {
        let mut c = DahuaCodec::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in b"OK\r\n\x03\r\n\x030v0001\r\n\x03" {
            buf.put_u8(*b);
            while let Some(r) = c.decode(&mut buf).unwrap() {
                got.push(r);
            }
        }
        assert_eq!(got, vec!["OK", "", "0v0001"]);
    }

    proptest! {
        #[test]
        fn plu_round_trips(plu in 1u16..=4000, item in 0u32..9_999_999, price in 0u32..999_999,
                           name in "[a-zA-Z0-9 ]{0,6}", cn in proptest::sample::select(vec!["猪肉", "鲜鱼", "青菜", ""])) {
            let name = format!("{cn}{name}");
            let r = PluRecord { plu, item_code: item, unit_price_fen: price, mode: WeighMode::Weighed,
                shelf_life_days: 7, tare_grams: 12, label_no: 2, name: name.clone() };
            let back = PluRecord::parse_command(&r.command().unwrap()).unwrap();
            let widened: String = name.chars().map(widen).collect();
            prop_assert_eq!(back.name, widened);
            prop_assert_eq!(back.plu, plu);
            prop_assert_eq!(back.unit_price_fen, price);
        }

        #[test]
        fn arbitrary_replies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut c = DahuaCodec::default();
            let mut buf = BytesMut::from(&bytes[..]);
            while c.decode(&mut buf).unwrap().is_some() {}
            let _ = PluRecord::parse_command(&String::from_utf8_lossy(&bytes));
        }
    }
}
