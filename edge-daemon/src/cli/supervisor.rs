//! systemd's notify protocol: the unit is `Type=notify` with `WatchdogSec`, so `run` says
//! READY once the box is ready and then pings the watchdog from the async runtime, so a wedged
//! runtime gets the box restarted. Without systemd (`NOTIFY_SOCKET` unset) both are no-ops.

use sd_notify::NotifyState;
use std::time::Duration;

/// Call from inside the runtime once the ready line is logged.
pub(super) fn ready_and_watchdog() {
    if let Err(e) = sd_notify::notify(false, &[NotifyState::Ready]) {
        tracing::warn!(error = %e, "could not tell systemd the box is ready");
    }
    let mut usec = 0;
    if sd_notify::watchdog_enabled(false, &mut usec) {
        // Half the timeout, as systemd recommends, so one late tick is not a restart.
        let period = Duration::from_micros(usec / 2).max(Duration::from_millis(100));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let _ = sd_notify::notify(false, &[NotifyState::Watchdog]);
            }
        });
    }
}
