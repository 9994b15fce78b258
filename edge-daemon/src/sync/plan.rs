//! What to send next: the pure scheduling half of sync (no I/O, no clock of its own).
//!
//! Why separate: the rules (live-first after a connect, a bounded window of batches in flight,
//! re-sending what the cloud says is missing, trusting only the cloud's `Ack` hwm) are where
//! the bugs would be, and here they are tested without a broker.
//!
//! Design: the planner keeps
//! - `acked`: the cloud's contiguous high-water mark (every seq ≤ it is stored in the cloud);
//! - `frontier`: the highest seq ever scheduled on this connection;
//! - `queue`: ranges still to send, front first, of any length (cut into batches on demand,
//!   so a 1,000,000-entry backlog is one element);
//! - `inflight`: batches published and not yet answered, oldest first.
//!
//! The cloud handles one device's batches in arrival order and answers each with one `Ack`, so
//! an `Ack` answers the oldest batch in flight. Seqs it reports missing that are neither queued
//! nor still in flight were lost (refused, dropped by a broker with no subscriber) and go to
//! the front of the queue. If no `Ack` comes for too long, everything in flight is queued again:
//! duplicates are harmless (the cloud ingests idempotently), losses are not.

use std::collections::VecDeque;
use std::time::{Duration, Instant};
use trace_core::SeqRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flight {
    range: SeqRange,
    sent_at: Instant,
}

#[derive(Debug, Clone)]
pub struct Planner {
    batch: u64,
    window: usize,
    live: u64,
    acked: u64,
    frontier: u64,
    queue: VecDeque<SeqRange>,
    inflight: VecDeque<Flight>,
    /// Ack timeouts in a row with no ack in between: each doubles the next wait (up to
    /// [`MAX_BACKOFF_SHIFT`] doublings), so a batch the cloud refuses forever is not re-sent
    /// at full rate forever.
    strikes: u32,
    /// When the cloud last answered: timeouts count from the later of this and the oldest
    /// send, so a cloud that is slow but acking (a big backlog on a busy machine) is not
    /// flooded with re-sends of what it is about to ack.
    heard_at: Option<Instant>,
}

/// The wait for an ack grows to at most `timeout * 2^MAX_BACKOFF_SHIFT`.
pub const MAX_BACKOFF_SHIFT: u32 = 5;

impl Planner {
    /// `batch` entries per message, `window` batches in flight, `live` newest entries first
    /// after a connect (0: strictly oldest first).
    pub fn new(batch: usize, window: usize, live: u64) -> Planner {
        Planner {
            batch: u64::try_from(batch.max(1)).unwrap_or(u64::MAX),
            window: window.max(1),
            live,
            acked: 0,
            frontier: 0,
            queue: VecDeque::new(),
            inflight: VecDeque::new(),
            strikes: 0,
            heard_at: None,
        }
    }

    /// A new connection: forget everything in flight (the broker session is clean and the MQTT
    /// client's memory is not trusted) and plan from the ledger: the newest `live` entries,
    /// then the backlog from the oldest unsynced upwards.
    pub fn reset(&mut self, synced: u64, head: u64) {
        self.acked = synced;
        self.frontier = head.max(synced);
        self.queue.clear();
        self.inflight.clear();
        if head <= synced {
            return;
        }
        let live_from = if self.live == 0 {
            synced + 1
        } else {
            (head + 1).saturating_sub(self.live).max(synced + 1)
        };
        self.queue.push_back(SeqRange::new(live_from, head));
        if live_from > synced + 1 {
            self.queue
                .push_back(SeqRange::new(synced + 1, live_from - 1));
        }
    }

    /// New entries up to `head` were appended: they go first (live-first while draining).
    pub fn extend(&mut self, head: u64) {
        if head > self.frontier {
            self.queue
                .push_front(SeqRange::new(self.frontier + 1, head));
            self.frontier = head;
        }
    }

    /// The next batch to publish, if the window has room; it is then counted in flight.
    pub fn next(&mut self, now: Instant) -> Option<SeqRange> {
        if self.inflight.len() >= self.window {
            return None;
        }
        loop {
            let r = self.queue.pop_front()?;
            let from = r.from.max(self.acked + 1);
            if from > r.to {
                continue;
            }
            let to = r.to.min(from + self.batch - 1);
            if to < r.to {
                self.queue.push_front(SeqRange::new(to + 1, r.to));
            }
            let range = SeqRange::new(from, to);
            self.inflight.push_back(Flight {
                range,
                sent_at: now,
            });
            return Some(range);
        }
    }

    /// The cloud's `Ack`: `hwm` (already capped at the ledger head by the caller) and the
    /// ranges it lacks below its highest stored seq. Returns the new contiguous mark.
    pub fn on_ack(&mut self, hwm: u64, missing: &[SeqRange]) -> u64 {
        self.inflight.pop_front();
        self.strikes = 0;
        if hwm > self.acked {
            self.acked = hwm;
            self.frontier = self.frontier.max(hwm);
        }
        let acked = self.acked;
        self.inflight.retain(|f| f.range.to > acked);
        for r in &mut self.queue {
            r.from = r.from.max(acked + 1);
        }
        self.queue.retain(|r| !r.is_empty());
        let mut lost: Vec<SeqRange> = Vec::new();
        for m in missing {
            let m = SeqRange::new(m.from.max(acked + 1), m.to.min(self.frontier));
            if m.is_empty() {
                continue;
            }
            let covered = self
                .queue
                .iter()
                .copied()
                .chain(self.inflight.iter().map(|f| f.range));
            lost.extend(subtract(m, covered));
        }
        for r in lost.into_iter().rev() {
            self.queue.push_front(r);
        }
        self.acked
    }

    /// The cloud answered (an ack) at `now`.
    pub fn heard(&mut self, now: Instant) {
        self.heard_at = Some(now);
    }

    /// If the oldest batch in flight has waited longer than `timeout` (doubled for every
    /// timeout since the last ack), queue everything in flight again (in order, at the front).
    /// Returns how many batches were re-queued.
    pub fn expire(&mut self, now: Instant, timeout: Duration) -> usize {
        let wait = timeout.saturating_mul(1 << self.strikes.min(MAX_BACKOFF_SHIFT));
        let stale = self.inflight.front().is_some_and(|f| {
            let since = self.heard_at.map_or(f.sent_at, |h| h.max(f.sent_at));
            now.saturating_duration_since(since) >= wait
        });
        if !stale {
            return 0;
        }
        self.strikes = self.strikes.saturating_add(1);
        let n = self.inflight.len();
        for f in self.inflight.drain(..).rev() {
            self.queue.push_front(f.range);
        }
        n
    }

    /// Ack timeouts in a row (0 after any ack).
    pub fn strikes(&self) -> u32 {
        self.strikes
    }

    /// The oldest batch in flight (the one an ack is awaited for).
    pub fn oldest_in_flight(&self) -> Option<SeqRange> {
        self.inflight.front().map(|f| f.range)
    }

    pub fn acked(&self) -> u64 {
        self.acked
    }

    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    /// Nothing queued and nothing in flight.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.inflight.is_empty()
    }
}

/// `m` minus every range in `covered`, in ascending order.
pub fn subtract(m: SeqRange, covered: impl Iterator<Item = SeqRange>) -> Vec<SeqRange> {
    let mut cov: Vec<SeqRange> = covered
        .filter(|c| !c.is_empty() && c.to >= m.from && c.from <= m.to)
        .collect();
    cov.sort_unstable();
    let mut out = Vec::new();
    let mut next = m.from;
    for c in cov {
        if c.from > next {
            out.push(SeqRange::new(next, c.from - 1));
        }
        next = next.max(c.to.saturating_add(1));
        if next > m.to {
            return out;
        }
    }
    if next <= m.to {
        out.push(SeqRange::new(next, m.to));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(from: u64, to: u64) -> SeqRange {
        SeqRange::new(from, to)
    }

    fn drain(p: &mut Planner, now: Instant) -> Vec<SeqRange> {
        std::iter::from_fn(|| p.next(now)).collect()
    }

    #[test]
    fn live_first_then_backlog_from_the_oldest() {
        let mut p = Planner::new(100, 100, 50);
        p.reset(1_000, 1_450);
        let now = Instant::now();
        let sent = drain(&mut p, now);
        assert_eq!(sent[0], r(1_401, 1_450), "newest first");
        assert_eq!(sent[1], r(1_001, 1_100), "then the oldest unsynced");
        assert_eq!(*sent.last().unwrap(), r(1_301, 1_400));
        let total: u64 = sent.iter().map(SeqRange::len).sum();
        assert_eq!(total, 450, "every unsynced entry exactly once");
    }

    #[test]
    fn window_bounds_batches_in_flight_and_acks_open_it() {
        let mut p = Planner::new(10, 3, 0);
        p.reset(0, 100);
        let now = Instant::now();
        assert_eq!(drain(&mut p, now), vec![r(1, 10), r(11, 20), r(21, 30)]);
        assert_eq!(p.on_ack(10, &[]), 10);
        assert_eq!(drain(&mut p, now), vec![r(31, 40)]);
        assert_eq!(p.in_flight(), 3);
    }

    #[test]
    fn hwm_only_moves_forward_and_trims_the_queue() {
        let mut p = Planner::new(10, 10, 0);
        p.reset(0, 30);
        let now = Instant::now();
        p.next(now);
        assert_eq!(
            p.on_ack(25, &[]),
            25,
            "an earlier session already sent more"
        );
        assert_eq!(p.on_ack(3, &[]), 25);
        assert_eq!(drain(&mut p, now), vec![r(26, 30)]);
    }

    #[test]
    fn missing_ranges_not_in_flight_are_sent_again_first() {
        let mut p = Planner::new(10, 10, 0);
        p.reset(0, 40);
        let now = Instant::now();
        assert_eq!(drain(&mut p, now).len(), 4);
        // First batch lost; the cloud stored 11..=20 and reports 1..=10 missing. 21..40 are
        // still in flight, so only 1..=10 is re-sent.
        p.on_ack(0, &[r(1, 10)]);
        p.on_ack(0, &[r(1, 10)]);
        assert_eq!(drain(&mut p, now), vec![r(1, 10)]);
        assert_eq!(p.on_ack(40, &[]), 40);
    }

    #[test]
    fn live_batch_ack_does_not_resend_the_queued_backlog() {
        let mut p = Planner::new(10, 1, 10);
        p.reset(0, 100);
        let now = Instant::now();
        assert_eq!(p.next(now), Some(r(91, 100)));
        p.on_ack(0, &[r(1, 90)]);
        assert_eq!(drain(&mut p, now), vec![r(1, 10)], "backlog in order, once");
    }

    #[test]
    fn new_entries_jump_the_backlog() {
        let mut p = Planner::new(10, 1, 0);
        p.reset(0, 100);
        let now = Instant::now();
        assert_eq!(p.next(now), Some(r(1, 10)));
        p.extend(105);
        p.on_ack(10, &[]);
        assert_eq!(p.next(now), Some(r(101, 105)));
    }

    #[test]
    fn silence_requeues_everything_in_flight_in_order() {
        let mut p = Planner::new(10, 2, 0);
        p.reset(0, 30);
        let t0 = Instant::now();
        drain(&mut p, t0);
        let t = Duration::from_secs(5);
        assert_eq!(p.expire(t0 + Duration::from_secs(1), t), 0);
        assert_eq!(p.expire(t0 + t, t), 2);
        assert_eq!(drain(&mut p, t0 + t), vec![r(1, 10), r(11, 20)]);
    }

    #[test]
    fn timeouts_in_a_row_back_off_and_an_ack_resets_them() {
        let mut p = Planner::new(10, 1, 0);
        p.reset(0, 30);
        let t = Duration::from_secs(2);
        let mut now = Instant::now();
        // A batch the cloud never acks: re-sent after 2, 4, 8 ... s, capped.
        let mut waits = Vec::new();
        for _ in 0..8 {
            assert_eq!(p.next(now), Some(r(1, 10)));
            let mut waited = Duration::ZERO;
            while p.expire(now + waited, t) == 0 {
                waited += Duration::from_secs(1);
            }
            waits.push(waited.as_secs());
            now += waited;
        }
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 64, 64]);
        assert_eq!(p.strikes(), 8);
        // An ack: back to the plain timeout.
        assert_eq!(p.next(now), Some(r(1, 10)));
        p.on_ack(10, &[]);
        assert_eq!(p.strikes(), 0);
        assert_eq!(p.next(now), Some(r(11, 20)));
        assert_eq!(p.expire(now + t, t), 1);
    }

    #[test]
    fn acks_flowing_hold_off_the_timeout() {
        let mut p = Planner::new(10, 3, 0);
        p.reset(0, 100);
        let t0 = Instant::now();
        let t = Duration::from_secs(2);
        drain(&mut p, t0);
        p.heard(t0 + Duration::from_secs(1));
        p.on_ack(10, &[]);
        assert_eq!(p.expire(t0 + t, t), 0, "slow but acking: no re-send");
        assert_eq!(p.expire(t0 + Duration::from_secs(3), t), 2);
    }

    #[test]
    fn subtract_cuts_holes() {
        assert_eq!(
            subtract(r(1, 100), [r(10, 20), r(15, 30), r(90, 200)].into_iter()),
            vec![r(1, 9), r(31, 89)]
        );
        assert_eq!(subtract(r(5, 6), [r(1, 10)].into_iter()), vec![]);
        assert_eq!(subtract(r(5, 6), std::iter::empty()), vec![r(5, 6)]);
    }
}
