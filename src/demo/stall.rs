//! The demo's stall box: a ledger, a simulated scale and receipt printer, and a sale loop.
//!
//! The real stall workflow (touchscreen, PLU keys, credit, purchases by scan) is its own piece
//! of work; this drives the same parts the way it will — weigh, mint the ticket code, record the
//! sale in the ledger, print the receipt — so the demo shows real bytes on every wire.

use anyhow::{Context, anyhow};
use cloud_sync::CloudStore;
use cloud_sync::provision::{CredentialsFile, DeviceCredentials, NewDevice, add_device};
use device_drivers::printer::sim::{PrinterSim, PrinterSimOptions};
use device_drivers::printer::{
    EscPosPrinter, PaperWidth, PrinterConfig, Receipt, ReceiptLine, ReceiptStyle, render_receipt,
};
use device_drivers::scale::sim::{ScaleSim, ScaleSimOptions, run_scale_sim};
use device_drivers::scale::{Scale, ScaleDriver, ScaleOptions, ScaleProtocol};
use device_drivers::sim::SimListen;
use device_drivers::transport::TransportConfig;
use edge_daemon::ledger::{Ledger, LedgerOptions};
use edge_daemon::sync::{SyncHandle, SyncOptions, parse_broker_url};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use trace_core::event::{
    Certificate, CertificateKind, PaymentMethod, Purchase, SaleLine, SaleTicket,
};
use trace_core::units::{Quantity, line_amount};
use trace_core::{DeviceId, EntryDraft, Event, Fen, Grams, HashAlg, PriceUnit, TicketCodec};

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
    ledger: Arc<Mutex<Ledger>>,
    codec: TicketCodec,
    public_host: String,
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
            ..SyncOptions::new(creds.device.clone(), db, sign_key, host, port)
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
        Ok(Stall {
            dir: setup.dir,
            ledger: Arc::new(Mutex::new(ledger)),
            codec,
            public_host: setup.public_host,
            scale_sim,
            printer_uri,
            printer_task,
            sync,
            sales: Default::default(),
        })
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("ledger.sqlite3")
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
        let (product, per_jin, origin) = PRODUCTS[usize::try_from(n).unwrap_or(0) % PRODUCTS.len()];
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
        let unit_price = Fen(per_jin);
        let amount = line_amount(unit_price, PriceUnit::Jin, Quantity::Weight(grams))?;

        let ledger = self.ledger.clone();
        let codec = self.codec.clone();
        let entry = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut l = ledger.lock().map_err(|_| anyhow!("ledger lock poisoned"))?;
            // The ticket counter is the seq the sale will get: dense and never reused.
            let next = l.head()?.seq + 1;
            let code = codec.mint(next)?;
            let sale = SaleTicket {
                ticket_code: code.to_string(),
                lines: vec![SaleLine {
                    product: product.into(),
                    product_code: None,
                    grams: Some(grams),
                    count: None,
                    unit_price,
                    price_unit: PriceUnit::Jin,
                    amount,
                    batch: Some(batch_of(product)),
                    origin: Some(origin.into()),
                }],
                total: amount,
                payment: if next % 2 == 0 {
                    PaymentMethod::WechatPay
                } else {
                    PaymentMethod::Cash
                },
                buyer: None,
                buyer_id: None,
                fees: Vec::new(),
            };
            let event = Event::SaleTicket(sale);
            event.validate()?;
            Ok((l.append(EntryDraft::new(event))?, code))
        })
        .await??;
        let (entry, code) = entry;

        let receipt = Receipt {
            market: "江南果菜综合市场".into(),
            stall_name: "陈记鲜档".into(),
            stall_no: "A-01".into(),
            ticket_no: entry.seq.to_string(),
            datetime: trace_core::time::gba_minutes(entry.at),
            lines: vec![ReceiptLine {
                product: product.into(),
                weight: grams,
                unit_price,
                amount,
            }],
            total: amount,
            qr_url: format!("http://{}/t/{}", self.public_host, code),
            trace_code: code.to_string(),
            reprint: false,
        };
        let bytes = render_receipt(&receipt, &ReceiptStyle::new(PaperWidth::Mm80))?;
        let transport: TransportConfig = self.printer_uri.parse()?;
        let mut printer = EscPosPrinter::new(
            transport.open().await?,
            PrinterConfig::new(PaperWidth::Mm80),
        );
        let outcome = printer.print_job(&bytes).await?;
        if !outcome.printed() {
            tracing::warn!(
                ?outcome,
                seq = entry.seq,
                "receipt not confirmed printed; ticket stays issued"
            );
        }
        Ok(Sale {
            seq: entry.seq,
            product: product.into(),
            grams: grams.0,
            total_yuan: amount.yuan_string(),
            code: code.to_string(),
        })
    }

    pub async fn stop(self) {
        if let Err(e) = self.sync.stop().await {
            tracing::warn!(error = %e, "sync client stopped with an error");
        }
        self.printer_task.abort();
    }
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
