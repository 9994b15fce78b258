//! Shared plumbing for the protocol simulators: where a simulator listens.
//!
//! Each protocol's simulator is an `async fn` over one `AsyncRead + AsyncWrite` connection; this
//! module only produces those connections, from a TCP listener or a pty pair, so a driver under
//! test cannot tell a simulator from a device on a serial cable.

pub mod endpoint;

pub use endpoint::{SimConnection, SimEndpoint, SimListen};
