//! Retention: samples older than `TELEMETRY_RETENTION_HOURS` ([`crate::config`]) are
//! deleted in the background.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::store::Store;

/// How often retention runs for a given retention: every 24th of it, from every 10 s
/// to hourly, so nothing stays much longer than asked and a short retention (tests)
/// still runs often.
pub fn period(retention: Duration) -> Duration {
    (retention / 24).clamp(Duration::from_secs(10), Duration::from_secs(3600))
}

/// Deletes samples older than `retention` every [`period`], forever (abort the task
/// to stop it). A failed delete is logged and retried at the next period.
pub async fn run(store: Store, retention: Duration) {
    let mut ticks = tokio::time::interval(period(retention));
    loop {
        ticks.tick().await;
        let cutoff = SystemTime::now()
            .checked_sub(retention)
            .unwrap_or(UNIX_EPOCH);
        match store.delete_older_than(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "retention removed old samples"),
            Err(e) => tracing::warn!(error = %e, "retention delete failed; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_runs_every_24th_within_bounds() {
        assert_eq!(
            period(Duration::from_secs(24 * 3600)),
            Duration::from_secs(3600)
        );
        assert_eq!(
            period(Duration::from_secs(6 * 3600)),
            Duration::from_secs(900)
        );
        assert_eq!(period(Duration::from_secs(3600)), Duration::from_secs(150));
        assert_eq!(period(Duration::from_secs(60)), Duration::from_secs(10));
        assert_eq!(
            period(Duration::from_secs(87_600 * 3600)),
            Duration::from_secs(3600)
        );
    }
}
