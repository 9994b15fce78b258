//! Fuzz: arbitrary key events never panic the keyboard-wedge decoder.
#![no_main]

use device_drivers::scanner::keymap::{KeyDecoder, Terminator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = KeyDecoder::new(Terminator::Enter);
    for ev in data.chunks_exact(3) {
        let code = u16::from_le_bytes([ev[0], ev[1] & 0x01]);
        if let Some(text) = d.feed(code, i32::from(ev[2] % 3)) {
            assert!(!text.is_empty());
        }
    }
    let _ = d.take_partial();
});
