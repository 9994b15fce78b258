//! The running cloud service: MQTT ingest ([`mqtt`]), the per-message checks ([`up`]) and the
//! counters `/metrics` shows ([`metrics`]).

pub mod metrics;
pub mod mqtt;
pub mod up;
