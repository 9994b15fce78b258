//! Generating encrypted unit codes (target ≥ 1,000,000 codes/s on one core) side by side with
//! the baseline: plain counter formatting into the same URL shape, no encryption.
//!
//! Both write into a reused `String`, as an export or a coder feed does, so the figures compare
//! the per-code work only.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Write;
use std::hint::black_box;
use trace_core::event::CodeLevel;
use trace_core::product_code::{
    CipherKind, CodeKey, CodeVars, Day, Field, Output, ProductCodec, Template,
};

const N: u64 = 10_000;

fn template(cipher: CipherKind) -> Template {
    Template {
        id: "milk-250ml-unit".into(),
        issuer: "GZ0A".into(),
        number: 1,
        level: CodeLevel::Unit,
        gtin: Some("6901234567892".into()),
        product_code: None,
        fields: vec![
            Field::Batch {
                max_len: 10,
                encrypted: false,
            },
            Field::ProductionDate { encrypted: true },
        ],
        serial_capacity: 1_000_000_000,
        code_length: 20,
        cipher,
        output: Output::DigitalLink {
            host: "id.example.com".into(),
        },
    }
}

fn bench(c: &mut Criterion) {
    let vars = CodeVars {
        batch: Some("B20261122".into()),
        production_date: Day::parse("2026-11-22").ok(),
        expiry_date: None,
    };
    let key = CodeKey::derive(&[7; 32], "GZ0A", 1);
    let mut g = c.benchmark_group("unit_codes");
    g.throughput(Throughput::Elements(N));
    // Baseline: the same URL with the serial as a plain zero-padded counter.
    g.bench_function("baseline_plain_counter", |b| {
        let mut out = String::with_capacity(96);
        b.iter(|| {
            for s in 0..N {
                out.clear();
                let _ = write!(
                    out,
                    "https://id.example.com/01/06901234567892/10/B20261122/21/{:014}",
                    black_box(s)
                );
                black_box(&out);
            }
        })
    });
    for (name, cipher) in [
        ("encrypted_aes", CipherKind::Aes),
        ("encrypted_sm4", CipherKind::Sm4),
    ] {
        let codes = ProductCodec::new(template(cipher), &key)
            .map(|c| c.for_batch(&vars))
            .expect("bench template is valid")
            .expect("bench batch is valid");
        g.bench_function(format!("{name}_one_by_one"), |b| {
            let mut out = String::with_capacity(96);
            b.iter(|| {
                for s in 0..N {
                    out.clear();
                    let _ = codes.write_code(black_box(s), &mut out);
                    black_box(&out);
                }
            })
        });
        // The export / coder-feed path: eight codes per round of block encryptions.
        g.bench_function(format!("{name}_each_code"), |b| {
            b.iter(|| {
                let _ = codes.each_code(black_box(0), N - 1, |s, c| {
                    black_box((s, c));
                });
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
