//! Counters every decoder keeps: what it accepted and what it threw away.
//!
//! Why: bad bytes (noise on a long RS-232 cable, a frame cut by a reconnect, a bad checksum)
//! must never become a reading, but silently dropping them hides a failing cable. So decoders
//! skip them *and count them*; the device manager reports the counters as health.

use serde::{Deserialize, Serialize};

/// What a decoder has seen since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecodeStats {
    /// Frames decoded and handed on.
    pub frames: u64,
    /// Frames that looked like frames but failed validation (checksum, layout, unknown reply).
    pub bad_frames: u64,
    /// Bytes dropped outside any frame (noise, partial frames at resync).
    pub skipped_bytes: u64,
}

impl DecodeStats {
    pub(crate) fn frame(&mut self) {
        self.frames += 1;
    }
    pub(crate) fn bad(&mut self, bytes: usize) {
        self.bad_frames += 1;
        self.skipped_bytes += bytes as u64;
    }
    pub(crate) fn skip(&mut self, bytes: usize) {
        self.skipped_bytes += bytes as u64;
    }
    /// Sum of two counters (a driver reconnects with a fresh codec; the manager keeps totals).
    pub fn merged(self, other: DecodeStats) -> DecodeStats {
        DecodeStats {
            frames: self.frames + other.frames,
            bad_frames: self.bad_frames + other.bad_frames,
            skipped_bytes: self.skipped_bytes + other.skipped_bytes,
        }
    }
}
