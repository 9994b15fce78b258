//! Coder feeding measurements (not a criterion bench: the quantities are CPU time and a
//! sustained rate, not per-call latency). Run with `cargo bench -p device-drivers --bench
//! coder_feed`.
//!
//! 1. CPU of the driver side while a simulator prints at 50 items/s: the simulator runs on its
//!    own thread and runtime, the driver and feeder on another, and each thread's CPU time is
//!    read from `/proc/thread-self/schedstat`, so the two are separable.
//! 2. Sustained feed rate with confirmations over loopback: the simulator prints at
//!    `CODER_BENCH_SIM_SPEED` items/s (default 100,000), far above any line, so the rate
//!    measured is the driver's (push, evidence, status, buffer count per step).

// Percentages and rates are display only.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

#[path = "../tests/coder_support/mod.rs"]
mod coder_support;

use coder_support::{Feeder, codes, run_line};
use device_drivers::coder::CoderProtocol;
use device_drivers::coder::sim::{CoderSim, CoderSimOptions};
use std::time::{Duration, Instant};

fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let ns: u64 = s.split_whitespace().next().unwrap().parse().unwrap();
    Duration::from_nanos(ns)
}

struct SimThread {
    uri: String,
    stop: tokio::sync::oneshot::Sender<()>,
    join: std::thread::JoinHandle<Duration>,
}

fn spawn_sim(p: CoderProtocol, opts: CoderSimOptions) -> SimThread {
    let (uri_tx, uri_rx) = std::sync::mpsc::channel();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let join = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let start = thread_cpu();
        rt.block_on(async move {
            let sim = CoderSim::bind(p, &"tcp://127.0.0.1:0".parse().unwrap(), opts)
                .await
                .unwrap();
            uri_tx.send(sim.describe().unwrap()).unwrap();
            tokio::select! {
                _ = sim.run() => {}
                _ = stop_rx => {}
            }
        });
        thread_cpu() - start
    });
    let uri = uri_rx.recv().unwrap();
    SimThread { uri, stop, join }
}

fn pct(cpu: Duration, wall: Duration) -> String {
    format!("{:.3}%", cpu.as_secs_f64() * 100.0 / wall.as_secs_f64())
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let secs: usize = std::env::var("CODER_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let sim_speed: u32 = std::env::var("CODER_BENCH_SIM_SPEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    println!(
        "coder_feed: {secs} s per protocol at 50 items/s; rate runs with the simulator at {sim_speed}/s"
    );
    for p in CoderProtocol::ALL {
        // 1. CPU at 50 items/s with a controller-like poll (every 50 ms).
        let sim = spawn_sim(
            p,
            CoderSimOptions {
                line_speed: 50,
                buffer_capacity: 100,
                ..Default::default()
            },
        );
        let feeder = Feeder {
            low_water: 10,
            high_water: 30,
            max_batch: 16,
            poll: Duration::from_millis(50),
        };
        let n = 50 * secs;
        let wall = Instant::now();
        let cpu0 = thread_cpu();
        let out = rt.block_on(run_line(p, &sim.uri, codes("C", n), &feeder));
        let driver_cpu = thread_cpu() - cpu0;
        let wall = wall.elapsed();
        let _ = sim.stop.send(());
        let sim_cpu = sim.join.join().unwrap();
        assert_eq!(out.confirmed.len(), n);
        println!(
            "{p:>10} @50/s: {n} codes in {:.1} s; driver thread CPU {:?} ({} of one core), simulator thread CPU {:?} ({})",
            wall.as_secs_f64(),
            driver_cpu,
            pct(driver_cpu, wall),
            sim_cpu,
            pct(sim_cpu, wall)
        );

        // 2. Sustained rate with confirmations.
        let sim = spawn_sim(
            p,
            CoderSimOptions {
                line_speed: sim_speed,
                buffer_capacity: 400,
                ..Default::default()
            },
        );
        let feeder = Feeder {
            low_water: 100,
            high_water: 200,
            max_batch: 64,
            poll: Duration::from_micros(200),
        };
        let n = 20_000;
        let wall = Instant::now();
        let out = rt.block_on(run_line(p, &sim.uri, codes("R", n), &feeder));
        let wall = wall.elapsed();
        let _ = sim.stop.send(());
        let _ = sim.join.join();
        assert_eq!(out.confirmed.len(), n);
        println!(
            "{p:>10} sustained: {n} codes confirmed in {:.2} s = {:.0} items/s",
            wall.as_secs_f64(),
            n as f64 / wall.as_secs_f64()
        );
    }
}
