//! Fuzz the text_tcp coder decoder (one line codec serves both sides): any bytes, fed in
//! chunks whose size comes from the first input byte, must never panic, and a decoder never
//! holds more than it was given.
#![no_main]

use bytes::BytesMut;
use device_drivers::coder::text_tcp::TextLineCodec;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fn feed<D: Decoder>(mut d: D, data: &[u8], chunk: usize) {
    let mut buf = BytesMut::new();
    for c in data.chunks(chunk) {
        buf.extend_from_slice(c);
        while let Ok(Some(_)) = d.decode(&mut buf) {}
        assert!(buf.len() <= data.len());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 32) + 1;
    feed(TextLineCodec::default(), rest, chunk);
});
