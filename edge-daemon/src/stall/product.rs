//! The stall's main products as the sale screen shows them (one button each).

use serde::{Deserialize, Serialize};
use trace_core::{Fen, PriceUnit};

/// A product button: name, default price and unit, and the scale key it matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub name: String,
    /// Default price in fen per `unit`.
    pub price_fen: i64,
    #[serde(default = "default_unit")]
    pub unit: PriceUnit,
    /// The scale's PLU key for this product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plu: Option<u32>,
    /// Product library / category code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// 产地 printed for the buyer when no purchase batch says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

fn default_unit() -> PriceUnit {
    PriceUnit::Jin
}

impl Product {
    pub fn price(&self) -> Fen {
        Fen(self.price_fen)
    }
}

pub fn find<'a>(products: &'a [Product], name: &str) -> Option<&'a Product> {
    products.iter().find(|p| p.name == name)
}
