//! Which sequence numbers of one device the cloud holds: the contiguous high-water mark and the
//! missing ranges below the highest seq seen.
//!
//! Why a gap set rather than a bitmap or a `COUNT(*)`: boxes send live-first after an outage, so
//! a device's series is "everything up to the hwm, a hole where the backlog still drains, then the
//! newest entries". That is a handful of ranges, which is exactly what an `Ack` carries and what
//! the backend persists (one row per gap). Whether a seq is stored is answered here without a
//! query, which lets ingest fetch only the neighbour links it must compare.
//!
//! Design: `max` is the highest seq stored (0 = none); `gaps` maps each missing range's first seq
//! to its last, all within `1..max`. Invariant: gaps are disjoint, non-adjacent, non-empty.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqRanges {
    max: u64,
    gaps: BTreeMap<u64, u64>,
}

impl SeqRanges {
    /// Rebuild from persisted parts. Gaps outside `1..max` or overlapping are a corrupt store.
    pub fn from_parts(max: u64, gaps: impl IntoIterator<Item = (u64, u64)>) -> Option<Self> {
        let mut r = SeqRanges {
            max,
            gaps: BTreeMap::new(),
        };
        let mut next_free = 1u64;
        for (first, last) in gaps {
            if first < next_free || last < first || last >= max {
                return None;
            }
            r.gaps.insert(first, last);
            next_free = last + 2;
        }
        Some(r)
    }

    /// Highest seq stored, 0 when none.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Contiguous high-water mark: every seq in `1..=hwm` is stored.
    pub fn hwm(&self) -> u64 {
        self.gaps.keys().next().map_or(self.max, |first| first - 1)
    }

    /// Missing ranges below `max`, ascending, inclusive.
    pub fn missing(&self) -> Vec<(u64, u64)> {
        self.gaps.iter().map(|(f, l)| (*f, *l)).collect()
    }

    pub fn missing_count(&self) -> u64 {
        self.gaps.iter().map(|(f, l)| l - f + 1).sum()
    }

    pub fn contains(&self, seq: u64) -> bool {
        if seq == 0 || seq > self.max {
            return false;
        }
        !matches!(self.gaps.range(..=seq).next_back(), Some((_, last)) if *last >= seq)
    }

    /// Record `seq` as stored. Returns false when it already was.
    pub fn insert(&mut self, seq: u64) -> bool {
        if seq == 0 || self.contains(seq) {
            return false;
        }
        if seq > self.max {
            if seq > self.max + 1 {
                self.gaps.insert(self.max + 1, seq - 1);
            }
            self.max = seq;
            return true;
        }
        // Below max and not contained: it lies inside exactly one gap; split it.
        let (first, last) = match self.gaps.range(..=seq).next_back() {
            Some((f, l)) => (*f, *l),
            None => return false,
        };
        self.gaps.remove(&first);
        if first < seq {
            self.gaps.insert(first, seq - 1);
        }
        if seq < last {
            self.gaps.insert(seq + 1, last);
        }
        true
    }

    /// Gap rows to delete and to insert to turn `old` into `self` (for persistence).
    pub fn gap_changes(&self, old: &SeqRanges) -> (Vec<u64>, Vec<(u64, u64)>) {
        let removed = old
            .gaps
            .iter()
            .filter(|(f, l)| self.gaps.get(f) != Some(l))
            .map(|(f, _)| *f)
            .collect();
        let added = self
            .gaps
            .iter()
            .filter(|(f, l)| old.gaps.get(f) != Some(l))
            .map(|(f, l)| (*f, *l))
            .collect();
        (removed, added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn gaps_open_and_fill() {
        let mut r = SeqRanges::default();
        assert_eq!((r.hwm(), r.max()), (0, 0));
        assert!(r.insert(1));
        assert!(r.insert(5));
        assert_eq!(r.missing(), vec![(2, 4)]);
        assert_eq!(r.hwm(), 1);
        assert!(r.insert(3));
        assert_eq!(r.missing(), vec![(2, 2), (4, 4)]);
        assert!(!r.insert(3));
        assert!(r.insert(2) && r.insert(4));
        assert_eq!((r.hwm(), r.missing()), (5, vec![]));
        assert!(!r.insert(0));
    }

    #[test]
    fn from_parts_rejects_corrupt_gaps() {
        assert!(SeqRanges::from_parts(10, [(2, 3), (5, 9)]).is_some());
        assert!(SeqRanges::from_parts(10, [(2, 3), (4, 5)]).is_none()); // adjacent
        assert!(SeqRanges::from_parts(10, [(5, 10)]).is_none()); // reaches max
        assert!(SeqRanges::from_parts(10, [(0, 3)]).is_none());
        assert!(SeqRanges::from_parts(10, [(3, 2)]).is_none());
    }

    proptest! {
        /// Against a plain set: contains, hwm, missing and persistence diffs agree.
        #[test]
        fn matches_a_set(seqs in proptest::collection::vec(1u64..200, 0..120)) {
            let mut r = SeqRanges::default();
            let mut set = BTreeSet::new();
            for s in seqs {
                let old = r.clone();
                prop_assert_eq!(r.insert(s), set.insert(s));
                let (removed, added) = r.gap_changes(&old);
                let mut rebuilt: BTreeMap<u64, u64> = old.gaps.clone();
                for f in removed { rebuilt.remove(&f); }
                rebuilt.extend(added);
                prop_assert_eq!(&rebuilt, &r.gaps);
            }
            let max = set.iter().next_back().copied().unwrap_or(0);
            prop_assert_eq!(r.max(), max);
            let hwm = (1..).take_while(|s| set.contains(s)).last().unwrap_or(0);
            prop_assert_eq!(r.hwm(), hwm);
            for s in 0..=max + 1 {
                prop_assert_eq!(r.contains(s), set.contains(&s));
            }
            let missing: u64 = (1..=max).filter(|s| !set.contains(s)).count() as u64;
            prop_assert_eq!(r.missing_count(), missing);
            prop_assert_eq!(SeqRanges::from_parts(r.max(), r.missing()), Some(r));
        }
    }
}
