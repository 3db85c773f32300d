//! The vocabulary every layer above shares: what a metric family is called, what
//! it measures and where it was declared.

use std::fmt;

use keviq_model::{self as model, MetricType};

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
    pub kind: MetricType,
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
    /// use keviq_runtime::{Descriptor, MetricType, Site};
    /// const D: Descriptor = Descriptor::new("requests", "", MetricType::Counter, &[],
    ///     Site { file: file!(), line: line!() });
    /// ```
    ///
    /// # Panics
    /// If the name, a label name or the unit breaks a rule of [`model`](crate::model).
    pub const fn new(
        name: &'static str,
        help: &'static str,
        kind: MetricType,
        labels: &'static [&'static str],
        site: Site,
    ) -> Self {
        if let Err(e) = model::check_metric_name(name, kind) {
            panic!("{}", e.message());
        }
        let mut i = 0;
        while i < labels.len() {
            if let Err(e) = model::check_label_name(labels[i], kind) {
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
        if let Err(e) = model::check_unit(self.name, unit, self.kind) {
            panic!("{}", e.message());
        }
        self.unit = Some(unit);
        self
    }

    /// The family and sample names this metric occupies in either format, for
    /// clash detection ([`model::occupied_names`]).
    pub(crate) fn occupied_names(&self) -> Vec<String> {
        model::occupied_names(self.name, self.kind)
    }
}
