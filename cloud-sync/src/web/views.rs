//! View models: a [`TicketView`] turned into display strings (yuan, 斤 and kg, Asia/Shanghai
//! time), and the templates they fill.
//!
//! Why integer formatting here: money and weight are integers end to end (fen, grams); the
//! trace-core helpers print them without floats. China has one time zone with no daylight
//! saving, so Asia/Shanghai is UTC+8 all year and needs no tz database.

use super::i18n::{Lang, Msgs};
use super::{CSS, render};
use crate::store::{ProductCodeView, TicketView};
use askama::Template;
use trace_core::{PriceUnit, TicketCode, Timestamp};

pub(crate) struct LangLink {
    pub name: &'static str,
    pub tag: &'static str,
    pub href: String,
    pub current: bool,
}

/// `path` may carry a query of its own (a Digital Link's `?11=…&17=…`): `lang` is added to it.
fn langs(current: Lang, path: &str) -> Vec<LangLink> {
    let sep = if path.contains('?') { '&' } else { '?' };
    Lang::ALL
        .iter()
        .map(|&l| LangLink {
            name: l.own_name(),
            tag: l.tag(),
            href: format!("{path}{sep}lang={}", l.tag()),
            current: l == current,
        })
        .collect()
}

pub(crate) struct Weight {
    pub jin: String,
    pub kg: String,
}

pub(crate) struct LineView {
    pub product: String,
    pub origin: Option<String>,
    pub weight: Option<Weight>,
    pub count: Option<u32>,
    pub unit_price: String,
    pub unit_label: &'static str,
    pub amount: String,
}

pub(crate) struct CertView {
    pub label: &'static str,
    pub number: String,
}

pub(crate) struct UpView {
    pub product: String,
    pub supplier: String,
    pub origin: Option<String>,
    pub batch: String,
    pub upstream_code: Option<String>,
    pub certificates: Vec<CertView>,
}

#[derive(Template)]
#[template(path = "trace.html")]
pub(crate) struct TracePage {
    m: &'static Msgs,
    lang: Lang,
    langs: Vec<LangLink>,
    css: &'static str,
    code: String,
    entity: String,
    market: String,
    stall_no: String,
    time: String,
    voided: Option<String>,
    lines: Vec<LineView>,
    total: String,
    upstream: Vec<UpView>,
}

#[derive(Template)]
#[template(path = "lookup.html")]
pub(crate) struct LookupPage<'a> {
    m: &'static Msgs,
    lang: Lang,
    langs: Vec<LangLink>,
    css: &'static str,
    title: &'a str,
    body: &'a str,
    typed: &'a str,
    action: &'static str,
    label: &'static str,
    hint: &'static str,
    /// Ticket codes are digits (numeric keypad); product codes letters and digits.
    numeric: bool,
    maxlen: u16,
}

/// Which code the lookup form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// 20-digit receipt codes, `/t`.
    Ticket,
    /// Product trace codes (a bare token or a pasted URL), `/c`.
    Product,
}

pub(crate) fn lookup(
    lang: Lang,
    form: Form,
    path: &str,
    title: &str,
    body: &str,
    typed: &str,
) -> Result<String, askama::Error> {
    let m = lang.msgs();
    let (action, label, hint, numeric, maxlen) = match form {
        Form::Ticket => ("/t", m.enter_code, m.code_hint, true, 40),
        Form::Product => ("/c", m.enter_product_code, m.product_code_hint, false, 200),
    };
    render(&LookupPage {
        m,
        lang,
        langs: langs(lang, path),
        css: CSS,
        title,
        body,
        typed,
        action,
        label,
        hint,
        numeric,
        maxlen,
    })
}

#[derive(Template)]
#[template(path = "product.html")]
pub(crate) struct ProductPage {
    m: &'static Msgs,
    lang: Lang,
    langs: Vec<LangLink>,
    css: &'static str,
    code: String,
    level: &'static str,
    product_name: Option<String>,
    gtin: Option<String>,
    product_code: Option<String>,
    batch: Option<String>,
    production_date: Option<String>,
    expiry_date: Option<String>,
    entity: String,
    /// `Some(reason)` when the code is disabled (the reason may be empty).
    disabled: Option<String>,
}

/// The product page of a resolved code. Never shows the serial (see [`crate::codes`]).
pub(crate) fn product(
    lang: Lang,
    path: &str,
    v: &ProductCodeView,
) -> Result<String, askama::Error> {
    render(&ProductPage {
        m: lang.msgs(),
        lang,
        langs: langs(lang, path),
        css: CSS,
        code: grouped(&v.token),
        level: lang.level(v.level),
        product_name: v.product_name.clone(),
        gtin: v.gtin.clone(),
        product_code: v.product_code.clone(),
        batch: v.batch.clone(),
        production_date: v.production_date.map(|d| d.to_string()),
        expiry_date: v.expiry_date.map(|d| d.to_string()),
        entity: v.entity.clone(),
        disabled: v
            .disabled
            .as_ref()
            .map(|d| d.reason.clone().unwrap_or_default()),
    })
}

/// A token in groups of four, as a person reads it off a package.
pub(crate) fn grouped(token: &str) -> String {
    let mut out = String::with_capacity(token.len() + token.len() / 4);
    for (i, c) in token.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

pub(crate) fn trace(
    lang: Lang,
    path: &str,
    code: &TicketCode,
    v: &TicketView,
) -> Result<String, askama::Error> {
    let m = lang.msgs();
    let lines = v
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| LineView {
            product: l.product.clone(),
            origin: v
                .upstream
                .iter()
                .find(|u| u.line == i)
                .and_then(|u| u.origin.clone()),
            weight: l.grams.map(|g| Weight {
                jin: g.jin_string(),
                kg: g.kg_string(),
            }),
            count: l.count,
            unit_price: l.unit_price.yuan_string(),
            unit_label: match l.price_unit {
                PriceUnit::Jin => m.per_jin,
                PriceUnit::Kg => m.per_kg,
                PriceUnit::Item => m.per_item,
            },
            amount: l.amount.yuan_string(),
        })
        .collect();
    // One card per distinct purchase, in line order.
    let mut upstream: Vec<UpView> = Vec::new();
    let mut seen = Vec::new();
    for u in &v.upstream {
        if seen.contains(&u.seq) {
            continue;
        }
        seen.push(u.seq);
        upstream.push(UpView {
            product: u.product.clone(),
            supplier: u.supplier.clone(),
            origin: u.origin.clone(),
            batch: u.batch.clone(),
            upstream_code: u.upstream_code.clone(),
            certificates: u
                .certificates
                .iter()
                .map(|c| CertView {
                    label: lang.certificate(c.kind),
                    number: c.number.clone(),
                })
                .collect(),
        });
    }
    render(&TracePage {
        m,
        lang,
        langs: langs(lang, path),
        css: CSS,
        code: code.grouped(),
        entity: v.entity.clone(),
        market: v.market.clone(),
        stall_no: v.stall_no.clone(),
        time: shanghai_time(v.at),
        voided: v.voided.as_ref().map(|x| x.reason.clone()),
        lines,
        total: v.total.yuan_string(),
        upstream,
    })
}

/// `YYYY-MM-DD HH:MM` in Asia/Shanghai (UTC+8, no DST).
pub(crate) fn shanghai_time(at: Timestamp) -> String {
    trace_core::time::gba_minutes(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_group_by_four_and_language_links_keep_a_query() {
        assert_eq!(grouped("FS0103MX3WFWTDARTR"), "FS01 03MX 3WFW TDAR TR");
        assert_eq!(grouped("ABCD"), "ABCD");
        let l = langs(Lang::En, "/01/06901234567892/21/X?17=261206");
        assert_eq!(l[0].href, "/01/06901234567892/21/X?17=261206&lang=zh-CN");
        assert!(l[2].current);
        assert_eq!(langs(Lang::ZhCn, "/c/X")[1].href, "/c/X?lang=zh-HK");
    }
}
