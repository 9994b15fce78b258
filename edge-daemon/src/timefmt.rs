//! UTC timestamps as RFC 3339 text, for status output and logs (see `trace_core::time`).

pub use trace_core::time::rfc3339_utc as rfc3339;
