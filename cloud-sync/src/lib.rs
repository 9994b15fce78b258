//! # cloud-sync: the baytrace cloud
//!
//! Ingest from the boxes over MQTT, the store, and the web views. Not yet built: see issue 4.
#![forbid(unsafe_code)]
