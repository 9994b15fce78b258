//! Key events → text for USB HID keyboard-wedge scanners (US layout).
//!
//! A keyboard-wedge scanner "types" the code: press/release events with Linux key codes
//! (`input-event-codes.h`), shift held for capitals and for `: / ? = & _` in URLs, then Enter.
//! Pure and unit-tested; the evdev reader only feeds it.
//!
//! Design: a small state machine — shift keys (left/right) and caps lock are state; a press
//! (value 1) or autorepeat (2) of a printable key appends a character; Enter / keypad Enter
//! (and Tab when configured) ends the code. Unknown keys are counted, not guessed.

use serde::{Deserialize, Serialize};

pub const KEY_TAB: u16 = 15;
pub const KEY_ENTER: u16 = 28;
pub const KEY_LEFTSHIFT: u16 = 42;
pub const KEY_RIGHTSHIFT: u16 = 54;
pub const KEY_CAPSLOCK: u16 = 58;
pub const KEY_KPENTER: u16 = 96;

/// Which key ends a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Terminator {
    #[default]
    Enter,
    Tab,
    /// Only the inter-key timeout ends a code.
    None,
}

/// (unshifted, shifted) characters of a key code.
pub fn key_chars(code: u16) -> Option<(char, char)> {
    const ROW_DIGITS: &[u8] = b"1234567890-=";
    const ROW_DIGITS_SHIFT: &[u8] = b"!@#$%^&*()_+";
    const ROW_Q: &[u8] = b"qwertyuiop[]";
    const ROW_Q_SHIFT: &[u8] = b"QWERTYUIOP{}";
    const ROW_A: &[u8] = b"asdfghjkl;'`";
    const ROW_A_SHIFT: &[u8] = b"ASDFGHJKL:\"~";
    const ROW_Z: &[u8] = b"\\zxcvbnm,./";
    const ROW_Z_SHIFT: &[u8] = b"|ZXCVBNM<>?";
    let pick = |row: &[u8], shifted: &[u8], i: usize| Some((row[i] as char, shifted[i] as char));
    match code {
        2..=13 => pick(ROW_DIGITS, ROW_DIGITS_SHIFT, usize::from(code - 2)),
        16..=27 => pick(ROW_Q, ROW_Q_SHIFT, usize::from(code - 16)),
        30..=41 => pick(ROW_A, ROW_A_SHIFT, usize::from(code - 30)),
        43..=53 => pick(ROW_Z, ROW_Z_SHIFT, usize::from(code - 43)),
        57 => Some((' ', ' ')),
        // Keypad: digits, operators, dot (num lock assumed on, as scanners send them).
        55 => Some(('*', '*')),
        74 => Some(('-', '-')),
        78 => Some(('+', '+')),
        98 => Some(('/', '/')),
        83 => Some(('.', '.')),
        71..=73 | 75..=77 | 79..=82 => {
            let d = match code {
                71 => '7',
                72 => '8',
                73 => '9',
                75 => '4',
                76 => '5',
                77 => '6',
                79 => '1',
                80 => '2',
                81 => '3',
                _ => '0',
            };
            Some((d, d))
        }
        _ => None,
    }
}

/// The decoder's state.
#[derive(Debug, Default, Clone)]
pub struct KeyDecoder {
    terminator: Terminator,
    left_shift: bool,
    right_shift: bool,
    caps_lock: bool,
    text: String,
    /// Key presses that map to nothing (function keys, modifiers we ignore).
    pub unknown_keys: u64,
}

impl KeyDecoder {
    pub fn new(terminator: Terminator) -> Self {
        Self {
            terminator,
            ..Default::default()
        }
    }

    fn shifted(&self) -> bool {
        self.left_shift || self.right_shift
    }

    /// Feed one EV_KEY event (`value`: 0 release, 1 press, 2 autorepeat). Returns a finished
    /// code when the terminator key is pressed.
    pub fn feed(&mut self, code: u16, value: i32) -> Option<String> {
        let pressed = value != 0;
        match code {
            KEY_LEFTSHIFT => self.left_shift = pressed,
            KEY_RIGHTSHIFT => self.right_shift = pressed,
            _ if !pressed => {}
            KEY_CAPSLOCK if value == 1 => self.caps_lock = !self.caps_lock,
            KEY_ENTER | KEY_KPENTER if self.terminator == Terminator::Enter => {
                return self.take_partial();
            }
            KEY_TAB if self.terminator == Terminator::Tab => return self.take_partial(),
            KEY_TAB => self.text.push('\t'),
            _ => match key_chars(code) {
                Some((lower, upper)) => {
                    let letter = lower.is_ascii_lowercase();
                    let shift = if letter {
                        self.shifted() ^ self.caps_lock
                    } else {
                        self.shifted()
                    };
                    self.text.push(if shift { upper } else { lower });
                }
                None => self.unknown_keys += 1,
            },
        }
        None
    }

    /// The code typed so far, if any (the inter-key timeout expired). Shift state is kept:
    /// a real key is still held.
    pub fn take_partial(&mut self) -> Option<String> {
        if self.text.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.text))
        }
    }

    pub fn has_partial(&self) -> bool {
        !self.text.is_empty()
    }
}

/// Key events that type `text` (press/release, shift around shifted characters), for tests
/// and for a uinput-based simulator. Characters outside the US layout are skipped.
pub fn events_for(text: &str) -> Vec<(u16, i32)> {
    let mut out = Vec::new();
    for c in text.chars() {
        let found = (0u16..120).find_map(|code| match key_chars(code) {
            Some((l, _)) if l == c => Some((code, false)),
            Some((_, u)) if u == c => Some((code, true)),
            _ => None,
        });
        let Some((code, shift)) = found else { continue };
        if shift {
            out.push((KEY_LEFTSHIFT, 1));
        }
        out.push((code, 1));
        out.push((code, 0));
        if shift {
            out.push((KEY_LEFTSHIFT, 0));
        }
    }
    out.push((KEY_ENTER, 1));
    out.push((KEY_ENTER, 0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn type_events(d: &mut KeyDecoder, evs: &[(u16, i32)]) -> Vec<String> {
        evs.iter().filter_map(|(c, v)| d.feed(*c, *v)).collect()
    }

    #[test]
    fn digits_and_enter() {
        let mut d = KeyDecoder::default();
        // 6 9 0 1 Enter, with releases.
        let evs = [
            (7, 1),
            (7, 0),
            (10, 1),
            (10, 0),
            (11, 1),
            (11, 0),
            (2, 1),
            (2, 0),
            (KEY_ENTER, 1),
            (KEY_ENTER, 0),
        ];
        assert_eq!(type_events(&mut d, &evs), vec!["6901"]);
    }

    #[test]
    fn shift_for_url_punctuation_and_capitals() {
        let mut d = KeyDecoder::default();
        let url = "https://T.example.cn/t?c=12&x=A_b";
        assert_eq!(type_events(&mut d, &events_for(url)), vec![url]);
        // Right shift works too.
        let evs = [
            (KEY_RIGHTSHIFT, 1),
            (30, 1),
            (30, 0),
            (KEY_RIGHTSHIFT, 0),
            (30, 1),
            (KEY_KPENTER, 1),
        ];
        assert_eq!(type_events(&mut d, &evs), vec!["Aa"]);
    }

    #[test]
    fn caps_lock_affects_letters_only() {
        let mut d = KeyDecoder::default();
        let evs = [
            (KEY_CAPSLOCK, 1),
            (KEY_CAPSLOCK, 0),
            (30, 1),
            (2, 1),
            (KEY_LEFTSHIFT, 1),
            (30, 1),
            (KEY_ENTER, 1),
        ];
        assert_eq!(type_events(&mut d, &evs), vec!["A1a"]);
    }

    #[test]
    fn keypad_tab_terminator_and_unknown_keys() {
        let mut d = KeyDecoder::new(Terminator::Tab);
        let evs = [
            (79, 1),
            (82, 1),
            (83, 1),
            (59, 1),
            (KEY_ENTER, 1),
            (KEY_TAB, 1),
        ];
        assert_eq!(type_events(&mut d, &evs), vec!["10."]);
        // F1 (59) and Enter (not the terminator here) are unknown.
        assert_eq!(d.unknown_keys, 2);
        assert_eq!(d.take_partial(), None);
    }

    #[test]
    fn partial_codes_flush_on_timeout() {
        let mut d = KeyDecoder::default();
        d.feed(2, 1);
        d.feed(3, 2); // autorepeat counts
        assert!(d.has_partial());
        assert_eq!(d.take_partial().as_deref(), Some("12"));
        assert!(!d.has_partial());
    }

    proptest! {
        #[test]
        fn any_ascii_round_trips(text in "[ -~]{1,60}") {
            let mut d = KeyDecoder::default();
            prop_assert_eq!(type_events(&mut d, &events_for(&text)), vec![text]);
        }

        #[test]
        fn arbitrary_events_never_panic(evs in proptest::collection::vec((0u16..600, -1i32..3), 0..200)) {
            let mut d = KeyDecoder::default();
            let _ = type_events(&mut d, &evs);
        }
    }
}
