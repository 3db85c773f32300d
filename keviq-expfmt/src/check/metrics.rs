//! The metric checks: the samples of one metric (label set, the point label
//! aside) in one run, and the rules of histogram and summary metrics.

use keviq_model::{MetricType, point_label};

use super::{Checker, offset, series_text, show, suffix_of, sum_and_count};
use crate::error::{ErrorReason, NumberField, ParseError, excerpt};
use crate::exposition::{MetricFamily, Sample, Timestamp};
use crate::hash;
use crate::hint::Hint;
use crate::labels::label_number;
use crate::number::NumError;
use crate::scan::same;

impl<'a> Checker<'_, 'a> {
    /// What grouping needs of sample `k` of `samples` (which start at `base`):
    /// from the hint noted while parsing when there is one, else from its labels.
    fn around(
        &self,
        samples: &[Sample<'a>],
        base: usize,
        k: usize,
        how: &PointLookup<'_>,
        hint: Option<Hint>,
    ) -> Around<'a> {
        let Some(sample) = samples.get(k) else {
            return Around::default();
        };
        let labels = &sample.labels;
        let raw = labels.as_raw();
        let whole = Around {
            metric: labels.hash(),
            before: trim_separators_end(raw),
            after: "",
            text: None,
        };
        if how.hinted {
            let Some(h) = hint.or_else(|| hint_at(self.hints, base + k)) else {
                return whole;
            };
            let (start, (value_start, value_end)) = (h.start as usize, h.value);
            return Around {
                metric: h.metric,
                before: trim_separators_end(raw.get(..start).unwrap_or("")),
                after: trim_separators_start(raw.get(value_end as usize + 1..).unwrap_or("")),
                text: raw.get(value_start as usize..value_end as usize),
            };
        }
        let Some(pair) = how.label.and_then(|name| labels.find_raw(name)) else {
            return whole;
        };
        let decoded = pair.decoded();
        // An empty value counts as no label for the metric's identity.
        let own = if decoded.is_empty() {
            0
        } else {
            hash::label(hash::bytes(how.name_hash, decoded.as_bytes()))
        };
        let (start, end) = pair.span;
        Around {
            metric: labels.hash().wrapping_sub(own),
            before: trim_separators_end(raw.get(..start).unwrap_or("")),
            after: trim_separators_start(raw.get(end..).unwrap_or("")),
            text: Some(pair.value),
        }
    }

    /// The samples of one metric (label set, the point label aside) form one group
    /// (OpenMetrics), with timestamps that do not go back (OpenMetrics); then the
    /// point labels of histograms and summaries, and the rules of each histogram
    /// metric and of each Prometheus summary.
    pub(super) fn metrics(
        &mut self,
        family: &MetricFamily<'a>,
        samples: &[Sample<'a>],
        base: usize,
    ) -> Result<(), ParseError> {
        let om = self.om();
        let label = point_label(family.kind, family.name);
        let pointed = matches!(
            family.kind,
            MetricType::Histogram | MetricType::GaugeHistogram | MetricType::Summary
        );
        let how = PointLookup {
            label,
            name_hash: label.map_or(0, |name| hash::bytes(self.seed, name.as_bytes())),
            hinted: self.hinted && pointed,
        };
        let same_metric = |x: &Around<'_>, y: &Around<'_>, a: usize, b: usize| {
            x.metric == y.metric
                && ((same(x.before.as_bytes(), y.before.as_bytes())
                    && same(x.after.as_bytes(), y.after.as_bytes()))
                    || match (samples.get(a), samples.get(b)) {
                        (Some(x), Some(y)) => x.labels.same_labels_except(&y.labels, label),
                        _ => false,
                    })
        };
        // One pass: runs of one metric, each checked as it ends, its findings held
        // back until the pass shows that every metric is one run.
        self.table.reset(samples.len() / 16);
        let (mut grouped, mut backwards_noted) = (true, false);
        let mut run_start = 0;
        let mut last_time: Option<f64> = None;
        let mut cursor = HintCursor::new(self.hints, base);
        let mut previous = Around::default();
        let mut points = std::mem::take(&mut self.points);
        let mut indices: Vec<usize> = Vec::new();
        points.clear();
        self.deferred.clear();
        for (k, sample) in samples.iter().enumerate() {
            let current = self.around(samples, base, k, &how, cursor.at(base + k));
            if k == 0 || !same_metric(&previous, &current, k - 1, k) {
                if k > 0 && pointed && grouped {
                    indices.clear();
                    indices.extend(run_start..k);
                    self.defer = true;
                    let checked = self.metric(family, samples, &indices, &points);
                    self.defer = false;
                    checked?;
                }
                points.clear();
                let earlier = self.table.find(current.metric, |j| {
                    let other = self.around(samples, base, j, &how, None);
                    same_metric(&other, &current, j, k)
                });
                if grouped && earlier.is_some() {
                    grouped = false;
                    self.unique = false;
                    if om {
                        let reason = ErrorReason::InterleavedMetric(excerpt(family.name));
                        self.tolerate(sample, reason)?;
                    }
                }
                self.table.push(current.metric, k);
                run_start = k;
                last_time = None;
            }
            if pointed && grouped {
                points.push(Point::from(current));
            }
            // Metric points in time order.
            if om && let Some(t) = sample.timestamp.map(Timestamp::as_seconds) {
                if last_time.is_some_and(|l| t < l) && !backwards_noted {
                    backwards_noted = true;
                    let reason = ErrorReason::TimestampBackwards(series_text(sample));
                    self.tolerate(sample, reason)?;
                }
                last_time = Some(t);
            }
            previous = current;
        }
        if !pointed {
            self.points = points;
            return Ok(());
        }
        if grouped {
            indices.clear();
            indices.extend(run_start..samples.len());
            self.defer = true;
            let checked = self.metric(family, samples, &indices, &points);
            self.defer = false;
            checked?;
            for (pos, reason) in std::mem::take(&mut self.deferred) {
                self.findings.tolerate(pos, reason)?;
            }
        } else {
            self.deferred.clear();
            // Group by metric, in input order within each.
            let mut order: Vec<(u32, usize)> = (0..samples.len())
                .map(|k| (self.around(samples, base, k, &how, None).metric, k))
                .collect();
            order.sort_unstable();
            let mut rest = order.as_slice();
            while let Some(&(key, _)) = rest.first() {
                let end = rest.iter().position(|e| e.0 != key).unwrap_or(rest.len());
                let (same_hash, tail) = rest.split_at(end);
                // Equal hashes, almost always one metric: split them exactly.
                let mut left: Vec<usize> = same_hash.iter().map(|e| e.1).collect();
                while let Some(&lead) = left.first() {
                    let lead_around = self.around(samples, base, lead, &how, None);
                    let (group, others): (Vec<usize>, Vec<usize>) = left.iter().partition(|&&k| {
                        let around = self.around(samples, base, k, &how, None);
                        same_metric(&lead_around, &around, lead, k)
                    });
                    points.clear();
                    for &k in &group {
                        points.push(Point::from(self.around(samples, base, k, &how, None)));
                    }
                    self.metric(family, samples, &group, &points)?;
                    left = others;
                }
                rest = tail;
            }
        }
        self.points = points;
        Ok(())
    }

    /// The rules on a sample's point label: a number in every bucket's `le` and
    /// every summary `quantile`, in [0, 1]; a `quantile` on every
    /// summary sample named like its family.
    fn point_label(
        &mut self,
        family: &MetricFamily<'a>,
        sample: &Sample<'a>,
        point: &Point<'a>,
    ) -> Result<(), ParseError> {
        let suffix = suffix_of(family, sample);
        let (field, checked) = match family.kind {
            MetricType::Histogram | MetricType::GaugeHistogram => {
                (NumberField::Le, suffix == "_bucket")
            }
            MetricType::Summary => {
                if suffix.is_empty() && !point.present {
                    return self.tolerate(sample, ErrorReason::MissingQuantile);
                }
                (NumberField::Quantile, point.present)
            }
            _ => return Ok(()),
        };
        if !checked || !point.present {
            // A bucket without `le` was reported while parsing.
            return Ok(());
        }
        let pos = offset(self.src, point.text);
        let text = || excerpt(point.text);
        match point.error {
            Some(NumError::OutOfRange) => {
                let reason = ErrorReason::NumberOutOfRange {
                    field,
                    text: text(),
                };
                self.tolerate_at(pos, reason)
            }
            Some(NumError::Invalid) => {
                let reason = ErrorReason::InvalidNumber {
                    field,
                    text: text(),
                };
                self.tolerate_at(pos, reason)
            }
            None if field == NumberField::Quantile && !(0.0..=1.0).contains(&point.number) => {
                self.tolerate(sample, ErrorReason::QuantileOutOfRange(text()))
            }
            None => Ok(()),
        }
    }

    /// The rules on the samples of one histogram or summary metric (`indices` into
    /// `samples`, in input order, with their `points`).
    fn metric(
        &mut self,
        family: &MetricFamily<'a>,
        samples: &[Sample<'a>],
        indices: &[usize],
        points: &[Point<'a>],
    ) -> Result<(), ParseError> {
        for (&k, point) in indices.iter().zip(points) {
            if let Some(sample) = samples.get(k) {
                self.point_label(family, sample, point)?;
            }
        }
        match family.kind {
            MetricType::Histogram | MetricType::GaugeHistogram => {
                // One point per timestamp (OpenMetrics); Prometheus text has one.
                let om = self.om();
                let mut at = 0;
                while let Some(&first) = indices.get(at) {
                    let time = samples.get(first).and_then(|s| s.timestamp);
                    let len = if om {
                        indices
                            .get(at..)
                            .unwrap_or(&[])
                            .iter()
                            .position(|&k| samples.get(k).and_then(|s| s.timestamp) != time)
                            .unwrap_or(indices.len() - at)
                    } else {
                        indices.len() - at
                    };
                    let (Some(point_indices), Some(point_points)) =
                        (indices.get(at..at + len), points.get(at..at + len))
                    else {
                        break;
                    };
                    self.histogram_point(family, samples, point_indices, point_points)?;
                    at += len;
                }
                Ok(())
            }
            MetricType::Summary if !self.om() => self.quantile_order(samples, indices, points),
            _ => Ok(()),
        }
    }

    /// Prometheus text: "the quantiles of a summary must appear in increasing
    /// numerical order".
    fn quantile_order(
        &mut self,
        samples: &[Sample<'a>],
        indices: &[usize],
        points: &[Point<'a>],
    ) -> Result<(), ParseError> {
        let mut previous: Option<&Point<'a>> = None;
        for (&k, point) in indices.iter().zip(points) {
            let Some(sample) = samples.get(k) else {
                continue;
            };
            // Sums and counts have no quantile; unreadable ones were reported.
            if point.number.is_nan() {
                continue;
            }
            if let Some(p) = previous
                && point.number <= p.number
            {
                let reason = ErrorReason::Unsorted {
                    label: "quantile",
                    value: excerpt(point.text),
                    previous: excerpt(p.text),
                };
                return self.tolerate(sample, reason);
            }
            previous = Some(point);
        }
        Ok(())
    }

    /// The rules on one histogram metric point: buckets sorted by `le`, cumulative,
    /// with a `+Inf` bucket equal to the count; sum and count together (OpenMetrics).
    fn histogram_point(
        &mut self,
        family: &MetricFamily<'a>,
        samples: &[Sample<'a>],
        indices: &[usize],
        points: &[Point<'a>],
    ) -> Result<(), ParseError> {
        let om = self.om();
        let (sum_suffix, count_suffix) = sum_and_count(family.kind);
        let mut previous: Option<(&Point<'a>, f64)> = None;
        let mut inf: Option<f64> = None;
        let mut negative = false;
        let (mut sum, mut count) = (None, None);
        let mut created = false;
        let Some(first) = indices.first().and_then(|&k| samples.get(k)) else {
            return Ok(());
        };
        for (&k, point) in indices.iter().zip(points) {
            let Some(sample) = samples.get(k) else {
                continue;
            };
            let suffix = suffix_of(family, sample);
            // Each series once in the point, or the series check must run.
            if suffix == sum_suffix {
                self.unique &= sum.is_none();
                sum = Some(sample);
                continue;
            }
            if suffix == count_suffix {
                self.unique &= count.is_none();
                count = Some(sample);
                continue;
            }
            if suffix == "_created" {
                self.unique &= !created;
                created = true;
                continue;
            }
            // Not a bucket, or no readable `le` (reported while parsing).
            let le = point.number;
            if suffix != "_bucket" || le.is_nan() {
                self.unique = false;
                continue;
            }
            // Increasing `le`s are distinct series.
            self.unique &= previous.is_none_or(|(p, _)| le > p.number);
            if om && le == f64::INFINITY && point.text != "+Inf" {
                self.tolerate(sample, ErrorReason::NonCanonicalInf(excerpt(point.text)))?;
            }
            if let Some((p, pvalue)) = previous {
                if le <= p.number {
                    let reason = ErrorReason::Unsorted {
                        label: "le",
                        value: excerpt(point.text),
                        previous: excerpt(p.text),
                    };
                    self.tolerate(sample, reason)?;
                } else if sample.value < pvalue {
                    let reason = ErrorReason::NonCumulative {
                        le: excerpt(point.text),
                        value: show(sample.value),
                        previous: show(pvalue),
                    };
                    self.tolerate(sample, reason)?;
                }
            }
            if om
                && let Some(exemplar) = &sample.exemplar
                && exemplar.value > le
            {
                let reason = ErrorReason::ExemplarOutOfBucket {
                    value: show(exemplar.value),
                    le: excerpt(point.text),
                };
                self.tolerate(sample, reason)?;
            }
            negative |= le < 0.0;
            if le == f64::INFINITY {
                inf = Some(sample.value);
            }
            previous = Some((point, sample.value));
        }
        let Some(inf) = inf else {
            return self.tolerate(first, ErrorReason::MissingInfBucket(excerpt(family.name)));
        };
        if let Some(count) = count
            && count.value != inf
            && !(count.value.is_nan() && inf.is_nan())
        {
            let reason = ErrorReason::CountMismatch {
                name: excerpt(count.name),
                count: show(count.value),
                inf: show(inf),
            };
            self.tolerate(count, reason)?;
        }
        if !om {
            return Ok(());
        }
        let name = |suffix: &str| excerpt(&format!("{}{suffix}", family.name));
        match (sum, count) {
            (Some(present), None) | (None, Some(present)) => {
                let missing = if sum.is_some() {
                    count_suffix
                } else {
                    sum_suffix
                };
                let reason = ErrorReason::Unpaired {
                    present: excerpt(present.name),
                    missing: name(missing),
                };
                self.tolerate(present, reason)?;
            }
            _ => {}
        }
        if let Some(sum) = sum {
            let histogram = family.kind == MetricType::Histogram;
            if histogram && negative {
                self.tolerate(sum, ErrorReason::SumWithNegativeBuckets(excerpt(sum.name)))?;
            } else if sum.value < 0.0 && !negative {
                let reason = ErrorReason::InvalidValue {
                    name: excerpt(sum.name),
                    value: show(sum.value),
                    rule: "a histogram sum cannot be negative without negative buckets",
                };
                self.tolerate(sum, reason)?;
            }
        }
        Ok(())
    }
}

/// How a family's samples find their point label (`le`, `quantile`, the state).
struct PointLookup<'l> {
    label: Option<&'l str>,
    /// The hash of the label's name with the parse's seed.
    name_hash: u64,
    /// Whether the parser's hints say where it is.
    hinted: bool,
}

/// What grouping needs of a sample.
#[derive(Debug, Clone, Copy, Default)]
struct Around<'a> {
    /// The hash of its labels without the point label.
    metric: u32,
    /// The raw label text before and after the point label, separators trimmed:
    /// equal for two samples of one metric written alike, which is the usual case.
    before: &'a str,
    after: &'a str,
    /// The point label's value as written, if the sample has the label.
    text: Option<&'a str>,
}

/// What the metric checks need of a sample: [`Around`] and the point's number.
#[derive(Debug, Clone, Copy)]
pub(super) struct Point<'a> {
    /// The point label's value as written (`""` without one).
    text: &'a str,
    /// Its number (`le`, `quantile`); NaN without one, or when it does not read.
    number: f64,
    /// Whether the sample has the point label (even empty).
    present: bool,
    /// Why its value is no number, if it is not (NaN is none either).
    error: Option<NumError>,
}

impl<'a> From<Around<'a>> for Point<'a> {
    fn from(around: Around<'a>) -> Self {
        let Some(text) = around.text else {
            return Self {
                text: "",
                number: f64::NAN,
                present: false,
                error: None,
            };
        };
        let (number, error) = match label_number(text) {
            Ok(n) if n.is_nan() => (n, Some(NumError::Invalid)),
            Ok(n) => (n, None),
            Err(e) => (f64::NAN, Some(e)),
        };
        Self {
            text,
            number,
            present: true,
            error,
        }
    }
}

/// Walks the hints along ascending sample indices.
struct HintCursor<'h> {
    hints: &'h [Hint],
}

impl<'h> HintCursor<'h> {
    fn new(hints: &'h [Hint], base: usize) -> Self {
        let start = hints.partition_point(|h| (h.sample as usize) < base);
        Self {
            hints: hints.get(start..).unwrap_or(&[]),
        }
    }

    /// The hint of sample `index`, if it has one (indices must ascend).
    fn at(&mut self, index: usize) -> Option<Hint> {
        while let Some((first, rest)) = self.hints.split_first() {
            match (first.sample as usize).cmp(&index) {
                std::cmp::Ordering::Less => self.hints = rest,
                std::cmp::Ordering::Equal => return Some(*first),
                std::cmp::Ordering::Greater => return None,
            }
        }
        None
    }
}

/// The hint of sample `index`, if it has one.
fn hint_at(hints: &[Hint], index: usize) -> Option<Hint> {
    let at = hints
        .binary_search_by_key(&index, |h| h.sample as usize)
        .ok()?;
    hints.get(at).copied()
}

/// `text` without the commas and blanks it ends with.
fn trim_separators_end(text: &str) -> &str {
    let b = text.as_bytes();
    let mut end = b.len();
    while end > 0 && matches!(b.get(end - 1), Some(b',' | b' ' | b'\t')) {
        end -= 1;
    }
    text.get(..end).unwrap_or(text)
}

/// `text` without the commas and blanks it starts with.
fn trim_separators_start(text: &str) -> &str {
    let b = text.as_bytes();
    let mut start = 0;
    while matches!(b.get(start), Some(b',' | b' ' | b'\t')) {
        start += 1;
    }
    text.get(start..).unwrap_or(text)
}
