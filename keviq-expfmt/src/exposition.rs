//! What a parse gives: families, samples, their timestamps and exemplars, and
//! what scrape mode tolerated.

use std::borrow::Cow;
use std::ops::Range;

use keviq_model::MetricType;

use crate::error::Finding;
use crate::labels::LabelSet;

/// A parsed exposition: its families in order, all samples grouped by family, and
/// what scrape mode tolerated.
///
/// The samples of a family are contiguous: [`MetricFamily::samples`] is their range in
/// [`Exposition::samples`], and [`Sample::family`] the family's index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition<'a> {
    /// Families, in the order their first line appears.
    pub families: Vec<MetricFamily<'a>>,
    /// Samples, in input order within each family and family after family. In
    /// strict mode (and whenever the families' lines were contiguous) that is input
    /// order. Scrape mode leaves out a series' repeated points (see [`Mode`](crate::Mode)).
    pub samples: Vec<Sample<'a>>,
    /// What [`Mode::Scrape`](crate::Mode::Scrape) tolerated, in input order: at most 100, and at most 10
    /// of one [kind](Finding::kind). Always empty in strict mode.
    pub findings: Vec<Finding>,
    /// Findings beyond those limits, only counted.
    pub findings_omitted: usize,
}

impl<'a> Exposition<'a> {
    /// The family named `name` (the name of its `# TYPE` line, or of its first sample
    /// when it has no metadata).
    pub fn family(&self, name: &str) -> Option<&MetricFamily<'a>> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The samples of `family`.
    pub fn samples_of(&self, family: &MetricFamily<'a>) -> &[Sample<'a>] {
        self.samples.get(family.samples.clone()).unwrap_or(&[])
    }

    /// The family `sample` belongs to.
    pub fn family_of(&self, sample: &Sample<'a>) -> Option<&MetricFamily<'a>> {
        self.families.get(sample.family)
    }
}

/// A metric family: its metadata and where its samples are.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily<'a> {
    /// The family name. For OpenMetrics counters, without `_total`.
    pub name: &'a str,
    /// The type from `# TYPE`; [`MetricType::Untyped`] (Prometheus) or
    /// [`MetricType::Unknown`] (OpenMetrics) without one.
    pub kind: MetricType,
    /// The `# HELP` text, unescaped. `None` without one, or when it is empty.
    pub help: Option<Cow<'a, str>>,
    /// The OpenMetrics `# UNIT`. `None` without one, or when it is empty.
    pub unit: Option<&'a str>,
    /// The family's samples, as a range of [`Exposition::samples`].
    pub samples: Range<usize>,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The sample name, with its suffix (`http_requests_total`, `latency_bucket`).
    pub name: &'a str,
    /// The labels, as written (including `le` and `quantile`).
    pub labels: LabelSet<'a>,
    /// The value.
    pub value: f64,
    /// The timestamp, if the line has one.
    pub timestamp: Option<Timestamp>,
    /// The OpenMetrics exemplar, if the line has one.
    pub exemplar: Option<Box<Exemplar<'a>>>,
    /// The index of the sample's family in [`Exposition::families`].
    pub family: usize,
}

/// A sample timestamp, in the unit of its format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timestamp {
    /// Prometheus 0.0.4: milliseconds since the Unix epoch.
    Millis(i64),
    /// OpenMetrics: seconds since the Unix epoch, possibly fractional.
    Seconds(f64),
}

impl Timestamp {
    /// Seconds since the Unix epoch.
    pub fn as_seconds(self) -> f64 {
        match self {
            Self::Millis(ms) => ms as f64 / 1000.0,
            Self::Seconds(s) => s,
        }
    }
}

/// An OpenMetrics exemplar: `# {trace_id="..."} 0.67 1520879607.789`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's labels.
    pub labels: LabelSet<'a>,
    /// The exemplar's value.
    pub value: f64,
    /// Its timestamp in seconds, if given.
    pub timestamp: Option<f64>,
}
