//! The production job as a pure state machine: which serials to allocate, which to send, what
//! the coder's evidence confirms, what a fault scraps. No I/O: the driver ([`super::driver`])
//! performs each [`Step`] and reports back.
//!
//! Design: serials flow one way, `pool → ready → in flight → encoded | scrapped`.
//! - `ready` holds serials already allocated by a durable ledger entry and not yet sent; a
//!   [`Step::Allocate`] is asked for before a send that `ready` cannot cover, so no serial
//!   reaches the coder unallocated.
//! - In flight is [`InFlight`]: every sent serial has a coder *position*; evidence confirms in
//!   FIFO order. Codes the coder explicitly refused (buffer full) go back to the front of
//!   `ready`: they never entered its buffer, so sending them again is not a re-send.
//! - A *session* row maps serials to positions affinely from a base: serials are sent in
//!   ascending order with positions consecutive, so one `(base_serial, base_position)` per run
//!   of consecutive serials lets a restarted box tell which serials the coder's evidence
//!   covers. [`Step::Send`] carries the row to persist whenever a new run starts (after every
//!   baseline, and at a gap between allocations).
//! - After a fault, a reconnect or a stop the driver runs [`resync`](device_drivers::coder::resync)
//!   on [`Job::inflight_mut`] and reports with [`Job::after_resync`]: confirmed become encoded,
//!   everything else in flight is scrapped and never offered again.

use super::store::Session;
use device_drivers::coder::{Baseline, InFlight, InFlightError, PrintEvidence};
use std::collections::VecDeque;
use trace_core::event::CodeRange;

/// Buffer water marks and batch sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Water {
    /// Top up only while the coder holds fewer codes than this.
    pub low: u32,
    /// Top up to this many codes in the coder.
    pub high: u32,
    /// Most codes in one queue call.
    pub max_batch: usize,
    /// Serials per allocation entry.
    pub alloc_block: u64,
}

impl Default for Water {
    fn default() -> Self {
        Water {
            low: 10,
            high: 30,
            max_batch: 16,
            alloc_block: 256,
        }
    }
}

impl Water {
    pub fn validate(&self) -> Result<(), String> {
        if self.high == 0 || self.low > self.high {
            return Err(format!(
                "water marks must satisfy 0 <= low <= high and high > 0 (low {}, high {})",
                self.low, self.high
            ));
        }
        if self.max_batch == 0 || self.alloc_block == 0 {
            return Err("batch and allocation sizes must be at least 1".into());
        }
        Ok(())
    }
}

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Append a `codes_allocated` entry for this range and wait until it is durable, then call
    /// [`Job::on_allocated`].
    Allocate(CodeRange),
    /// Persist `session` (if any) durably, then queue `serials` in this order and call
    /// [`Job::on_queued`].
    Send {
        session: Option<Session>,
        serials: Vec<u64>,
    },
    /// Nothing to do until the coder prints (or the job is paused).
    Wait,
    /// The target is encoded and nothing is in flight.
    Done,
}

#[derive(Debug)]
pub struct Job {
    target: u64,
    water: Water,
    pool_next: u64,
    ready: VecDeque<u64>,
    inflight: InFlight<u64>,
    /// Serial most recently sent in the current session run; `None` right after a baseline.
    last_sent: Option<u64>,
    encoded: u64,
    scrapped: u64,
    paused: bool,
}

impl Job {
    /// A job that has encoded `encoded` and scrapped `scrapped` so far (zero for a new one),
    /// fresh from a buffer clear (`baseline`), allocating from `pool_next` on.
    pub fn new(
        target: u64,
        water: Water,
        pool_next: u64,
        baseline: Baseline,
        encoded: u64,
        scrapped: u64,
    ) -> Self {
        Job {
            target,
            water,
            pool_next,
            ready: VecDeque::new(),
            inflight: InFlight::new(baseline),
            last_sent: None,
            encoded,
            scrapped,
            paused: false,
        }
    }

    pub fn encoded(&self) -> u64 {
        self.encoded
    }

    pub fn scrapped(&self) -> u64 {
        self.scrapped
    }

    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    /// Allocated serials not sent (what stays `unused` if the job ends now).
    pub fn ready(&self) -> usize {
        self.ready.len()
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Stop topping up; the driver also settles what is in flight.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// Decide the next step from the coder's current buffer count.
    pub fn next_step(&mut self, buffer_count: u32) -> Step {
        let in_flight = self.inflight.len() as u64;
        if self.encoded >= self.target && in_flight == 0 {
            return Step::Done;
        }
        if self.paused || buffer_count >= self.water.low {
            return Step::Wait;
        }
        let room = u64::from(self.water.high.saturating_sub(buffer_count));
        let remaining = self.target.saturating_sub(self.encoded + in_flight);
        let n = room.min(self.water.max_batch as u64).min(remaining);
        if n == 0 {
            return Step::Wait;
        }
        // Only a run of consecutive serials goes in one send, so one session row maps it.
        let run = self.consecutive_ready(n);
        if (run as u64) < n && run == self.ready.len() {
            let want = (n - run as u64).max(self.water.alloc_block);
            let first = self.pool_next;
            return Step::Allocate(CodeRange {
                first,
                last: first + want - 1,
            });
        }
        let serials: Vec<u64> = self.ready.drain(..run).collect();
        let first = serials[0];
        let new_run = self.last_sent.is_none_or(|l| l + 1 != first);
        let mut base_position = 0;
        for (i, s) in serials.iter().enumerate() {
            let p = self.inflight.push(*s);
            if i == 0 {
                base_position = p;
            }
        }
        self.last_sent = serials.last().copied();
        Step::Send {
            session: new_run.then_some(Session {
                base_serial: first,
                base_position,
            }),
            serials,
        }
    }

    fn consecutive_ready(&self, n: u64) -> usize {
        let mut run = 0usize;
        let mut prev: Option<u64> = None;
        for s in self
            .ready
            .iter()
            .take(usize::try_from(n).unwrap_or(usize::MAX))
        {
            if prev.is_some_and(|p| p + 1 != *s) {
                break;
            }
            prev = Some(*s);
            run += 1;
        }
        run
    }

    /// Serials allocated earlier and known never sent (the job was stopped cleanly): offer them
    /// first, in order.
    pub fn restore_ready(&mut self, ranges: &[CodeRange]) {
        let mut v: Vec<u64> = ranges.iter().flat_map(|r| r.first..=r.last).collect();
        v.extend(self.ready.drain(..));
        v.sort_unstable();
        v.dedup();
        if let Some(l) = v.last() {
            self.pool_next = self.pool_next.max(l + 1);
        }
        self.ready = v.into();
    }

    /// The allocation entry for `range` is durable.
    pub fn on_allocated(&mut self, range: CodeRange) {
        self.ready.extend(range.first..=range.last);
        self.pool_next = self.pool_next.max(range.last + 1);
    }

    /// The coder accepted the first `accepted` of the `sent` serials; the rest go back to
    /// `ready` (they are not in its buffer). Returns how many were refused.
    pub fn on_queued(&mut self, sent: usize, accepted: usize) -> usize {
        let refused = self.inflight.refuse_last(sent.saturating_sub(accepted));
        let n = refused.len();
        if let Some(first) = refused.first() {
            // The session row already maps these serials to the positions they get again.
            self.last_sent = first.checked_sub(1);
        }
        for s in refused.into_iter().rev() {
            self.ready.push_front(s);
        }
        n
    }

    /// Serials the evidence proves printed, in order.
    pub fn on_evidence(&mut self, ev: PrintEvidence) -> Result<Vec<u64>, InFlightError> {
        let c = self.inflight.confirm(ev)?;
        self.encoded += c.len() as u64;
        Ok(c)
    }

    /// For [`resync`](device_drivers::coder::resync); report with [`Job::after_resync`].
    pub fn inflight_mut(&mut self) -> &mut InFlight<u64> {
        &mut self.inflight
    }

    /// A resync settled `confirmed` and `scrapped`; the next send starts a new session run.
    pub fn after_resync(&mut self, confirmed: usize, scrapped: usize) {
        self.encoded += confirmed as u64;
        self.scrapped += scrapped as u64;
        self.last_sent = None;
    }
}

/// After a box crash: which unsettled serials the coder's evidence proves printed. A serial is
/// printed iff the session run it belongs to gives it a position the evidence has reached;
/// everything else allocated is scrapped, since the box cannot tell whether it was sent (and
/// the coder's buffer has been cleared, so it cannot print later).
pub fn recover(
    unsettled: &[CodeRange],
    sessions: &[Session],
    evidence: u64,
) -> (Vec<u64>, Vec<u64>) {
    let mut sorted: Vec<Session> = sessions.to_vec();
    sorted.sort_by_key(|s| s.base_serial);
    let (mut printed, mut scrapped) = (Vec::new(), Vec::new());
    for r in unsettled {
        for s in r.first..=r.last {
            let run = sorted.iter().rev().find(|x| x.base_serial <= s);
            let pos = run.and_then(|x| x.base_position.checked_add(s - x.base_serial));
            if pos.is_some_and(|p| p <= evidence) {
                printed.push(s);
            } else {
                scrapped.push(s);
            }
        }
    }
    (printed, scrapped)
}

/// Ascending serials as inclusive ranges.
pub fn to_ranges(serials: &[u64]) -> Vec<CodeRange> {
    let mut out: Vec<CodeRange> = Vec::new();
    for &s in serials {
        match out.last_mut() {
            Some(r) if r.last + 1 == s => r.last = s,
            _ => out.push(CodeRange { first: s, last: s }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(v: u64) -> Baseline {
        Baseline {
            evidence: PrintEvidence::PrintCounter(v),
            next_position: v + 1,
        }
    }

    fn water() -> Water {
        Water {
            low: 4,
            high: 8,
            max_batch: 5,
            alloc_block: 10,
        }
    }

    fn send(step: Step) -> (Option<Session>, Vec<u64>) {
        match step {
            Step::Send { session, serials } => (session, serials),
            other => panic!("expected a send, got {other:?}"),
        }
    }

    #[test]
    fn allocates_before_sending_and_respects_water_marks() {
        let mut j = Job::new(100, water(), 1, base(50), 0, 0);
        assert_eq!(
            j.next_step(0),
            Step::Allocate(CodeRange { first: 1, last: 10 })
        );
        j.on_allocated(CodeRange { first: 1, last: 10 });
        let (session, serials) = send(j.next_step(0));
        assert_eq!(serials, vec![1, 2, 3, 4, 5]);
        assert_eq!(
            session,
            Some(Session {
                base_serial: 1,
                base_position: 51
            })
        );
        assert_eq!(j.on_queued(5, 5), 0);
        // At or above the low mark: wait; below: top up to the high mark, same session run.
        assert_eq!(j.next_step(4), Step::Wait);
        let (session, serials) = send(j.next_step(5 - 2));
        assert_eq!((session, serials), (None, vec![6, 7, 8, 9, 10]));
        assert_eq!(
            j.on_evidence(PrintEvidence::PrintCounter(53)).unwrap(),
            vec![1, 2, 3]
        );
        assert_eq!(j.encoded(), 3);
    }

    #[test]
    fn refused_codes_are_offered_again_in_order_with_the_same_positions() {
        let mut j = Job::new(100, water(), 1, base(0), 0, 0);
        j.on_allocated(CodeRange { first: 1, last: 10 });
        let (_, s) = send(j.next_step(0));
        assert_eq!(s, vec![1, 2, 3, 4, 5]);
        assert_eq!(j.on_queued(5, 2), 3);
        let (session, s) = send(j.next_step(2));
        assert_eq!(session, None, "positions 3.. still map from the first row");
        assert_eq!(s, vec![3, 4, 5, 6, 7]);
        assert_eq!(
            j.on_evidence(PrintEvidence::PrintCounter(4)).unwrap(),
            vec![1, 2, 3, 4]
        );
    }

    #[test]
    fn a_fault_scraps_in_flight_and_the_next_run_starts_a_new_session() {
        let mut j = Job::new(100, water(), 1, base(0), 0, 0);
        j.on_allocated(CodeRange { first: 1, last: 10 });
        send(j.next_step(0));
        j.on_queued(5, 5);
        // What resync does: confirm by the evidence after the clear, scrap the rest, rebase.
        let confirmed = j
            .inflight_mut()
            .confirm(PrintEvidence::PrintCounter(2))
            .unwrap();
        let scrapped = j.inflight_mut().scrap_all();
        assert_eq!(
            (confirmed.clone(), scrapped.clone()),
            (vec![1, 2], vec![3, 4, 5])
        );
        j.inflight_mut().rebase(base(2));
        j.after_resync(confirmed.len(), scrapped.len());
        let (session, s) = send(j.next_step(0));
        assert_eq!(s, vec![6, 7, 8, 9, 10]);
        assert_eq!(
            session,
            Some(Session {
                base_serial: 6,
                base_position: 3
            })
        );
        assert_eq!((j.encoded(), j.scrapped()), (2, 3));
    }

    #[test]
    fn stops_sending_at_the_target_and_is_done_once_all_confirmed() {
        let mut j = Job::new(3, water(), 1, base(0), 0, 0);
        j.on_allocated(CodeRange { first: 1, last: 10 });
        let (_, s) = send(j.next_step(0));
        assert_eq!(s, vec![1, 2, 3]);
        j.on_queued(3, 3);
        assert_eq!(j.next_step(0), Step::Wait);
        j.on_evidence(PrintEvidence::PrintCounter(3)).unwrap();
        assert_eq!(j.next_step(0), Step::Done);
        assert_eq!(j.ready(), 7);
    }

    #[test]
    fn a_gap_between_allocations_starts_a_new_run() {
        let mut j = Job::new(100, water(), 1, base(0), 0, 0);
        j.on_allocated(CodeRange { first: 1, last: 3 });
        j.on_allocated(CodeRange {
            first: 20,
            last: 29,
        });
        let (_, s) = send(j.next_step(0));
        assert_eq!(s, vec![1, 2, 3]);
        j.on_queued(3, 3);
        let (session, s) = send(j.next_step(3));
        assert_eq!(s, vec![20, 21, 22, 23, 24]);
        assert_eq!(
            session,
            Some(Session {
                base_serial: 20,
                base_position: 4
            })
        );
    }

    #[test]
    fn paused_jobs_send_nothing() {
        let mut j = Job::new(100, water(), 1, base(0), 0, 0);
        j.pause();
        assert_eq!(j.next_step(0), Step::Wait);
        j.resume();
        assert!(matches!(j.next_step(0), Step::Allocate(_)));
    }

    #[test]
    fn recovery_confirms_exactly_what_the_evidence_covers() {
        let sessions = [
            Session {
                base_serial: 1,
                base_position: 101,
            },
            Session {
                base_serial: 40,
                base_position: 150,
            },
        ];
        // 1..=39 settled earlier; 40..=60 unsettled; the coder got to position 155.
        let (printed, scrapped) = recover(
            &[CodeRange {
                first: 40,
                last: 60,
            }],
            &sessions,
            155,
        );
        assert_eq!(printed, (40..=45).collect::<Vec<_>>());
        assert_eq!(scrapped, (46..=60).collect::<Vec<_>>());
        // Nothing ever sent (no session): nothing is proven printed.
        let (printed, scrapped) = recover(&[CodeRange { first: 1, last: 3 }], &[], 10);
        assert!(printed.is_empty());
        assert_eq!(scrapped, vec![1, 2, 3]);
    }

    #[test]
    fn ranges_from_serials() {
        assert_eq!(
            to_ranges(&[1, 2, 3, 7, 9, 10]),
            vec![
                CodeRange { first: 1, last: 3 },
                CodeRange { first: 7, last: 7 },
                CodeRange { first: 9, last: 10 }
            ]
        );
        assert!(to_ranges(&[]).is_empty());
    }
}
