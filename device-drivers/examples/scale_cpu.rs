//! Load program: CPU used by the driver layer while a continuous-output scale streams.
//!
//! The simulator runs in a child process (this same binary with `--sim`), so the parent's
//! CPU time (getrusage RUSAGE_SELF, user + system) is the driver layer only: transport,
//! decoder, device manager supervision and event broadcast to one subscriber.
//!
//! ```text
//! cargo run --release -p device-drivers --example scale_cpu -- [SECONDS] [HZ] [tcp|pty]
//! ```

use device_drivers::manager::{Backoff, DeviceEventKind, DeviceManager};
use device_drivers::scale::ScaleProtocol;
use device_drivers::scale::sim::{ScaleSimOptions, run_scale_sim};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn cpu_time() -> Duration {
    let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .expect("getrusage");
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    tv(u.user_time()) + tv(u.system_time())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--sim") {
        let hz: u32 = args[2].parse().expect("hz");
        let listen = args[3].parse().expect("listen");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let sim = run_scale_sim(
                ScaleProtocol::ToledoContinuous,
                listen,
                ScaleSimOptions {
                    hz,
                    ..Default::default()
                },
            )
            .await
            .expect("sim");
            println!("{}", sim.uri());
            sim.wait().await;
        });
        return;
    }
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let hz: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let listen = match args.get(3).map(String::as_str) {
        Some("pty") => "pty://",
        _ => "tcp://127.0.0.1:0",
    };
    let mut child = Command::new(&args[0])
        .args(["--sim", &hz.to_string(), listen])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn simulator");
    let mut uri = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut uri)
        .expect("simulator URI");
    let uri = uri.trim().to_string();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (readings, cpu, wall) = rt.block_on(async {
        let devices = serde_json::from_value(serde_json::json!([
            {"driver": "toledo-continuous", "name": "scale", "connect": uri}
        ]))
        .expect("config");
        let mgr = DeviceManager::start(devices, Backoff::default()).expect("manager");
        let mut rx = mgr.subscribe();
        // Warm up: wait for the first reading before measuring.
        loop {
            if let Ok(e) = rx.recv().await
                && matches!(e.kind, DeviceEventKind::Reading { .. })
            {
                break;
            }
        }
        let (c0, t0) = (cpu_time(), Instant::now());
        let mut n = 0u64;
        let deadline = tokio::time::sleep(Duration::from_secs(secs));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                e = rx.recv() => if let Ok(e) = e && matches!(e.kind, DeviceEventKind::Reading { .. }) { n += 1 },
            }
        }
        let (cpu, wall) = (cpu_time() - c0, t0.elapsed());
        mgr.shutdown().await;
        (n, cpu, wall)
    });
    let _ = child.kill();
    let _ = child.wait();
    // Percent of one core with three decimals, in integers (the workspace denies float maths).
    let milli_pct = cpu.as_micros() * 100_000 / wall.as_micros().max(1);
    println!(
        "toledo-continuous over {listen} at {hz} Hz: {readings} readings in {} ms; driver-layer CPU {} us = {}.{:03}% of one core",
        wall.as_millis(),
        cpu.as_micros(),
        milli_pct / 1000,
        milli_pct % 1000
    );
}
