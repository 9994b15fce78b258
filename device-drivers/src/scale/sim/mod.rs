//! Scale simulators: each protocol's real bytes over TCP or a pty, with failure modes.
//!
//! Why: drivers, the device manager and the installer CLI are tested against something that
//! cannot be told from a scale on a cable — including the ways scales misbehave: unstable and
//! overload weights, noise between frames, slow replies, a cable pulled mid-frame.
//!
//! Design: [`respond`] is a pure function from buffered command bytes and the simulated scale
//! state to reply frames; the connection loop only adds timing (streaming ticks, delays) and the
//! failure modes. State is shared so a test can change the weight while a driver watches.

mod respond;

pub use respond::respond;

use super::ScaleProtocol;
use super::ascii::AsciiIndicatorConfig;
use super::dahua::PluRecord;
use crate::sim::{SimConnection, SimEndpoint, SimListen};
use bytes::BytesMut;
use respond::{noise, streamed_frame};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

/// How the simulated scale behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSimOptions {
    /// Gross weight on the platter.
    pub weight_grams: i64,
    /// Report motion.
    pub unstable: bool,
    /// Report overload.
    pub overload: bool,
    /// Frames per second on streaming protocols (toledo-continuous, ascii-indicator when
    /// `ascii_continuous`, MT-SICS after `SIR`).
    pub hz: u32,
    /// The ASCII indicator streams lines instead of answering `RW`.
    pub ascii_continuous: bool,
    /// Send noise before every frame.
    pub garbage: bool,
    /// After this many frames on a connection, send half a frame and hang up.
    pub disconnect_after: Option<u32>,
    /// Wait this long before each reply.
    pub reply_delay: Duration,
}

impl Default for ScaleSimOptions {
    fn default() -> Self {
        Self {
            weight_grams: 1234,
            unstable: false,
            overload: false,
            hz: 10,
            ascii_continuous: false,
            garbage: false,
            disconnect_after: None,
            reply_delay: Duration::ZERO,
        }
    }
}

/// The simulated scale's state.
#[derive(Debug, Clone, Default)]
pub struct ScaleSimState {
    pub weight_grams: i64,
    pub zero_offset: i64,
    pub tare_grams: i64,
    pub unstable: bool,
    pub overload: bool,
    /// MT-SICS `SIR` mode.
    pub repeating: bool,
    /// Toledo 8217 echo (identify) mode.
    pub echo: bool,
    /// Dahua PLU keys received.
    pub plus: BTreeMap<u16, PluRecord>,
    /// Frames written, all connections.
    pub frames_sent: u64,
    /// Connections accepted.
    pub connections: u64,
}

impl ScaleSimState {
    fn gross(&self) -> i64 {
        self.weight_grams - self.zero_offset
    }
    fn displayed(&self) -> i64 {
        self.gross() - self.tare_grams
    }
}

/// How often a pty simulator checks whether a driver has opened the port.
pub(crate) const PEER_ABSENT_POLL: Duration = Duration::from_millis(50);

/// A running scale simulator. Dropping it stops the simulator.
pub struct ScaleSim {
    uri: String,
    state: Arc<Mutex<ScaleSimState>>,
    task: Option<JoinHandle<()>>,
}

impl ScaleSim {
    /// The URI a driver connects to (`tcp://127.0.0.1:PORT` or `serial:///dev/pts/N`).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Change the simulated scale (weight, flags) while it runs.
    pub fn update(&self, f: impl FnOnce(&mut ScaleSimState)) {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// A copy of the simulated scale's state.
    pub fn state(&self) -> ScaleSimState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// What a Dahua TM prints when the key `plu` is pressed with the current load: the
    /// label's EAN-13 in `layout`, carrying the weight or the price (weight × the key's
    /// per-kg price, rounded half-up to the fen; one item's price for a counted key).
    /// `None` when no such key was downloaded or the value does not fit the layout.
    pub fn print_label(
        &self,
        plu: u16,
        measure: trace_core::label::Measure,
        layout: &trace_core::label::LabelLayout,
    ) -> Option<String> {
        use super::dahua::WeighMode;
        use trace_core::label::{Label, Measure};
        let st = self.state();
        let key = st.plus.get(&plu)?;
        let grams = u64::try_from(st.displayed()).ok()?;
        let amount = match (measure, key.mode) {
            (Measure::Weight, _) => grams,
            (Measure::Price, WeighMode::Counted) => u64::from(key.unit_price_fen),
            (Measure::Price, _) => (grams * u64::from(key.unit_price_fen) + 500) / 1000,
        };
        layout
            .encode(&Label {
                flag: layout.flag_for(measure)?,
                item: key.item_code,
                measure,
                amount: u32::try_from(amount).ok()?,
            })
            .ok()
    }

    /// Run until the endpoint fails (for the standalone `sim scale` command).
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for ScaleSim {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Start a simulator for `protocol` on `listen`. Returns once it is listening.
pub async fn run_scale_sim(
    protocol: ScaleProtocol,
    listen: SimListen,
    opts: ScaleSimOptions,
) -> std::io::Result<ScaleSim> {
    let mut endpoint = SimEndpoint::bind(&listen).await?;
    let uri = endpoint.describe()?;
    let state = Arc::new(Mutex::new(ScaleSimState {
        weight_grams: opts.weight_grams,
        unstable: opts.unstable,
        overload: opts.overload,
        ..Default::default()
    }));
    tracing::info!(%uri, protocol = protocol.name(), "scale simulator listening");
    let shared = state.clone();
    let task = tokio::spawn(async move {
        while let Ok(conn) = endpoint.accept().await {
            shared.lock().unwrap_or_else(|e| e.into_inner()).connections += 1;
            let (st, o) = (shared.clone(), opts.clone());
            tokio::spawn(async move {
                if let Err(e) = serve(protocol, conn, st, o).await {
                    tracing::debug!(error = %e, "scale simulator connection ended");
                }
            });
        }
    });
    Ok(ScaleSim {
        uri,
        state,
        task: Some(task),
    })
}

/// Write one frame with the failure modes applied. `Ok(false)` means "hung up".
async fn emit(
    conn: &mut SimConnection,
    frame: &[u8],
    sent: &mut u32,
    protocol: ScaleProtocol,
    opts: &ScaleSimOptions,
    state: &Mutex<ScaleSimState>,
) -> std::io::Result<bool> {
    if !opts.reply_delay.is_zero() {
        tokio::time::sleep(opts.reply_delay).await;
    }
    if opts.disconnect_after.is_some_and(|n| *sent >= n) {
        conn.write_all(&frame[..frame.len() / 2]).await?;
        conn.flush().await?;
        return Ok(false);
    }
    let written = async {
        if opts.garbage {
            conn.write_all(noise(protocol)).await?;
        }
        conn.write_all(frame).await?;
        conn.flush().await
    };
    match written.await {
        Err(e) if crate::transport::is_eio(&e) => return Ok(true),
        other => other?,
    }
    *sent += 1;
    state.lock().unwrap_or_else(|e| e.into_inner()).frames_sent += 1;
    Ok(true)
}

async fn serve(
    protocol: ScaleProtocol,
    mut conn: SimConnection,
    state: Arc<Mutex<ScaleSimState>>,
    opts: ScaleSimOptions,
) -> std::io::Result<()> {
    let ascii = AsciiIndicatorConfig::default();
    let mut input = BytesMut::with_capacity(256);
    let mut sent = 0u32;
    let period = Duration::from_micros(1_000_000 / u64::from(opts.hz.max(1)));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let streaming = {
            let st = state.lock().unwrap_or_else(|e| e.into_inner());
            protocol == ScaleProtocol::ToledoContinuous
                || (protocol == ScaleProtocol::AsciiIndicator && opts.ascii_continuous)
                || (protocol == ScaleProtocol::MtSics && st.repeating)
        };
        let frames = tokio::select! {
            r = conn.read_buf(&mut input) => {
                match r {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    // A pty whose driver side is not open (yet, or any more) reads EIO; a scale
                    // on a cable keeps running until someone opens the port again.
                    Err(e) if crate::transport::is_eio(&e) => {
                        tokio::time::sleep(PEER_ABSENT_POLL).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                respond(protocol, &mut input, &mut st, &ascii)
            }
            _ = tick.tick(), if streaming => {
                let st = state.lock().unwrap_or_else(|e| e.into_inner());
                streamed_frame(protocol, &st, &opts, &ascii).into_iter().collect()
            }
        };
        for f in frames {
            if !emit(&mut conn, &f, &mut sent, protocol, &opts, &state).await? {
                return Ok(());
            }
        }
        if input.len() > 4096 {
            input.clear();
        }
    }
}
