//! `baytrace demo`: the whole system on one machine.
//!
//! Starts the embedded MQTT broker and the cloud (trace page, ingest), provisions a stall box
//! as `baytrace-cloud device add` would, and runs that box with a simulated scale and receipt
//! printer that speak their real protocols over loopback TCP. Every few seconds the box makes
//! a sale: weighs, records the ticket in its ledger and prints the receipt, whose QR points at
//! the cloud's trace page. Everything binds free ports, so it runs beside a Mosquitto on 1883;
//! the endpoints go to a JSON ports file for scripts and are printed for people.

mod line;
mod ports;
mod stall;

use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for all state (cloud store, box ledger, printed receipts). Reused on restart.
    #[arg(long, default_value = "demo-data")]
    pub data_dir: PathBuf,
    /// Where to write the endpoints as JSON (cloud_http, mqtt, stall_ui, stall_db, printer_out…).
    #[arg(long, default_value = "demo-ports.json")]
    pub ports_file: PathBuf,
    /// Seconds between simulated sales.
    #[arg(long, default_value_t = 5)]
    pub sale_every: u64,
    /// Stop after this many sales (default: run until Ctrl-C).
    #[arg(long)]
    pub sales: Option<u64>,
    /// HTTP address of the cloud (trace page, /healthz, /metrics). Port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub http: SocketAddr,
    /// Address of the embedded MQTT broker. Port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub mqtt: SocketAddr,
    /// Items per second on the factory line's simulated coder.
    #[arg(long, default_value_t = 10)]
    pub line_speed: u32,
    /// Address of the stall box's touchscreen UI. Port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub stall_ui: SocketAddr,
    /// Address of the factory line box's line screen. Port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub line_ui: SocketAddr,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create the data folder {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let defaults = cloud_sync::CloudConfig::default();
    let cloud_cfg = cloud_sync::CloudConfig {
        data_dir: data_dir.join("cloud"),
        http: args.http,
        mqtt: cloud_sync::config::MqttConfig {
            embedded_broker: Some(args.mqtt),
            ..defaults.mqtt.clone()
        },
        ..defaults
    };
    let mut cloud_stop = stop_rx.clone();
    let cloud = cloud_sync::serve(cloud_cfg, async move {
        let _ = cloud_stop.wait_for(|s| *s).await;
    })
    .await
    .context("cannot start the cloud")?;
    let cloud_http = cloud.http_addr;
    let mqtt_url = format!("mqtt://{}", cloud.mqtt_addr);

    let stall = stall::Stall::start(stall::StallSetup {
        dir: data_dir.join("stall"),
        store: cloud.store.clone(),
        public_host: cloud_http.to_string(),
        mqtt_url: mqtt_url.clone(),
        ui_listen: args.stall_ui,
    })
    .await
    .context("cannot start the stall box")?;

    let line = line::LineBox::start(data_dir.join("factory-line"), args.line_speed, args.line_ui)
        .await
        .context("cannot start the factory line box")?;

    let ports = ports::Ports {
        cloud_http: format!("http://{cloud_http}"),
        mqtt: mqtt_url,
        stall_ui: stall.ui_url(),
        stall_db: stall.db_path(),
        printer_out: stall.printer_out(),
        scale: stall.scale_uri(),
        printer: stall.printer_uri(),
        sync: "mqtt: the box signs each batch; the cloud verifies, stores and acks".into(),
        line_ui: line.ui_url(),
        line_db: line.db_path(),
        line_config: line.config_path(),
        coder_log: line.coder_log(),
        coder: line.coder_uri(),
    };
    ports.write(&args.ports_file)?;
    ports.print(&args.ports_file);

    let every = Duration::from_secs(args.sale_every.max(1));
    let mut tick = tokio::time::interval(every);
    let mut made = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                match stall.sell().await {
                    Ok(sale) => {
                        println!(
                            "sale {}: {} {} g  {} 元  trace page: http://{}/t/{}",
                            sale.seq, sale.product, sale.grams, sale.total_yuan, cloud_http, sale.code
                        );
                        // Shows the sale reaching the cloud, not just the box.
                        let synced = tokio::time::timeout(Duration::from_secs(10), stall.synced_to(sale.seq));
                        match synced.await {
                            Ok(()) => println!("sale {}: synced to the cloud", sale.seq),
                            Err(_) => println!("sale {}: not synced yet (the box keeps it and retries)", sale.seq),
                        }
                    }
                    Err(e) => eprintln!("sale failed: {e:#}"),
                }
                if let Some(l) = line.stats() {
                    println!(
                        "factory line ({}): {} codes printed and confirmed, {} scrapped, {} in the coder",
                        l.state, l.encoded, l.scrapped, l.buffered
                    );
                }
                made += 1;
                if args.sales.is_some_and(|n| made >= n) {
                    break;
                }
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    println!("stopping…");
    let _ = stop_tx.send(true);
    let l = line.stop().await.context("the factory line job failed")?;
    println!(
        "factory line stopped: {} codes encoded, {} scrapped (batch {}; reconcile with \
         `baytrace-edge line reconcile --db {} --batch {}`)",
        l.encoded,
        l.scrapped,
        line::BATCH,
        data_dir
            .join("factory-line")
            .join("ledger.sqlite3")
            .display(),
        line::BATCH
    );
    stall.stop().await;
    cloud
        .wait()
        .await
        .context("the cloud stopped with an error")?;
    Ok(())
}
