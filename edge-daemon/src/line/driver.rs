//! The async side of a job: connect, recover, then feed the coder step by step, settling after
//! every fault, reconnect, pause and stop. Every ledger write that a later step depends on is
//! awaited (allocation before send, settlements before a new session); confirmations are
//! batched and group-committed, because a crash before they land is recovered from the
//! coder's evidence anyway.

use super::job::{Job, Step, Water, recover, to_ranges};
use super::store::{JobSpec, JobState, LineStore};
use super::{CodeFormat, LineError};
use crate::ledger::{Pending, WriterHandle};
use device_drivers::coder::{AnyCoder, Coder, CoderConfig, CoderErrorKind, CoderStatus, resync};
use device_drivers::transport::{BoxedStream, TransportConfig};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use trace_core::event::{CodeLevel, CodesAllocated, CodesEncoded, CodesScrapped};
use trace_core::{EntryDraft, Event};

/// What the line screen (or a signal) asks of a running job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    Run,
    Pause,
    Stop,
}

pub struct LineConfig {
    pub spec: JobSpec,
    pub water: Water,
    pub coder: CoderConfig,
    pub transport: TransportConfig,
    /// The string printed for a serial.
    pub format: Arc<dyn CodeFormat>,
    /// Pause between polls while the coder's buffer is above the low mark.
    pub poll: Duration,
    /// Confirmations are written at least this often.
    pub flush_every: Duration,
}

/// Counters for the line screen and the CLI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LineStats {
    pub encoded: u64,
    pub scrapped: u64,
    pub in_flight: usize,
    pub buffered: u32,
    pub reconnects: u64,
    pub resyncs: u64,
    pub faults: u64,
    /// Allocated serials settled as scrapped at start-up, after a crash.
    pub recovered_scrapped: u64,
    pub recovered_encoded: u64,
    pub last_fault: Option<String>,
    pub paused: bool,
    /// What stops the line right now, if anything (the line screen shows it with what to do);
    /// `None` while printing normally.
    pub fault: Option<LineFault>,
}

/// A condition that holds the line up, as the operator must be told about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineFault {
    /// The coder does not answer (cable, power, network): the job reconnects by itself.
    Disconnected { detail: String },
    /// The coder reports a fault of its own (print head, ink, …) and will not print until it
    /// is cleared at the machine.
    Coder { code: u32, text: String },
    /// The coder refused codes because its buffer is full.
    BufferFull,
    /// The coder refused a command or its evidence did not add up; the job settled and goes on.
    Other { detail: String },
}

enum Trouble {
    /// The coder reports a fault, or an exchange failed; `reconnect` when the link is gone.
    Settle {
        reconnect: bool,
        why: String,
    },
    Fatal(LineError),
}

impl From<LineError> for Trouble {
    fn from(e: LineError) -> Self {
        Trouble::Fatal(e)
    }
}

impl From<device_drivers::coder::CoderError> for Trouble {
    fn from(e: device_drivers::coder::CoderError) -> Self {
        Trouble::Settle {
            reconnect: e.kind() == CoderErrorKind::Transport,
            why: e.to_string(),
        }
    }
}

struct Line<'a> {
    cfg: &'a LineConfig,
    store: &'a LineStore,
    ledger: &'a WriterHandle,
    coder: AnyCoder<BoxedStream>,
    job: Job,
    unconfirmed: Vec<u64>,
    pending: VecDeque<Pending>,
    last_flush: Instant,
    stats: LineStats,
    stats_tx: &'a watch::Sender<LineStats>,
}

/// Connect, retrying until the coder answers or the job is told to stop. Each failed attempt
/// is reported through `unreachable` (the line screen says the coder is disconnected).
async fn connect(
    cfg: &LineConfig,
    control: &watch::Receiver<Control>,
    mut unreachable: impl FnMut(String),
) -> Result<Option<AnyCoder<BoxedStream>>, LineError> {
    let mut delay = Duration::from_millis(10);
    loop {
        if *control.borrow() == Control::Stop {
            return Ok(None);
        }
        match cfg.transport.open().await {
            Ok(io) => match AnyCoder::connect(io, &cfg.coder).await {
                Ok(c) => return Ok(Some(c)),
                Err(e) if e.kind() == CoderErrorKind::Transport => {
                    tracing::debug!(error = %e, "coder handshake failed; retrying");
                    unreachable(e.to_string());
                }
                Err(e) => return Err(e.into()),
            },
            Err(e) if e.kind() == device_drivers::transport::TransportErrorKind::Unavailable => {
                tracing::debug!(error = %e, "coder unavailable; retrying");
                unreachable(e.to_string());
            }
            Err(e) => return Err(e.into()),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

fn draft(e: Event) -> EntryDraft {
    EntryDraft::new(e)
}

/// Run (or resume) the job until its target is encoded, or until told to stop. Returns the
/// final counters.
pub async fn run_job(
    ledger: &WriterHandle,
    store: &LineStore,
    cfg: &LineConfig,
    mut control: watch::Receiver<Control>,
    stats_tx: &watch::Sender<LineStats>,
) -> Result<LineStats, LineError> {
    cfg.water.validate().map_err(LineError::Invalid)?;
    let prior = store.create_or_resume(&cfg.spec)?;
    let job_id = cfg.spec.job.as_str();
    if prior == JobState::Done {
        let (encoded, scrapped) = store.job_counts(job_id)?;
        return Ok(LineStats {
            encoded,
            scrapped,
            ..LineStats::default()
        });
    }
    let Some(mut coder) = connect(cfg, &control, |detail| {
        stats_tx.send_modify(|s| s.fault = Some(LineFault::Disconnected { detail }));
    })
    .await?
    else {
        return Ok(LineStats::default());
    };
    stats_tx.send_modify(|s| s.fault = None);
    store.set_state(job_id, JobState::Running)?;

    // Settle whatever an earlier run left: stop and clear the coder first, so nothing queued
    // can print after we read its evidence.
    coder.stop().await?;
    let baseline = coder.clear_buffer().await?;
    let unsettled = store.unsettled(job_id)?;
    let mut stats = LineStats::default();
    let mut ready_again = Vec::new();
    if prior == JobState::Running {
        let sessions = store.sessions(job_id)?;
        let (printed, scrapped) = recover(&unsettled, &sessions, baseline.evidence.value());
        stats.recovered_encoded = printed.len() as u64;
        stats.recovered_scrapped = scrapped.len() as u64;
        settle(
            ledger,
            &cfg.spec,
            &printed,
            &scrapped,
            "allocated to the job when the box stopped unexpectedly; not proven printed",
        )
        .await?;
    } else {
        // Stopped or paused cleanly: everything in flight was settled then, so what is left
        // was never sent.
        ready_again = unsettled;
    }
    let (encoded, scrapped) = store.job_counts(job_id)?;
    let pool_next = store.pool_next(&cfg.spec.pool)?;
    let mut job = Job::new(
        cfg.spec.target,
        cfg.water,
        pool_next,
        baseline,
        encoded,
        scrapped,
    );
    job.restore_ready(&ready_again);
    stats.encoded = encoded;
    stats.scrapped = scrapped;
    let mut line = Line {
        cfg,
        store,
        ledger,
        coder,
        job,
        unconfirmed: Vec::new(),
        pending: VecDeque::new(),
        last_flush: Instant::now(),
        stats,
        stats_tx,
    };
    line.start_when_clear(&mut control).await?;
    loop {
        let ctl = *control.borrow();
        match ctl {
            Control::Stop => {
                line.settle_now(&mut control, "job stopped").await?;
                line.finish(JobState::Stopped).await?;
                return Ok(line.stats);
            }
            Control::Pause if !line.job.is_paused() => {
                line.job.pause();
                line.settle_now(&mut control, "job paused").await?;
                store.set_state(job_id, JobState::Paused)?;
                line.publish();
                continue;
            }
            Control::Run if line.job.is_paused() => {
                store.set_state(job_id, JobState::Running)?;
                line.job.resume();
                line.start_when_clear(&mut control).await?;
                continue;
            }
            _ => {}
        }
        if line.job.is_paused() {
            let _ = control.changed().await;
            continue;
        }
        match line.step().await {
            Ok(true) => {}
            Ok(false) => {
                line.settle_now(&mut control, "job done").await?;
                line.finish(JobState::Done).await?;
                return Ok(line.stats);
            }
            Err(Trouble::Fatal(e)) => return Err(e),
            Err(Trouble::Settle { reconnect, why }) => {
                line.stats.last_fault = Some(why);
                line.recover(reconnect, &mut control).await?;
                if *control.borrow() != Control::Stop && !line.job.is_paused() {
                    line.start_when_clear(&mut control).await?;
                }
            }
        }
    }
}

/// Append the settlement of `printed` and `scrapped` serials and wait until durable.
async fn settle(
    ledger: &WriterHandle,
    spec: &JobSpec,
    printed: &[u64],
    scrapped: &[u64],
    reason: &str,
) -> Result<(), LineError> {
    let mut waits = Vec::new();
    if !printed.is_empty() {
        waits.push(ledger.submit(draft(Event::CodesEncoded(CodesEncoded {
            pool: spec.pool.clone(),
            ranges: to_ranges(printed),
            batch: Some(spec.batch.clone()),
            coder: Some(spec.coder.clone()),
        })))?);
    }
    if !scrapped.is_empty() {
        waits.push(ledger.submit(draft(Event::CodesScrapped(CodesScrapped {
            pool: spec.pool.clone(),
            ranges: to_ranges(scrapped),
            reason: format!("line job {}: {reason}", spec.job),
        })))?);
    }
    for w in waits {
        w.recv().await?;
    }
    Ok(())
}

impl Line<'_> {
    fn publish(&mut self) {
        self.stats.encoded = self.job.encoded();
        self.stats.scrapped = self.job.scrapped();
        self.stats.in_flight = self.job.in_flight();
        self.stats.paused = self.job.is_paused();
        self.stats_tx.send_replace(self.stats.clone());
    }

    /// One feeding step. `Ok(false)` once the job is done.
    async fn step(&mut self) -> Result<bool, Trouble> {
        let ev = self.coder.evidence().await?;
        match self.job.on_evidence(ev) {
            Ok(c) => self.unconfirmed.extend(c),
            Err(a) => {
                self.stats.fault = Some(LineFault::Other {
                    detail: format!("evidence anomaly: {a}"),
                });
                return Err(Trouble::Settle {
                    reconnect: false,
                    why: format!("evidence anomaly: {a}"),
                });
            }
        }
        self.flush(false).await?;
        let st: CoderStatus = self.coder.status().await?;
        if !st.faults.is_empty() {
            self.stats.faults += 1;
            self.stats.fault = Some(coder_fault(&st));
            let why = st
                .faults
                .iter()
                .map(|f| format!("{} {}", f.code, f.text))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Trouble::Settle {
                reconnect: false,
                why,
            });
        }
        let count = self.coder.buffer_count().await?;
        self.stats.buffered = count;
        match self.job.next_step(count) {
            Step::Done => return Ok(false),
            Step::Wait => {
                self.publish();
                tokio::time::sleep(self.cfg.poll).await;
            }
            Step::Allocate(range) => {
                self.ledger
                    .append_async(draft(Event::CodesAllocated(CodesAllocated {
                        pool: self.cfg.spec.pool.clone(),
                        level: CodeLevel::Unit,
                        range,
                        template: self.cfg.spec.template.clone(),
                        batch: Some(self.cfg.spec.batch.clone()),
                    })))
                    .await
                    .map_err(LineError::from)?;
                self.job.on_allocated(range);
            }
            Step::Send { session, serials } => {
                if let Some(s) = session {
                    self.store.add_session(&self.cfg.spec.job, s)?;
                }
                let codes: Vec<String> =
                    serials.iter().map(|s| self.cfg.format.format(*s)).collect();
                let outcome = match self.coder.queue(&codes).await {
                    Ok(o) => o,
                    Err(e) => {
                        if e.kind() != CoderErrorKind::Transport {
                            self.stats.fault = Some(LineFault::Other {
                                detail: e.to_string(),
                            });
                        }
                        return Err(e.into());
                    }
                };
                self.job.on_queued(codes.len(), outcome.accepted);
                if outcome.full {
                    self.stats.fault = Some(LineFault::BufferFull);
                } else if self.stats.fault == Some(LineFault::BufferFull) {
                    self.stats.fault = None;
                }
            }
        }
        Ok(true)
    }

    /// Write confirmations: when enough have gathered, or on `force` (and then wait for all).
    async fn flush(&mut self, force: bool) -> Result<(), LineError> {
        let due =
            self.unconfirmed.len() >= 256 || self.last_flush.elapsed() >= self.cfg.flush_every;
        if !self.unconfirmed.is_empty() && (force || due) {
            let serials = std::mem::take(&mut self.unconfirmed);
            self.pending
                .push_back(self.ledger.submit(draft(Event::CodesEncoded(CodesEncoded {
                    pool: self.cfg.spec.pool.clone(),
                    ranges: to_ranges(&serials),
                    batch: Some(self.cfg.spec.batch.clone()),
                    coder: Some(self.cfg.spec.coder.clone()),
                })))?);
            self.last_flush = Instant::now();
        }
        while self.pending.len() > if force { 0 } else { 8 } {
            if let Some(p) = self.pending.pop_front() {
                p.recv().await?;
            }
        }
        Ok(())
    }

    async fn reconnect(&mut self, control: &watch::Receiver<Control>) -> Result<bool, LineError> {
        self.stats.fault = Some(LineFault::Disconnected {
            detail: "reconnecting".into(),
        });
        self.publish();
        let stats = &mut self.stats;
        let tx = self.stats_tx;
        let found = connect(self.cfg, control, |detail| {
            stats.fault = Some(LineFault::Disconnected { detail });
            tx.send_replace(stats.clone());
        })
        .await?;
        match found {
            Some(c) => {
                self.coder = c;
                self.stats.reconnects += 1;
                self.stats.fault = None;
                self.publish();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Settle everything in flight: resync (reconnecting as often as needed), then write the
    /// confirmations and scraps and wait until they are durable.
    async fn recover(
        &mut self,
        mut reconnect: bool,
        control: &mut watch::Receiver<Control>,
    ) -> Result<(), LineError> {
        loop {
            if reconnect && !self.reconnect(control).await? {
                // Told to stop while the coder is unreachable: what is in flight cannot be
                // proven printed, and may print later if the coder kept its buffer. Leave it
                // unsettled; the next run's recovery clears the coder first, then settles.
                return Err(LineError::Invalid(
                    "stopped while the coder was unreachable; run the job again to settle it"
                        .into(),
                ));
            }
            let r = match resync(&mut self.coder, self.job.inflight_mut()).await {
                Ok(r) => r,
                Err(e) if e.kind() == CoderErrorKind::Transport => {
                    reconnect = true;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(a) = &r.anomaly {
                tracing::warn!(anomaly = %a, "coder evidence inconsistent: scrapping everything in flight");
            }
            self.stats.resyncs += 1;
            self.job.after_resync(r.confirmed.len(), r.scrapped.len());
            self.unconfirmed.extend(r.confirmed);
            self.unconfirmed.sort_unstable();
            self.flush(true).await?;
            let why = self
                .stats
                .last_fault
                .clone()
                .unwrap_or_else(|| "resync".into());
            settle(
                self.ledger,
                &self.cfg.spec,
                &[],
                &r.scrapped,
                &format!("sent but not confirmed before: {why}"),
            )
            .await?;
            self.publish();
            return Ok(());
        }
    }

    async fn settle_now(
        &mut self,
        control: &mut watch::Receiver<Control>,
        why: &str,
    ) -> Result<(), LineError> {
        self.stats.last_fault = Some(why.to_string());
        self.recover(false, control).await
    }

    /// Wait for faults to clear, then start printing. Returns without starting when told to
    /// pause or stop meanwhile (a head fault must not keep the operator from stopping).
    async fn start_when_clear(
        &mut self,
        control: &mut watch::Receiver<Control>,
    ) -> Result<(), LineError> {
        loop {
            match self.wait_clear_and_start(control).await {
                Ok(()) => {
                    self.publish();
                    return Ok(());
                }
                Err(e) if e.kind() == CoderErrorKind::Transport => {
                    // Nothing is in flight here (we settle before starting), but reconnect
                    // and resync anyway: the coder may have lost its state.
                    self.recover(true, control).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn wait_clear_and_start(
        &mut self,
        control: &watch::Receiver<Control>,
    ) -> Result<(), device_drivers::coder::CoderError> {
        loop {
            if *control.borrow() != Control::Run || self.job.is_paused() {
                return Ok(());
            }
            let st = self.coder.status().await?;
            if st.faults.is_empty() {
                self.coder.start().await?;
                if matches!(
                    self.stats.fault,
                    Some(LineFault::Coder { .. } | LineFault::Other { .. })
                ) {
                    self.stats.fault = None;
                }
                return Ok(());
            }
            let f = coder_fault(&st);
            if self.stats.fault.as_ref() != Some(&f) {
                self.stats.fault = Some(f);
                self.publish();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn finish(&mut self, state: JobState) -> Result<(), LineError> {
        self.flush(true).await?;
        self.store.set_state(&self.cfg.spec.job, state)?;
        self.publish();
        Ok(())
    }
}

/// The first fault a coder reports, as the line screen shows it.
fn coder_fault(st: &CoderStatus) -> LineFault {
    match st.faults.first() {
        Some(f) => LineFault::Coder {
            code: f.code,
            text: f.text.clone(),
        },
        None => LineFault::Other {
            detail: "fault".into(),
        },
    }
}
