//! # The stall's touchscreen UI (商户端), served by `baytrace-edge run`
//!
//! A merchant at a wet-market counter, wet hands, no IT skills, 4G that comes and goes: the
//! screen must make recording a sale faster than not recording it. So: one page of vanilla JS
//! and CSS embedded in the binary (nothing from a CDN, it works with the network unplugged),
//! big targets for 1024×600 and 1280×800 screens, live weight *pushed* from the scale over
//! Server-Sent Events, and one weighed sale in at most three taps (product, payment, 打印;
//! cash is preselected, so usually two).
//!
//! Layers: [`server`] builds the axum router and owns the shared [`state::UiState`];
//! [`auth`] is PIN login with owner/staff roles (staff cannot void or see reports);
//! [`i18n`] is the one message catalogue (zh-CN default, zh-HK, en) that both the page and
//! the server's refusals use; [`devices`] bridges the device manager (scale, scanner) and the
//! receipt printer; [`sale`] and [`purchase`] turn forms into ledger entries through the
//! business rules in [`crate::stall`]; [`label`] reads a scanned label-scale sticker into
//! a sale line.
//!
//! Durability contract: a response that says "recorded" is sent only after the ledger writer
//! returned the committed entry (fsynced, see `ledger::schema`), so nothing acknowledged on the
//! screen is lost if the box dies the moment after. Printing happens after the commit; a
//! failed print leaves the ticket issued and marked unprinted, with a reprint (补打).

pub mod auth;
pub mod books;
pub mod devices;
pub mod i18n;
pub mod label;
pub mod options;
pub mod pins;
pub mod purchase;
pub mod records;
pub mod regions;
pub mod sale;
pub mod server;
pub mod state;

pub use auth::{Role, UiUser};
pub use options::{UiError, UiOptions};
pub use server::{UiServer, start};
