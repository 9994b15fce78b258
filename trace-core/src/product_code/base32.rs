//! The code alphabet and its check character.
//!
//! Crockford's base 32 (`0-9`, `A-Z` without `I L O U`): 5 bits per character, so a packed
//! number becomes a fixed-width string with plain shifts; no two symbols look alike, and a
//! person typing `o`, `i` or `l` is read as `0`, `1`, `1`. Upper case only on output, any case on
//! input (QR alphanumeric mode is upper case, which keeps the QR small).
//!
//! The check character uses the ISO/IEC 7064 hybrid system with modulus pair (33, 32): every
//! single-character substitution changes it (the per-character step is a bijection on the
//! state because 2 is invertible mod 33), and most adjacent transpositions do. Its job is to
//! turn a smudged or mistyped code into "malformed" before any key or database is touched.

pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

const INVALID: u8 = 0xFF;

/// Symbol value of an input byte (case-insensitive, with Crockford's look-alike mapping).
const DECODE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 32 {
        let c = ALPHABET[i];
        t[c as usize] = i as u8;
        t[c.to_ascii_lowercase() as usize] = i as u8;
        i += 1;
    }
    t[b'O' as usize] = 0;
    t[b'o' as usize] = 0;
    t[b'I' as usize] = 1;
    t[b'i' as usize] = 1;
    t[b'L' as usize] = 1;
    t[b'l' as usize] = 1;
    t
};

/// The value (0..32) of one symbol, `None` for anything outside the alphabet.
pub fn value(b: u8) -> Option<u8> {
    let v = DECODE[usize::from(b)];
    (v != INVALID).then_some(v)
}

/// Append `v` as exactly `width` symbols (most significant first). `v` must fit.
pub fn push_fixed(out: &mut String, v: u128, width: usize) {
    let mut buf = [0u8; 26];
    let mut x = v;
    for slot in buf[..width].iter_mut().rev() {
        *slot = ALPHABET[(x & 31) as usize];
        x >>= 5;
    }
    debug_assert_eq!(x, 0, "value does not fit {width} symbols");
    // Symbols are ASCII.
    for &b in &buf[..width] {
        out.push(char::from(b));
    }
}

/// Read exactly the symbols of `s` as one number. `None` on a symbol outside the alphabet or
/// more than 25 symbols (125 bits).
pub fn read_fixed(s: &[u8]) -> Option<u128> {
    if s.len() > 25 {
        return None;
    }
    s.iter()
        .try_fold(0u128, |acc, &b| Some((acc << 5) | u128::from(value(b)?)))
}

/// Running state of the ISO 7064 hybrid MOD 33,32 check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check(u8);

impl Default for Check {
    fn default() -> Self {
        Check(32)
    }
}

impl Check {
    #[inline]
    pub fn feed(self, v: u8) -> Check {
        let mut s = (self.0 + v) % 32;
        if s == 0 {
            s = 32;
        }
        Check(((u16::from(s) * 2) % 33) as u8)
    }

    pub fn feed_all(self, symbols: &[u8]) -> Option<Check> {
        symbols
            .iter()
            .try_fold(self, |c, &b| Some(c.feed(value(b)?)))
    }

    /// The check symbol's value: the one that makes `(state + c) mod 32 == 1`.
    pub fn symbol(self) -> u8 {
        ((33 - u16::from(self.0)) % 32) as u8
    }

    pub fn symbol_char(self) -> char {
        char::from(ALPHABET[usize::from(self.symbol())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_ok(s: &[u8]) -> bool {
        let (body, c) = s.split_at(s.len() - 1);
        Check::default()
            .feed_all(body)
            .is_some_and(|st| Some(st.symbol()) == value(c[0]))
    }

    #[test]
    fn fixed_width_round_trip() {
        for v in [0u128, 1, 31, 32, 12345678901234567890, (1u128 << 125) - 1] {
            let mut s = String::new();
            push_fixed(&mut s, v, 25);
            assert_eq!(s.len(), 25);
            assert_eq!(read_fixed(s.as_bytes()), Some(v));
            assert_eq!(read_fixed(s.to_ascii_lowercase().as_bytes()), Some(v));
        }
        assert_eq!(read_fixed(b"0U"), None);
        assert_eq!(read_fixed(b"o1"), read_fixed(b"01"));
    }

    #[test]
    fn check_catches_every_substitution_and_most_swaps() {
        let body = b"GZ0A01K7Q3MXZ9D2";
        let mut code = body.to_vec();
        code.push(Check::default().feed_all(body).unwrap().symbol_char() as u8);
        assert!(check_ok(&code));
        for pos in 0..code.len() {
            for &c in ALPHABET {
                if c == code[pos] {
                    continue;
                }
                let mut bad = code.clone();
                bad[pos] = c;
                assert!(
                    !check_ok(&bad),
                    "{} accepted",
                    String::from_utf8_lossy(&bad)
                );
            }
        }
        let mut missed = 0;
        for pos in 0..code.len() - 1 {
            let mut bad = code.clone();
            bad.swap(pos, pos + 1);
            if bad != code && check_ok(&bad) {
                missed += 1;
            }
        }
        assert!(missed <= 1, "{missed} adjacent swaps missed");
    }
}
