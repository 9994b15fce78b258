//! The installer's device commands: `devices`, `scale`, `print-test`, `scanner`, `sim`.
//!
//! Why they live in the box's own binary: an installer at a stall has the box and a laptop,
//! not a toolbox. They plug a scale in, run `devices list`, `devices probe`, `scale read`, and
//! are done; support on the phone asks for the same commands' `--json`. The names, flags and
//! the JSON shapes are a contract scripts depend on (issue 3, "Installer CLI contract"), so
//! they are spelled out here once and tested against the real binary.
//!
//! Everything talks to hardware through `device-drivers`; this module only parses arguments,
//! runs one tokio runtime per command, prints, and turns failures into advice (what to check:
//! cable, port, baud, protocol). `sim …` runs the library's simulators standalone and prints the
//! URI a driver should connect to as the first line of stdout, so a script can start one and
//! read where it is.

mod hw;
mod protocol;
mod sim;

use clap::{Args, Subcommand, ValueEnum};
use device_drivers::printer::PaperWidth;
use device_drivers::scale::ScaleProtocol;
use device_drivers::scanner::ScannerProtocol;
use device_drivers::sim::SimListen;
use device_drivers::transport::TransportConfig;
use std::process::ExitCode;

pub use protocol::PROTOCOL_NAMES;

/// The device commands, flattened into the top-level command list.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Find ports (serial, USB printer, keyboard-like scanners) and probe what answers on one.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// Read a weighing scale.
    #[command(subcommand)]
    Scale(ScaleCommand),
    /// Print a test receipt (Chinese text and a QR code) and report the printer's status.
    #[command(after_help = "Examples:
  baytrace-edge print-test --connect tcp://192.168.1.87:9100
  baytrace-edge print-test --connect usblp:///dev/usb/lp0 --width 58
  baytrace-edge print-test --connect serial:///dev/ttyUSB1?baud=19200 --width 80 --raster
  baytrace-edge print-test --connect tcp://127.0.0.1:9100 --url https://t.example.cn/q/1

--raster sends the QR as a picture, for printers without native QR (GS ( k); use it when
the test receipt comes out without a QR code. Exit status 1 when the printer is not ready
(paper out, cover open) or did not confirm the receipt.")]
    PrintTest(PrintTestArgs),
    /// Watch a barcode scanner.
    #[command(subcommand)]
    Scanner(ScannerCommand),
    /// Run a device simulator standalone (demos, installer training, tests).
    #[command(subcommand)]
    Sim(SimCommand),
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Serial ports (with USB vendor/product ids), /dev/usb/lp*, keyboard-like /dev/input/by-id/*.
    #[command(after_help = "Examples:
  baytrace-edge devices list
  baytrace-edge devices list --json

Each port comes with a URI to start from (serial ports at 9600 8N1). Nothing listed? Check
the cable and `dmesg | tail` for the USB adapter.")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Try every known scale protocol on URI and report which answered.
    #[command(after_help = "Examples:
  baytrace-edge devices probe serial:///dev/ttyUSB0?baud=9600
  baytrace-edge devices probe serial:///dev/ttyUSB0?baud=4800&data=7&parity=even --json
  baytrace-edge devices probe tcp://192.168.1.50:4001

Every protocol is tried on a fresh connection. Scanners only talk when something is scanned
(use `scanner watch`); exit status 1 when nothing answered.")]
    Probe {
        /// Transport URI: tcp://HOST:PORT, serial:///dev/…?baud=…, usblp:///dev/usb/lpN.
        #[arg(value_parser = parse_transport)]
        uri: TransportConfig,
        /// How long each protocol may take to answer, in milliseconds.
        #[arg(long, default_value_t = 500)]
        timeout_ms: u64,
        #[arg(long)]
        json: bool,
    },
}

/// Where a scale is and how to talk to it.
#[derive(Debug, Args)]
pub struct ScaleConn {
    /// Scale protocol: mt-sics, toledo-8217, toledo-continuous, cas, ascii-indicator, dahua-tm.
    #[arg(long, value_parser = protocol::scale)]
    pub protocol: ScaleProtocol,
    /// Transport URI, e.g. serial:///dev/ttyUSB0?baud=9600 or tcp://HOST:PORT.
    #[arg(long, value_parser = parse_transport)]
    pub connect: TransportConfig,
    /// How long to wait for an answer (or the next frame of a continuous scale), in ms.
    #[arg(long, default_value_t = 1000)]
    pub timeout_ms: u64,
    /// Print JSON: {"grams":1234,"stable":true,"net":false,"tare_grams":0,"status":"ok"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScaleCommand {
    /// One reading.
    #[command(after_help = "Examples:
  baytrace-edge scale read --protocol mt-sics --connect serial:///dev/ttyUSB0?baud=9600
  baytrace-edge scale read --protocol toledo-continuous --connect serial:///dev/ttyUSB0 --json
  baytrace-edge scale read --protocol cas --connect tcp://192.168.1.50:4001 --json

--json prints exactly {\"grams\":1234,\"stable\":true,\"net\":false,\"tare_grams\":0,\"status\":\"ok\"};
status is one of ok, unstable, overload, underload, error (a value, exit 0). Exit 1 when the
scale cannot be reached or does not answer.")]
    Read(ScaleConn),
    /// Stream readings until Ctrl-C (one JSON object per line with --json).
    #[command(after_help = "Examples:
  baytrace-edge scale watch --protocol toledo-continuous --connect serial:///dev/ttyUSB0
  baytrace-edge scale watch --protocol mt-sics --connect tcp://127.0.0.1:4001 --json --count 10")]
    Watch {
        #[command(flatten)]
        conn: ScaleConn,
        /// Polling interval for scales that answer on request, in ms.
        #[arg(long, default_value_t = 200)]
        interval_ms: u64,
        /// Stop after this many readings.
        #[arg(long)]
        count: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WidthArg {
    #[value(name = "58")]
    Mm58,
    #[value(name = "80")]
    Mm80,
}

impl From<WidthArg> for PaperWidth {
    fn from(w: WidthArg) -> PaperWidth {
        match w {
            WidthArg::Mm58 => PaperWidth::Mm58,
            WidthArg::Mm80 => PaperWidth::Mm80,
        }
    }
}

/// The URL a test receipt's QR carries unless `--url` says otherwise.
pub const DEFAULT_TEST_URL: &str = "https://trace.baytrace.cn/t/TEST-000001";

#[derive(Debug, Args)]
pub struct PrintTestArgs {
    /// Transport URI: tcp://HOST:9100, usblp:///dev/usb/lp0, serial:///dev/ttyUSB1?baud=…
    #[arg(long, value_parser = parse_transport)]
    pub connect: TransportConfig,
    /// Paper width in millimetres.
    #[arg(long, value_enum, default_value_t = WidthArg::Mm80)]
    pub width: WidthArg,
    /// What the QR code on the test receipt says.
    #[arg(long, default_value = DEFAULT_TEST_URL)]
    pub url: String,
    /// Send the QR as a raster picture instead of the printer's native QR command.
    #[arg(long)]
    pub raster: bool,
    /// Do not ask the printer for its status (links without read-back; automatic for usblp://).
    #[arg(long)]
    pub no_status: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScannerCommand {
    /// Print each scanned code, one per line, until Ctrl-C.
    #[command(after_help = "Examples:
  baytrace-edge scanner watch --connect serial:///dev/ttyACM0 --protocol serial-line
  baytrace-edge scanner watch --connect evdev:///dev/input/by-id/usb-Newland_HR22-event-kbd
  baytrace-edge scanner watch --connect tcp://127.0.0.1:4002 --protocol newland-pack --json

The protocol defaults to evdev for evdev:// URIs and serial-line otherwise. Nothing appears?
Check the scanner's suffix setting (--suffix) and that it is in serial (not keyboard) mode.")]
    Watch {
        #[arg(long, value_parser = parse_transport)]
        connect: TransportConfig,
        /// Scanner protocol: serial-line, newland-pack, evdev.
        #[arg(long, value_parser = protocol::scanner)]
        protocol: Option<ScannerProtocol>,
        /// What ends a code (serial-line).
        #[arg(long, value_enum, default_value_t = SuffixArg::Cr)]
        suffix: SuffixArg,
        /// The scanner prefixes AIM identifiers (]E0…).
        #[arg(long)]
        aim: bool,
        /// Print {"text":…,"symbology":…} per line.
        #[arg(long)]
        json: bool,
        /// Stop after this many codes.
        #[arg(long)]
        count: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SuffixArg {
    Cr,
    Lf,
    Crlf,
    None,
}

impl From<SuffixArg> for device_drivers::scanner::line::Suffix {
    fn from(s: SuffixArg) -> Self {
        use device_drivers::scanner::line::Suffix;
        match s {
            SuffixArg::Cr => Suffix::Cr,
            SuffixArg::Lf => Suffix::Lf,
            SuffixArg::Crlf => Suffix::CrLf,
            SuffixArg::None => Suffix::None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// A scale speaking PROTOCOL's real bytes.
    #[command(after_help = "Examples:
  baytrace-edge sim scale --protocol mt-sics --listen tcp://127.0.0.1:4001 --weight 1234
  baytrace-edge sim scale --protocol toledo-continuous --listen pty:// --unstable --garbage

Prints the URI to connect to on the first line (a pty prints serial:///dev/pts/N), then
runs until Ctrl-C.")]
    Scale(sim::ScaleSimArgs),
    /// An ESC/POS receipt printer that renders every cut receipt to DIR as PNG and raw bytes.
    #[command(after_help = "Examples:
  baytrace-edge sim printer --listen tcp://127.0.0.1:9100 --out ./receipts
  baytrace-edge sim printer --listen pty:// --out /tmp/r --width 58 --faults paper-near-end

Prints the URI first, then one line per receipt: `printed N png=… bin=… qr=…`. Chinese is
drawn with a system CJK font (apt install fonts-wqy-zenhei).")]
    Printer(sim::PrinterSimArgs),
    /// A barcode scanner sending codes.
    #[command(after_help = "Examples:
  baytrace-edge sim scanner --protocol serial-line --listen tcp://127.0.0.1:0 --code 6901234567892
  baytrace-edge sim scanner --protocol newland-pack --listen pty:// --code A1 --code B2 --repeat")]
    Scanner(sim::ScannerSimArgs),
    /// An industrial coder printing queued codes at line speed.
    #[command(after_help = "Examples:
  baytrace-edge sim coder --protocol zipher --listen tcp://127.0.0.1:3002 --print-log printed.txt
  baytrace-edge sim coder --protocol tij --listen pty:// --line-speed 50 --fault 100:head-fault")]
    Coder(sim::CoderSimArgs),
}

/// Parse a transport URI for clap (a bad one is a usage error, exit 2).
fn parse_transport(s: &str) -> Result<TransportConfig, String> {
    s.parse::<TransportConfig>().map_err(|e| e.to_string())
}

/// Parse a simulator listen URI for clap.
fn parse_listen(s: &str) -> Result<SimListen, String> {
    s.parse::<SimListen>()
}

/// Run one device command on its own runtime.
pub fn dispatch(cmd: DeviceCommand) -> anyhow::Result<ExitCode> {
    init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cmd {
            DeviceCommand::Devices(DevicesCommand::List { json }) => hw::list(json),
            DeviceCommand::Devices(DevicesCommand::Probe {
                uri,
                timeout_ms,
                json,
            }) => hw::probe(&uri, timeout_ms, json).await,
            DeviceCommand::Scale(ScaleCommand::Read(conn)) => hw::scale_read(&conn).await,
            DeviceCommand::Scale(ScaleCommand::Watch {
                conn,
                interval_ms,
                count,
            }) => hw::scale_watch(&conn, interval_ms, count).await,
            DeviceCommand::PrintTest(args) => hw::print_test(&args).await,
            DeviceCommand::Scanner(ScannerCommand::Watch {
                connect,
                protocol,
                suffix,
                aim,
                json,
                count,
            }) => {
                let w = hw::ScannerWatch {
                    protocol,
                    suffix,
                    aim,
                    json,
                    count,
                };
                hw::scanner_watch(&connect, &w).await
            }
            DeviceCommand::Sim(SimCommand::Scale(a)) => sim::scale(a).await,
            DeviceCommand::Sim(SimCommand::Printer(a)) => sim::printer(a).await,
            DeviceCommand::Sim(SimCommand::Scanner(a)) => sim::scanner(a).await,
            DeviceCommand::Sim(SimCommand::Coder(a)) => sim::coder(a).await,
        }
    })
}

/// Library logs go to stderr (stdout is for results and the simulator URI); `RUST_LOG`
/// overrides the default of warnings only.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolves on Ctrl-C or SIGTERM (how systemd and test harnesses stop a simulator).
async fn interrupted() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// Where a simulator listens when `--listen` is not given.
const DEFAULT_LISTEN: &str = "tcp://127.0.0.1:0";
