//! Assertions on metrics in tests that run in parallel (feature `testing`).
//!
//! Metrics are process-wide statics, and `cargo test` runs the tests of a binary on
//! several threads at once: a test that asserts an absolute count (`assert_eq!(count,
//! 2.0)`) sees every other test's traffic too (`left: 3.0, right: 2.0`). Nothing here
//! resets a metric (a reset would race the other tests just the same). Instead a test
//! takes a [`Snapshot`] before it acts, another after, and asserts on the
//! [`delta`](Snapshot::delta) of the series it owns: a route only it calls, a label
//! value only it uses.
//!
//! ```
//! use keviq_runtime::testing::Snapshot;
//!
//! keviq_macros::metric! {
//!     /// Orders placed, by currency
//!     #[metric(crate = keviq_runtime)]
//!     static ORDERS: Counter(currency: &str) = "doc_orders_total";
//! }
//!
//! let before = Snapshot::of(&ORDERS);
//! ORDERS.labels("EUR").inc();
//! let delta = before.delta(&Snapshot::of(&ORDERS));
//! assert_eq!(delta.value("doc_orders_total", &[("currency", "EUR")]), 1.0);
//! // Another test's currency does not show: it has its own series.
//! assert_eq!(delta.value("doc_orders_total", &[("currency", "USD")]), 0.0);
//! ```
//!
//! A snapshot is what the metrics render, read back: [`Snapshot::global`] (every
//! registered metric), [`Snapshot::of`] (the metrics of one `metric!` static or one
//! of its fields), [`Snapshot::of_registry`], and with the feature `service`
//! `Snapshot::service` (what a `#[keviq::service]`'s `/metrics` serves, its own HTTP
//! families included). Rendering reads the metrics' atomics and never blocks a
//! recorder, so taking snapshots adds no state and no cost to the hot path.
//!
//! Each series is keyed by its sample name and labels, and looked up by any subset of
//! its labels, summed: [`Snapshot::value`] (counters and gauges),
//! [`Snapshot::histogram`] (count, sum and buckets), and `Snapshot::route` (feature
//! `service`) for the HTTP families of one route template.
//!
//! What stays shared cannot be isolated this way: an unlabeled counter every test
//! bumps, `mona_http_requests_in_flight`, two tests on one route. Give such tests
//! distinct routes or label values, or put them in a test file of their own (each
//! file under `tests/` is its own process).

use std::collections::BTreeMap;
use std::fmt;

use keviq_model::{Format, MetricType};

use crate::encode::{Encoder, write_f64};
use crate::registration::{MetricGroup, Registration};
use crate::registry::Registry;

/// The values of a set of metrics at one moment, or the difference between two such
/// moments ([`delta`](Self::delta)).
///
/// Values are `f64`, as the exposition has them (counters and histogram counts are
/// whole numbers). A series that does not exist reads as `0.0`: labeled series are
/// created at zero on first use, so "absent" and "zero" are the same value.
///
/// # Panics
///
/// The lookups panic on a metric or label name the snapshot's metrics do not have,
/// naming the ones they have: a misspelled name would otherwise read as `0.0`.
#[derive(Clone)]
pub struct Snapshot {
    source: Source,
    /// Every family the snapshot covers: name → (type, label names).
    families: BTreeMap<&'static str, (MetricType, &'static [&'static str])>,
    /// Every sample → value.
    samples: BTreeMap<SampleKey, f64>,
    /// The names of the HTTP families [`route`](Self::route) reads: the service's.
    #[cfg(feature = "service")]
    http: crate::axum::names::HttpNames,
}

/// A sample's name and its labels, in the order the exposition has them.
type SampleKey = (String, Labels);

/// `(label, value)` pairs.
type Labels = Vec<(String, String)>;

/// Where a snapshot's metrics come from, to take the next one from the same place.
#[derive(Clone)]
enum Source {
    Registry(&'static Registry),
    Registrations(Vec<Registration>),
}

impl Snapshot {
    /// Every metric of the global registry ([`Registry::global`]): every static
    /// declared with `metric!` in the binary, and the process-wide HTTP families of
    /// `keviq::axum::MetricsLayer::new()`; not the HTTP families of a
    /// `#[keviq::service]` (see `Snapshot::service`).
    ///
    /// # Panics
    /// When the global registry cannot be built ([`crate::RegistryError`]).
    pub fn global() -> Self {
        match Registry::global() {
            Ok(registry) => Self::take(Source::Registry(registry)),
            Err(e) => panic!("keviq::testing: {e}"),
        }
    }

    /// The metrics of one static declared with `metric!`, or of one of its fields:
    /// `Snapshot::of(&AGENT)`, `Snapshot::of(&AGENT.calls)`. Cheaper than
    /// [`global`](Self::global): only these are rendered.
    ///
    /// # Panics
    /// When no registered metric lies inside `group` (a set of the struct form,
    /// `struct Set { .. }`, is not registered: use [`of_registry`](Self::of_registry)),
    /// or when the global registry cannot be built.
    pub fn of<G: MetricGroup + ?Sized>(group: &G) -> Self {
        let global = match Registry::global() {
            Ok(registry) => registry,
            Err(e) => panic!("keviq::testing: {e}"),
        };
        let registrations: Vec<Registration> = global
            .registrations()
            .filter(|r| group.contains(r.metric()))
            .copied()
            .collect();
        assert!(
            !registrations.is_empty(),
            "keviq::testing: no registered metric lies inside this value; `Snapshot::of` \
             takes a static declared with `keviq::metric!` or one of its fields (for a set \
             of the struct form, use `Snapshot::of_registry`)"
        );
        Self::take(Source::Registrations(registrations))
    }

    /// The metrics of `registry`, such as one built with
    /// [`Registry::from_registrations`] for a set of the struct form.
    pub fn of_registry(registry: &Registry) -> Self {
        Self::take(Source::Registrations(
            registry.registrations().copied().collect(),
        ))
    }

    /// What the `/metrics` of the `#[keviq::service]` named `name` serves: its own
    /// HTTP families (`mona_http_*`, or named with its `prefix`, which
    /// [`route`](Self::route) follows), the metric statics it owns, and the metrics
    /// no service owns.
    ///
    /// # Panics
    /// When no service, or more than one, is named `name`, or when its registry
    /// cannot be built ([`crate::axum::ServiceInfo::registry`]).
    #[cfg(feature = "service")]
    pub fn service(name: &str) -> Self {
        let services = crate::axum::services();
        let mut named = services.iter().filter(|s| s.name == name);
        let (Some(service), None) = (named.next(), named.next()) else {
            let names: Vec<&str> = services.iter().map(|s| s.name).collect();
            panic!(
                "keviq::testing: expected one `#[keviq::service]` named `{name}`; the services \
                 of this binary: {names:?}"
            );
        };
        match service.registry() {
            Ok(registry) => Self {
                http: *service.http_names(),
                ..Self::take(Source::Registry(registry))
            },
            Err(e) => panic!("keviq::testing: {e}"),
        }
    }

    /// Renders the source's metrics and reads the samples back.
    fn take(source: Source) -> Self {
        let mut snapshot = Self {
            source,
            families: BTreeMap::new(),
            samples: BTreeMap::new(),
            #[cfg(feature = "service")]
            http: crate::axum::names::HttpNames::DEFAULT,
        };
        let registrations: Vec<Registration> = match &snapshot.source {
            Source::Registry(registry) => registry.registrations().copied().collect(),
            Source::Registrations(registrations) => registrations.clone(),
        };
        let mut text = String::new();
        for r in &registrations {
            let descriptor = r.descriptor();
            snapshot
                .families
                .insert(descriptor.name, (descriptor.kind, descriptor.labels));
            // One family at a time, through the encoder `/metrics` uses.
            text.clear();
            let mut enc = Encoder::new(&mut text, Format::Prometheus);
            enc.family(descriptor);
            r.metric().collect(&mut enc);
            enc.finish();
            for line in text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                let Some((name, labels, value)) = read_sample(line) else {
                    panic!("keviq::testing: cannot read the exposition line {line:?}");
                };
                *snapshot
                    .samples
                    .entry((name.to_owned(), labels))
                    .or_insert(0.0) += value;
            }
        }
        snapshot
    }

    /// A new snapshot of the same metrics as this one.
    pub fn retake(&self) -> Self {
        Self {
            #[cfg(feature = "service")]
            http: self.http,
            ..Self::take(self.source.clone())
        }
    }

    /// What changed from `self` (taken before) to `after`: for each series, its value
    /// in `after` minus its value in `self`. Series that did not change are left out,
    /// so [`is_empty`](Self::is_empty) means nothing changed.
    ///
    /// Sums of histograms are differences of floats: compare them with a tolerance
    /// unless the series was at zero before.
    pub fn delta(&self, after: &Snapshot) -> Snapshot {
        let mut samples = BTreeMap::new();
        for (key, now) in &after.samples {
            let then = self.samples.get(key).copied().unwrap_or(0.0);
            if *now != then {
                samples.insert(key.clone(), now - then);
            }
        }
        for (key, then) in &self.samples {
            if !after.samples.contains_key(key) && *then != 0.0 {
                samples.insert(key.clone(), -then);
            }
        }
        let mut families = self.families.clone();
        families.extend(after.families.iter().map(|(k, v)| (*k, *v)));
        Snapshot {
            source: after.source.clone(),
            families,
            samples,
            #[cfg(feature = "service")]
            http: after.http,
        }
    }

    /// What changed since this snapshot was taken: `self.delta(&self.retake())`.
    pub fn changes(&self) -> Snapshot {
        self.delta(&self.retake())
    }

    /// The sum of the samples named `name` whose labels include every `(label, value)`
    /// of `labels`: one series when all its labels are given, a sum over the others
    /// otherwise (`&[]` sums every series).
    ///
    /// `name` is a counter's or gauge's name (`mona_http_requests_total`), or a
    /// histogram's sample (`…_count`, `…_sum`, `…_bucket` with `le`). For histograms
    /// [`histogram`](Self::histogram) reads all three at once.
    ///
    /// # Panics
    /// When the snapshot's metrics have no such sample name or one of the labels.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let (family, kind, declared) = self.family_of(name);
        if kind == MetricType::Histogram && name == family {
            panic!(
                "keviq::testing: `{name}` is a histogram: read it with `histogram(..)`, or \
                 its samples `{name}_count`, `{name}_sum`, `{name}_bucket`"
            );
        }
        let le = name.ends_with("_bucket") && name != family;
        check_labels(family, declared, labels, le);
        self.sum(name, labels)
    }

    /// The observations of the histogram `name` in the series whose labels include
    /// every `(label, value)` of `labels`, summed over the series that match.
    ///
    /// # Panics
    /// When the snapshot has no histogram `name`, or it has no such label.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Observations {
        let (family, kind, declared) = self.family_of(name);
        if kind != MetricType::Histogram || family != name {
            panic!("keviq::testing: `{name}` is not a histogram; read it with `value(..)`");
        }
        check_labels(family, declared, labels, false);
        let bucket_name = format!("{name}_bucket");
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        for ((_, series), value) in self.matching(&bucket_name, labels) {
            let le = series
                .iter()
                .find(|(label, _)| label == "le")
                .and_then(|(_, le)| read_value(le))
                .unwrap_or(f64::INFINITY);
            match buckets.iter_mut().find(|(bound, _)| *bound == le) {
                Some((_, count)) => *count += value,
                None => buckets.push((le, value)),
            }
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Observations {
            count: self.sum(&format!("{name}_count"), labels),
            sum: self.sum(&format!("{name}_sum"), labels),
            buckets,
        }
    }

    /// The HTTP families of one route template (`/api/v1/tasks/{id}`, or
    /// `"unmatched"` for requests that matched no route): what a test that owns the
    /// route can assert exactly while other tests call other routes. Only in a
    /// snapshot with HTTP families: [`Snapshot::service`] (named with the service's
    /// prefix, `mona_` unless `#[keviq::service(prefix = "..")]` sets one), or
    /// [`Snapshot::global`] for `keviq::axum::MetricsLayer::new()` (`mona_http_*`).
    #[cfg(feature = "service")]
    pub fn route<'a>(&'a self, path: &'a str) -> Route<'a> {
        Route {
            snapshot: self,
            path,
        }
    }

    /// Every sample, in order of name and labels.
    pub fn samples(&self) -> impl Iterator<Item = Sample<'_>> {
        self.samples.iter().map(|((name, labels), value)| Sample {
            name,
            labels,
            value: *value,
        })
    }

    /// The number of samples (in a delta: of samples that changed).
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// `true` when there is no sample (in a delta: nothing changed).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The family a sample name belongs to: itself, or a histogram's.
    fn family_of(&self, name: &str) -> (&'static str, MetricType, &'static [&'static str]) {
        if let Some((family, (kind, labels))) = self.families.get_key_value(name) {
            return (*family, *kind, *labels);
        }
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix)
                && let Some((family, (MetricType::Histogram, labels))) =
                    self.families.get_key_value(base)
            {
                return (*family, MetricType::Histogram, *labels);
            }
        }
        let names: Vec<&str> = self.families.keys().copied().collect();
        panic!("keviq::testing: no metric `{name}` in this snapshot; its metrics: {names:?}");
    }

    fn matching<'s>(
        &'s self,
        name: &'s str,
        labels: &'s [(&str, &str)],
    ) -> impl Iterator<Item = (&'s SampleKey, f64)> {
        self.samples
            .range((name.to_owned(), Vec::new())..)
            .take_while(move |((n, _), _)| n == name)
            .filter(move |((_, series), _)| {
                labels
                    .iter()
                    .all(|(label, value)| series.iter().any(|(l, v)| l == label && v == value))
            })
            .map(|(key, value)| (key, *value))
    }

    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|(_, value)| value).sum()
    }
}

impl fmt::Display for Snapshot {
    /// One sample a line, as the Prometheus text format writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for sample in self.samples() {
            writeln!(f, "{sample}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.samples().map(|s| s.to_string()))
            .finish()
    }
}

/// One sample of a [`Snapshot`].
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    name: &'a str,
    labels: &'a [(String, String)],
    value: f64,
}

impl<'a> Sample<'a> {
    /// The sample's name (a histogram's has its suffix: `…_bucket`).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The labels, in the order the exposition has them.
    pub fn labels(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        self.labels.iter().map(|(l, v)| (l.as_str(), v.as_str()))
    }

    /// The value of the label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&'a str> {
        self.labels
            .iter()
            .find(|(l, _)| l == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value.
    pub fn value(&self) -> f64 {
        self.value
    }
}

impl fmt::Display for Sample<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        if !self.labels.is_empty() {
            f.write_str("{")?;
            for (i, (label, value)) in self.labels.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let value = value
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                write!(f, "{sep}{label}=\"{value}\"")?;
            }
            f.write_str("}")?;
        }
        let mut value = String::new();
        write_f64(&mut value, self.value);
        write!(f, " {value}")
    }
}

/// What a histogram recorded, in one series or summed over several.
#[derive(Debug, Clone, PartialEq)]
pub struct Observations {
    /// Number of observations.
    pub count: f64,
    /// Sum of the observed values.
    pub sum: f64,
    /// `(le, count)`: the observations at most `le`, cumulative as in the exposition,
    /// by increasing bound (`+Inf` last). In a delta, only the buckets that changed.
    pub buckets: Vec<(f64, f64)>,
}

/// The HTTP families of one route in a [`Snapshot`]: see [`Snapshot::route`]. The
/// methods name the families by their default names; a service with a `prefix` is
/// read under its own.
#[cfg(feature = "service")]
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    snapshot: &'a Snapshot,
    path: &'a str,
}

#[cfg(feature = "service")]
impl Route<'_> {
    /// `mona_http_requests_total` of the route: every method and status.
    pub fn requests(&self) -> f64 {
        self.snapshot
            .value(self.snapshot.http.requests_total, &[("path", self.path)])
    }

    /// `mona_http_requests_total` of the route answered with `status`, any method.
    pub fn requests_with_status(&self, status: u16) -> f64 {
        let status = status.to_string();
        self.snapshot.value(
            self.snapshot.http.requests_total,
            &[("path", self.path), ("status", &status)],
        )
    }

    /// `mona_http_requests_total{method, path, status}`: one series.
    pub fn requests_with(&self, method: crate::HttpMethod, status: u16) -> f64 {
        let status = status.to_string();
        self.snapshot.value(
            self.snapshot.http.requests_total,
            &[
                ("method", method.as_str()),
                ("path", self.path),
                ("status", &status),
            ],
        )
    }

    /// `mona_http_request_errors_total` of the route (status >= 500), every method.
    pub fn errors(&self) -> f64 {
        self.snapshot.value(
            self.snapshot.http.request_errors_total,
            &[("path", self.path)],
        )
    }

    /// `mona_http_request_duration_ms` of the route, every method.
    pub fn duration(&self) -> Observations {
        self.snapshot.histogram(
            self.snapshot.http.request_duration_ms,
            &[("path", self.path)],
        )
    }
}

/// Panics on a label `family` does not declare (`le` is one on `_bucket` samples).
fn check_labels(family: &str, declared: &[&str], labels: &[(&str, &str)], le: bool) {
    for (label, _) in labels {
        if !(declared.contains(label) || le && *label == "le") {
            panic!("keviq::testing: `{family}` has no label `{label}`; its labels: {declared:?}");
        }
    }
}

/// Reads `name{a="x",b="y"} value` as the encoder writes it (Prometheus text
/// 0.0.4, no timestamp); `None` for anything else.
fn read_sample(line: &str) -> Option<(&str, Labels, f64)> {
    let end = line.find(['{', ' '])?;
    let (name, mut rest) = line.split_at(end);
    let mut labels = Vec::new();
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inner.strip_prefix('}') {
                rest = after;
                break;
            }
            let inner_after_comma = inner.strip_prefix(',').unwrap_or(inner);
            let (label, after) = inner_after_comma.split_once("=\"")?;
            let mut value = String::new();
            let mut chars = after.char_indices();
            let close = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next()? {
                        (_, 'n') => value.push('\n'),
                        (_, c) => value.push(c),
                    },
                    (_, c) => value.push(c),
                }
            };
            labels.push((label.to_owned(), value));
            inner = &after[close + 1..];
        }
    }
    Some((name, labels, read_value(rest.strip_prefix(' ')?)?))
}

/// A sample value or `le` bound as the encoder writes it.
fn read_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::{HttpMethod, Str};
    use crate::metric::{Counter, Family, FloatGauge, Histogram, LabeledCounter};
    use crate::{Descriptor, Site};

    const HERE: Site = Site {
        file: file!(),
        line: line!(),
    };

    static PLAIN: Counter = Counter::new();
    static BY_PATH: Family<(HttpMethod, Str), LabeledCounter> =
        Family::new("testing_requests_total", (), 100);
    static LEVEL: FloatGauge = FloatGauge::new();
    static LATENCY: Histogram<2> = Histogram::new([10.0, 100.0]);

    fn registry() -> Registry {
        let registrations = [
            Registration::new(
                Descriptor::new(
                    "testing_plain_total",
                    "Plain",
                    MetricType::Counter,
                    &[],
                    HERE,
                ),
                &PLAIN,
            ),
            Registration::new(
                Descriptor::new(
                    "testing_requests_total",
                    "By path",
                    MetricType::Counter,
                    &["method", "path"],
                    HERE,
                ),
                &BY_PATH,
            ),
            Registration::new(
                Descriptor::new("testing_level", "Level", MetricType::Gauge, &[], HERE),
                &LEVEL,
            ),
            Registration::new(
                Descriptor::new(
                    "testing_latency_ms",
                    "Latency",
                    MetricType::Histogram,
                    &[],
                    HERE,
                ),
                &LATENCY,
            ),
        ];
        Registry::from_registrations(&registrations).expect("no clash")
    }

    #[test]
    fn reads_back_what_the_encoder_writes() {
        let awkward = "a \"quoted\" \\ path\nwith a line feed, {braces} and =";
        let registry = registry();
        let before = Snapshot::of_registry(&registry);
        PLAIN.inc();
        BY_PATH.get((HttpMethod::Get, awkward)).inc_by(2);
        BY_PATH.get((HttpMethod::Post, awkward)).inc();
        BY_PATH.get((HttpMethod::Get, "/other")).inc();
        LEVEL.set(-2.5);
        LATENCY.observe(5.0);
        LATENCY.observe(50.0);
        LATENCY.observe(f64::INFINITY);
        let delta = before.changes();

        assert_eq!(delta.value("testing_plain_total", &[]), 1.0);
        let path = [("path", awkward)];
        assert_eq!(delta.value("testing_requests_total", &path), 3.0);
        assert_eq!(
            delta.value(
                "testing_requests_total",
                &[("method", "POST"), ("path", awkward)]
            ),
            1.0
        );
        assert_eq!(delta.value("testing_requests_total", &[]), 4.0);
        assert_eq!(delta.value("testing_level", &[]), -2.5);
        let latency = delta.histogram("testing_latency_ms", &[]);
        assert_eq!(latency.count, 3.0);
        assert_eq!(latency.sum, f64::INFINITY);
        assert_eq!(
            latency.buckets,
            [(10.0, 1.0), (100.0, 2.0), (f64::INFINITY, 3.0)]
        );
        assert_eq!(
            delta.value("testing_latency_ms_bucket", &[("le", "100.0")]),
            2.0
        );
        assert_eq!(delta.value("testing_latency_ms_count", &[]), 3.0);

        // A delta lists what changed, and prints it as the exposition would.
        let text = delta.to_string();
        assert!(
            text.contains(
                "testing_requests_total{method=\"GET\",path=\"a \\\"quoted\\\" \\\\ path\\nwith \
                 a line feed, {braces} and =\"} 2.0\n"
            ),
            "{text}"
        );
        let unchanged = delta.changes();
        assert!(unchanged.is_empty(), "nothing changed since: {unchanged}");
        let sample = delta
            .samples()
            .find(|s| s.label("path") == Some("/other"))
            .expect("a sample");
        assert_eq!(sample.name(), "testing_requests_total");
        assert_eq!(sample.value(), 1.0);
    }

    #[test]
    fn a_value_that_went_down_has_a_negative_delta() {
        let registry = registry();
        let mut before = Snapshot::of_registry(&registry);
        before
            .samples
            .insert(("testing_plain_total".into(), Vec::new()), 1e9);
        let delta = before.delta(&before.retake());
        assert!(delta.value("testing_plain_total", &[]) < 0.0);
    }

    #[test]
    #[should_panic(expected = "no metric `testing_plane_total` in this snapshot")]
    fn a_misspelled_metric_is_an_error_not_a_zero() {
        Snapshot::of_registry(&registry()).value("testing_plane_total", &[]);
    }

    #[test]
    #[should_panic(expected = "`testing_requests_total` has no label `route`")]
    fn a_misspelled_label_is_an_error_not_a_zero() {
        Snapshot::of_registry(&registry()).value("testing_requests_total", &[("route", "/")]);
    }

    #[test]
    #[should_panic(expected = "is a histogram")]
    fn a_histogram_is_read_with_histogram() {
        Snapshot::of_registry(&registry()).value("testing_latency_ms", &[]);
    }

    #[test]
    fn lines_the_encoder_does_not_write_are_not_read() {
        for line in [
            "x",
            "x{a=\"1\" 2",
            "x{a=1} 2",
            "x 1 2",
            "x{a=\"1\\",
            "x{} y",
        ] {
            assert!(read_sample(line).is_none(), "{line}");
        }
        assert_eq!(read_sample("x{} 1"), Some(("x", Vec::new(), 1.0)));
    }
}
