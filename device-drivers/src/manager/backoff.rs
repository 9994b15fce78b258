//! Reconnect delays: doubling from `initial` up to `max`, reset after a good connection.
//! No jitter: each box has one of each device, so there is no herd to spread.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Backoff {
    pub initial_ms: u64,
    pub max_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial_ms: 250,
            max_ms: 30_000,
        }
    }
}

impl Backoff {
    /// The delay before reconnect attempt `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u64.checked_shl(attempt.min(32)).unwrap_or(u64::MAX);
        Duration::from_millis(
            self.initial_ms
                .saturating_mul(factor)
                .min(self.max_ms.max(self.initial_ms)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps() {
        let b = Backoff {
            initial_ms: 100,
            max_ms: 1000,
        };
        let ms: Vec<u64> = (0..6).map(|a| b.delay(a).as_millis() as u64).collect();
        assert_eq!(ms, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay(u32::MAX), Duration::from_millis(1000));
    }
}
