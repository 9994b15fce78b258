//! # Product codes in the cloud (issue 6, 预包装食品 4.2.5–4.2.6): the backend-neutral part
//!
//! A line box prints codes of its templates (`trace_core::product_code`); a consumer scans one
//! and lands on the public page (`/c/{token}` or a GS1 Digital Link `/01/{gtin}/…/21/{token}`).
//! The cloud resolves it from the box's synced entries alone:
//!
//! 1. **projection** ([`rows`]): `code_template`, `codes_allocated`, `codes_disabled`,
//!    `codes_enabled`, `production_batch` and `product_upsert` entries become rows of the
//!    `code_templates`, `code_allocations`, `code_toggles`, `production_batches` and `products`
//!    tables, written by each backend in the ingest transaction. Entries arrive out of order
//!    (live-first), so every row keeps the seq that wrote it and "the latest wins" is decided by
//!    seq, never by arrival;
//! 2. **decoding** ([`decode_all`]): the token's readable prefix names the issuer and template
//!    number; every template registered under it (normally one; two boxes of an enterprise may
//!    share an issuer) is tried with the key its box derives, `CodeKey::derive(code_key, …)` —
//!    the cloud holds each box's code key from provisioning;
//! 3. **facts** (per backend: a few primary-key lookups): was the serial allocated (never
//!    issued = not found), the latest toggle covering it, the batch record and product name;
//! 4. **view** ([`view`]): what the page shows.
//!
//! Enumeration: a forged code (does not decode), a code of an unknown template and a decoded
//! serial that was never allocated all end as `None`, so the page cannot tell them apart. The
//! serial itself is never shown: consecutive serials would tell how many items were made.

use crate::store::{CodeDisabledInfo, ProductCodeView, StoreError, StoreResult};
use trace_core::event::{CodeRange, CodeTemplateSaved, ProductRecord, ProductionBatch};
use trace_core::product_code::{
    CodeKey, Day, DecodedCode, Gtin, ProductCodec, ScannedCode, Template,
};
use trace_core::{DeviceId, Event};

/// One projected row, as both backends store it. Serials and seqs are below 2^63 (entries with
/// larger serials are refused by the box's own projection and skipped here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CodeRow {
    Template {
        id: String,
        issuer: String,
        number: i64,
        body: String,
    },
    Allocation {
        pool: String,
        first: i64,
        last: i64,
        batch: Option<String>,
    },
    Toggle {
        pool: String,
        first: i64,
        last: i64,
        disabled: bool,
        reason: Option<String>,
    },
    Batch {
        batch: String,
        product: String,
        gtin: Option<String>,
        product_code: Option<String>,
        produced_on: String,
        expires_on: Option<String>,
    },
    Product {
        product_id: String,
        name: String,
        /// The 14-digit form when the GTIN is valid (templates compare in that form).
        gtin: Option<String>,
    },
}

fn range(r: &CodeRange) -> Option<(i64, i64)> {
    Some((i64::try_from(r.first).ok()?, i64::try_from(r.last).ok()?)).filter(|(f, l)| f <= l)
}

/// GTINs compare in their 14-digit form; an invalid one is kept as typed (it matches nothing).
pub(crate) fn gtin14(g: &str) -> String {
    Gtin::parse(g).map_or_else(|_| g.to_owned(), |g| g.to_string())
}

/// The product-code rows an event projects to (none for other kinds).
pub(crate) fn rows(event: &Event) -> Vec<CodeRow> {
    match event {
        Event::CodeTemplate(CodeTemplateSaved { template: t }) => match serde_json::to_string(t) {
            Ok(body) => vec![CodeRow::Template {
                id: t.id.clone(),
                issuer: t.issuer.clone(),
                number: i64::from(t.number),
                body,
            }],
            Err(_) => Vec::new(),
        },
        Event::CodesAllocated(a) => range(&a.range)
            .map(|(first, last)| CodeRow::Allocation {
                pool: a.pool.clone(),
                first,
                last,
                batch: a.batch.clone(),
            })
            .into_iter()
            .collect(),
        Event::CodesDisabled(d) => toggles(&d.0, true),
        Event::CodesEnabled(e) => toggles(&e.0, false),
        Event::ProductionBatch(ProductionBatch {
            batch,
            product,
            gtin,
            product_code,
            produced_on,
            expires_on,
            ..
        }) => vec![CodeRow::Batch {
            batch: batch.clone(),
            product: product.clone(),
            gtin: gtin.as_deref().map(gtin14),
            product_code: product_code.clone(),
            produced_on: produced_on.clone(),
            expires_on: expires_on.clone(),
        }],
        Event::ProductUpsert(ProductRecord {
            product_id,
            name,
            gtin,
            ..
        }) => vec![CodeRow::Product {
            product_id: product_id.clone(),
            name: name.clone(),
            gtin: gtin.as_deref().map(gtin14),
        }],
        _ => Vec::new(),
    }
}

fn toggles(t: &trace_core::event::CodesToggled, disabled: bool) -> Vec<CodeRow> {
    t.ranges
        .iter()
        .filter_map(range)
        .map(|(first, last)| CodeRow::Toggle {
            pool: t.pool.clone(),
            first,
            last,
            disabled,
            reason: t.reason.clone(),
        })
        .collect()
}

/// A template registered under the scanned code's issuer and number, with what is needed to
/// decode it (its box's code key) and to show its producer.
#[derive(Clone)]
pub(crate) struct Candidate {
    /// The backend's device key.
    pub dev: i64,
    pub device: DeviceId,
    pub entity: String,
    pub market: String,
    pub code_key: Vec<u8>,
    pub template_id: String,
    pub body: String,
}

/// A candidate under whose key the code decoded.
pub(crate) struct Decoded {
    pub candidate: Candidate,
    pub template: Template,
    pub code: DecodedCode,
}

/// Decode `scanned` under each candidate; the ones it decodes under, in candidate order. A
/// stored template that no longer parses is corrupt data, not a reason to fail the page.
pub(crate) fn decode_all(scanned: &ScannedCode, candidates: Vec<Candidate>) -> Vec<Decoded> {
    candidates
        .into_iter()
        .filter_map(|c| {
            let template: Template = serde_json::from_str(&c.body)
                .inspect_err(|e| tracing::warn!(template = %c.template_id, "stored template: {e}"))
                .ok()?;
            let secret: [u8; 32] = c.code_key.as_slice().try_into().ok()?;
            let key = CodeKey::derive(&secret, &template.issuer, template.number);
            let codec = ProductCodec::new(template.clone(), &key).ok()?;
            let code = codec.decode(scanned).ok()?;
            Some(Decoded {
                candidate: c,
                template,
                code,
            })
        })
        .collect()
}

/// The production batch as its `production_batch` entry recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchFacts {
    pub product: String,
    pub produced_on: String,
    pub expires_on: Option<String>,
}

/// What the store knows of one allocated serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SerialFacts {
    pub allocation_batch: Option<String>,
    pub allocated_seq: i64,
    /// (disabled, reason, seq) of the latest toggle covering the serial.
    pub toggle: Option<(bool, Option<String>, i64)>,
    pub batch: Option<BatchFacts>,
    /// From the product library: by the batch's product id, else by the template's GTIN or
    /// product code.
    pub product_name: Option<String>,
}

/// The product keys to look a name up by: the template's GTIN (14 digits) and product code.
pub(crate) fn template_product(t: &Template) -> (Option<String>, Option<String>) {
    (t.gtin().map(|g| g.to_string()), t.product_code.clone())
}

fn to_u64(v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative sequence number {v}")))
}

/// The page's view of a resolved code.
pub(crate) fn view(d: Decoded, token: &str, f: SerialFacts) -> StoreResult<ProductCodeView> {
    let Decoded {
        candidate: c,
        template: t,
        code,
    } = d;
    let (gtin, product_code) = template_product(&t);
    // Dates the code carries win; else the batch record's (typed YYYY-MM-DD on the box).
    let day = |s: Option<&str>| s.and_then(|s| Day::parse(s).ok());
    let batch_record = f.batch.as_ref();
    let product_name = f
        .product_name
        .or_else(|| batch_record.map(|b| b.product.clone()));
    let disabled = match f.toggle {
        Some((true, reason, seq)) => Some(CodeDisabledInfo {
            seq: to_u64(seq)?,
            reason,
        }),
        _ => None,
    };
    Ok(ProductCodeView {
        token: token.to_owned(),
        device: c.device,
        entity: c.entity,
        market: c.market,
        template: t.id.clone(),
        level: t.level,
        gtin,
        product_code,
        product_name,
        batch: code.vars.batch.clone().or(f.allocation_batch),
        production_date: code
            .vars
            .production_date
            .or_else(|| day(batch_record.map(|b| b.produced_on.as_str()))),
        expiry_date: code
            .vars
            .expiry_date
            .or_else(|| day(batch_record.and_then(|b| b.expires_on.as_deref()))),
        serial: code.serial,
        allocated_seq: to_u64(f.allocated_seq)?,
        disabled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_core::event::{CodeLevel, CodesAllocated, CodesDisabled, CodesToggled};

    #[test]
    fn events_project_to_rows() {
        let toggled = CodesToggled {
            pool: "p".into(),
            ranges: vec![
                CodeRange { first: 1, last: 2 },
                CodeRange {
                    first: 5,
                    last: u64::MAX,
                },
            ],
            reason: Some("recall".into()),
        };
        // A range past what the store holds is skipped, the rest kept.
        assert_eq!(
            rows(&Event::CodesDisabled(CodesDisabled(toggled))),
            vec![CodeRow::Toggle {
                pool: "p".into(),
                first: 1,
                last: 2,
                disabled: true,
                reason: Some("recall".into())
            }]
        );
        let alloc = CodesAllocated {
            pool: "p".into(),
            level: CodeLevel::Unit,
            range: CodeRange { first: 0, last: 9 },
            template: Some("p".into()),
            batch: Some("B1".into()),
        };
        assert_eq!(
            rows(&Event::CodesAllocated(alloc)),
            vec![CodeRow::Allocation {
                pool: "p".into(),
                first: 0,
                last: 9,
                batch: Some("B1".into())
            }]
        );
        assert_eq!(gtin14("6901234567892"), "06901234567892");
        assert_eq!(gtin14("123"), "123");
    }
}
