//! Which codes are in the coder, and which of them its evidence proves printed.
//!
//! Design: a FIFO of `(position, code)`. [`InFlight::push`] gives each code the next position
//! *before* it is sent, so a code whose send failed half-way is still accounted for. Evidence
//! with value `v` confirms, in order, every code with position ≤ `v`. A code leaves the FIFO
//! exactly once: confirmed, refused (the coder said no, it is not in the buffer) or scrapped.
//! There is no way back in: the type offers no "retry".

use super::{Baseline, Coder, CoderError, PrintEvidence};
use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InFlightError {
    /// The evidence went down (an operator reset the counter, or a different coder answers).
    #[error("print evidence went backwards from {last} to {now}")]
    Backwards { last: u64, now: u64 },
    /// The coder printed more than we sent since the baseline: something else is printing.
    #[error("print evidence {now} is beyond the last position sent ({highest_sent})")]
    Ahead { now: u64, highest_sent: u64 },
}

#[derive(Debug, Clone)]
pub struct InFlight<C> {
    pending: VecDeque<(u64, C)>,
    next_position: u64,
    last_evidence: u64,
}

impl<C> InFlight<C> {
    pub fn new(baseline: Baseline) -> Self {
        InFlight {
            pending: VecDeque::new(),
            next_position: baseline.next_position,
            last_evidence: baseline.evidence.value(),
        }
    }

    /// Rebuild after a box crash from what the controller persisted: every code recorded as
    /// sent with its position, and the last evidence it had seen. Then reconnect and
    /// [`resync`]: the coder's evidence confirms or scraps each of them.
    pub fn restore(sent: impl IntoIterator<Item = (u64, C)>, last_evidence: u64) -> Self {
        let pending: VecDeque<(u64, C)> = sent.into_iter().collect();
        let next_position = pending.back().map_or(last_evidence + 1, |(p, _)| p + 1);
        InFlight {
            pending,
            next_position,
            last_evidence,
        }
    }

    /// Codes in flight with their positions, oldest first (what a controller persists).
    pub fn pending(&self) -> impl Iterator<Item = (u64, &C)> {
        self.pending.iter().map(|(p, c)| (*p, c))
    }

    /// Record that `code` is about to be sent; returns its position.
    pub fn push(&mut self, code: C) -> u64 {
        let p = self.next_position;
        self.pending.push_back((p, code));
        self.next_position += 1;
        p
    }

    /// Take back the last `n` pushed codes because the coder explicitly refused them (they are
    /// not in its buffer). Returned in push order.
    pub fn refuse_last(&mut self, n: usize) -> Vec<C> {
        let n = n.min(self.pending.len());
        let mut out: Vec<C> = Vec::with_capacity(n);
        for _ in 0..n {
            if let Some((_, c)) = self.pending.pop_back() {
                out.push(c);
                self.next_position -= 1;
            }
        }
        out.reverse();
        out
    }

    /// Confirm the codes the evidence proves printed, in order. On an anomaly nothing changes.
    pub fn confirm(&mut self, evidence: PrintEvidence) -> Result<Vec<C>, InFlightError> {
        let now = evidence.value();
        if now < self.last_evidence {
            return Err(InFlightError::Backwards {
                last: self.last_evidence,
                now,
            });
        }
        let highest_sent = self.next_position.saturating_sub(1);
        if now > highest_sent && now > self.last_evidence {
            return Err(InFlightError::Ahead { now, highest_sent });
        }
        self.last_evidence = now;
        let mut out = Vec::new();
        while self.pending.front().is_some_and(|(p, _)| *p <= now) {
            if let Some((_, c)) = self.pending.pop_front() {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Everything still unconfirmed, to be scrapped. Call only once the coder's buffer is clear.
    pub fn scrap_all(&mut self) -> Vec<C> {
        self.pending.drain(..).map(|(_, c)| c).collect()
    }

    /// Start over from a new baseline (after a clear). Pending codes must have been settled.
    pub fn rebase(&mut self, baseline: Baseline) {
        debug_assert!(self.pending.is_empty(), "rebase with codes in flight");
        self.next_position = baseline.next_position;
        self.last_evidence = baseline.evidence.value();
    }

    /// Codes sent and not yet settled.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// What [`resync`] settled.
#[derive(Debug)]
pub struct Resync<C> {
    pub confirmed: Vec<C>,
    pub scrapped: Vec<C>,
    /// The evidence was inconsistent; every unconfirmed code was scrapped anyway.
    pub anomaly: Option<InFlightError>,
    pub baseline: Baseline,
}

/// Settle every code in flight after a fault, a reconnect or a stop: stop printing (so nothing
/// is half-printed while we read), clear the buffer (so no unconfirmed code can print later),
/// read the evidence, confirm what it proves, scrap the rest, and rebase.
pub async fn resync<K: Coder, C>(
    coder: &mut K,
    inflight: &mut InFlight<C>,
) -> Result<Resync<C>, CoderError> {
    coder.stop().await?;
    let baseline = coder.clear_buffer().await?;
    let (confirmed, anomaly) = match inflight.confirm(baseline.evidence) {
        Ok(c) => (c, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let scrapped = inflight.scrap_all();
    inflight.rebase(baseline);
    Ok(Resync {
        confirmed,
        scrapped,
        anomaly,
        baseline,
    })
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

    #[test]
    fn confirms_in_order_and_only_what_evidence_proves() {
        let mut f = InFlight::new(base(10));
        for c in ["a", "b", "c", "d"] {
            f.push(c);
        }
        assert_eq!(
            f.confirm(PrintEvidence::PrintCounter(10)).unwrap(),
            Vec::<&str>::new()
        );
        assert_eq!(
            f.confirm(PrintEvidence::PrintCounter(12)).unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(f.len(), 2);
        assert_eq!(f.scrap_all(), vec!["c", "d"]);
    }

    #[test]
    fn refused_codes_free_their_positions() {
        let mut f = InFlight::new(base(0));
        f.push("a");
        f.push("b");
        f.push("c");
        assert_eq!(f.refuse_last(2), vec!["b", "c"]);
        assert_eq!(f.push("d"), 2);
        assert_eq!(
            f.confirm(PrintEvidence::PrintCounter(2)).unwrap(),
            vec!["a", "d"]
        );
    }

    #[test]
    fn anomalies_change_nothing() {
        let mut f = InFlight::new(base(5));
        f.push("a");
        assert_eq!(
            f.confirm(PrintEvidence::PrintCounter(4)),
            Err(InFlightError::Backwards { last: 5, now: 4 })
        );
        assert_eq!(
            f.confirm(PrintEvidence::PrintCounter(7)),
            Err(InFlightError::Ahead {
                now: 7,
                highest_sent: 6
            })
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn restored_after_a_crash_settles_by_position() {
        let mut f = InFlight::new(base(0));
        for c in ["a", "b", "c"] {
            f.push(c);
        }
        let saved: Vec<(u64, &str)> = f.pending().map(|(p, c)| (p, *c)).collect();
        let mut g = InFlight::restore(saved, 0);
        assert_eq!(
            g.confirm(PrintEvidence::PrintCounter(2)).unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(g.scrap_all(), vec!["c"]);
        assert_eq!(g.push("d"), 4);
    }

    #[test]
    fn index_evidence_with_a_gap_after_clear() {
        // CLARiTY: cleared records may leave a gap; positions come from the coder's next index.
        let mut f: InFlight<&str> = InFlight::new(Baseline {
            evidence: PrintEvidence::LastPrintedIndex(10),
            next_position: 21,
        });
        f.push("x");
        assert_eq!(
            f.confirm(PrintEvidence::LastPrintedIndex(10))
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            f.confirm(PrintEvidence::LastPrintedIndex(21)).unwrap(),
            vec!["x"]
        );
    }
}
