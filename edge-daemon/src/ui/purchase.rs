//! 进货: the purchase form, voucher photos, and filling the form from a scanned upstream
//! receipt with no network (the signed QR fragment, checked against the key directory the
//! cloud distributes as a downlink document).

use super::state::{StoreError, UiState};
use crate::stall::purchase::{PurchaseInput, build};
use crate::stall::{FieldError, Product};
use serde::Serialize;
use std::path::Path;
use trace_core::event::BlobRef;
use trace_core::fragment::{KeyDirectory, TicketFragment, split_url};
use trace_core::wire::DownlinkDoc;
use trace_core::{Event, HashAlg, PriceUnit};

/// The form as the scanned receipt fills it; the merchant checks it and taps 保存.
#[derive(Debug, Clone, Serialize)]
pub struct ScanFill {
    pub supplier: String,
    pub seller_device: String,
    pub upstream_code: String,
    pub lines: Vec<ScanLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanLine {
    pub product: String,
    /// Whether this stall sells it (a product button exists).
    pub known: bool,
    pub batch: String,
    pub grams: Option<u64>,
    pub count: Option<u64>,
    pub unit_price: String,
    pub price_unit: PriceUnit,
    pub amount: String,
    pub origin: Option<String>,
}

/// Why a scan was refused: a catalogue key and the technical detail.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRefused {
    pub key: &'static str,
    pub detail: String,
}

pub fn load_directory(docs_dir: &Path) -> KeyDirectory {
    std::fs::read(docs_dir.join("key_directory.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<DownlinkDoc>(&b).ok())
        .and_then(|d| serde_json::from_value(d.body).ok())
        .unwrap_or_default()
}

/// Verify a scanned receipt URL and turn it into a filled purchase form.
pub fn fill_from_scan(
    text: &str,
    docs_dir: &Path,
    products: &[Product],
) -> Result<ScanFill, ScanRefused> {
    let Some((code, frag)) = split_url(text) else {
        return Err(ScanRefused {
            key: "scan_not_ticket",
            detail: "no /t/{code}#… in the scanned text".into(),
        });
    };
    let dir = load_directory(docs_dir);
    let v = TicketFragment::verify(frag, Some(code), &dir).map_err(|e| ScanRefused {
        key: match e.reason() {
            "unknown_seller" => "scan_unknown_seller",
            "forged" => "scan_forged",
            _ => "scan_damaged",
        },
        detail: e.to_string(),
    })?;
    let t = v.ticket;
    Ok(ScanFill {
        supplier: v
            .seller
            .name
            .clone()
            .unwrap_or_else(|| t.device.to_string()),
        seller_device: t.device.to_string(),
        upstream_code: t.code.clone(),
        lines: t
            .lines
            .iter()
            .map(|l| ScanLine {
                known: products.iter().any(|p| p.name == l.product),
                product: l.product.clone(),
                batch: l.batch.clone().unwrap_or_else(|| t.code.clone()),
                grams: (l.price_unit != PriceUnit::Item).then_some(l.quantity),
                count: (l.price_unit == PriceUnit::Item).then_some(l.quantity),
                unit_price: l.unit_price.yuan_string(),
                price_unit: l.price_unit,
                amount: l.amount.yuan_string(),
                origin: l.origin.clone(),
            })
            .collect(),
    })
}

pub enum PurchaseError {
    Invalid(Vec<FieldError>),
    Store(StoreError),
}

pub async fn record(
    state: &UiState,
    input: PurchaseInput,
    photos: Vec<String>,
) -> Result<u64, PurchaseError> {
    let mut input = input;
    // Photos were stored by `store_photo`; refer to them by digest, and only to ones we have.
    for (i, d) in photos.iter().enumerate() {
        let ok = d.len() == 64
            && d.bytes().all(|b| b.is_ascii_hexdigit())
            && state.opts.blobs_dir.join(d).exists();
        let digest = trace_core::Digest::from_hex(d).ok().filter(|_| ok);
        match digest {
            Some(digest) => input.vouchers.push(BlobRef {
                digest,
                media_type: "image/jpeg".into(),
                name: None,
            }),
            None => {
                return Err(PurchaseError::Invalid(vec![FieldError::new(
                    format!("photos[{i}]"),
                    "err_photo_missing",
                )]));
            }
        }
    }
    if input.origin.as_deref().is_none_or(|o| o.trim().is_empty())
        && let Some(code) = input.origin_code.as_deref()
    {
        input.origin = super::regions::full_name(code.trim());
    }
    let products = super::records::current_products(state)
        .await
        .map_err(PurchaseError::Store)?;
    let products: Vec<Product> = products.into_iter().map(|v| v.product).collect();
    let p = build(&input, &products).map_err(PurchaseError::Invalid)?;
    let e = state
        .append(Event::Purchase(p))
        .await
        .map_err(PurchaseError::Store)?;
    Ok(e.seq)
}

/// Keep a voucher photo beside the ledger, named by its SHA-256 (what the entry pins).
pub fn store_photo(blobs: &Path, bytes: &[u8]) -> Result<String, StoreError> {
    let digest = HashAlg::Sha256.digest(&[bytes]).to_hex();
    std::fs::create_dir_all(blobs).map_err(|e| StoreError::Other(e.to_string()))?;
    let path = blobs.join(&digest);
    if !path.exists() {
        let tmp = blobs.join(format!(".{digest}.tmp"));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| StoreError::Other(e.to_string()))?;
    }
    Ok(digest)
}
