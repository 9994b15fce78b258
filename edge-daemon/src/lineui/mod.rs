//! # The line screen (生产线触摸屏, 预包装食品 §4.2.7), served by `baytrace-edge run`
//!
//! The operator at a packing line has gloves on, a line running at hundreds of items a minute
//! and no time to read: the screen shows the job (batch, template, product, coder), four big
//! counters — printed (confirmed by the coder's own evidence), scrapped, in the coder's
//! buffer, items per minute — whatever holds the line up in plain words that say what to do,
//! and four buttons: start, pause, resume, stop. The counters are *pushed* (Server-Sent
//! Events), never polled; everything is embedded in the binary and works with the network
//! unplugged.
//!
//! Same conventions as the stall screen (`crate::ui`): vanilla HTML/JS/CSS, PIN login
//! (`ui::auth`), one message catalogue in zh-CN / zh-HK / en ([`i18n`], a sibling block of
//! `ui::i18n` that takes the shared words from it), the server sends keys, never prose.
//!
//! Layers: [`controller`] runs the job engine (`crate::line::run_job`) behind the buttons and
//! folds its counters into [`LineView`]s; [`server`] is the axum router. A box serves this
//! screen when its `edge.toml` has a `[line]` section (`crate::line::config`).
//!
//! Safety contract: the buttons only send `Control` values to the job engine. Pause and stop
//! settle everything in flight from the coder's evidence before the engine says paused or
//! stopped, so no button can make a code print twice or go unaccounted for.

pub mod controller;
pub mod i18n;
pub mod server;

pub use controller::{LineController, LineView, Phase, Rate, Refused};
pub use server::{LineInfo, LineUiServer, serve};

use crate::config::LoadedConfig;
use crate::keys::DeviceKeys;
use crate::ledger::{Ledger, WriterHandle};
use crate::line::{LineConfig, LineStore};
use crate::ui::{UiError, UiUser};
use std::net::SocketAddr;
use std::sync::Arc;

/// Everything the line screen needs from the box, resolved while the ledger is still open for
/// reading (before it goes to the writer thread).
pub struct Prepared {
    listen: SocketAddr,
    cfg: LineConfig,
    info: LineInfo,
    users: Vec<UiUser>,
    store: LineStore,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("listen", &self.listen)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Read `[line]`, the box's code key and the template: the job the screen will run. `None`
/// when the box has no `[line]` section.
pub fn prepare(c: &LoadedConfig, ledger: &Ledger) -> Result<Option<Prepared>, UiError> {
    let Some(section) = &c.config.line else {
        return Ok(None);
    };
    let keys = DeviceKeys::read(&c.signing_key_path(), &c.ticket_key_path())
        .map_err(|e| UiError::Config(format!("line: {e}")))?;
    let cfg = section
        .job_config(ledger, &keys.ticket_key)
        .map_err(|e| UiError::Config(format!("line.template: {e}")))?;
    let template = crate::codes::template(ledger, &section.template)
        .map_err(|e| UiError::Config(format!("line.template: {e}")))?;
    let store = LineStore::open(ledger.path()).map_err(|e| UiError::Config(e.to_string()))?;
    let info = LineInfo {
        line_name: section.line_name.clone(),
        job: section.job.clone(),
        batch: section.batch.clone(),
        template: section.template.clone(),
        product: section.product.clone(),
        product_code: template.gtin.or(template.product_code),
        coder: format!("{} {}", section.coder.protocol, section.coder.connect),
        target: section.count,
        high_water: section.water.high,
    };
    Ok(Some(Prepared {
        listen: section.listen,
        cfg,
        info,
        users: section.users.clone(),
        store,
    }))
}

impl Prepared {
    /// Serve the screen; the job waits for an operator's start (or [`LineController::start`]).
    pub async fn serve(self, writer: WriterHandle) -> Result<LineUiServer, UiError> {
        let controller = LineController::new(self.cfg, writer, Arc::new(self.store))
            .map_err(|e| UiError::Config(e.to_string()))?;
        serve(self.listen, controller, self.info, self.users).await
    }

    pub fn info(&self) -> &LineInfo {
        &self.info
    }
}
