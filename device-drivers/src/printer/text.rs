//! Text for a Chinese-market ESC/POS printer: GB18030 bytes and column arithmetic.
//!
//! Why columns equal bytes: in Chinese mode (`FS &`) the printer draws a one-byte character as a
//! half-width cell (12 dots in font A) and a two-byte GBK character as a full-width cell
//! (24 dots). So a character's width in columns is exactly its encoded length, which is what
//! every layout computation here uses. Four-byte GB18030 sequences exist for the whole of
//! Unicode, but the font ROMs of these printers only hold the GBK repertoire, so such characters
//! (and control characters, which would be read as commands) are replaced before encoding.

use encoding_rs::GB18030;

/// The character printed in place of one the printer cannot draw.
pub const REPLACEMENT: char = '?';

/// Encodes one character: `None` when it is a control character or needs a four-byte sequence.
fn encode_char(c: char, out: &mut Vec<u8>) -> bool {
    if c.is_control() {
        return false;
    }
    if c.is_ascii() {
        out.push(c as u8);
        return true;
    }
    let mut tmp = [0u8; 4];
    let s = c.encode_utf8(&mut tmp);
    let (bytes, _, had_errors) = GB18030.encode(s);
    if had_errors || bytes.len() != 2 {
        return false;
    }
    out.extend_from_slice(&bytes);
    true
}

/// GB18030 (GBK subset) bytes of `s`, unprintable characters replaced by [`REPLACEMENT`].
pub fn encode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        if !encode_char(c, &mut out) {
            out.push(REPLACEMENT as u8);
        }
    }
    out
}

/// True when every character of `s` prints as itself (no replacement needed).
pub fn is_printable(s: &str) -> bool {
    let mut tmp = Vec::with_capacity(4);
    s.chars().all(|c| {
        tmp.clear();
        encode_char(c, &mut tmp)
    })
}

/// Columns one character takes on the paper: 1 for ASCII, 2 for a CJK (double-byte) one.
pub fn char_columns(c: char) -> usize {
    if c.is_ascii() { 1 } else { 2 }
}

/// Columns `s` takes on the paper.
pub fn columns(s: &str) -> usize {
    s.chars().map(char_columns).sum()
}

/// The longest prefix of `s` that fits in `cols` columns (never splits a CJK character).
pub fn truncate(s: &str, cols: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = char_columns(c);
        if used + w > cols {
            return &s[..i];
        }
        used += w;
    }
    s
}

/// `s` cut to `cols` columns and padded with spaces on the right to exactly `cols`.
pub fn pad_right(s: &str, cols: usize) -> String {
    let t = truncate(s, cols);
    let mut out = String::from(t);
    out.extend(std::iter::repeat_n(' ', cols - columns(t)));
    out
}

/// `s` cut to `cols` columns and padded with spaces on the left to exactly `cols`.
pub fn pad_left(s: &str, cols: usize) -> String {
    let t = truncate(s, cols);
    let mut out: String = std::iter::repeat_n(' ', cols - columns(t)).collect();
    out.push_str(t);
    out
}

/// `left` and `right` on one line of `cols` columns; `left` is shortened when both do not fit,
/// `right` (usually an amount) never is, and at least one space separates them.
pub fn two_columns(left: &str, right: &str, cols: usize) -> String {
    let rw = columns(right);
    if rw >= cols {
        return String::from(truncate(right, cols));
    }
    let room = cols - rw;
    let l = truncate(left, room.saturating_sub(1));
    let mut out = String::from(l);
    out.extend(std::iter::repeat_n(' ', room - columns(l)));
    out.push_str(right);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_two_bytes_and_two_columns() {
        assert_eq!(encode("鲜猪肉"), vec![0xcf, 0xca, 0xd6, 0xed, 0xc8, 0xe2]);
        assert_eq!(columns("鲜猪肉 1.5kg"), 12);
        assert_eq!(
            columns("：（）"),
            6,
            "full-width punctuation is double-byte too"
        );
    }

    #[test]
    fn unprintable_characters_are_replaced() {
        assert_eq!(encode("a\u{1b}b"), b"a?b");
        assert_eq!(
            encode("😀"),
            b"?",
            "a four-byte GB18030 character has no glyph in the ROM"
        );
        assert!(!is_printable("x\n"));
        assert!(is_printable("补打 REPRINT"));
    }

    #[test]
    fn truncation_never_splits_a_character() {
        assert_eq!(truncate("猪肉abc", 3), "猪");
        assert_eq!(truncate("猪肉abc", 5), "猪肉a");
        assert_eq!(pad_right("猪", 5), "猪   ");
        assert_eq!(pad_left("12.00", 7), "  12.00");
        assert_eq!(pad_right("猪肉猪肉", 5), "猪肉 ");
    }

    #[test]
    fn two_columns_keeps_the_amount() {
        assert_eq!(two_columns("合计", "29.64", 12), "合计   29.64");
        assert_eq!(
            columns(&two_columns("很长很长很长的名字", "1234.00", 16)),
            16
        );
        assert_eq!(
            two_columns("很长很长很长的名字", "1234.00", 16),
            "很长很长 1234.00"
        );
    }
}
