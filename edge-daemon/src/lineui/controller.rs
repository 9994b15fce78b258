//! The job behind the line screen: one [`run_job`] task at a time, driven through its
//! [`Control`] channel, and the counters the screen shows, pushed as [`LineView`]s.
//!
//! Design: the controller owns a `Control` channel for its whole life and hands a receiver to
//! each run; "start" spawns a run (a stopped job resumes: what it left unsent is printed
//! first, what it left in flight was settled when it stopped), "pause" / "resume" / "stop"
//! only send on the channel. The run settles everything in flight on pause and stop (the
//! coder's own evidence decides, nothing unconfirmed is ever re-sent), so the screen's
//! buttons cannot break the promise of the job engine. A forwarder task folds the run's
//! [`LineStats`], the run's phase and the requested control into one [`LineView`] (with
//! items per minute), at most every 150 ms and at least every second; the SSE streams
//! subscribe to it.

use crate::ledger::WriterHandle;
use crate::line::{
    Control, LineConfig, LineError, LineFault, LineStats, LineStore, Reconciliation, run_job,
};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Where the job stands in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Not started since the box started.
    Idle,
    Running,
    /// The run ended on a stop; the job can be started again and resumes.
    Stopped,
    /// Every planned item is printed.
    Done,
    /// The run ended on an error (shown); the job can be started again.
    Failed(String),
}

/// What the screen shows, pushed on every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineView {
    /// idle, running, held (running but held up by a fault), pausing, paused, resuming,
    /// stopping, stopped, done, failed.
    pub state: &'static str,
    pub encoded: u64,
    pub scrapped: u64,
    pub buffered: u32,
    pub in_flight: usize,
    pub target: u64,
    pub per_min: u64,
    pub fault: Option<LineFault>,
    pub error: Option<String>,
    pub reconnects: u64,
    pub resyncs: u64,
}

/// Why a button was refused: a message key for the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not possible in the current state.
    State,
    /// The job is complete.
    Done,
}

impl Refused {
    pub fn key(self) -> &'static str {
        match self {
            Refused::State => "err_line_state",
            Refused::Done => "err_job_done",
        }
    }
}

/// Items per minute over a sliding window, from (time, encoded) samples. Integer arithmetic.
#[derive(Debug, Default)]
pub struct Rate {
    samples: VecDeque<(Instant, u64)>,
}

impl Rate {
    const WINDOW: Duration = Duration::from_secs(20);

    pub fn add(&mut self, at: Instant, encoded: u64) {
        if let Some((_, last)) = self.samples.back()
            && encoded < *last
        {
            self.samples.clear();
        }
        self.samples.push_back((at, encoded));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) > Self::WINDOW)
        {
            self.samples.pop_front();
        }
    }

    pub fn per_min(&self) -> u64 {
        let (Some((t0, n0)), Some((t1, n1))) = (self.samples.front(), self.samples.back()) else {
            return 0;
        };
        let ms = t1.duration_since(*t0).as_millis() as u64;
        if ms < 1_000 {
            return 0;
        }
        (n1 - n0) * 60_000 / ms
    }

    pub fn clear(&mut self) {
        self.samples.clear();
    }
}

struct Run {
    task: tokio::task::JoinHandle<()>,
}

pub struct LineController {
    cfg: Arc<LineConfig>,
    writer: WriterHandle,
    store: Arc<LineStore>,
    control: watch::Sender<Control>,
    phase: Arc<watch::Sender<Phase>>,
    stats: Arc<watch::Sender<LineStats>>,
    view: watch::Sender<LineView>,
    run: tokio::sync::Mutex<Option<Run>>,
    forwarder: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for LineController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineController")
            .field("job", &self.cfg.spec.job)
            .finish_non_exhaustive()
    }
}

impl LineController {
    /// A controller for the job in `cfg`; nothing runs until [`LineController::start`].
    /// Inside a runtime.
    pub fn new(
        cfg: LineConfig,
        writer: WriterHandle,
        store: Arc<LineStore>,
    ) -> Result<LineController, LineError> {
        cfg.water.validate().map_err(LineError::Invalid)?;
        // The counters of earlier runs of this job, so the screen starts where the job is.
        let mut first = LineStats::default();
        let mut phase = Phase::Idle;
        if let Some((_, state)) = store.job(&cfg.spec.job)? {
            (first.encoded, first.scrapped) = store.job_counts(&cfg.spec.job)?;
            if state == crate::line::JobState::Done {
                phase = Phase::Done;
            }
        }
        let (control, _) = watch::channel(Control::Pause);
        let phase = Arc::new(watch::channel(phase).0);
        let stats = Arc::new(watch::channel(first).0);
        let target = cfg.spec.target;
        let (view, _) = watch::channel(view_of(
            &phase.borrow(),
            Control::Pause,
            &stats.borrow(),
            target,
            0,
        ));
        let forwarder = tokio::spawn(forward(
            control.subscribe(),
            phase.subscribe(),
            stats.subscribe(),
            view.clone(),
            target,
        ));
        Ok(LineController {
            cfg: Arc::new(cfg),
            writer,
            store,
            control,
            phase,
            stats,
            view,
            run: tokio::sync::Mutex::new(None),
            forwarder,
        })
    }

    pub fn config(&self) -> &LineConfig {
        &self.cfg
    }

    pub fn subscribe(&self) -> watch::Receiver<LineView> {
        self.view.subscribe()
    }

    pub fn view(&self) -> LineView {
        self.view.borrow().clone()
    }

    pub fn reconcile(&self) -> Result<Reconciliation, LineError> {
        self.store.reconcile(&self.cfg.spec.batch)
    }

    /// Start (or resume after a stop, a failure or a box restart) the job.
    pub async fn start(&self) -> Result<(), Refused> {
        let mut run = self.run.lock().await;
        match &*self.phase.borrow() {
            Phase::Running => return Err(Refused::State),
            Phase::Done => return Err(Refused::Done),
            Phase::Idle | Phase::Stopped | Phase::Failed(_) => {}
        }
        if let Some(r) = run.take() {
            // The previous run has ended (its phase says so); reap it.
            let _ = r.task.await;
        }
        self.control.send_replace(Control::Run);
        self.phase.send_replace(Phase::Running);
        let (cfg, writer, store) = (self.cfg.clone(), self.writer.clone(), self.store.clone());
        let (ctl, phase, stats) = (
            self.control.subscribe(),
            self.phase.clone(),
            self.stats.clone(),
        );
        let task = tokio::spawn(async move {
            let out = run_job(&writer, &store, &cfg, ctl, &stats).await;
            let next = match out {
                Ok(_) => match store.job(&cfg.spec.job) {
                    Ok(Some((_, crate::line::JobState::Done))) => Phase::Done,
                    Ok(_) => Phase::Stopped,
                    Err(e) => Phase::Failed(e.to_string()),
                },
                Err(e) => {
                    tracing::error!(job = %cfg.spec.job, error = %e, "line job stopped on an error");
                    Phase::Failed(e.to_string())
                }
            };
            phase.send_replace(next);
        });
        *run = Some(Run { task });
        Ok(())
    }

    /// Stop topping up; what is in flight is settled and the coder stopped.
    pub fn pause(&self) -> Result<(), Refused> {
        self.send_if(Control::Run, Control::Pause)
    }

    pub fn resume(&self) -> Result<(), Refused> {
        self.send_if(Control::Pause, Control::Run)
    }

    /// End the run: settle what is in flight; unsent allocated codes stay for a later start.
    pub fn stop(&self) -> Result<(), Refused> {
        if *self.phase.borrow() != Phase::Running || *self.control.borrow() == Control::Stop {
            return Err(Refused::State);
        }
        self.control.send_replace(Control::Stop);
        Ok(())
    }

    fn send_if(&self, now: Control, next: Control) -> Result<(), Refused> {
        if *self.phase.borrow() != Phase::Running || *self.control.borrow() != now {
            return Err(Refused::State);
        }
        self.control.send_replace(next);
        Ok(())
    }

    /// Stop the run (if any) and wait until it has settled; for the box's shutdown.
    pub async fn shutdown(&self) {
        self.control.send_replace(Control::Stop);
        if let Some(r) = self.run.lock().await.take() {
            let _ = r.task.await;
        }
        self.forwarder.abort();
    }
}

fn state_name(phase: &Phase, ctl: Control, paused: bool) -> &'static str {
    match phase {
        Phase::Idle => "idle",
        Phase::Stopped => "stopped",
        Phase::Done => "done",
        Phase::Failed(_) => "failed",
        Phase::Running => match (ctl, paused) {
            (Control::Stop, _) => "stopping",
            (Control::Pause, false) => "pausing",
            (Control::Pause, true) => "paused",
            (Control::Run, true) => "resuming",
            (Control::Run, false) => "running",
        },
    }
}

fn view_of(phase: &Phase, ctl: Control, s: &LineStats, target: u64, per_min: u64) -> LineView {
    let mut state = state_name(phase, ctl, s.paused);
    // Running but held up (the coder is faulted or unreachable): not printing, say so.
    if state == "running"
        && s.fault
            .as_ref()
            .is_some_and(|f| *f != LineFault::BufferFull)
    {
        state = "held";
    }
    LineView {
        state,
        encoded: s.encoded,
        scrapped: s.scrapped,
        buffered: if state == "running" { s.buffered } else { 0 },
        in_flight: s.in_flight,
        target,
        per_min: if state == "running" { per_min } else { 0 },
        fault: if phase == &Phase::Running {
            s.fault.clone()
        } else {
            None
        },
        error: match phase {
            Phase::Failed(e) => Some(e.clone()),
            _ => None,
        },
        reconnects: s.reconnects,
        resyncs: s.resyncs,
    }
}

async fn forward(
    mut ctl: watch::Receiver<Control>,
    mut phase: watch::Receiver<Phase>,
    mut stats: watch::Receiver<LineStats>,
    view: watch::Sender<LineView>,
    target: u64,
) {
    let mut rate = Rate::default();
    loop {
        tokio::select! {
            r = ctl.changed() => if r.is_err() { return },
            r = phase.changed() => if r.is_err() { return },
            r = stats.changed() => if r.is_err() { return },
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let (p, c, s) = (
            phase.borrow_and_update().clone(),
            *ctl.borrow_and_update(),
            stats.borrow_and_update().clone(),
        );
        if state_name(&p, c, s.paused) == "running" {
            rate.add(Instant::now(), s.encoded);
        } else {
            rate.clear();
        }
        let v = view_of(&p, c, &s, target, rate.per_min());
        view.send_if_modified(|old| {
            let changed = *old != v;
            *old = v;
            changed
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_items_per_minute_over_the_window() {
        let t0 = Instant::now();
        let mut r = Rate::default();
        r.add(t0, 100);
        assert_eq!(r.per_min(), 0, "one sample says nothing");
        r.add(t0 + Duration::from_secs(10), 150);
        assert_eq!(r.per_min(), 300);
        // Older than the window drops out: 30 s later only the last 20 s count.
        r.add(t0 + Duration::from_secs(40), 150);
        assert_eq!(r.per_min(), 0);
        // A counter going back (a new job) restarts the window.
        r.add(t0 + Duration::from_secs(41), 10);
        assert_eq!(r.per_min(), 0);
    }

    #[test]
    fn the_state_follows_the_requested_control_and_the_job() {
        assert_eq!(
            state_name(&Phase::Running, Control::Pause, false),
            "pausing"
        );
        assert_eq!(state_name(&Phase::Running, Control::Pause, true), "paused");
        assert_eq!(state_name(&Phase::Running, Control::Run, true), "resuming");
        assert_eq!(
            state_name(&Phase::Running, Control::Stop, false),
            "stopping"
        );
        assert_eq!(state_name(&Phase::Stopped, Control::Stop, false), "stopped");
        let s = LineStats {
            buffered: 12,
            fault: Some(LineFault::BufferFull),
            ..LineStats::default()
        };
        let v = view_of(&Phase::Stopped, Control::Stop, &s, 10, 99);
        assert_eq!((v.buffered, v.per_min, v.fault), (0, 0, None));
        let v = view_of(&Phase::Running, Control::Run, &s, 10, 99);
        assert_eq!((v.state, v.buffered, v.per_min), ("running", 12, 99));
        assert_eq!(v.fault, Some(LineFault::BufferFull));
        let s = LineStats {
            fault: Some(LineFault::Coder {
                code: 1201,
                text: "Printhead fault".into(),
            }),
            ..s
        };
        let v = view_of(&Phase::Running, Control::Run, &s, 10, 99);
        assert_eq!((v.state, v.buffered, v.per_min), ("held", 0, 0));
    }
}
