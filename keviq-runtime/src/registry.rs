//! The registry: every metric declared anywhere in the binary, gathered through
//! `inventory`, checked for name clashes, and rendered on demand.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::expfmt::{Encoder, Format};
use crate::label::Str;
use crate::metric::{Collect, Family, LabeledCounter, MetricKind};
use crate::rules;

/// Where a metric was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Site {
    /// Source file, as `file!()` gives it.
    pub file: &'static str,
    /// Line, as `line!()` gives it.
    pub line: u32,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Everything about a metric family except its values.
#[derive(Debug, Clone, Copy)]
pub struct Descriptor {
    /// Metric name (with `_total` for counters).
    pub name: &'static str,
    /// `# HELP` text.
    pub help: &'static str,
    /// OpenMetrics unit, a suffix of the name.
    pub unit: Option<&'static str>,
    /// Prometheus type.
    pub kind: MetricKind,
    /// Label names, in the order `labels(..)` takes them.
    pub labels: &'static [&'static str],
    /// Declaration site.
    pub site: Site,
}

impl Descriptor {
    /// A descriptor, checked against the naming rules at compile time when built in a
    /// `static` or `const`.
    ///
    /// ```compile_fail
    /// use keviq_runtime::{Descriptor, MetricKind, Site};
    /// const D: Descriptor = Descriptor::new("requests", "", MetricKind::Counter, &[],
    ///     Site { file: file!(), line: line!() });
    /// ```
    ///
    /// # Panics
    /// If the name, a label name or the unit breaks a rule of [`rules`].
    pub const fn new(
        name: &'static str,
        help: &'static str,
        kind: MetricKind,
        labels: &'static [&'static str],
        site: Site,
    ) -> Self {
        if let Err(e) = rules::check_metric_name(name, kind) {
            panic!("{}", e.message());
        }
        let mut i = 0;
        while i < labels.len() {
            if let Err(e) = rules::check_label_name(labels[i], kind) {
                panic!("{}", e.message());
            }
            i += 1;
        }
        Self {
            name,
            help,
            unit: None,
            kind,
            labels,
            site,
        }
    }

    /// The same descriptor with an OpenMetrics unit.
    ///
    /// # Panics
    /// If `unit` is not the last part of the name.
    pub const fn with_unit(mut self, unit: &'static str) -> Self {
        if let Err(e) = rules::check_unit(self.name, unit, self.kind) {
            panic!("{}", e.message());
        }
        self.unit = Some(unit);
        self
    }

    /// The sample and family names this metric occupies, for clash detection.
    fn occupied_names(&self) -> Vec<String> {
        let n = self.name;
        match self.kind {
            MetricKind::Counter => {
                vec![
                    n.to_owned(),
                    n.strip_suffix("_total").unwrap_or(n).to_owned(),
                ]
            }
            MetricKind::Gauge => vec![n.to_owned()],
            MetricKind::Histogram => {
                vec![
                    n.to_owned(),
                    format!("{n}_bucket"),
                    format!("{n}_sum"),
                    format!("{n}_count"),
                ]
            }
        }
    }
}

/// A metric's descriptor and its values, submitted to the global registry.
///
/// `metric!` builds these; build one by hand only for a metric type of your own.
#[derive(Clone, Copy)]
pub struct Registration {
    descriptor: Descriptor,
    metric: &'static dyn Collect,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("descriptor", &self.descriptor)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// Pairs a descriptor with the metric it describes.
    pub const fn new(descriptor: Descriptor, metric: &'static dyn Collect) -> Self {
        Self { descriptor, metric }
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The metric whose values are rendered.
    pub fn metric(&self) -> &'static dyn Collect {
        self.metric
    }
}

/// A static holding metrics: what `#[keviq::service(metrics = [..])]` lists to make
/// them that service's own. `metric!` implements it for every static it declares.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a metric static",
    label = "not declared with `keviq::metric!`",
    note = "list statics declared with `keviq::metric!`, as in `#[keviq::service(name = \"agent-runtime\", metrics = [AGENT])]`"
)]
pub trait MetricGroup: Sync + 'static {
    /// Whether `metric` is one of this static's metrics, that is, lies inside it.
    fn contains(&self, metric: &dyn Collect) -> bool {
        let start = std::ptr::from_ref(self).cast::<u8>().addr();
        let end = start + std::mem::size_of_val(self);
        let at = std::ptr::from_ref(metric).cast::<u8>().addr();
        (start..end).contains(&at)
    }
}

inventory::collect!(Registration);

/// Two declarations that would render the same series name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The name both would render.
    pub name: String,
    /// The first declaration (in site order).
    pub first: Site,
    /// The second declaration.
    pub second: Site,
}

/// Why the registry cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Some names are declared more than once.
    #[error("{}", describe_clashes(.0))]
    DuplicateNames(Vec<Clash>),
}

fn describe_clashes(clashes: &[Clash]) -> String {
    let lines: Vec<String> = clashes
        .iter()
        .map(|c| {
            format!(
                "metric name `{}` is declared twice, at {} and at {}; rename one of them",
                c.name, c.first, c.second
            )
        })
        .collect();
    lines.join("\n")
}

/// Every registered metric, sorted by name.
#[derive(Debug)]
pub struct Registry {
    entries: Vec<Registration>,
    /// Size of the last render, to allocate the next one at once.
    last_len: AtomicUsize,
}

impl Registry {
    /// The registry of every metric declared in this binary, built (and checked) on
    /// first use.
    ///
    /// # Errors
    /// [`RegistryError::DuplicateNames`] when two declarations use one name, with both
    /// declaration sites.
    pub fn global() -> Result<&'static Registry, &'static RegistryError> {
        static GLOBAL: OnceLock<Result<Registry, RegistryError>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| Registry::from_registrations(inventory::iter::<Registration>))
            .as_ref()
    }

    /// A registry of the given registrations.
    ///
    /// # Errors
    /// [`RegistryError::DuplicateNames`] when two of them clash.
    pub fn from_registrations<'a>(
        registrations: impl IntoIterator<Item = &'a Registration>,
    ) -> Result<Self, RegistryError> {
        let mut entries: Vec<Registration> = registrations.into_iter().copied().collect();
        sort(&mut entries);
        let mut names: Vec<(String, usize)> = entries
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                r.descriptor
                    .occupied_names()
                    .into_iter()
                    .map(move |n| (n, i))
            })
            .collect();
        names.sort();
        let mut clashes: Vec<Clash> = Vec::new();
        for pair in names.windows(2) {
            let ((name, a), (other, b)) = (&pair[0], &pair[1]);
            if name == other && a != b {
                let (da, db) = (&entries[*a].descriptor, &entries[*b].descriptor);
                let (first, second) = (da.site, db.site);
                // Name the clash by what was declared when both declared the same
                // name, not by a derived family or sample name.
                let name = if da.name == db.name {
                    da.name.to_owned()
                } else {
                    name.clone()
                };
                let clash = Clash {
                    name,
                    first,
                    second,
                };
                // A counter clashes on both `x_total` and `x`: report the pair once.
                if !clashes
                    .iter()
                    .any(|c| c.first == first && c.second == second)
                {
                    clashes.push(clash);
                }
            }
        }
        if clashes.is_empty() {
            Ok(Self {
                entries,
                last_len: AtomicUsize::new(0),
            })
        } else {
            Err(RegistryError::DuplicateNames(clashes))
        }
    }

    /// Every registration, in render order.
    pub fn registrations(&self) -> impl Iterator<Item = &Registration> {
        self.entries.iter()
    }

    /// The descriptors of every metric, in render order.
    pub fn descriptors(&self) -> impl Iterator<Item = &Descriptor> {
        self.entries.iter().map(|r| &r.descriptor)
    }

    /// Renders every metric.
    ///
    /// Families appear sorted by name; within a family, series with fixed-cardinality
    /// labels appear in label order and those with free-form labels in the order
    /// they were first used, so consecutive renders list series identically.
    pub fn render(&self, format: Format) -> String {
        // A little over the last size: growing a large buffer by doubling would
        // copy it several times per render.
        let hint = self.last_len.load(Ordering::Relaxed);
        let mut out = String::with_capacity((hint + hint / 8).max(4096));
        self.render_into(&mut out, format);
        self.last_len.store(out.len(), Ordering::Relaxed);
        out
    }

    /// Renders every metric, appending to `out`.
    pub fn render_into(&self, out: &mut String, format: Format) {
        let mut enc = Encoder::new(out, format);
        for r in &self.entries {
            enc.family(&r.descriptor);
            r.metric.collect(&mut enc);
        }
        enc.finish();
    }
}

/// Render order: by name, then by declaration site.
fn sort(entries: &mut [Registration]) {
    entries.sort_by(|a, b| {
        let key = |r: &Registration| {
            (
                r.descriptor.name,
                r.descriptor.site.file,
                r.descriptor.site.line,
            )
        };
        key(a).cmp(&key(b))
    });
}

/// Label sets folded into a family's overflow series, per family.
pub(crate) static SERIES_OVERFLOW: Family<(Str,), LabeledCounter> =
    Family::new("keviq_series_overflow_total", (), 10_000);

inventory::submit! {
    Registration::new(
        Descriptor::new(
            "keviq_series_overflow_total",
            "Label sets recorded into a family's overflow series because the family reached its series cap",
            MetricKind::Counter,
            &["metric"],
            Site { file: file!(), line: line!() },
        ),
        &SERIES_OVERFLOW,
    )
}
