//! `baytrace-edge`: see [`edge_daemon::cli`].
#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    edge_daemon::cli::run(edge_daemon::cli::Cli::parse())
}
