//! Scale simulators: each protocol's real bytes over TCP or a pty, with failure modes.
//!
//! Why: drivers, the device manager and the installer CLI are tested against something that
//! cannot be told from a scale on a cable — including the ways scales misbehave: unstable and
//! overload weights, noise between frames, slow replies, a cable pulled mid-frame.
//!
//! Design: [`respond`] is a pure function from buffered command bytes and the simulated scale
//! state to reply frames; the connection loop only adds timing (streaming ticks, delays) and the
//! failure modes. State is shared so a test can change the weight while a driver watches.

use super::ScaleProtocol;
use super::ascii::{AsciiIndicatorConfig, AsciiLine, AsciiMode, AsciiState};
use super::cas::{self, CasFrame, CasReply};
use super::continuous::{self, ContinuousConfig};
use super::dahua::{CLEAR_ALL_PLUS, PluRecord, REPLY_END};
use super::mtsics::{self, MtSicsCommand, MtSicsReply, Refusal};
use super::toledo8217::{self, Toledo8217Reply, Toledo8217Status};
use crate::sim::{SimConnection, SimEndpoint, SimListen};
use bytes::{Buf, BytesMut};
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

fn line(s: String) -> Vec<u8> {
    let mut v = s.into_bytes();
    v.extend_from_slice(b"\r\n");
    v
}

/// Consume every complete command in `input` and return the replies, in order.
pub fn respond(
    protocol: ScaleProtocol,
    input: &mut BytesMut,
    st: &mut ScaleSimState,
    ascii: &AsciiIndicatorConfig,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    match protocol {
        ScaleProtocol::MtSics => {
            while let Some(i) = input.iter().position(|b| *b == b'\n') {
                let raw = input.split_to(i + 1);
                let text = String::from_utf8_lossy(&raw).trim().to_string();
                st.repeating = false;
                let reply = match MtSicsCommand::parse(&text) {
                    Some(c) => mt_sics_reply(c, st),
                    None => Some(MtSicsReply::Error("ES".into())),
                };
                if let Some(r) = reply {
                    let mut b = BytesMut::new();
                    mtsics::encode_reply(&r, &mut b);
                    out.push(b.to_vec());
                }
            }
        }
        ScaleProtocol::Toledo8217 => {
            while !input.is_empty() {
                let b = input.get_u8();
                if st.echo {
                    if b == b'F' {
                        st.echo = false;
                    } else {
                        out.push(vec![b]);
                    }
                    continue;
                }
                match b {
                    b'W' => {
                        let mut buf = BytesMut::new();
                        toledo8217::encode_reply(&t8217_reply(st), &mut buf);
                        out.push(buf.to_vec());
                    }
                    b'Z' => st.zero_offset = st.weight_grams,
                    b'T' => st.tare_grams = st.gross(),
                    b'C' => st.tare_grams = 0,
                    b'E' => {
                        st.echo = true;
                        out.push(b"\x02E\r".to_vec());
                    }
                    _ => {}
                }
            }
        }
        ScaleProtocol::ToledoContinuous => {
            while let Some(i) = input.iter().position(|b| *b == b'\n') {
                let raw = input.split_to(i + 1);
                match raw.first() {
                    Some(b'Z') => st.zero_offset = st.weight_grams,
                    Some(b'T') => st.tare_grams = st.gross(),
                    Some(b'C') => st.tare_grams = 0,
                    _ => {}
                }
            }
        }
        ScaleProtocol::Cas => loop {
            match input.first() {
                None => break,
                Some(&cas::ENQ) => {
                    input.advance(1);
                    out.push(vec![cas::ACK]);
                }
                Some(&cas::DC1) => {
                    input.advance(1);
                    let mut b = BytesMut::new();
                    cas::encode_reply(&CasReply::Weight(cas_frame(st)), &mut b);
                    out.push(b.to_vec());
                }
                Some(b'<') => {
                    let Some(i) = input.iter().position(|b| *b == b'\t') else {
                        break;
                    };
                    let key = input.split_to(i + 1);
                    match &key[..] {
                        b"<ZK>\t" => st.zero_offset = st.weight_grams,
                        b"<TK>\t" if st.tare_grams != 0 => st.tare_grams = 0,
                        b"<TK>\t" => st.tare_grams = st.gross(),
                        _ => {}
                    }
                }
                Some(_) => input.advance(1),
            }
        },
        ScaleProtocol::AsciiIndicator => {
            while let Some(i) = input.iter().position(|b| *b == b'\n') {
                let raw = input.split_to(i + 1);
                let cmd = String::from_utf8_lossy(&raw).trim().to_string();
                let mode = if st.tare_grams != 0 {
                    AsciiMode::Net
                } else {
                    AsciiMode::Gross
                };
                match cmd.as_str() {
                    c if c == ascii.read_command || c == "RN" => {
                        out.push(line(ascii.format_line(&ascii_line(st, mode))))
                    }
                    "RG" => out.push(line(ascii.format_line(&ascii_line(st, AsciiMode::Gross)))),
                    "RT" => out.push(line(ascii.format_line(&ascii_line(st, AsciiMode::Tare)))),
                    c if c == ascii.zero_command => st.zero_offset = st.weight_grams,
                    c if c == ascii.tare_command => st.tare_grams = st.gross(),
                    c if c == ascii.clear_tare_command => st.tare_grams = 0,
                    _ => {}
                }
            }
        }
        ScaleProtocol::DahuaTm => {
            while let Some(i) = input.windows(2).position(|w| w == b"\r\n") {
                let raw = input.split_to(i + 2);
                let cmd = String::from_utf8_lossy(&raw[..i]).to_string();
                let reply: &[u8] = if cmd == CLEAR_ALL_PLUS {
                    st.plus.clear();
                    b"OK"
                } else if let Some(p) = PluRecord::parse_command(&cmd) {
                    st.plus.insert(p.plu, p);
                    b"OK"
                } else {
                    b"ERR"
                };
                out.push([reply, REPLY_END].concat());
            }
        }
    }
    out
}

fn mt_sics_reply(c: MtSicsCommand, st: &mut ScaleSimState) -> Option<MtSicsReply> {
    Some(match c {
        MtSicsCommand::S if st.overload => MtSicsReply::WeightRefused(Refusal::Over),
        MtSicsCommand::S if st.unstable => MtSicsReply::WeightRefused(Refusal::NotExecutable),
        MtSicsCommand::SI if st.overload => MtSicsReply::WeightRefused(Refusal::Over),
        MtSicsCommand::S | MtSicsCommand::SI => MtSicsReply::Weight {
            stable: !st.unstable,
            grams: st.displayed(),
        },
        MtSicsCommand::SIR => {
            st.repeating = true;
            return None;
        }
        MtSicsCommand::Z if st.unstable => MtSicsReply::ZeroRefused(Refusal::NotExecutable),
        MtSicsCommand::Z | MtSicsCommand::ZI => {
            st.zero_offset = st.weight_grams;
            MtSicsReply::Zeroed
        }
        MtSicsCommand::T if st.unstable => MtSicsReply::TareRefused(Refusal::NotExecutable),
        MtSicsCommand::T | MtSicsCommand::TI => {
            st.tare_grams = st.gross();
            MtSicsReply::Tare {
                grams: st.tare_grams,
            }
        }
        MtSicsCommand::TA => MtSicsReply::Tare {
            grams: st.tare_grams,
        },
        MtSicsCommand::TAC => {
            st.tare_grams = 0;
            MtSicsReply::TareCleared
        }
        MtSicsCommand::Reset => MtSicsReply::Ident {
            command: "I4".into(),
            text: "BAYSIM0001".into(),
        },
        MtSicsCommand::Ident(n) => MtSicsReply::Ident {
            command: format!("I{n}"),
            text: "baytrace MT-SICS simulator".into(),
        },
    })
}

fn t8217_reply(st: &ScaleSimState) -> Toledo8217Reply {
    let net = st.tare_grams != 0;
    let mut bits = 0u8;
    if st.unstable {
        bits |= 0x01;
    }
    if st.overload {
        bits |= 0x02;
    }
    if st.displayed() < 0 {
        bits |= 0x04;
    }
    if bits != 0 {
        if net {
            bits |= 0x20;
        }
        Toledo8217Reply::Status(Toledo8217Status(bits))
    } else {
        Toledo8217Reply::Weight {
            grams: st.displayed(),
            net,
        }
    }
}

fn cas_frame(st: &ScaleSimState) -> CasFrame {
    CasFrame::for_grams(st.displayed(), !st.unstable, st.overload)
}

fn ascii_line(st: &ScaleSimState, mode: AsciiMode) -> AsciiLine {
    let state = if st.overload {
        AsciiState::Overload
    } else if st.unstable {
        AsciiState::Unstable
    } else {
        AsciiState::Stable
    };
    let grams = match mode {
        AsciiMode::Gross => st.gross(),
        AsciiMode::Net => st.displayed(),
        AsciiMode::Tare => st.tare_grams,
    };
    AsciiLine {
        state,
        mode,
        grams: if st.overload { None } else { Some(grams) },
    }
}

/// The frame a streaming protocol sends on each tick, if streaming.
fn streamed_frame(
    protocol: ScaleProtocol,
    st: &ScaleSimState,
    opts: &ScaleSimOptions,
    ascii: &AsciiIndicatorConfig,
) -> Option<Vec<u8>> {
    let mut b = BytesMut::new();
    match protocol {
        ScaleProtocol::ToledoContinuous => {
            let f = continuous::frame_for(st.displayed(), st.tare_grams, st.unstable, st.overload);
            continuous::encode_frame(&ContinuousConfig::default(), &f, &mut b);
        }
        ScaleProtocol::AsciiIndicator if opts.ascii_continuous => {
            let mode = if st.tare_grams != 0 {
                AsciiMode::Net
            } else {
                AsciiMode::Gross
            };
            return Some(line(ascii.format_line(&ascii_line(st, mode))));
        }
        ScaleProtocol::MtSics if st.repeating => {
            let r = mt_sics_reply(MtSicsCommand::SI, &mut st.clone())?;
            mtsics::encode_reply(&r, &mut b);
        }
        _ => return None,
    }
    Some(b.to_vec())
}

fn noise(protocol: ScaleProtocol) -> &'static [u8] {
    match protocol {
        ScaleProtocol::MtSics | ScaleProtocol::AsciiIndicator => b"#~\xfe?\r\n",
        ScaleProtocol::DahuaTm => b"#~",
        _ => b"\xff\x7e\x00",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: ScaleProtocol, st: &mut ScaleSimState, input: &[u8]) -> Vec<Vec<u8>> {
        let mut b = BytesMut::from(input);
        respond(p, &mut b, st, &AsciiIndicatorConfig::default())
    }

    #[test]
    fn mt_sics_answers_and_keeps_state() {
        let mut st = ScaleSimState {
            weight_grams: 1500,
            ..Default::default()
        };
        assert_eq!(
            run(ScaleProtocol::MtSics, &mut st, b"SI\r\nT\r\nSI\r\nXX\r\n"),
            vec![
                b"S S      1.500 kg\r\n".to_vec(),
                b"T S      1.500 kg\r\n".to_vec(),
                b"S S      0.000 kg\r\n".to_vec(),
                b"ES\r\n".to_vec()
            ]
        );
        st.overload = true;
        assert_eq!(
            run(ScaleProtocol::MtSics, &mut st, b"S\r\n"),
            vec![b"S +\r\n".to_vec()]
        );
    }

    #[test]
    fn toledo_8217_echo_probe() {
        let mut st = ScaleSimState::default();
        let out: Vec<u8> = run(ScaleProtocol::Toledo8217, &mut st, b"Ehello").concat();
        assert_eq!(out, toledo8217::PROBE_REPLY);
        assert!(run(ScaleProtocol::Toledo8217, &mut st, b"F").is_empty());
        st.unstable = true;
        assert_eq!(
            run(ScaleProtocol::Toledo8217, &mut st, b"W"),
            vec![b"\x02?A\r".to_vec()]
        );
    }

    #[test]
    fn cas_needs_the_full_key_code() {
        let mut st = ScaleSimState {
            weight_grams: 800,
            ..Default::default()
        };
        assert!(run(ScaleProtocol::Cas, &mut st, b"<ZK").is_empty());
        assert_eq!(
            run(ScaleProtocol::Cas, &mut st, b"\x05"),
            vec![vec![cas::ACK]]
        );
        run(ScaleProtocol::Cas, &mut st, b"<ZK>\t");
        assert_eq!(st.zero_offset, 800);
    }
}
