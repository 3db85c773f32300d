//! `#[metric(read = path)]`: the value is read by a function at each render; a
//! `None` leaves the sample out and keeps the `# HELP` and `# TYPE` lines.

use std::sync::atomic::{AtomicU64, Ordering};

use keviq::{Format, Registry};

static QUEUE: AtomicU64 = AtomicU64::new(3);

fn queue_depth() -> Option<f64> {
    Some(QUEUE.load(Ordering::Relaxed) as f64)
}

mod process {
    pub fn cpu_seconds() -> Option<f64> {
        Some(1.5)
    }

    pub fn unavailable() -> Option<f64> {
        None
    }
}

keviq::metric! {
    /// Jobs waiting in the queue
    #[metric(read = queue_depth)]
    static QUEUED: Gauge = "read_jobs_queued";

    /// Process metrics.
    static PROCESS: ProcessMetrics {
        /// Total user and system CPU time spent in seconds.
        #[metric(read = process::cpu_seconds, unit = "seconds")]
        cpu: Counter = "read_process_cpu_seconds_total",
        /// Open file descriptors.
        #[metric(read = process::unavailable)]
        open_fds: FloatGauge = "read_process_open_fds",
    }
}

fn main() {
    QUEUE.store(5, Ordering::Relaxed);
    assert_eq!(QUEUED.get(), Some(5.0));
    let text = Registry::global()
        .expect("no clash")
        .render(Format::Prometheus);
    assert!(text.contains("read_jobs_queued 5.0\n"), "{text}");
    assert!(
        text.contains(
            "# TYPE read_process_cpu_seconds_total counter\nread_process_cpu_seconds_total 1.5\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("# TYPE read_process_open_fds gauge\n"),
        "{text}"
    );
    assert!(!text.contains("\nread_process_open_fds "), "{text}");

    // A set of its own reads the same functions.
    static MINE: ProcessMetrics = ProcessMetrics::new();
    let mine = Registry::from_registrations(&MINE.registrations()).expect("no clash");
    assert!(
        mine.render(Format::OpenMetrics)
            .contains("# UNIT read_process_cpu_seconds seconds\n")
    );
    let _ = &PROCESS;
}
