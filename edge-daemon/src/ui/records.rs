//! 资料 handlers: products (with their scale keys), staff (with PINs), suppliers and
//! customers; pushing the PLU table to the label scale.
//!
//! Every change is a ledger entry (`product_upsert`, `staff_upsert`, `*_upsert`) appended
//! through the writer; a refused form appends nothing.

use super::auth::{Role, UiUser};
use super::pins::{hash_pin, valid_pin};
use super::server::{ApiError, ApiResult, owner, session};
use super::state::{StoreError, UiState};
use crate::stall::FieldError;
use crate::stall::records::{ProductInput, ProductView, build_product, products};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use device_drivers::scale::dahua::{PluRecord, WeighMode};
use rusqlite::{Connection, params};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use trace_core::event::{CustomerUpsert, PartnerRecord, StaffRecord, SupplierUpsert};
use trace_core::{Event, PriceUnit};

/// The effective products (config overlaid by the ledger's records).
pub async fn current_products(st: &UiState) -> Result<Vec<ProductView>, StoreError> {
    let cfg = st.opts.ui.products.clone();
    st.db(move |c| Ok(products(c, &cfg)?)).await
}

/// Staff added on the box who can log in: record not removed and a PIN hash on file.
pub fn ledger_users(c: &Connection) -> Result<Vec<(String, UiUser)>, rusqlite::Error> {
    let mut s = c.prepare_cached(
        "SELECT s.staff_id, s.name, s.role, p.pin_hash FROM stall_staff s \
         JOIN stall_pins p ON p.staff_id = s.staff_id WHERE s.removed = 0 ORDER BY s.seq",
    )?;
    let rows = s.query_map([], |r| {
        let role: Option<String> = r.get(2)?;
        Ok((
            r.get::<_, String>(0)?,
            UiUser {
                name: r.get(1)?,
                role: if role.as_deref() == Some("owner") {
                    Role::Owner
                } else {
                    Role::Staff
                },
                pin: None,
                pin_hash: Some(r.get(3)?),
            },
        ))
    })?;
    rows.collect()
}

/// Everyone who can log in: `edge.toml`'s users, then the staff added on the box.
pub async fn all_users(st: &UiState) -> Result<Vec<(String, UiUser)>, StoreError> {
    let mut users: Vec<(String, UiUser)> = st
        .opts
        .ui
        .users
        .iter()
        .map(|u| (format!("cfg:{}", u.name), u.clone()))
        .collect();
    users.extend(st.db(|c| Ok(ledger_users(c)?)).await?);
    Ok(users)
}

pub async fn list_products(State(st): State<Arc<UiState>>, headers: HeaderMap) -> ApiResult {
    session(&st, &headers)?;
    let p = current_products(&st).await?;
    Ok(Json(json!({
        "products": p,
        "library": crate::stall::library::LIBRARY,
        "categories": crate::stall::library::CATEGORIES,
        "label_scale": st.devices.label_scale(),
    })))
}

pub async fn save_product(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(input): Json<ProductInput>,
) -> ApiResult {
    owner(&st, &headers)?;
    let current = current_products(&st).await?;
    let rec = build_product(&input, &current).map_err(ApiError::Invalid)?;
    let id = rec.product_id.clone();
    st.append(Event::ProductUpsert(rec)).await?;
    Ok(Json(json!({ "id": id })))
}

#[derive(Deserialize)]
pub struct StaffBody {
    #[serde(default)]
    id: Option<String>,
    name: String,
    role: Role,
    #[serde(default)]
    pin: Option<String>,
}

pub async fn list_staff(State(st): State<Arc<UiState>>, headers: HeaderMap) -> ApiResult {
    owner(&st, &headers)?;
    let config: Vec<Value> = st
        .opts
        .ui
        .users
        .iter()
        .map(|u| json!({"id": format!("cfg:{}", u.name), "name": u.name, "role": u.role, "config": true}))
        .collect();
    let ledger = st
        .db(|c| {
            let mut s = c.prepare_cached(
                "SELECT s.staff_id, s.name, s.role, p.staff_id IS NOT NULL FROM stall_staff s \
                 LEFT JOIN stall_pins p ON p.staff_id = s.staff_id WHERE s.removed = 0 ORDER BY s.seq",
            )?;
            let rows = s.query_map([], |r| {
                let role: Option<String> = r.get(2)?;
                Ok(json!({
                    "id": r.get::<_, String>(0)?,
                    "name": r.get::<_, String>(1)?,
                    "role": if role.as_deref() == Some("owner") { "owner" } else { "staff" },
                    "has_pin": r.get::<_, bool>(3)?,
                    "config": false,
                }))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await?;
    Ok(Json(
        json!({ "staff": config.into_iter().chain(ledger).collect::<Vec<_>>() }),
    ))
}

/// Add or edit a staff member (owner only). A new one needs a PIN; an edit may keep it.
pub async fn save_staff(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<StaffBody>,
) -> ApiResult {
    owner(&st, &headers)?;
    let mut errs = Vec::new();
    let id =
        b.id.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
    let name = b.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 16 {
        errs.push(FieldError::new("name", "err_required"));
    }
    let users = all_users(&st).await?;
    if let Some(id) = &id {
        let exists = {
            let id = id.clone();
            st.db(move |c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM stall_staff WHERE staff_id = ?1 AND removed = 0",
                    params![id],
                    |r| r.get::<_, i64>(0),
                )? > 0)
            })
            .await?
        };
        if !exists {
            // `cfg:` users live in edge.toml: change them there.
            errs.push(FieldError::new("name", "err_not_editable"));
        }
    }
    let pin = b.pin.as_deref().map(str::trim).filter(|p| !p.is_empty());
    match pin {
        None if id.is_none() => errs.push(FieldError::new("pin", "err_pin_format")),
        None => {}
        Some(p) if !valid_pin(p) => errs.push(FieldError::new("pin", "err_pin_format")),
        Some(p) => {
            let p = p.to_owned();
            let me = id.clone();
            let taken = tokio::task::spawn_blocking(move || {
                users
                    .iter()
                    .any(|(uid, u)| Some(uid) != me.as_ref() && u.matches(&p))
            })
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?;
            if taken {
                errs.push(FieldError::new("pin", "err_pin_taken"));
            }
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::Invalid(errs));
    }
    let hash = match pin {
        Some(p) => {
            let p = p.to_owned();
            Some(
                tokio::task::spawn_blocking(move || hash_pin(&p))
                    .await
                    .map_err(|e| StoreError::Other(e.to_string()))?
                    .map_err(StoreError::Other)?,
            )
        }
        None => None,
    };
    let staff_id = id.unwrap_or_else(|| format!("s-{}", trace_core::Ulid::generate()));
    st.append(Event::StaffUpsert(StaffRecord {
        staff_id: staff_id.clone(),
        name: name.clone(),
        role: Some(match b.role {
            Role::Owner => trace_core::event::Role::Owner,
            Role::Staff => trace_core::event::Role::Cashier,
        }),
        phone: None,
        health_cert_no: None,
        health_cert_expires: None,
    }))
    .await?;
    // The entry first: the ledger never misses a change. A crash before the hash is written
    // leaves a record that cannot log in yet — the owner sets the PIN again.
    if let Some(h) = hash {
        let sid = staff_id.clone();
        st.db(move |c| {
            c.execute(
                "INSERT INTO stall_pins (staff_id, pin_hash) VALUES (?1, ?2) \
                 ON CONFLICT(staff_id) DO UPDATE SET pin_hash = ?2",
                params![sid, h],
            )?;
            Ok(())
        })
        .await?;
    }
    Ok(Json(json!({ "id": staff_id, "name": name })))
}

#[derive(Deserialize)]
pub struct PartnerBody {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
}

fn partner_record(b: &PartnerBody) -> Result<PartnerRecord, ApiError> {
    let mut errs = Vec::new();
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        errs.push(FieldError::new("name", "err_required"));
    }
    let phone = b.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = phone
        && !(p.len() >= 5
            && p.len() <= 20
            && p.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c)))
    {
        errs.push(FieldError::new("phone", "err_phone"));
    }
    if !errs.is_empty() {
        return Err(ApiError::Invalid(errs));
    }
    Ok(PartnerRecord {
        partner_id: b
            .id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map_or_else(
                || format!("p-{}", trace_core::Ulid::generate()),
                str::to_owned,
            ),
        name: name.to_owned(),
        kind: trace_core::event::PartyKind::Person,
        credit_code: None,
        id_number: None,
        legal_rep: None,
        contact: None,
        phone: phone.map(str::to_owned),
        address: None,
        region: None,
        licence_no: None,
    })
}

async fn known_partner(
    st: &UiState,
    role: &'static str,
    id: &Option<String>,
) -> Result<(), ApiError> {
    let Some(id) = id.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    let id = id.to_owned();
    let n: i64 = st
        .db(move |c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM stall_partners WHERE role = ?1 AND partner_id = ?2",
                params![role, id],
                |r| r.get(0),
            )?)
        })
        .await?;
    if n == 0 {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "name",
            "err_not_found",
        )]));
    }
    Ok(())
}

pub async fn add_customer(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<PartnerBody>,
) -> ApiResult {
    session(&st, &headers)?;
    known_partner(&st, "customer", &b.id).await?;
    let r = partner_record(&b)?;
    let (id, name) = (r.partner_id.clone(), r.name.clone());
    st.append(Event::CustomerUpsert(CustomerUpsert(r))).await?;
    Ok(Json(json!({"id": id, "name": name})))
}

pub async fn add_supplier(
    State(st): State<Arc<UiState>>,
    headers: HeaderMap,
    Json(b): Json<PartnerBody>,
) -> ApiResult {
    session(&st, &headers)?;
    known_partner(&st, "supplier", &b.id).await?;
    let r = partner_record(&b)?;
    let (id, name) = (r.partner_id.clone(), r.name.clone());
    st.append(Event::SupplierUpsert(SupplierUpsert(r))).await?;
    Ok(Json(json!({"id": id, "name": name})))
}

/// Suppliers and customers with their phone numbers, for the 资料 lists.
pub async fn list_partners(State(st): State<Arc<UiState>>, headers: HeaderMap) -> ApiResult {
    session(&st, &headers)?;
    let rows = st
        .db(|c| {
            let mut s = c.prepare_cached(
                "SELECT p.role, p.partner_id, p.name, json_extract(e.body, '$.phone') \
                 FROM stall_partners p JOIN entries e ON e.seq = p.seq WHERE p.removed = 0 \
                 ORDER BY p.role, p.name",
            )?;
            let rows = s.query_map([], |r| {
                Ok(json!({
                    "role": r.get::<_, String>(0)?,
                    "id": r.get::<_, String>(1)?,
                    "name": r.get::<_, String>(2)?,
                    "phone": r.get::<_, Option<String>>(3)?,
                }))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await?;
    Ok(Json(json!({ "partners": rows })))
}

/// The label scale's PLU table from the products that have a key.
pub fn plu_table(products: &[ProductView]) -> Vec<PluRecord> {
    let mut out: Vec<PluRecord> = products
        .iter()
        .filter_map(|v| {
            let p = &v.product;
            let plu = u16::try_from(p.plu?).ok()?;
            // The scale prices weighed goods per kg; the stall may price per 斤.
            let (mode, price) = match p.unit {
                PriceUnit::Jin => (WeighMode::Weighed, p.price_fen.saturating_mul(2)),
                PriceUnit::Kg => (WeighMode::Weighed, p.price_fen),
                PriceUnit::Item => (WeighMode::Counted, p.price_fen),
            };
            // The code scanned labels are looked up by (`stall::label`).
            let item_code = crate::stall::label::item_code(p)?;
            Some(PluRecord {
                plu,
                item_code,
                unit_price_fen: u32::try_from(price).unwrap_or(u32::MAX),
                mode,
                shelf_life_days: 0,
                tare_grams: 0,
                label_no: 1,
                name: p.name.clone(),
            })
        })
        .collect();
    out.sort_by_key(|r| r.plu);
    out
}

/// 下发到秤: replace the label scale's keys with the products' (owner only).
pub async fn push_scale(State(st): State<Arc<UiState>>, headers: HeaderMap) -> ApiResult {
    owner(&st, &headers)?;
    let table = plu_table(&current_products(&st).await?);
    if table.is_empty() {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "plu",
            "err_no_plu",
        )]));
    }
    match st.devices.push_plus(&table).await {
        Ok(n) => Ok(Json(json!({ "sent": n }))),
        Err(detail) => Err(ApiError::Invalid(vec![
            FieldError::new("scale", "err_scale_push").with(detail),
        ])),
    }
}
