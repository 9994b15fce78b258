//! Scale simulators.
