//! Real-time status (`DLE EOT n`) replies decoded into a [`PrinterStatus`] value.
//!
//! Why values: "paper out" is the printer telling us something true about the world, and the
//! stall workflow must act on it (mark the ticket uncertain, offer a 补打 reprint); it is not a
//! failure of our code or of the link. Errors are kept for the link itself (timeout, EOF).
//!
//! Every reply byte has the fixed pattern `0xx1xx10` (bit 0 clear, bit 1 set, bit 4 set, bit 7
//! clear), which is how a reply is told apart from line noise or a stray Automatic Status Back
//! frame.

/// The four requests, in the order [`PrinterStatus::from_replies`] expects their replies.
pub const STATUS_REQUESTS: [u8; 12] = [0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 3, 0x10, 0x04, 4];

/// Is `b` shaped like a `DLE EOT` reply?
pub fn is_reply(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0010
}

/// What the printer reported. Several conditions can hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    /// n=1 bit 3: the printer is offline (not printing).
    pub offline: bool,
    /// n=2 bit 2.
    pub cover_open: bool,
    /// n=4 bits 2–3: the paper roll is nearly used up (still prints).
    pub paper_near_end: bool,
    /// n=2 bit 5 or n=4 bits 5–6: printing stopped because the paper ran out.
    pub paper_out: bool,
    /// n=2 bit 6 or any n=3 error bit.
    pub error: bool,
    /// n=3 bit 3: the auto-cutter jammed.
    pub cutter_error: bool,
    /// n=3 bit 5: an error only a power cycle clears.
    pub unrecoverable: bool,
}

/// The one condition to show a merchant, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterState {
    Online,
    PaperNearEnd,
    Offline,
    PaperOut,
    CoverOpen,
    Error,
}

impl PrinterStatus {
    /// From the replies to `DLE EOT` 1, 2, 3 and 4, in that order.
    pub fn from_replies(r: [u8; 4]) -> Self {
        let bit = |b: u8, n: u8| b & (1 << n) != 0;
        let [p, off, err, paper] = r;
        PrinterStatus {
            offline: bit(p, 3),
            cover_open: bit(off, 2),
            paper_near_end: bit(paper, 2) || bit(paper, 3),
            paper_out: bit(off, 5) || bit(paper, 5) || bit(paper, 6),
            error: bit(off, 6) || bit(err, 2) || bit(err, 3) || bit(err, 5) || bit(err, 6),
            cutter_error: bit(err, 3),
            unrecoverable: bit(err, 5),
        }
    }

    /// The replies a printer in this state sends (used by the simulator).
    pub fn to_replies(&self) -> [u8; 4] {
        let base = 0b0001_0010u8;
        let set = |on: bool, mask: u8| if on { mask } else { 0 };
        [
            base | set(
                self.offline || self.cover_open || self.paper_out || self.error,
                0x08,
            ),
            base | set(self.cover_open, 0x04) | set(self.paper_out, 0x20) | set(self.error, 0x40),
            base | set(self.cutter_error, 0x08)
                | set(self.unrecoverable, 0x20)
                | set(
                    self.error && !self.cutter_error && !self.unrecoverable,
                    0x04,
                ),
            base | set(self.paper_near_end, 0x0c) | set(self.paper_out, 0x60),
        ]
    }

    /// The reply to one `DLE EOT n` (n outside 1..=4 gets none).
    pub fn reply(&self, n: u8) -> Option<u8> {
        let r = self.to_replies();
        match n {
            1..=4 => Some(r[usize::from(n - 1)]),
            _ => None,
        }
    }

    /// Will a job sent now be printed?
    pub fn ready(&self) -> bool {
        !(self.offline || self.cover_open || self.paper_out || self.error)
    }

    pub fn online(&self) -> bool {
        !self.offline
    }

    pub fn state(&self) -> PrinterState {
        if self.error {
            PrinterState::Error
        } else if self.cover_open {
            PrinterState::CoverOpen
        } else if self.paper_out {
            PrinterState::PaperOut
        } else if self.offline {
            PrinterState::Offline
        } else if self.paper_near_end {
            PrinterState::PaperNearEnd
        } else {
            PrinterState::Online
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_epson_reply() {
        // A healthy Epson answers 0x16 to DLE EOT 1 (drawer pin high sets bit 2).
        let s = PrinterStatus::from_replies([0x16, 0x12, 0x12, 0x12]);
        assert_eq!(s, PrinterStatus::default());
        assert!(s.ready() && s.online());
        assert_eq!(s.state(), PrinterState::Online);
    }

    #[test]
    fn each_condition_from_its_bits() {
        let s = PrinterStatus::from_replies([0x1a, 0x32, 0x12, 0x72]);
        assert!(s.offline && s.paper_out && !s.cover_open);
        assert_eq!(s.state(), PrinterState::PaperOut);
        let s = PrinterStatus::from_replies([0x1a, 0x16, 0x12, 0x12]);
        assert!(s.cover_open && s.offline);
        assert_eq!(s.state(), PrinterState::CoverOpen);
        let s = PrinterStatus::from_replies([0x12, 0x12, 0x12, 0x1e]);
        assert!(s.paper_near_end && s.ready());
        assert_eq!(s.state(), PrinterState::PaperNearEnd);
        let s = PrinterStatus::from_replies([0x1a, 0x52, 0x1a, 0x12]);
        assert!(s.error && s.cutter_error && !s.ready());
        assert_eq!(s.state(), PrinterState::Error);
    }

    #[test]
    fn replies_round_trip_and_have_the_fixed_pattern() {
        for bits in 0u8..128 {
            let s = PrinterStatus {
                offline: bits & 1 != 0,
                cover_open: bits & 2 != 0,
                paper_near_end: bits & 4 != 0,
                paper_out: bits & 8 != 0,
                error: bits & 16 != 0,
                cutter_error: bits & 32 != 0,
                unrecoverable: bits & 64 != 0,
            };
            let r = s.to_replies();
            assert!(r.iter().all(|&b| is_reply(b)), "{r:02x?}");
            let back = PrinterStatus::from_replies(r);
            // The wire folds "offline" into any stop condition, and error into its causes.
            assert_eq!(back.offline, s.offline || !s.ready());
            assert_eq!(back.cover_open, s.cover_open);
            assert_eq!(back.paper_near_end, s.paper_near_end);
            assert_eq!(back.paper_out, s.paper_out);
            assert_eq!(back.cutter_error, s.cutter_error);
            assert_eq!(back.unrecoverable, s.unrecoverable);
            assert_eq!(back.error, s.error || s.cutter_error || s.unrecoverable);
        }
        assert!(!is_reply(0x00) && !is_reply(0xff) && !is_reply(0x13) && is_reply(0x12));
    }
}
