//! `baytrace`: the all-in-one launcher. `baytrace demo` starts the whole system on one machine.
#![forbid(unsafe_code)]

mod demo;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "baytrace",
    version,
    about = "baytrace: food traceability for the Greater Bay Area — the all-in-one launcher",
    after_help = "Examples:
  Start everything on this machine (free ports; URLs printed, written to demo-ports.json):
    baytrace demo
  Keep the state in a folder of your choice, and write the endpoints somewhere else:
    baytrace demo --data-dir /tmp/bt --ports-file /tmp/bt/ports.json
  A sale every second instead of every five:
    baytrace demo --sale-every 1

The pieces run separately in production: baytrace-edge on each box, baytrace-cloud in the cloud."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the embedded MQTT broker, the cloud and a simulated stall box that sells.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rumqttd=warn,rumqttc=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Demo(args) => demo::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
