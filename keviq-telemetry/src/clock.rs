//! Time as the store, the API and remote write count it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch; `0` for a time before it.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use keviq_telemetry::clock::epoch_ms;
///
/// assert_eq!(epoch_ms(UNIX_EPOCH + Duration::from_millis(1_500)), 1_500);
/// ```
pub fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
