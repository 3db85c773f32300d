//! The rules that need a whole family at hand, checked once the input is read (the
//! line grammar is checked as it is read): unique series and their timestamps, the
//! grouping of metrics, the semantics of counters, histograms, summaries, info and
//! stateset families, and family names that clash.
//!
//! What it reads, besides the samples: a 4-byte series key per sample and, for
//! histogram and summary samples, where their `le` or `quantile` sits (both noted
//! while parsing, from bytes that were in cache then). Per family: one hash-map
//! probe per sample for the series (skipped for a histogram family whose checks
//! already proved each series there once), one probe per run of one metric for
//! the grouping, and each metric's checks on a small buffer as its run ends (their
//! findings held back until the family shows each metric in one run; otherwise the
//! samples are grouped by metric first).
//!
//! Strict mode stops at the first broken rule; scrape mode notes it and goes on,
//! reporting a rule once per family where going on could cost more than the
//! family's size, and leaves out the repeated points it finds.

mod metrics;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use keviq_model::{Format, MetricType, families_clash, sample_name_splits};

use crate::error::{ErrorReason, ParseError, excerpt};
use crate::exposition::{MetricFamily, Sample};
use crate::findings::Findings;
use crate::hash::{self, BuildPreHashed, IndexTable};
use crate::hint::Hint;
use metrics::Point;

/// What the checks read of a parse.
pub(crate) struct Parsed<'p, 'a> {
    /// The input.
    pub(crate) src: &'a str,
    pub(crate) format: Format,
    /// The seed of the parse's hashes.
    pub(crate) seed: u64,
    pub(crate) families: &'p [MetricFamily<'a>],
    /// The samples, grouped by family.
    pub(crate) samples: &'p [Sample<'a>],
    /// Each sample's series key: its label-set hash and the key of its name.
    pub(crate) keys: &'p [u32],
    /// Where histogram and summary samples have their point labels, by ascending
    /// sample index.
    pub(crate) hints: &'p [Hint],
    /// Whether `hints` hold (the samples were not regrouped after parsing).
    pub(crate) hinted: bool,
    /// The index of the family with this name, if there is one.
    pub(crate) find_family: &'p dyn Fn(&str) -> Option<usize>,
}

/// The samples the checks leave out (scrape mode's repeated points), one bit each.
#[derive(Debug, Default)]
pub(crate) struct Dropped(Vec<u64>);

impl Dropped {
    /// Whether no sample is left out.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether sample `index` is left out.
    pub(crate) fn contains(&self, index: usize) -> bool {
        self.0
            .get(index / 64)
            .is_some_and(|word| word >> (index % 64) & 1 != 0)
    }
}

/// Runs every check over the parsed families, reporting to `findings`; returns
/// the samples to leave out (scrape mode's repeated points).
pub(crate) fn run<'a>(
    parsed: &Parsed<'_, 'a>,
    findings: &mut Findings<'a>,
) -> Result<Dropped, ParseError> {
    let mut checker = Checker {
        src: parsed.src,
        format: parsed.format,
        seed: parsed.seed,
        findings,
        keys: parsed.keys,
        hints: parsed.hints,
        hinted: parsed.hinted,
        deferred: Vec::new(),
        defer: false,
        unique: false,
        latest: HashMap::default(),
        table: IndexTable::default(),
        points: Vec::new(),
        dropped: Vec::new(),
    };
    for family in parsed.families {
        let Some(samples) = parsed.samples.get(family.samples.clone()) else {
            continue;
        };
        checker.family(family, samples, family.samples.start)?;
    }
    let dropped = Dropped(std::mem::take(&mut checker.dropped));
    clashes(parsed, checker.findings)?;
    Ok(dropped)
}

/// OpenMetrics forbids families whose sample names could coincide.
fn clashes(parsed: &Parsed<'_, '_>, findings: &mut Findings<'_>) -> Result<(), ParseError> {
    for family in parsed.families {
        let (name, kind) = (family.name, family.kind);
        for (base, _) in sample_name_splits(name) {
            let Some(other) = (parsed.find_family)(base).and_then(|i| parsed.families.get(i))
            else {
                continue;
            };
            if families_clash(name, kind, other.name, other.kind, parsed.format) {
                let reason = ErrorReason::NameClash {
                    family: excerpt(name),
                    other: excerpt(other.name),
                    kind: other.kind,
                };
                findings.tolerate(offset(parsed.src, name), reason)?;
            }
        }
    }
    Ok(())
}

/// The byte offset of `text`, a slice of `src`.
fn offset(src: &str, text: &str) -> usize {
    (text.as_ptr() as usize)
        .wrapping_sub(src.as_ptr() as usize)
        .min(src.len())
}

/// `name{labels}`, cut short, for messages.
fn series_text(sample: &Sample<'_>) -> String {
    let raw = sample.labels.as_raw();
    if raw.is_empty() {
        excerpt(sample.name)
    } else {
        // Both parts cut first: a 10 MB label set is not copied to be cut.
        excerpt(&format!("{}{{{}}}", excerpt(sample.name), excerpt(raw)))
    }
}

/// The suffix a sample's name adds to its family's name. Every sample name starts
/// with its family's name (that is how the parser assigns families), so no
/// comparison is needed.
#[inline(always)]
fn suffix_of<'s>(family: &MetricFamily<'_>, sample: &Sample<'s>) -> &'s str {
    sample.name.get(family.name.len()..).unwrap_or("")
}

/// `x` for messages: as Rust displays it, in exponent form when that would take
/// dozens of digits (`1e300`, not 301 of them).
fn show(x: f64) -> String {
    if x.is_finite() && x != 0.0 && !(1e-5..1e16).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// A metric point's `_sum` and `_count` sample names, by family type.
fn sum_and_count(kind: MetricType) -> (&'static str, &'static str) {
    match kind {
        MetricType::GaugeHistogram => ("_gsum", "_gcount"),
        _ => ("_sum", "_count"),
    }
}

struct Checker<'f, 'a> {
    src: &'a str,
    format: Format,
    seed: u64,
    findings: &'f mut Findings<'a>,
    /// Series or metrics of the family being checked, by hash.
    table: IndexTable,
    /// The points of the metric being checked.
    points: Vec<Point<'a>>,
    /// Where histogram and summary samples have their point labels.
    hints: &'f [Hint],
    /// Whether `hints` hold (the samples were not regrouped).
    hinted: bool,
    /// Findings of the metric being checked, held back while `defer` is set.
    deferred: Vec<(usize, ErrorReason)>,
    defer: bool,
    /// Whether the histogram checks of the family being checked found every series
    /// once (`le`s increasing, `_sum` and `_count` once, each metric one run).
    unique: bool,
    /// Samples to leave out, one bit each (empty while there are none).
    dropped: Vec<u64>,
    /// Every sample's series key (see [`Parsed::keys`]).
    keys: &'f [u32],
    /// The latest sample of each series key, for the family being checked.
    latest: HashMap<u32, u32, BuildPreHashed>,
}

/// Whether a repeated series keeps its second sample.
#[derive(PartialEq)]
enum Repeat {
    Keep,
    Drop,
}

impl<'a> Checker<'_, 'a> {
    fn om(&self) -> bool {
        self.format == Format::OpenMetrics
    }

    fn tolerate(&mut self, at: &Sample<'_>, reason: ErrorReason) -> Result<(), ParseError> {
        let pos = offset(self.src, at.name);
        self.tolerate_at(pos, reason)
    }

    /// Leaves sample `index` out of the exposition.
    fn drop_sample(&mut self, index: usize) {
        if self.dropped.is_empty() {
            self.dropped = vec![0; self.keys.len().div_ceil(64)];
        }
        if let Some(word) = self.dropped.get_mut(index / 64) {
            *word |= 1 << (index % 64);
        }
    }

    /// Reports `reason` at byte `pos`, or holds it back while `defer` is set.
    fn tolerate_at(&mut self, pos: usize, reason: ErrorReason) -> Result<(), ParseError> {
        if self.defer {
            self.deferred.push((pos, reason));
            return Ok(());
        }
        self.findings.tolerate(pos, reason)
    }

    fn family(
        &mut self,
        family: &MetricFamily<'a>,
        samples: &[Sample<'a>],
        base: usize,
    ) -> Result<(), ParseError> {
        let om = self.om();
        // Prometheus text gives rules to the values of counters and histograms only;
        // summary quantiles need a label.
        let valued = matches!(
            family.kind,
            MetricType::Counter | MetricType::Histogram | MetricType::Summary
        );
        if om || valued {
            for sample in samples {
                self.values(family, sample)?;
            }
        }
        // One sample name (a gauge, a counter without `_created`): a series is a
        // metric, and the series check sees metrics interleave.
        let single_name = match samples.split_first() {
            Some((first, rest)) if om => {
                let key = hash::name_key32(first.name);
                rest.iter().all(|s| hash::name_key32(s.name) == key)
            }
            _ => true,
        };
        let grouped = match family.kind {
            MetricType::Histogram | MetricType::GaugeHistogram | MetricType::Summary => true,
            MetricType::StateSet => om,
            _ => om && !single_name,
        };
        // The metric checks first: for a histogram they may prove every series
        // unique (see `histogram_point`), which spares the series check.
        self.unique = family.kind.has_buckets();
        if grouped && !samples.is_empty() {
            self.metrics(family, samples, base)?;
        }
        let proven = self.unique && samples.iter().all(|s| s.timestamp.is_none());
        if samples.len() > 1 && !proven {
            self.series(family.name, samples, base, single_name)?;
        }
        if om && family.kind == MetricType::Counter {
            self.counter_totals(family, samples)?;
        }
        Ok(())
    }

    /// OpenMetrics: every counter metric has a total, so each `_created` sample
    /// has a `_total` sample with its labels.
    fn counter_totals(
        &mut self,
        family: &MetricFamily<'a>,
        samples: &[Sample<'a>],
    ) -> Result<(), ParseError> {
        let created = |s: &Sample<'_>| suffix_of(family, s) == "_created";
        if !samples.iter().any(created) {
            return Ok(());
        }
        let total = |s: &Sample<'_>| suffix_of(family, s) == "_total";
        self.table
            .reset(samples.iter().filter(|s| total(s)).count());
        for (k, sample) in samples.iter().enumerate() {
            if total(sample) {
                self.table.push(sample.labels.hash(), k);
            }
        }
        for sample in samples.iter().filter(|s| created(s)) {
            let labels = &sample.labels;
            let found = self.table.find(labels.hash(), |j| {
                samples.get(j).is_some_and(|t| t.labels.same_series(labels))
            });
            if found.is_none() {
                let reason = ErrorReason::CreatedWithoutTotal {
                    created: series_text(sample),
                    total: excerpt(&format!("{}_total", excerpt(family.name))),
                };
                self.tolerate(sample, reason)?;
            }
        }
        Ok(())
    }

    // --- One sample ---

    /// The rules on one sample's value and labels.
    fn values(&mut self, family: &MetricFamily<'a>, sample: &Sample<'a>) -> Result<(), ParseError> {
        let suffix = suffix_of(family, sample);
        let v = sample.value;
        let om = self.om();
        let rule: Option<&'static str> = match (family.kind, suffix) {
            (MetricType::Counter, "") if !om && v < 0.0 => Some("a counter cannot be negative"),
            (MetricType::Histogram, "_bucket") if !om && v < 0.0 => {
                Some("a bucket count cannot be negative")
            }
            (MetricType::Counter, "_total") if om => {
                if v.is_nan() {
                    Some("a counter total cannot be NaN")
                } else if v < 0.0 {
                    Some("a counter total cannot be negative")
                } else {
                    None
                }
            }
            (MetricType::Histogram | MetricType::GaugeHistogram, "_bucket") if om => {
                count_rule(v, true)
            }
            (MetricType::Histogram, "_count") | (MetricType::GaugeHistogram, "_gcount") if om => {
                count_rule(v, false)
            }
            (MetricType::Histogram, "_sum") | (MetricType::GaugeHistogram, "_gsum")
                if om && v.is_nan() =>
            {
                Some("a histogram sum cannot be NaN")
            }
            (MetricType::Summary, "") => {
                (om && v < 0.0).then_some("a quantile value cannot be negative")
            }
            (MetricType::Summary, "_sum") if om => {
                if v.is_nan() {
                    Some("a summary sum cannot be NaN")
                } else if v < 0.0 {
                    Some("a summary sum cannot be negative")
                } else {
                    None
                }
            }
            (MetricType::Summary, "_count") if om => count_rule(v, false),
            (MetricType::Info, "_info") if om => {
                (v != 1.0).then_some("an info sample's value is always 1")
            }
            (MetricType::StateSet, "") if om => {
                if sample.labels.get(family.name).is_none() {
                    let reason = ErrorReason::MissingStateLabel(excerpt(family.name));
                    self.tolerate(sample, reason)?;
                }
                (v != 0.0 && v != 1.0).then_some("a state's value is 0 (false) or 1 (true)")
            }
            _ => None,
        };
        if let Some(rule) = rule {
            let reason = ErrorReason::InvalidValue {
                name: excerpt(sample.name),
                value: show(v),
                rule,
            };
            self.tolerate(sample, reason)?;
        }
        Ok(())
    }

    // --- Series ---

    /// Every series (name and label set) once, or, in OpenMetrics, again only with
    /// increasing timestamps, right after its previous point when the family has
    /// `single_name`.
    fn series(
        &mut self,
        family: &str,
        samples: &[Sample<'a>],
        base: usize,
        single_name: bool,
    ) -> Result<(), ParseError> {
        let mut noted = false;
        let keys = self.keys.get(base..base + samples.len()).unwrap_or(&[]);
        let same = |a: usize, b: usize| match (samples.get(a), samples.get(b)) {
            (Some(a), Some(b)) => a.name == b.name && a.labels.same_series(&b.labels),
            _ => false,
        };
        let mut latest = std::mem::take(&mut self.latest);
        latest.clear();
        latest.reserve(samples.len());
        // Series whose key another series took first (32-bit keys collide now and
        // then): few, searched one by one.
        let mut collided: Vec<(u32, usize)> = Vec::new();
        for (k, &key) in keys.iter().enumerate() {
            let prev = match latest.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(k as u32);
                    continue;
                }
                Entry::Occupied(mut slot) => {
                    let prev = *slot.get() as usize;
                    if same(prev, k) {
                        slot.insert(k as u32);
                        prev
                    } else {
                        match collided.iter_mut().find(|(c, j)| *c == key && same(*j, k)) {
                            Some(entry) => std::mem::replace(&mut entry.1, k),
                            None => {
                                collided.push((key, k));
                                continue;
                            }
                        }
                    }
                }
            };
            self.repeated(family, samples, base, (prev, k), single_name, &mut noted)?;
        }
        self.latest = latest;
        Ok(())
    }

    /// Sample `k` of a family repeats the series of sample `prev` (indices in
    /// `samples`, which start at `base`).
    fn repeated(
        &mut self,
        family: &str,
        samples: &[Sample<'a>],
        base: usize,
        (prev, k): (usize, usize),
        single_name: bool,
        interleaving_noted: &mut bool,
    ) -> Result<(), ParseError> {
        let (Some(before), Some(sample)) = (samples.get(prev), samples.get(k)) else {
            return Ok(());
        };
        if self.repeat(before, sample)? == Repeat::Drop {
            self.drop_sample(base + k);
        } else if self.om() && single_name && prev + 1 != k && !*interleaving_noted {
            *interleaving_noted = true;
            let reason = ErrorReason::InterleavedMetric(excerpt(family));
            self.tolerate(sample, reason)?;
        }
        Ok(())
    }

    /// The rules on a series seen again.
    fn repeat(&mut self, before: &Sample<'a>, sample: &Sample<'a>) -> Result<Repeat, ParseError> {
        let same_time = match (before.timestamp, sample.timestamp) {
            (None, None) => true,
            (Some(a), Some(b)) => a.as_seconds() == b.as_seconds(),
            _ => false,
        };
        if !self.om() {
            // "Each line must have a unique combination of a metric name and labels."
            // Scrape mode keeps points with another timestamp, as Prometheus does.
            let reason = ErrorReason::DuplicateSeries(series_text(sample));
            self.tolerate(sample, reason)?;
            return Ok(if same_time {
                Repeat::Drop
            } else {
                Repeat::Keep
            });
        }
        match (before.timestamp, sample.timestamp) {
            (None, None) => {
                let reason = ErrorReason::DuplicateSeries(series_text(sample));
                self.tolerate(sample, reason)?;
                Ok(Repeat::Drop)
            }
            (Some(_), None) | (None, Some(_)) => {
                let reason = ErrorReason::MixedTimestamps(series_text(sample));
                self.tolerate(sample, reason)?;
                Ok(Repeat::Keep)
            }
            (Some(a), Some(b)) => {
                if b.as_seconds() < a.as_seconds() {
                    let reason = ErrorReason::TimestampBackwards(series_text(sample));
                    self.tolerate(sample, reason)?;
                }
                // OpenMetrics allows a point at the same time again (the official
                // suite's `duplicate_timestamps_1`); scrape mode, which feeds a
                // store, keeps the first, and says so.
                if same_time && !self.findings.strict() {
                    let reason = ErrorReason::DuplicateSeries(series_text(sample));
                    self.tolerate(sample, reason)?;
                    return Ok(Repeat::Drop);
                }
                Ok(Repeat::Keep)
            }
        }
    }
}

/// The rule a bucket count or a count breaks, if any: a non-negative integer.
fn count_rule(v: f64, bucket: bool) -> Option<&'static str> {
    match (bucket, v) {
        (true, v) if v.is_nan() => Some("a bucket count cannot be NaN"),
        (true, v) if v < 0.0 => Some("a bucket count cannot be negative"),
        (true, v) if v.fract() != 0.0 => Some("a bucket count is an integer"),
        (false, v) if v.is_nan() => Some("a count cannot be NaN"),
        (false, v) if v < 0.0 => Some("a count cannot be negative"),
        (false, v) if v.fract() != 0.0 => Some("a count is an integer"),
        _ => None,
    }
}
