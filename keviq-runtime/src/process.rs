//! Linux process metrics, read from `/proc` at each render.
//!
//! Registered automatically with the `process-metrics` feature (on by default);
//! opt out with `default-features = false` on the `keviq` dependency. A value that
//! cannot be read is left out of that render; its `# HELP` and `# TYPE` lines stay.

use std::time::{SystemTime, UNIX_EPOCH};

/// Fields of `/proc/self/stat` after the command name, 0 being field 3 (`state`).
fn stat_fields() -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // `state` is a letter: keep its place with a 0 so indexes match `proc(5)` - 3.
    Some(
        rest.split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

fn sysconf(name: libc::c_int) -> Option<f64> {
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let v = unsafe { libc::sysconf(name) };
    (v > 0).then_some(v as f64)
}

fn cpu_seconds() -> Option<f64> {
    let f = stat_fields()?;
    Some((f.get(11)? + f.get(12)?) as f64 / sysconf(libc::_SC_CLK_TCK)?)
}

fn resident_bytes() -> Option<f64> {
    Some(*stat_fields()?.get(21)? as f64 * sysconf(libc::_SC_PAGESIZE)?)
}

fn start_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let boot: f64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(boot + *stat_fields()?.get(19)? as f64 / sysconf(libc::_SC_CLK_TCK)?)
}

fn open_fds() -> Option<f64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as f64)
}

fn max_fds() -> Option<f64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (rc == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as f64)
}

/// Seconds since the Unix epoch, for tests comparing with `process_start_time_seconds`.
pub fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

keviq_macros::metric! {
    /// The process metrics every Prometheus client library serves, with their usual
    /// names and help texts.
    #[metric(crate = crate)]
    static PROCESS: ProcessMetrics {
        /// Total user and system CPU time spent in seconds.
        #[metric(read = cpu_seconds)]
        cpu: Counter = "process_cpu_seconds_total",
        /// Resident memory size in bytes.
        #[metric(read = resident_bytes)]
        resident_memory: Gauge = "process_resident_memory_bytes",
        /// Start time of the process since unix epoch in seconds.
        #[metric(read = start_time)]
        start_time: Gauge = "process_start_time_seconds",
        /// Number of open file descriptors.
        #[metric(read = open_fds)]
        open_fds: Gauge = "process_open_fds",
        /// Maximum number of open file descriptors.
        #[metric(read = max_fds)]
        max_fds: Gauge = "process_max_fds",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plausible_values() {
        assert!(cpu_seconds().is_some_and(|v| v >= 0.0));
        assert!(resident_bytes().is_some_and(|v| v > 1e5));
        let start = start_time().expect("start time");
        assert!(start <= now_seconds() + 1.0 && start > now_seconds() - 86_400.0 * 365.0);
        assert!(open_fds().is_some_and(|v| v >= 3.0));
        assert!(max_fds().is_some_and(|v| v >= 3.0));
    }
}
