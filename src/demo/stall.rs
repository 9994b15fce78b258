//! The demo's stall box: a ledger, a simulated scale and receipt printer, and a sale loop.
//!
//! The box serves the stall's touchscreen UI (`edge_daemon::ui`) on a free port, with the
//! simulated scale and printer as its devices; the demo's own sale loop goes through the same
//! sale path as a tap on 打印 — weigh, mint the ticket code, record the sale in the ledger,
//! print the receipt with its signed QR — so the demo shows real bytes on every wire, and a
//! person can sell from the browser at the same time.

use anyhow::{Context, anyhow};
use cloud_sync::CloudStore;
use cloud_sync::provision::{CredentialsFile, DeviceCredentials, NewDevice, add_device};
use device_drivers::manager::{DeviceConfig, ExternalDeviceConfig, ScaleDeviceConfig};
use device_drivers::printer::sim::{PrinterSim, PrinterSimOptions};
use device_drivers::scale::sim::{ScaleSim, ScaleSimOptions, run_scale_sim};
use device_drivers::scale::{Scale, ScaleDriver, ScaleOptions, ScaleProtocol};
use device_drivers::sim::SimListen;
use device_drivers::transport::TransportConfig;
use edge_daemon::ledger::{Ledger, LedgerOptions, LedgerWriter, WriterOptions};
use edge_daemon::stall::Product;
use edge_daemon::stall::sale::{LineInput, SaleInput};
use edge_daemon::sync::{SyncHandle, SyncOptions, parse_broker_url};
use edge_daemon::ui::{Role, UiOptions, UiServer, UiUser};
use std::net::SocketAddr;
use std::path::PathBuf;
use trace_core::event::{Certificate, CertificateKind, PaymentMethod, Purchase};
use trace_core::{DeviceId, EntryDraft, Event, Fen, Grams, HashAlg, PriceUnit, TicketCodec};

/// The demo's PINs (printed with the URL): owner and staff.
pub const OWNER_PIN: &str = "8888";
pub const STAFF_PIN: &str = "1234";

/// The stall's main products: name, price per 斤 in fen, origin, batch.
const PRODUCTS: [(&str, i64, &str); 5] = [
    ("猪肉", 1_680, "广东省江门市"),
    ("牛腩", 3_980, "广西壮族自治区南宁市"),
    ("菜心", 450, "广东省广州市增城区"),
    ("鲜鸡蛋", 620, "广东省惠州市"),
    ("草鱼", 1_150, "广东省佛山市顺德区"),
];

pub struct StallSetup {
    pub dir: PathBuf,
    pub store: cloud_sync::AnyStore,
    pub public_host: String,
    pub mqtt_url: String,
    /// Where the stall UI listens.
    pub ui_listen: SocketAddr,
}

pub struct Sale {
    pub seq: u64,
    pub product: String,
    pub grams: i64,
    pub total_yuan: String,
    pub code: String,
}

pub struct Stall {
    dir: PathBuf,
    writer: Option<LedgerWriter>,
    ui: Option<UiServer>,
    scale_sim: ScaleSim,
    printer_uri: String,
    printer_task: tokio::task::JoinHandle<()>,
    sync: SyncHandle,
    sales: std::sync::atomic::AtomicU64,
}

impl Stall {
    pub async fn start(setup: StallSetup) -> anyhow::Result<Stall> {
        std::fs::create_dir_all(&setup.dir)?;
        let creds = provision(&setup).await?;
        let code_key = creds.code_key().map_err(|e| anyhow!("{e}"))?;
        let codec = TicketCodec::new(creds.device_no, &code_key).map_err(|e| anyhow!("{e}"))?;

        let db = setup.dir.join("ledger.sqlite3");
        let device = creds.device.clone();
        let path = db.clone();
        let hash_alg = creds.hash_alg;
        let ledger =
            tokio::task::spawn_blocking(move || open_ledger(path, device, hash_alg)).await??;

        // The box's sync client: its own ledger connection, signing with the issued key.
        let (host, port) = parse_broker_url(&creds.mqtt.url)?;
        let sign_key = creds.sign_key().map_err(|e| anyhow!("{e}"))?;
        let sync = edge_daemon::sync::spawn(SyncOptions {
            username: Some(creds.mqtt.username.clone()),
            password: Some(creds.mqtt.password.clone()),
            docs_dir: Some(setup.dir.join("docs")),
            ..SyncOptions::new(creds.device.clone(), db, sign_key.clone(), host, port)
        })
        .context("cannot start the box's sync client")?;

        let scale_sim = run_scale_sim(
            ScaleProtocol::ToledoContinuous,
            SimListen::Tcp(([127, 0, 0, 1], 0).into()),
            ScaleSimOptions::default(),
        )
        .await
        .context("cannot start the scale simulator")?;
        let printer = PrinterSim::bind(
            &SimListen::Tcp(([127, 0, 0, 1], 0).into()),
            setup.dir.join("printer-out"),
            PrinterSimOptions::default(),
        )
        .await
        .context("cannot start the printer simulator")?;
        let printer_uri = printer.uri()?;
        let printer_task = tokio::spawn(async move {
            if let Err(e) = printer.run().await {
                tracing::warn!(error = %e, "printer simulator stopped");
            }
        });

        // The stall's touchscreen UI, driving the same simulated scale and printer.
        let mut ledger = ledger;
        ledger.set_ticket_codec(codec.clone());
        let writer = LedgerWriter::spawn(ledger, WriterOptions::default())?;
        let ui = edge_daemon::config::UiConfig {
            listen: setup.ui_listen,
            market: "江南果菜综合市场".into(),
            stall_name: "陈记鲜档".into(),
            stall_no: "A-01".into(),
            users: vec![
                UiUser {
                    name: "陈老板".into(),
                    role: Role::Owner,
                    pin: None,
                    pin_hash: edge_daemon::ui::pins::hash_pin(OWNER_PIN).ok(),
                },
                UiUser {
                    name: "阿明".into(),
                    role: Role::Staff,
                    pin: None,
                    pin_hash: edge_daemon::ui::pins::hash_pin(STAFF_PIN).ok(),
                },
            ],
            products: PRODUCTS
                .iter()
                .enumerate()
                .map(|(i, (name, per_jin, origin))| Product {
                    name: (*name).into(),
                    price_fen: *per_jin,
                    unit: PriceUnit::Jin,
                    plu: u32::try_from(i + 1).ok(),
                    code: None,
                    origin: Some((*origin).into()),
                })
                .collect(),
            devices: vec![
                DeviceConfig::ToledoContinuous(ScaleDeviceConfig {
                    name: "counter-scale".into(),
                    connect: scale_sim.uri().parse()?,
                    poll_interval_ms: 500,
                    options: Default::default(),
                }),
                DeviceConfig::Escpos(ExternalDeviceConfig {
                    name: "receipt".into(),
                    connect: printer_uri.parse()?,
                    options: serde_json::Value::Null,
                }),
            ],
            ..edge_daemon::config::UiConfig::default()
        };
        let opts = UiOptions {
            ui,
            device: creds.device.clone(),
            ledger: db_path(&setup.dir),
            codec,
            sign_key,
            public_base: format!("http://{}", setup.public_host),
            docs_dir: setup.dir.join("docs"),
            blobs_dir: setup.dir.join("blobs"),
        };
        let ui = edge_daemon::ui::start(opts, writer.handle())
            .await
            .context("cannot start the stall UI")?;
        Ok(Stall {
            dir: setup.dir,
            writer: Some(writer),
            ui: Some(ui),
            scale_sim,
            printer_uri,
            printer_task,
            sync,
            sales: Default::default(),
        })
    }

    /// The touchscreen UI's address.
    pub fn ui_url(&self) -> Option<String> {
        self.ui.as_ref().map(|u| format!("http://{}/", u.addr))
    }

    pub fn db_path(&self) -> PathBuf {
        db_path(&self.dir)
    }
    pub fn printer_out(&self) -> PathBuf {
        self.dir.join("printer-out")
    }
    pub fn scale_uri(&self) -> String {
        self.scale_sim.uri().to_owned()
    }
    pub fn printer_uri(&self) -> String {
        self.printer_uri.clone()
    }
    /// Resolves once the cloud has acknowledged everything up to `seq`.
    pub async fn synced_to(&self, seq: u64) {
        self.sync.synced_to(seq).await;
    }

    /// One sale of one weighed product, start to finish.
    pub async fn sell(&self) -> anyhow::Result<Sale> {
        let n = self
            .sales
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (product, _, _) = PRODUCTS[usize::try_from(n).unwrap_or(0) % PRODUCTS.len()];
        // Put something on the platter, then weigh it through the real protocol.
        let placed = 300 + i64::try_from((n * 7_919) % 2_200).unwrap_or(0);
        self.scale_sim.update(|s| s.weight_grams = placed);
        let transport: TransportConfig = self.scale_sim.uri().parse()?;
        let mut scale = ScaleDriver::connect(
            ScaleProtocol::ToledoContinuous,
            &transport,
            &ScaleOptions::default(),
        )
        .await?;
        let reading = scale.read_weight().await?;
        if !reading.is_usable() {
            return Err(anyhow!(
                "the scale reports {:?}; not selling",
                reading.status
            ));
        }
        let grams = Grams(reading.grams);
        let state = self
            .ui
            .as_ref()
            .ok_or_else(|| anyhow!("the stall UI is stopped"))?
            .state()
            .clone();
        let input = SaleInput {
            lines: vec![LineInput {
                product: product.into(),
                grams: Some(grams.0),
                count: None,
                unit_price: None,
                price_unit: None,
                label: None,
            }],
            fees: Vec::new(),
            payment: if n % 2 == 1 {
                PaymentMethod::WechatPay
            } else {
                PaymentMethod::Cash
            },
            customer_id: None,
            customer_name: None,
        };
        let done = edge_daemon::ui::sale::sell(&state, input)
            .await
            .map_err(|e| anyhow!("the sale was refused: {e:?}"))?;
        if !done.printed {
            tracing::warn!(
                printer = done.printer,
                seq = done.seq,
                "receipt not confirmed printed; ticket stays issued"
            );
        }
        Ok(Sale {
            seq: done.seq,
            product: product.into(),
            grams: grams.0,
            total_yuan: done.total,
            code: done.code,
        })
    }

    pub async fn stop(mut self) {
        if let Some(ui) = self.ui.take() {
            ui.stop().await;
        }
        if let Some(w) = self.writer.take()
            && let Err(e) = tokio::task::spawn_blocking(move || w.shutdown()).await
        {
            tracing::warn!(error = %e, "ledger writer stopped with an error");
        }
        if let Err(e) = self.sync.stop().await {
            tracing::warn!(error = %e, "sync client stopped with an error");
        }
        self.printer_task.abort();
    }
}

fn db_path(dir: &std::path::Path) -> PathBuf {
    dir.join("ledger.sqlite3")
}

/// Take the box's credentials from an earlier run, or provision it with the cloud now.
async fn provision(setup: &StallSetup) -> anyhow::Result<DeviceCredentials> {
    let path = setup.dir.join("credentials.json");
    if path.exists() {
        return DeviceCredentials::read(&path).map_err(|e| anyhow!("{e}"));
    }
    let id = DeviceId::new("demo-stall-a01")?;
    if setup.store.get_device(&id).await?.is_some() {
        return Err(anyhow!(
            "the cloud already knows {id} but {} is missing; delete the demo data folder to start over",
            path.display()
        ));
    }
    let creds = add_device(
        &setup.store,
        NewDevice {
            id,
            entity: "陈记鲜档".into(),
            market: "江南果菜综合市场".into(),
            stall_no: "A-01".into(),
            device_no: None,
            hash_alg: HashAlg::Sha256,
            mqtt_url: setup.mqtt_url.clone(),
            public_host: setup.public_host.clone(),
        },
    )
    .await
    .map_err(|e| anyhow!("{e}"))?;
    let written = creds.write_to(&setup.dir).map_err(|e| anyhow!("{e}"))?;
    std::fs::rename(&written, &path)?;
    Ok(creds)
}

/// Open the box's ledger, or create it with the day's purchases (the upstream of each sale).
fn open_ledger(db: PathBuf, device: DeviceId, alg: HashAlg) -> anyhow::Result<Ledger> {
    if db.exists() {
        return Ok(Ledger::open(&db, &LedgerOptions::default())?);
    }
    let mut ledger = Ledger::create(&db, device, alg, &LedgerOptions::default())?;
    let purchases = PRODUCTS
        .iter()
        .enumerate()
        .map(|(i, (product, per_jin, origin))| {
            EntryDraft::new(Event::Purchase(Purchase {
                supplier: "江南果菜批发市场 12 号档".into(),
                product: (*product).into(),
                batch: batch_of(product),
                grams: Some(Grams(50_000)),
                count: None,
                amount: Fen(per_jin * 70),
                origin: Some((*origin).into()),
                upstream_code: None,
                origin_code: None,
                supplier_party: None,
                product_code: None,
                unit_price: Some(Fen(per_jin * 7 / 10)),
                price_unit: Some(PriceUnit::Jin),
                plate_number: Some(format!("粤A·D{:04}", 3_100 + i)),
                vouchers: Vec::new(),
                certificates: vec![Certificate {
                    kind: CertificateKind::ComplianceCertificate,
                    number: format!("HGZ-4401-2026-{:06}", 1_200 + i),
                    issuer: None,
                    photo: None,
                }],
            }))
        })
        .collect();
    ledger.append_batch(purchases)?;
    Ok(ledger)
}

fn batch_of(product: &str) -> String {
    let n: u32 = product.chars().map(u32::from).sum();
    format!("JN-20261122-{:03}", n % 1000)
}
