//! Fuzzes the ESC/POS parser: any bytes, any chunking, must never panic, and chunking must not
//! change what is parsed. The simulator's page renderer consumes the elements too.
#![no_main]

use device_drivers::printer::Parser;
use device_drivers::printer::sim::render::Page;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let parse = |size: usize| {
        let mut p = Parser::new();
        let mut out = Vec::new();
        for c in bytes.chunks(size) {
            p.push(c);
            while let Some(e) = p.next_element() {
                out.push(e);
            }
        }
        while let Some(e) = p.finish() {
            out.push(e);
        }
        (out, p.stats())
    };
    let (a, sa) = parse(chunk);
    let (b, sb) = parse(bytes.len().max(1));
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    let mut page = Page::new(384, None, true);
    for e in &a {
        page.apply(e);
    }
    let _ = page.cut();
});
