//! `baytrace-cloud serve` as a library call, so the demo and the tests run the whole cloud
//! in-process on port 0.
//!
//! Design: [`serve`] does everything that can fail fast (open the store, start the embedded
//! broker, bind HTTP) before returning, so a caller gets a typed error rather than a task that
//! dies later; the MQTT side then connects in the background and keeps retrying while the broker
//! is away, and [`RunningCloud::mqtt_ready`] resolves at the first subscription acknowledgement.

use crate::broker::{BrokerError, EmbeddedBroker, start_embedded_broker_with};
use crate::config::{CloudConfig, ConfigError, parse_mqtt_url};
use crate::service::metrics::Metrics;
use crate::service::mqtt::{self, MqttLink};
use crate::store::{AnyStore, StoreError, StoreSpec};
use crate::web::{self, App};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot create the data folder {0}: {1}")]
    DataDir(std::path::PathBuf, std::io::Error),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("embedded broker: {0}")]
    Broker(#[from] BrokerError),
    #[error("cannot listen for HTTP on {0}: {1}")]
    HttpBind(SocketAddr, std::io::Error),
    #[error("HTTP server failed: {0}")]
    Http(std::io::Error),
    #[error("cannot read the broker CA file {0}: {1}")]
    CaFile(std::path::PathBuf, std::io::Error),
    #[error("a service task failed: {0}")]
    Task(String),
}

/// A started cloud. Dropping it does not stop it: resolve the `shutdown` future given to
/// [`serve`], then [`RunningCloud::wait`].
pub struct RunningCloud {
    /// Where the trace page, `/healthz` and `/metrics` listen.
    pub http_addr: SocketAddr,
    /// The broker the ingest client connects to.
    pub mqtt_addr: String,
    /// Set when the cloud started its own broker.
    pub embedded_broker: Option<EmbeddedBroker>,
    /// The store `[store]` named (SQLite by default).
    pub store: AnyStore,
    pub metrics: Arc<Metrics>,
    ready: watch::Receiver<bool>,
    mqtt: rumqttc::AsyncClient,
    task: JoinHandle<Result<(), ServeError>>,
}

impl RunningCloud {
    /// Resolves once the ingest client is subscribed (at once if it already is).
    pub async fn mqtt_ready(&self) {
        let mut r = self.ready.clone();
        let _ = r.wait_for(|v| *v).await;
    }

    /// Send a versioned document (catalogue, PLU map, recall alert, …) to a box on its `down`
    /// topic. Queued while the broker is unreachable.
    pub async fn send_downlink(
        &self,
        device: &trace_core::DeviceId,
        doc: &trace_core::DownlinkDoc,
    ) -> Result<(), ServeError> {
        mqtt::send_downlink(&self.mqtt, device, doc)
            .await
            .map_err(|e| ServeError::Task(format!("downlink not queued: {e}")))
    }

    /// Wait until the cloud has stopped (after `shutdown` resolved).
    pub async fn wait(self) -> Result<(), ServeError> {
        self.task
            .await
            .map_err(|e| ServeError::Task(e.to_string()))?
    }
}

/// Start the cloud: store, optional embedded broker, HTTP, MQTT ingest. Runs until `shutdown`
/// resolves.
pub async fn serve(
    cfg: CloudConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningCloud, ServeError> {
    cfg.validate()?;
    std::fs::create_dir_all(&cfg.data_dir)
        .map_err(|e| ServeError::DataDir(cfg.data_dir.clone(), e))?;
    let spec = cfg.store_spec()?;
    if let StoreSpec::Sqlite(path) = &spec
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| ServeError::DataDir(dir.to_owned(), e))?;
    }
    let store = AnyStore::open(spec).await?;

    let (embedded_broker, host, port, tls) = match cfg.mqtt.embedded_broker {
        Some(addr) => {
            let b = tokio::task::spawn_blocking(move || start_embedded_broker_with(addr, None))
                .await
                .map_err(|e| ServeError::Task(e.to_string()))??;
            let host = if b.v5.ip().is_unspecified() {
                "127.0.0.1".to_owned()
            } else {
                b.v5.ip().to_string()
            };
            (Some(b), host, b.v5.port(), None)
        }
        None => {
            let u = parse_mqtt_url(&cfg.mqtt.url)?;
            let tls = if u.tls {
                Some(match &cfg.mqtt.ca_file {
                    Some(f) => {
                        Some(std::fs::read(f).map_err(|e| ServeError::CaFile(f.clone(), e))?)
                    }
                    None => None,
                })
            } else {
                None
            };
            (None, u.host, u.port, tls)
        }
    };
    let link = MqttLink {
        host: host.clone(),
        port,
        username: cfg.mqtt.username.clone(),
        password: cfg.mqtt.password.clone(),
        client_id: format!("{}-{:08x}", cfg.mqtt.client_id, rand::random::<u32>()),
        share_group: cfg.mqtt.share_group.clone(),
        max_payload: cfg.mqtt.max_payload,
        tls,
    };

    let listener = tokio::net::TcpListener::bind(cfg.http)
        .await
        .map_err(|e| ServeError::HttpBind(cfg.http, e))?;
    let http_addr = listener
        .local_addr()
        .map_err(|e| ServeError::HttpBind(cfg.http, e))?;

    let metrics = Arc::new(Metrics::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, ready_rx) = watch::channel(false);
    let (mqtt_task, mqtt_client) = mqtt::spawn(
        link,
        store.clone(),
        metrics.clone(),
        ready_tx,
        stop_rx.clone(),
    );
    let app = web::router(App {
        store: store.clone(),
        metrics: metrics.clone(),
    });
    let mut http_stop = stop_rx.clone();
    let http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|s| *s).await;
            })
            .await
    });
    tokio::spawn(async move {
        shutdown.await;
        stop_tx.send_replace(true);
    });
    tracing::info!(%http_addr, mqtt = %format!("{host}:{port}"), store = store.backend(), "baytrace-cloud serving");
    let task = tokio::spawn(async move {
        let http_result = http.await.map_err(|e| ServeError::Task(e.to_string()))?;
        mqtt_task
            .await
            .map_err(|e| ServeError::Task(e.to_string()))?;
        http_result.map_err(ServeError::Http)
    });
    Ok(RunningCloud {
        http_addr,
        mqtt_addr: format!("{host}:{port}"),
        embedded_broker,
        store,
        metrics,
        ready: ready_rx,
        mqtt: mqtt_client,
        task,
    })
}
