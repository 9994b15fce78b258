//! One supervisor task per device: connect, stream, reconnect with backoff.
//!
//! Design: per device a loop `Connecting → Connected → Disconnected → (backoff) → Connecting`.
//! A scale streams readings (continuous scales as they come, others polled) and between
//! readings takes zero/tare commands from a queue, so a command never interleaves with a
//! reading on the wire. Protocol-level oddities (a reply that fits no command) are faults and
//! the connection stays; transport failures end the connection. Shutdown is a watch channel
//! every wait selects on.

use super::{
    Backoff, ConfigError, DeviceConfig, DeviceEvent, DeviceEventKind, DeviceHealth, DeviceKind,
    HealthState, ScaleDeviceConfig, ScannerDeviceConfig, validate,
};
use crate::scale::dahua::PluRecord;
use crate::scale::{
    CommandOutcome, DecodeStats, Scale, ScaleDriver, ScaleErrorKind, ScaleProtocol,
};
use crate::scanner::{Scanner, ScannerDriver, ScannerErrorKind, ScannerProtocol};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Commands the UI can give a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScaleCmd {
    Zero,
    Tare,
    ClearTare,
}

type CmdReply = oneshot::Sender<Result<CommandOutcome, String>>;

/// Why a manager request failed.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("no device named {0:?}")]
    NoSuchDevice(String),
    #[error("device {0:?} is not a scale that takes commands")]
    NotAScale(String),
    #[error("device {0:?} is not connected")]
    NotConnected(String),
    #[error("device {device:?}: {message}")]
    Device { device: String, message: String },
}

/// How long a zero/tare request waits for the supervisor to reach the scale.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

type Health = Arc<Mutex<BTreeMap<String, DeviceHealth>>>;

/// A cloneable handle: subscribe to events, read health, command scales.
#[derive(Clone)]
pub struct ManagerHandle {
    events: broadcast::Sender<DeviceEvent>,
    health: Health,
    scale_cmds: Arc<HashMap<String, mpsc::Sender<(ScaleCmd, CmdReply)>>>,
    configs: Arc<Vec<DeviceConfig>>,
}

/// The running device manager. Dropping it without [`shutdown`](Self::shutdown) aborts the
/// supervisors.
pub struct DeviceManager {
    handle: ManagerHandle,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

fn lock(h: &Health) -> std::sync::MutexGuard<'_, BTreeMap<String, DeviceHealth>> {
    h.lock().unwrap_or_else(|e| e.into_inner())
}

struct Ctx {
    name: String,
    events: broadcast::Sender<DeviceEvent>,
    health: Health,
    stop: watch::Receiver<bool>,
    backoff: Backoff,
    connected_before: bool,
}

impl Ctx {
    fn emit(&self, kind: DeviceEventKind) {
        let counts = matches!(
            kind,
            DeviceEventKind::Reading { .. } | DeviceEventKind::Scan { .. }
        );
        let at = SystemTime::now();
        self.update(|h| {
            match &kind {
                DeviceEventKind::Connected { .. } => {
                    if self.connected_before {
                        h.reconnects += 1;
                    }
                    h.state = HealthState::Connected;
                }
                DeviceEventKind::Disconnected { reason } => {
                    h.state = HealthState::Disconnected;
                    h.last_error = Some(reason.clone());
                }
                DeviceEventKind::Fault { message } => h.last_error = Some(message.clone()),
                _ => {}
            }
            if counts {
                h.events += 1;
            }
            h.last_event_at = Some(at);
        });
        // No subscribers is fine: health still records it.
        let _ = self.events.send(DeviceEvent {
            device: self.name.clone(),
            at,
            kind,
        });
    }

    fn update(&self, f: impl FnOnce(&mut DeviceHealth)) {
        if let Some(h) = lock(&self.health).get_mut(&self.name) {
            f(h);
        }
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sleep, or return true early when shutting down.
    async fn sleep_or_stop(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => self.stopped(),
            _ = self.stop.changed() => true,
        }
    }
}

impl DeviceManager {
    /// Validate the devices and start a supervisor for each scale and scanner. Must be called
    /// inside a tokio runtime.
    pub fn start(devices: Vec<DeviceConfig>, backoff: Backoff) -> Result<Self, ConfigError> {
        validate(&devices)?;
        let (events, _) = broadcast::channel(1024);
        let (stop, stop_rx) = watch::channel(false);
        let health: Health = Arc::default();
        let mut scale_cmds = HashMap::new();
        let mut tasks = Vec::new();
        for d in &devices {
            let state = match (d.kind(), d.scale()) {
                (DeviceKind::Printer | DeviceKind::Coder, _) => HealthState::External,
                (_, Some((ScaleProtocol::DahuaTm, _))) => HealthState::OnDemand,
                _ => HealthState::Connecting,
            };
            lock(&health).insert(
                d.name().to_string(),
                DeviceHealth {
                    name: d.name().to_string(),
                    driver: d.driver().to_string(),
                    kind: d.kind(),
                    uri: d.connect().to_string(),
                    state,
                    last_error: None,
                    reconnects: 0,
                    events: 0,
                    last_event_at: None,
                    decode: DecodeStats::default(),
                },
            );
            let ctx = Ctx {
                name: d.name().to_string(),
                events: events.clone(),
                health: health.clone(),
                stop: stop_rx.clone(),
                backoff,
                connected_before: false,
            };
            if let Some((p, cfg)) = d.scale().filter(|(p, _)| *p != ScaleProtocol::DahuaTm) {
                let (tx, rx) = mpsc::channel(8);
                scale_cmds.insert(d.name().to_string(), tx);
                tasks.push(tokio::spawn(supervise_scale(ctx, p, cfg.clone(), rx)));
            } else if let Some((p, cfg)) = d.scanner() {
                tasks.push(tokio::spawn(supervise_scanner(ctx, p, cfg.clone())));
            }
        }
        Ok(Self {
            handle: ManagerHandle {
                events,
                health,
                scale_cmds: Arc::new(scale_cmds),
                configs: Arc::new(devices),
            },
            stop,
            tasks,
        })
    }

    pub fn handle(&self) -> ManagerHandle {
        self.handle.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DeviceEvent> {
        self.handle.subscribe()
    }

    pub fn health(&self) -> Vec<DeviceHealth> {
        self.handle.health()
    }

    /// Stop every supervisor and wait for them to close their devices.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        for h in lock(&self.handle.health).values_mut() {
            if matches!(
                h.state,
                HealthState::Connected | HealthState::Connecting | HealthState::Disconnected
            ) {
                h.state = HealthState::Stopped;
            }
        }
    }
}

impl Drop for DeviceManager {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl ManagerHandle {
    pub fn subscribe(&self) -> broadcast::Receiver<DeviceEvent> {
        self.events.subscribe()
    }

    /// Health of every configured device, by name.
    pub fn health(&self) -> Vec<DeviceHealth> {
        lock(&self.health).values().cloned().collect()
    }

    async fn scale_cmd(&self, device: &str, cmd: ScaleCmd) -> Result<CommandOutcome, ManagerError> {
        let tx = self.scale_cmds.get(device).ok_or_else(|| {
            match self.configs.iter().any(|d| d.name() == device) {
                true => ManagerError::NotAScale(device.to_string()),
                false => ManagerError::NoSuchDevice(device.to_string()),
            }
        })?;
        let (reply, rx) = oneshot::channel();
        let not_connected = || ManagerError::NotConnected(device.to_string());
        // Queued commands run between readings; a scale that is away does not take them.
        tx.try_send((cmd, reply)).map_err(|_| not_connected())?;
        tokio::time::timeout(COMMAND_TIMEOUT, rx)
            .await
            .map_err(|_| not_connected())?
            .map_err(|_| not_connected())?
            .map_err(|message| ManagerError::Device {
                device: device.to_string(),
                message,
            })
    }

    pub async fn zero(&self, device: &str) -> Result<CommandOutcome, ManagerError> {
        self.scale_cmd(device, ScaleCmd::Zero).await
    }
    pub async fn tare(&self, device: &str) -> Result<CommandOutcome, ManagerError> {
        self.scale_cmd(device, ScaleCmd::Tare).await
    }
    pub async fn clear_tare(&self, device: &str) -> Result<CommandOutcome, ManagerError> {
        self.scale_cmd(device, ScaleCmd::ClearTare).await
    }

    /// Download PLU keys to a Dahua label scale (connects, sends, disconnects).
    pub async fn download_plus(
        &self,
        device: &str,
        records: &[PluRecord],
        clear_first: bool,
    ) -> Result<usize, ManagerError> {
        let cfg = self
            .configs
            .iter()
            .find(|d| d.name() == device)
            .ok_or_else(|| ManagerError::NoSuchDevice(device.to_string()))?;
        let Some((ScaleProtocol::DahuaTm, c)) = cfg.scale() else {
            return Err(ManagerError::NotAScale(device.to_string()));
        };
        let err = |e: crate::scale::ScaleError| ManagerError::Device {
            device: device.to_string(),
            message: e.to_string(),
        };
        let mut d = ScaleDriver::connect(ScaleProtocol::DahuaTm, &c.connect, &c.options)
            .await
            .map_err(err)?;
        d.download_plus(records, clear_first).await.map_err(err)
    }
}

async fn supervise_scale(
    mut ctx: Ctx,
    protocol: ScaleProtocol,
    cfg: ScaleDeviceConfig,
    mut cmds: mpsc::Receiver<(ScaleCmd, CmdReply)>,
) {
    let uri = cfg.connect.to_string();
    let poll = Duration::from_millis(cfg.poll_interval_ms.max(1));
    let mut totals = DecodeStats::default();
    let mut attempt = 0u32;
    while !ctx.stopped() {
        ctx.update(|h| h.state = HealthState::Connecting);
        match ScaleDriver::connect(protocol, &cfg.connect, &cfg.options).await {
            Err(e) => ctx.emit(DeviceEventKind::Fault {
                message: format!("cannot open {uri}: {e}"),
            }),
            Ok(mut scale) => {
                attempt = 0;
                ctx.emit(DeviceEventKind::Connected { uri: uri.clone() });
                ctx.connected_before = true;
                let reason = loop {
                    while let Ok((cmd, reply)) = cmds.try_recv() {
                        let r = match cmd {
                            ScaleCmd::Zero => scale.zero().await,
                            ScaleCmd::Tare => scale.tare().await,
                            ScaleCmd::ClearTare => scale.clear_tare().await,
                        };
                        let _ = reply.send(r.map_err(|e| e.to_string()));
                    }
                    let read = tokio::select! {
                        r = scale.read_weight() => r,
                        _ = ctx.stop.changed() => break None,
                    };
                    let stats = totals.merged(scale.decode_stats());
                    ctx.update(|h| h.decode = stats);
                    match read {
                        Ok(reading) => ctx.emit(DeviceEventKind::Reading { reading }),
                        Err(e) if e.kind() == ScaleErrorKind::Protocol => {
                            ctx.emit(DeviceEventKind::Fault {
                                message: e.to_string(),
                            })
                        }
                        Err(e) => break Some(e.to_string()),
                    }
                    if !scale.is_continuous() && ctx.sleep_or_stop(poll).await {
                        break None;
                    }
                };
                totals = totals.merged(scale.decode_stats());
                match reason {
                    Some(reason) => ctx.emit(DeviceEventKind::Disconnected { reason }),
                    None => break,
                }
            }
        }
        let delay = ctx.backoff.delay(attempt);
        attempt = attempt.saturating_add(1);
        if ctx.sleep_or_stop(delay).await {
            break;
        }
    }
}

async fn supervise_scanner(mut ctx: Ctx, protocol: ScannerProtocol, cfg: ScannerDeviceConfig) {
    let uri = cfg.connect.to_string();
    let mut totals = DecodeStats::default();
    let mut attempt = 0u32;
    while !ctx.stopped() {
        ctx.update(|h| h.state = HealthState::Connecting);
        match ScannerDriver::connect(protocol, &cfg.connect, &cfg.options).await {
            Err(e) => {
                let config = e.kind() == ScannerErrorKind::Config;
                ctx.emit(DeviceEventKind::Fault {
                    message: format!("cannot open {uri}: {e}"),
                });
                if config {
                    // Retrying a config error only repeats it; wait the longest delay.
                    attempt = 32;
                }
            }
            Ok(mut scanner) => {
                attempt = 0;
                ctx.emit(DeviceEventKind::Connected { uri: uri.clone() });
                ctx.connected_before = true;
                let reason = loop {
                    let r = tokio::select! {
                        r = scanner.next_scan() => r,
                        _ = ctx.stop.changed() => break None,
                    };
                    let stats = totals.merged(scanner.decode_stats());
                    ctx.update(|h| h.decode = stats);
                    match r {
                        Ok(scan) => ctx.emit(DeviceEventKind::Scan { scan }),
                        Err(e) => break Some(e.to_string()),
                    }
                };
                totals = totals.merged(scanner.decode_stats());
                match reason {
                    Some(reason) => ctx.emit(DeviceEventKind::Disconnected { reason }),
                    None => break,
                }
            }
        }
        let delay = ctx.backoff.delay(attempt);
        attempt = attempt.saturating_add(1);
        if ctx.sleep_or_stop(delay).await {
            break;
        }
    }
}
