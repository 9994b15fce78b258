//! Fuzz: arbitrary bytes, split into arbitrary chunks, never panic the decoder and never yield
//! an item that breaks its own invariants.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;
use device_drivers::scale::continuous::ContinuousCodec;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let mut codec = ContinuousCodec::default();
    let mut buf = BytesMut::new();
    for part in rest.chunks(usize::from(chunk).max(1)) {
        buf.extend_from_slice(part);
        while let Ok(Some(item)) = codec.decode(&mut buf) {
            let _ = item.reading(codec.config());
        }
    }
    let stats = codec.stats();
    assert!(stats.skipped_bytes <= rest.len() as u64);
});
