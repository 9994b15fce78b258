//! The simulated coder itself, apart from any protocol: a FIFO print buffer consumed at line
//! speed while running, counters and a last-printed index as a real coder keeps them, faults,
//! and the print log (one printed code per line, written as it prints).
//!
//! Design: one `Engine` behind a std mutex, never held across an await. The printer task ticks
//! at the line speed on tokio time and prints at most one item per tick; protocol handlers only
//! mutate the engine and read it. A print is atomic (logged and counted under the same lock),
//! so the log and the counters can never disagree.

use super::{FaultAt, InjectedFault};
use std::collections::VecDeque;
use std::io::Write;
use std::time::Duration;
use tokio::time::Instant;

/// Fault code the simulator reports for a print-head fault.
pub const HEAD_FAULT: u32 = 1201;

pub(crate) struct Engine {
    pub buffer: VecDeque<(u64, String)>,
    pub capacity: usize,
    /// Index the next record added gets (CLARiTY-style record indices, from 1).
    pub next_index: u64,
    pub last_printed: u64,
    pub printed_total: u64,
    pub batch_count: u64,
    pub running: bool,
    pub fault: Option<u32>,
    fault_since: Option<Instant>,
    pub fault_clears_after: Duration,
    pub job: String,
    pub fields: Vec<(String, String)>,
    /// CLARiTY `SHO` width: values per record.
    pub header_width: usize,
    plan: VecDeque<FaultAt>,
    log: Option<std::fs::File>,
    pub log_error: Option<String>,
}

/// What a print step asks the connection side to do.
pub(crate) enum Effect {
    None,
    Disconnect,
}

impl Engine {
    pub fn new(
        capacity: usize,
        mut plan: Vec<FaultAt>,
        fault_clears_after: Duration,
        log: Option<std::fs::File>,
        running: bool,
    ) -> Self {
        plan.sort_by_key(|f| f.after_printed);
        Engine {
            buffer: VecDeque::new(),
            capacity,
            next_index: 1,
            last_printed: 0,
            printed_total: 0,
            batch_count: 0,
            running,
            fault: None,
            fault_since: None,
            fault_clears_after,
            job: String::new(),
            fields: Vec::new(),
            header_width: 1,
            plan: plan.into(),
            log,
            log_error: None,
        }
    }

    pub fn is_full(&self) -> bool {
        self.buffer.len() >= self.capacity
    }

    pub fn free(&self) -> usize {
        self.capacity.saturating_sub(self.buffer.len())
    }

    pub fn push(&mut self, code: String) {
        self.buffer.push_back((self.next_index, code));
        self.next_index += 1;
    }

    /// Index of the next record to print (or to be added, when the buffer is empty).
    pub fn next_to_print(&self) -> u64 {
        self.buffer.front().map_or(self.next_index, |(i, _)| *i)
    }

    pub fn raise_fault(&mut self, code: u32) {
        self.fault = Some(code);
        self.fault_since = Some(Instant::now());
        self.running = false;
    }

    pub fn clear_fault(&mut self) {
        self.fault = None;
        self.fault_since = None;
    }

    /// One line-speed tick: maybe let the operator's fault clear, maybe print one item.
    pub fn tick(&mut self, now: Instant) -> Effect {
        if let Some(since) = self.fault_since
            && now.duration_since(since) >= self.fault_clears_after
        {
            self.clear_fault();
        }
        if !self.running || self.fault.is_some() {
            return Effect::None;
        }
        let Some((index, code)) = self.buffer.pop_front() else {
            return Effect::None;
        };
        if let Some(f) = &mut self.log {
            let mut line = code.into_bytes();
            line.push(b'\n');
            if let Err(e) = f.write_all(&line) {
                self.log_error = Some(e.to_string());
            }
        }
        self.printed_total += 1;
        self.batch_count += 1;
        self.last_printed = index;
        let mut effect = Effect::None;
        while self
            .plan
            .front()
            .is_some_and(|f| f.after_printed <= self.printed_total)
        {
            match self.plan.pop_front().map(|f| f.fault) {
                Some(InjectedFault::HeadFault) => self.raise_fault(HEAD_FAULT),
                Some(InjectedFault::Disconnect) => effect = Effect::Disconnect,
                None => {}
            }
        }
        effect
    }
}
