//! Test helpers shared by the codec tests: feed a decoder one byte at a time, all at once, or in
//! arbitrary chunks, and collect what it yields.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

pub(crate) fn feed_chunks<D: Decoder>(d: &mut D, bytes: &[u8], chunk: usize) -> Vec<D::Item>
where
    D::Error: std::fmt::Debug,
{
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for c in bytes.chunks(chunk.max(1)) {
        buf.extend_from_slice(c);
        while let Some(f) = d.decode(&mut buf).unwrap() {
            out.push(f);
        }
    }
    out
}

/// The three feeding patterns every decoder must survive, checked to give the same frames.
pub(crate) fn assert_streams<D: Decoder + Default>(bytes: &[u8], expected: &[D::Item])
where
    D::Error: std::fmt::Debug,
    D::Item: PartialEq + std::fmt::Debug,
{
    for chunk in [1, 2, 3, 7, bytes.len().max(1)] {
        let got = feed_chunks(&mut D::default(), bytes, chunk);
        assert_eq!(got, expected, "chunk size {chunk}");
    }
}
