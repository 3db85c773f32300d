use crate::encode::{Collect, Encoder};

/// A metric whose value is read by a function at each render: what
/// `#[metric(read = path)]` declares, for values another part of the system already
/// keeps (the process's CPU time, a queue's length), like Prometheus client
/// libraries' callback or "observable" metrics.
///
/// The function returns `None` when the value cannot be read; that render then
/// leaves the sample out and keeps the family's `# HELP` and `# TYPE` lines.
///
/// ```
/// use keviq_runtime::{Descriptor, Format, MetricType, Observed, Registration, Registry, Site};
///
/// fn queue_depth() -> Option<f64> {
///     Some(3.0)
/// }
///
/// // `#[metric(read = queue_depth)]` in `keviq::metric!` builds these two.
/// static QUEUE_DEPTH: Observed = Observed::new(queue_depth);
/// static QUEUE_DEPTH_REG: Registration = Registration::new(
///     Descriptor::new("jobs_queued", "Jobs waiting", MetricType::Gauge, &[], Site { file: file!(), line: line!() }),
///     &QUEUE_DEPTH,
/// );
/// let registry = Registry::from_registrations([&QUEUE_DEPTH_REG]).unwrap();
/// assert!(registry.render(Format::Prometheus).ends_with("jobs_queued 3.0\n"));
/// ```
#[derive(Debug)]
pub struct Observed {
    read: fn() -> Option<f64>,
}

impl Observed {
    /// A metric read by `read` at each render.
    pub const fn new(read: fn() -> Option<f64>) -> Self {
        Self { read }
    }

    /// The value now, if it can be read.
    pub fn get(&self) -> Option<f64> {
        (self.read)()
    }
}

impl Collect for Observed {
    fn collect(&self, enc: &mut Encoder<'_>) {
        if let Some(v) = self.get() {
            enc.clear_labels();
            enc.gauge_f64(v);
        }
    }
}
