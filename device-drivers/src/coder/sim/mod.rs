//! Coder simulators: each protocol's real bytes over TCP or a pty, in front of one simulated
//! coder ([`engine`]) that prints its buffer at line speed and logs every printed code.
//!
//! The print log is the ground truth the exactly-once tests check against: one printed code
//! per line, written at the moment of printing. Failure modes: a bounded buffer (back-pressure),
//! print-head faults and disconnects injected after the N-th print or on demand through a
//! [`CoderSimHandle`], the buffer kept or cleared across a disconnect ([`BufferPolicy`]), garbage
//! bytes before replies, slow replies.

mod engine;
mod respond;

pub use engine::HEAD_FAULT;

use crate::coder::CoderProtocol;
use crate::coder::text_tcp::TextTcpConfig;
use crate::sim::{SimConnection, SimEndpoint, SimListen};
use engine::{Effect, Engine};
use futures::{SinkExt, StreamExt};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio_util::codec::{Decoder, Encoder, Framed};

/// What happens to queued codes when the connection drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BufferPolicy {
    /// The coder keeps printing its buffer while the box is away.
    #[default]
    Keep,
    /// The coder empties its buffer when the connection drops.
    Clear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectedFault {
    /// The head faults: printing stops, the fault is reported until it clears.
    HeadFault,
    /// The coder drops the connection (mid-stream, whatever is being exchanged).
    Disconnect,
}

/// Inject `fault` right after the `after_printed`-th print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaultAt {
    pub after_printed: u64,
    pub fault: InjectedFault,
}

#[derive(Debug, Clone)]
pub struct CoderSimOptions {
    /// Items printed per second while running with a non-empty buffer.
    pub line_speed: u32,
    pub buffer_capacity: usize,
    /// Append every printed code here, one per line.
    pub print_log: Option<PathBuf>,
    pub on_disconnect: BufferPolicy,
    /// Delay before every reply.
    pub reply_delay: Duration,
    /// Garbage bytes before every N-th reply.
    pub garbage_every: Option<u32>,
    pub faults: Vec<FaultAt>,
    /// A head fault clears by itself after this long (the operator wiped the head); the coder
    /// then stays stopped until told to start.
    pub fault_clears_after: Duration,
    pub start_running: bool,
    /// Dialect of the `text-tcp` simulator.
    pub text: TextTcpConfig,
}

impl Default for CoderSimOptions {
    fn default() -> Self {
        CoderSimOptions {
            line_speed: 50,
            buffer_capacity: 100,
            print_log: None,
            on_disconnect: BufferPolicy::Keep,
            reply_delay: Duration::ZERO,
            garbage_every: None,
            faults: Vec::new(),
            fault_clears_after: Duration::from_millis(500),
            start_running: false,
            text: TextTcpConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoderSimError {
    #[error("cannot listen: {0}")]
    Listen(std::io::Error),
    #[error("cannot open the print log {path}: {err}")]
    Log { path: PathBuf, err: std::io::Error },
    #[error("line speed must be at least 1 item per second")]
    LineSpeed,
}

struct Shared {
    engine: Mutex<Engine>,
    disconnect: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Engine> {
        // A panic while holding the lock cannot leave the engine half-updated in a way that
        // matters more than stopping the simulator would.
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn kick(&self) {
        self.disconnect.send_modify(|n| *n += 1);
    }
}

/// A snapshot of the simulated coder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStats {
    pub printed: u64,
    pub buffered: usize,
    pub running: bool,
    pub fault: Option<u32>,
    pub log_error: Option<String>,
}

/// Control of a running simulator, for tests and the CLI.
#[derive(Clone)]
pub struct CoderSimHandle {
    shared: Arc<Shared>,
}

impl CoderSimHandle {
    pub fn stats(&self) -> SimStats {
        let e = self.shared.lock();
        SimStats {
            printed: e.printed_total,
            buffered: e.buffer.len(),
            running: e.running,
            fault: e.fault,
            log_error: e.log_error.clone(),
        }
    }

    pub fn inject_head_fault(&self) {
        self.shared.lock().raise_fault(HEAD_FAULT);
    }

    pub fn clear_fault(&self) {
        self.shared.lock().clear_fault();
    }

    /// Drop the current connection now.
    pub fn disconnect(&self) {
        self.shared.kick();
    }
}

/// A bound simulator, not yet serving.
pub struct CoderSim {
    protocol: CoderProtocol,
    endpoint: SimEndpoint,
    shared: Arc<Shared>,
    opts: CoderSimOptions,
}

impl CoderSim {
    pub async fn bind(
        protocol: CoderProtocol,
        listen: &SimListen,
        opts: CoderSimOptions,
    ) -> Result<Self, CoderSimError> {
        if opts.line_speed == 0 {
            return Err(CoderSimError::LineSpeed);
        }
        let log = match &opts.print_log {
            None => None,
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|err| CoderSimError::Log {
                        path: path.clone(),
                        err,
                    })?,
            ),
        };
        let endpoint = SimEndpoint::bind(listen)
            .await
            .map_err(CoderSimError::Listen)?;
        let engine = Engine::new(
            opts.buffer_capacity,
            opts.faults.clone(),
            opts.fault_clears_after,
            log,
            opts.start_running,
        );
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            disconnect: watch::channel(0).0,
        });
        Ok(CoderSim {
            protocol,
            endpoint,
            shared,
            opts,
        })
    }

    /// The URI a driver connects to (`tcp://…` or `serial:///dev/pts/N`).
    pub fn describe(&self) -> std::io::Result<String> {
        self.endpoint.describe()
    }

    pub fn handle(&self) -> CoderSimHandle {
        CoderSimHandle {
            shared: self.shared.clone(),
        }
    }

    /// Serve connections one at a time, forever (or until the listener fails).
    pub async fn run(mut self) -> Result<(), CoderSimError> {
        let printer = AbortOnDrop(tokio::spawn(print_loop(
            self.shared.clone(),
            self.opts.line_speed,
        )));
        loop {
            let conn = self
                .endpoint
                .accept()
                .await
                .map_err(CoderSimError::Listen)?;
            let r = serve(self.protocol, conn, &self.shared, &self.opts).await;
            if let Err(e) = r {
                tracing::debug!(error = %e, "coder simulator connection ended");
            }
            if self.opts.on_disconnect == BufferPolicy::Clear {
                self.shared.lock().buffer.clear();
            }
            if printer.0.is_finished() {
                return Ok(());
            }
        }
    }
}

/// Bind and serve; the URI is logged. For tests that need the URI or a handle, use
/// [`CoderSim::bind`].
pub async fn run_coder_sim(
    protocol: CoderProtocol,
    listen: SimListen,
    opts: CoderSimOptions,
) -> Result<(), CoderSimError> {
    let sim = CoderSim::bind(protocol, &listen, opts).await?;
    tracing::info!(protocol = %protocol, uri = %sim.describe().unwrap_or_default(), "coder simulator listening");
    sim.run().await
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn print_loop(shared: Arc<Shared>, line_speed: u32) {
    let period = Duration::from_nanos(1_000_000_000 / u64::from(line_speed.max(1)));
    let mut tick = tokio::time::interval(period);
    // Burst: above 1,000 items/s the timer wheel (1 ms) wakes us late every time, and the
    // missed ticks must still print for the average speed to hold.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        let now = tick.tick().await;
        let effect = shared.lock().tick(now);
        if let Effect::Disconnect = effect {
            shared.kick();
        }
    }
}

/// Noise that no coder decoder can mistake for a frame start (no ESC, ACK, NAK, ENQ; invalid
/// UTF-8 for the text protocols), ending a line so text decoders drop it as one junk line.
pub const GARBAGE: &[u8] = b"\x00\xff~noise~\xfe\r\n";

async fn serve(
    protocol: CoderProtocol,
    conn: SimConnection,
    shared: &Shared,
    opts: &CoderSimOptions,
) -> std::io::Result<()> {
    use crate::coder::{imaje, tij, zipher};
    match protocol {
        CoderProtocol::Zipher => {
            serve_with(
                conn,
                zipher::ZipherDeviceCodec::default(),
                shared,
                opts,
                respond::zipher,
            )
            .await
        }
        CoderProtocol::Tij => {
            serve_with(
                conn,
                tij::TijDeviceCodec::default(),
                shared,
                opts,
                respond::tij,
            )
            .await
        }
        CoderProtocol::Imaje9040 => {
            serve_with(
                conn,
                imaje::ImajeDeviceCodec::default(),
                shared,
                opts,
                respond::imaje,
            )
            .await
        }
        CoderProtocol::TextTcp => {
            let codec = crate::coder::text_tcp::TextLineCodec::new(&opts.text.line_end);
            let text = respond::TextDialect::new(&opts.text);
            serve_with(conn, codec, shared, opts, |e, line| text.respond(e, line)).await
        }
    }
}

async fn serve_with<C, Req, Rep>(
    conn: SimConnection,
    codec: C,
    shared: &Shared,
    opts: &CoderSimOptions,
    mut respond: impl FnMut(&mut Engine, Req) -> Vec<Rep>,
) -> std::io::Result<()>
where
    C: Decoder<Item = Req, Error = std::io::Error> + Encoder<Rep, Error = std::io::Error>,
{
    let mut framed = Framed::new(conn, codec);
    let mut kicks = shared.disconnect.subscribe();
    kicks.mark_unchanged();
    let mut replies = 0u64;
    loop {
        let req = tokio::select! {
            _ = kicks.changed() => return Ok(()),
            r = framed.next() => match r {
                None => return Ok(()),
                Some(r) => r?,
            },
        };
        let out = respond(&mut shared.lock(), req);
        for rep in out {
            if !opts.reply_delay.is_zero() {
                tokio::time::sleep(opts.reply_delay).await;
            }
            replies += 1;
            if opts
                .garbage_every
                .is_some_and(|n| n > 0 && replies.is_multiple_of(u64::from(n)))
            {
                framed.flush().await?;
                framed.get_mut().write_all(GARBAGE).await?;
            }
            framed.send(rep).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(plan: Vec<FaultAt>, log: Option<std::fs::File>) -> Arc<Shared> {
        Arc::new(Shared {
            engine: Mutex::new(Engine::new(100, plan, Duration::from_secs(2), log, true)),
            disconnect: watch::channel(0).0,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn prints_at_line_speed_on_tokio_time() {
        let s = shared(vec![], None);
        for i in 0..20 {
            s.lock().push(format!("C{i}"));
        }
        let t = tokio::spawn(print_loop(s.clone(), 5));
        // Ticks at 0, 200, …, 1000 ms: six prints.
        tokio::time::sleep(Duration::from_millis(1_050)).await;
        assert_eq!(s.lock().printed_total, 6);
        assert_eq!(s.lock().last_printed, 6);
        t.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn an_injected_head_fault_stops_printing_until_cleared_and_restarted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let file = std::fs::File::create(&path).unwrap();
        let plan = vec![FaultAt {
            after_printed: 3,
            fault: InjectedFault::HeadFault,
        }];
        let s = shared(plan, Some(file));
        for i in 0..10 {
            s.lock().push(format!("C{i}"));
        }
        let t = tokio::spawn(print_loop(s.clone(), 10));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(s.lock().printed_total, 3);
        assert_eq!(s.lock().fault, Some(HEAD_FAULT));
        assert!(!s.lock().running);
        // The operator's fix clears the fault after 2 s; the coder stays stopped.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(s.lock().fault, None);
        assert_eq!(s.lock().printed_total, 3);
        s.lock().running = true;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(s.lock().printed_total, 10);
        t.abort();
        let log = std::fs::read_to_string(&path).unwrap();
        let want: Vec<String> = (0..10).map(|i| format!("C{i}")).collect();
        assert_eq!(log.lines().collect::<Vec<_>>(), want);
    }

    #[tokio::test(start_paused = true)]
    async fn an_injected_disconnect_kicks_the_connection() {
        let plan = vec![FaultAt {
            after_printed: 2,
            fault: InjectedFault::Disconnect,
        }];
        let s = shared(plan, None);
        let mut kicks = s.disconnect.subscribe();
        for i in 0..5 {
            s.lock().push(format!("C{i}"));
        }
        let t = tokio::spawn(print_loop(s.clone(), 10));
        kicks.changed().await.unwrap();
        assert_eq!(s.lock().printed_total, 2);
        t.abort();
    }
}
