//! Decoder throughput: how much CPU one frame costs, to put the 20 Hz scale stream in scale.

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use device_drivers::scale::continuous::{self, ContinuousCodec, ContinuousConfig};
use device_drivers::scale::mtsics::{self, MtSicsCodec, MtSicsReply};
use device_drivers::scanner::line::{LineScanCodec, Suffix};
use std::hint::black_box;
use tokio_util::codec::{Decoder, Encoder};

const FRAMES: usize = 1000;

fn decode_all<D: Decoder>(codec: &mut D, bytes: &[u8]) -> usize {
    let mut buf = BytesMut::from(bytes);
    let mut n = 0;
    while let Ok(Some(item)) = codec.decode(&mut buf) {
        black_box(item);
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let cfg = ContinuousConfig::default();
    let mut cont = BytesMut::new();
    for i in 0..FRAMES {
        cont.extend_from_slice(b"\xff\x00");
        continuous::encode_frame(
            &cfg,
            &continuous::frame_for(i as i64, 0, false, false),
            &mut cont,
        );
    }
    let mut sics = BytesMut::new();
    for i in 0..FRAMES {
        mtsics::encode_reply(
            &MtSicsReply::Weight {
                stable: true,
                grams: i as i64,
            },
            &mut sics,
        );
    }
    let mut scans = BytesMut::new();
    let mut enc = LineScanCodec::new(Suffix::Cr, false);
    for _ in 0..FRAMES {
        enc.encode("https://trace.example.cn/t/0012345678", &mut scans)
            .expect("encode");
    }
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(FRAMES as u64));
    g.bench_function("toledo_continuous_with_noise", |b| {
        b.iter(|| assert_eq!(decode_all(&mut ContinuousCodec::new(cfg), &cont), FRAMES))
    });
    g.bench_function("mt_sics_weight_lines", |b| {
        b.iter(|| assert_eq!(decode_all(&mut MtSicsCodec::new(), &sics), FRAMES))
    });
    g.bench_function("scanner_cr_lines", |b| {
        b.iter(|| {
            assert_eq!(
                decode_all(&mut LineScanCodec::new(Suffix::Cr, false), &scans),
                FRAMES
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
