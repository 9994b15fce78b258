//! Masking of personal numbers for display.
//!
//! Why: PIPL and GB/T 22239 level 2 expect ID and phone numbers to be minimised wherever they are
//! shown — screens, receipts, logs, exports for third parties. The masks keep enough digits for a
//! person to recognise their own number (`4401**********123X`, `138****5678`) and no more.

/// Keep the first `head` and last `tail` characters, replace the rest by `*`. Works on characters,
/// not bytes; a value too short to keep both ends is masked entirely.
pub fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// `4401**********123X`: first four (province and city) and last four kept.
pub fn mask_resident_id(s: &str) -> String {
    mask_middle(s, 4, 4)
}

/// `138****5678` for an 11-digit mobile number; other lengths keep at most 3 + 4 digits and
/// hide at least half. A `+86`-style prefix and separators are dropped first.
pub fn mask_phone(s: &str) -> String {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = match digits.strip_prefix("86") {
        Some(rest) if digits.len() == 13 => rest.to_owned(),
        _ => digits,
    };
    let n = digits.chars().count();
    if n == 11 {
        return mask_middle(&digits, 3, 4);
    }
    let keep = n / 2;
    let head = (keep / 2).min(3);
    let tail = (keep - head).min(4);
    mask_middle(&digits, head, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_resident_id("44010619900101123X"), "4401**********123X");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138-1234-5678"), "138****5678");
        // Landline 8 digits: half hidden.
        let m = mask_phone("87654321");
        assert_eq!(m.chars().filter(|&c| c == '*').count(), 4);
        assert_eq!(mask_phone("12"), "*2");
        assert_eq!(mask_middle("ab", 2, 2), "**");
        assert_eq!(mask_middle("张三丰", 1, 0), "张**");
    }
}
