//! Line framing shared by the text protocols (CLARiTY, text-tcp): a frame ends at CR or LF, an
//! over-long run without a terminator is junk and is dropped and counted instead of growing the
//! buffer forever.

use bytes::BytesMut;

/// Take the next non-empty line (without its terminator). Empty lines (the LF of a CRLF) are not
/// frames and not junk. Returns `None` when no complete line is buffered.
pub(crate) fn take_line(src: &mut BytesMut, max_len: usize, skipped: &mut u64) -> Option<BytesMut> {
    loop {
        match src.iter().position(|b| *b == b'\r' || *b == b'\n') {
            Some(0) => {
                let _ = src.split_to(1);
            }
            Some(n) => {
                let line = src.split_to(n);
                let _ = src.split_to(1);
                if line.len() > max_len {
                    *skipped += 1;
                    continue;
                }
                return Some(line);
            }
            None => {
                if src.len() > max_len {
                    src.clear();
                    *skipped += 1;
                }
                return None;
            }
        }
    }
}
