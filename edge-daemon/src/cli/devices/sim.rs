//! `sim scale|printer|scanner|coder`: the library's simulators, standalone.
//!
//! The contract with scripts and tests: the first line of stdout is the URI a driver connects
//! to, flushed before anything can connect; the simulator then runs until Ctrl-C or SIGTERM.
//! Human notes go to stderr. Flags map one to one onto each simulator's options struct.

use super::{DEFAULT_LISTEN, WidthArg, interrupted, parse_listen, protocol};
use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use device_drivers::coder::CoderProtocol;
use device_drivers::coder::sim::{BufferPolicy, CoderSim, CoderSimOptions, FaultAt, InjectedFault};
use device_drivers::printer::PrinterStatus;
use device_drivers::printer::sim::{PrinterSim, PrinterSimEvent, PrinterSimOptions, parse_faults};
use device_drivers::scale::ScaleProtocol;
use device_drivers::scale::sim::{ScaleSimOptions, run_scale_sim};
use device_drivers::scanner::ScannerProtocol;
use device_drivers::scanner::newland::LengthField;
use device_drivers::scanner::sim::{ScannerSimOptions, run_scanner_sim};
use device_drivers::sim::SimListen;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

#[derive(Debug, Args)]
pub struct ScaleSimArgs {
    /// Scale protocol: mt-sics, toledo-8217, toledo-continuous, cas, ascii-indicator, dahua-tm.
    #[arg(long, value_parser = protocol::scale)]
    pub protocol: ScaleProtocol,
    /// tcp://HOST:PORT (port 0 picks a free one) or pty:// (a new pseudo-terminal).
    #[arg(long, value_parser = parse_listen, default_value = DEFAULT_LISTEN)]
    pub listen: SimListen,
    /// Gross weight on the platter, in grams.
    #[arg(long, default_value_t = 1234, allow_negative_numbers = true)]
    pub weight: i64,
    /// Report motion (unstable weight).
    #[arg(long)]
    pub unstable: bool,
    /// Report overload.
    #[arg(long)]
    pub overload: bool,
    /// Frames per second for streaming protocols.
    #[arg(long, default_value_t = 10)]
    pub hz: u32,
    /// ascii-indicator streams lines instead of answering requests.
    #[arg(long)]
    pub ascii_continuous: bool,
    /// Send noise before every frame.
    #[arg(long)]
    pub garbage: bool,
    /// After N frames on a connection, send half a frame and hang up.
    #[arg(long, value_name = "N")]
    pub disconnect_after: Option<u32>,
    /// Wait this long before each reply, in ms.
    #[arg(long, default_value_t = 0)]
    pub reply_delay_ms: u64,
}

#[derive(Debug, Args)]
pub struct PrinterSimArgs {
    /// Printer protocol (only escpos).
    #[arg(long, value_parser = protocol::printer, default_value = "escpos")]
    pub protocol: String,
    /// tcp://HOST:PORT (port 0 picks a free one) or pty:// (a new pseudo-terminal).
    #[arg(long, value_parser = parse_listen, default_value = DEFAULT_LISTEN)]
    pub listen: SimListen,
    /// Directory for receipt-NNNN.png and receipt-NNNN.bin (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Paper width in millimetres.
    #[arg(long, value_enum, default_value_t = WidthArg::Mm80)]
    pub width: WidthArg,
    /// Reported faults, comma-separated: paper-out, paper-near-end, cover-open, offline,
    /// error, cutter-error (default none).
    #[arg(long, value_parser = parse_faults, default_value = "none")]
    pub faults: PrinterStatus,
    /// Never answer status requests.
    #[arg(long)]
    pub mute_status: bool,
    /// Drop the connection after this many bytes (a cable pulled mid-job).
    #[arg(long, value_name = "BYTES")]
    pub disconnect_after_bytes: Option<u64>,
    /// Write only the raw bytes, no PNGs.
    #[arg(long)]
    pub no_png: bool,
    /// A CJK font file (default: search the system, e.g. fonts-wqy-zenhei).
    #[arg(long)]
    pub font: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LengthArg {
    Ascii4,
    BinaryU16,
}

#[derive(Debug, Args)]
pub struct ScannerSimArgs {
    /// Scanner protocol: serial-line or newland-pack (evdev cannot be simulated).
    #[arg(long, value_parser = protocol::scanner)]
    pub protocol: ScannerProtocol,
    /// tcp://HOST:PORT (port 0 picks a free one) or pty:// (a new pseudo-terminal).
    #[arg(long, value_parser = parse_listen, default_value = DEFAULT_LISTEN)]
    pub listen: SimListen,
    /// A code to send; repeat for several, sent in order on each connection.
    #[arg(long = "code", value_name = "CODE")]
    pub codes: Vec<String>,
    /// Pause before each code, in ms.
    #[arg(long, default_value_t = 200)]
    pub interval_ms: u64,
    /// Start over after the last code.
    #[arg(long)]
    pub repeat: bool,
    /// What ends a code (serial-line).
    #[arg(long, value_enum, default_value_t = super::SuffixArg::Cr)]
    pub suffix: super::SuffixArg,
    /// Length field of newland-pack frames.
    #[arg(long, value_enum, default_value_t = LengthArg::Ascii4)]
    pub newland_length: LengthArg,
    /// Prefix every code with this AIM identifier, e.g. ]E0.
    #[arg(long)]
    pub aim: Option<String>,
    /// Send noise before every code.
    #[arg(long)]
    pub garbage: bool,
    /// After N codes, send half of the next and hang up.
    #[arg(long, value_name = "N")]
    pub disconnect_after: Option<u32>,
    /// Pause between bytes, in ms (a slow scanner).
    #[arg(long, default_value_t = 0)]
    pub byte_delay_ms: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BufferPolicyArg {
    Keep,
    Clear,
}

#[derive(Debug, Args)]
pub struct CoderSimArgs {
    /// Coder protocol: zipher, tij, imaje-9040, text-tcp.
    #[arg(long, value_parser = protocol::coder)]
    pub protocol: CoderProtocol,
    /// tcp://HOST:PORT (port 0 picks a free one) or pty:// (a new pseudo-terminal).
    #[arg(long, value_parser = parse_listen, default_value = DEFAULT_LISTEN)]
    pub listen: SimListen,
    /// Items printed per second while running.
    #[arg(long, default_value_t = 50)]
    pub line_speed: u32,
    /// Print buffer capacity, in codes.
    #[arg(long, default_value_t = 100)]
    pub buffer_size: usize,
    /// Append every printed code to FILE, one per line.
    #[arg(long, value_name = "FILE")]
    pub print_log: Option<PathBuf>,
    /// What happens to buffered codes when the connection drops.
    #[arg(long, value_enum, default_value_t = BufferPolicyArg::Keep)]
    pub on_disconnect: BufferPolicyArg,
    /// Delay before every reply, in ms.
    #[arg(long, default_value_t = 0)]
    pub reply_delay_ms: u64,
    /// Garbage bytes before every N-th reply.
    #[arg(long, value_name = "N")]
    pub garbage_every: Option<u32>,
    /// Inject a fault after the N-th print: N:head-fault or N:disconnect (repeatable).
    #[arg(long = "fault", value_parser = parse_fault, value_name = "N:KIND")]
    pub faults: Vec<FaultAt>,
    /// A head fault clears by itself after this long, in ms.
    #[arg(long, default_value_t = 500)]
    pub fault_clears_after_ms: u64,
    /// Start printing without waiting for a start command.
    #[arg(long)]
    pub start_running: bool,
}

fn parse_fault(s: &str) -> Result<FaultAt, String> {
    let (n, kind) = s
        .split_once(':')
        .ok_or_else(|| format!("fault {s:?} must be N:head-fault or N:disconnect"))?;
    let after_printed = n
        .parse()
        .map_err(|_| format!("fault {s:?}: {n:?} is not a print count"))?;
    let fault = match kind {
        "head-fault" => InjectedFault::HeadFault,
        "disconnect" => InjectedFault::Disconnect,
        other => {
            return Err(format!(
                "fault kind {other:?}: one of head-fault, disconnect"
            ));
        }
    };
    Ok(FaultAt {
        after_printed,
        fault,
    })
}

/// The first line of stdout: where to connect. Flushed, so a reader sees it at once.
fn announce(uri: &str, what: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{uri}")?;
    out.flush()?;
    eprintln!("{what} simulator listening on {uri}; Ctrl-C to stop");
    Ok(())
}

/// Keep the driver side of a pty simulator open while no driver has it.
///
/// The printer and coder simulators end a pty "connection" on the first EIO, which the master
/// reads as soon as nobody holds the slave, so started standalone they would close their pty
/// before an installer's driver could open it (reported against device-drivers). Holding one
/// idle descriptor on the slave keeps the port alive; the simulator then behaves like a device
/// on a cable, which does not notice a driver closing the port either.
fn hold_pty(uri: &str) -> anyhow::Result<Option<std::fs::File>> {
    use std::os::unix::fs::OpenOptionsExt;
    let Some(path) = uri.strip_prefix("serial://") else {
        return Ok(None);
    };
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::fcntl::OFlag::O_NOCTTY.bits())
        .open(path)
        .with_context(|| format!("cannot hold the simulator's pty {path}"))?;
    Ok(Some(f))
}

fn bind_failed(listen: &SimListen) -> String {
    format!(
        "cannot start the simulator on {listen:?}: is the port already in use? \
         (tcp://127.0.0.1:0 picks a free one)"
    )
}

pub async fn scale(a: ScaleSimArgs) -> anyhow::Result<ExitCode> {
    let opts = ScaleSimOptions {
        weight_grams: a.weight,
        unstable: a.unstable,
        overload: a.overload,
        hz: a.hz.max(1),
        ascii_continuous: a.ascii_continuous,
        garbage: a.garbage,
        disconnect_after: a.disconnect_after,
        reply_delay: Duration::from_millis(a.reply_delay_ms),
    };
    let sim = run_scale_sim(a.protocol, a.listen.clone(), opts)
        .await
        .with_context(|| bind_failed(&a.listen))?;
    announce(sim.uri(), &format!("{} scale", a.protocol))?;
    tokio::select! {
        () = interrupted() => {}
        () = sim.wait() => anyhow::bail!("the scale simulator's listener failed"),
    }
    Ok(ExitCode::SUCCESS)
}

fn describe_event(e: &PrinterSimEvent) -> Option<String> {
    match e {
        PrinterSimEvent::Printed(r) => {
            let qr: Vec<String> = r
                .qr_payloads
                .iter()
                .map(|q| String::from_utf8_lossy(q).into_owned())
                .collect();
            let png = r
                .png_path
                .as_ref()
                .map_or("-".into(), |p| p.display().to_string());
            Some(format!(
                "printed {} png={png} bin={} bytes={} qr={}",
                r.index,
                r.bin_path.display(),
                r.bytes,
                qr.join(",")
            ))
        }
        PrinterSimEvent::NotPrinted { status, bytes } => Some(format!(
            "not-printed bytes={bytes} paper_out={} cover_open={} offline={} error={}",
            status.paper_out, status.cover_open, status.offline, status.error
        )),
        PrinterSimEvent::Connected | PrinterSimEvent::Disconnected { .. } => None,
    }
}

pub async fn printer(a: PrinterSimArgs) -> anyhow::Result<ExitCode> {
    let opts = PrinterSimOptions {
        width: a.width.into(),
        state: a.faults,
        disconnect_after_bytes: a.disconnect_after_bytes,
        slow: None,
        mute_status: a.mute_status,
        render_png: !a.no_png,
        font: a.font.clone(),
    };
    let sim = PrinterSim::bind(&a.listen, a.out.clone(), opts)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    if !a.no_png && sim.font_path().is_none() {
        eprintln!(
            "warning: no CJK font found (apt install fonts-wqy-zenhei); Chinese is drawn as boxes"
        );
    }
    let mut events = sim.handle().subscribe();
    let uri = sim.uri()?;
    let _pty = hold_pty(&uri)?;
    announce(&uri, &format!("{} printer", a.protocol))?;
    eprintln!("receipts go to {}", a.out.display());
    let run = sim.run();
    tokio::pin!(run);
    let stop = interrupted();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return Ok(ExitCode::SUCCESS),
            r = &mut run => {
                r?;
                return Ok(ExitCode::SUCCESS);
            }
            e = events.recv() => match e {
                Ok(e) => {
                    if let Some(line) = describe_event(&e) {
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "{line}")?;
                        out.flush()?;
                    }
                }
                Err(RecvError::Lagged(n)) => eprintln!("warning: {n} simulator events not shown"),
                Err(RecvError::Closed) => return Ok(ExitCode::SUCCESS),
            },
        }
    }
}

pub async fn scanner(a: ScannerSimArgs) -> anyhow::Result<ExitCode> {
    let defaults = ScannerSimOptions::default();
    let opts = ScannerSimOptions {
        codes: if a.codes.is_empty() {
            defaults.codes
        } else {
            a.codes
        },
        interval: Duration::from_millis(a.interval_ms),
        repeat: a.repeat,
        suffix: a.suffix.into(),
        newland_length: match a.newland_length {
            LengthArg::Ascii4 => LengthField::Ascii4,
            LengthArg::BinaryU16 => LengthField::BinaryU16,
        },
        aim: a.aim,
        garbage: a.garbage,
        disconnect_after: a.disconnect_after,
        byte_delay: Duration::from_millis(a.byte_delay_ms),
    };
    let sim = run_scanner_sim(a.protocol, a.listen.clone(), opts)
        .await
        .with_context(|| format!("{} scanner simulator", a.protocol))?;
    announce(sim.uri(), &format!("{} scanner", a.protocol))?;
    tokio::select! {
        () = interrupted() => {}
        () = sim.wait() => anyhow::bail!("the scanner simulator's listener failed"),
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn coder(a: CoderSimArgs) -> anyhow::Result<ExitCode> {
    let opts = CoderSimOptions {
        line_speed: a.line_speed,
        buffer_capacity: a.buffer_size,
        print_log: a.print_log,
        on_disconnect: match a.on_disconnect {
            BufferPolicyArg::Keep => BufferPolicy::Keep,
            BufferPolicyArg::Clear => BufferPolicy::Clear,
        },
        reply_delay: Duration::from_millis(a.reply_delay_ms),
        garbage_every: a.garbage_every,
        faults: a.faults,
        fault_clears_after: Duration::from_millis(a.fault_clears_after_ms),
        start_running: a.start_running,
        ..Default::default()
    };
    let sim = CoderSim::bind(a.protocol, &a.listen, opts)
        .await
        .map_err(|e| anyhow!("{} coder simulator: {e}", a.protocol))?;
    let uri = sim.describe()?;
    let _pty = hold_pty(&uri)?;
    announce(&uri, &format!("{} coder", a.protocol))?;
    tokio::select! {
        () = interrupted() => {}
        r = sim.run() => {
            r?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs() {
        assert_eq!(
            parse_fault("100:head-fault").unwrap(),
            FaultAt {
                after_printed: 100,
                fault: InjectedFault::HeadFault
            }
        );
        assert_eq!(
            parse_fault("7:disconnect").unwrap().fault,
            InjectedFault::Disconnect
        );
        assert!(parse_fault("7").unwrap_err().contains("N:head-fault"));
        assert!(
            parse_fault("x:disconnect")
                .unwrap_err()
                .contains("print count")
        );
        assert!(
            parse_fault("1:jam")
                .unwrap_err()
                .contains("head-fault, disconnect")
        );
    }
}
