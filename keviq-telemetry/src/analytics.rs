//! What the telemetry service computes from stored samples, as plain functions: the
//! increase of a counter over resets, rates over the part of a window that was
//! scraped, quantiles from cumulative histogram buckets, and from those each
//! target's health over a window ([`WindowIncreases::health`]).
//!
//! They follow PromQL's `increase` and `histogram_quantile`, without extrapolation to
//! the window's edges. The API's handlers fetch the rows and call these.
//!
//! ```
//! use keviq_telemetry::analytics::{histogram_quantile, increase};
//!
//! // A counter that restarted at 3: it grew by 5, then 3, then 2.
//! assert_eq!(increase(&[10.0, 15.0, 3.0, 5.0]), 10.0);
//! let buckets = [(10.0, 50.0), (20.0, 100.0), (f64::INFINITY, 100.0)];
//! assert_eq!(histogram_quantile(0.75, &buckets), Some(15.0));
//! ```

use std::collections::BTreeMap;

use keviq::model::BUCKET_LABEL;

use crate::sample::Labels;
use crate::store::StoredSample;

/// How much a counter grew between two consecutive values: the difference, or after
/// a drop (a reset: the process restarted and counted up from zero again) the new
/// value; `0` when either is not a finite number.
fn delta(prev: f64, next: f64) -> f64 {
    let d = if next >= prev { next - prev } else { next };
    if d.is_finite() { d } else { 0.0 }
}

/// How much a counter grew over samples in time order, counting a drop as a reset.
///
/// ```
/// use keviq_telemetry::analytics::increase;
/// assert_eq!(increase(&[10.0, 15.0, 3.0, 5.0]), 5.0 + 3.0 + 2.0);
/// ```
pub fn increase(values: &[f64]) -> f64 {
    values.windows(2).map(|w| delta(w[0], w[1])).sum()
}

/// A histogram bucket's upper bound from its `le` label as the formats write it
/// (`0.5`, `1e3`, `+Inf`): the parser has checked it is a number in the formats'
/// grammar, and Rust reads the same spellings. `None` for anything else.
///
/// ```
/// use keviq_telemetry::analytics::bucket_bound;
/// assert_eq!(bucket_bound("+Inf"), Some(f64::INFINITY));
/// assert_eq!(bucket_bound("2.5e1"), Some(25.0));
/// assert_eq!(bucket_bound("many"), None);
/// ```
pub fn bucket_bound(le: &str) -> Option<f64> {
    le.trim().parse().ok()
}

/// The `q`-quantile (0 ≤ q ≤ 1) of a histogram given as cumulative bucket counts by
/// upper bound (`+Inf` included), interpolating linearly inside the bucket, as
/// `histogram_quantile` does. `None` when there is no observation or no `+Inf`
/// bucket; the highest finite bound when the quantile falls in `+Inf`.
///
/// ```
/// use keviq_telemetry::analytics::histogram_quantile;
/// let buckets = [(10.0, 50.0), (20.0, 100.0), (f64::INFINITY, 100.0)];
/// assert_eq!(histogram_quantile(0.5, &buckets), Some(10.0));
/// assert_eq!(histogram_quantile(0.75, &buckets), Some(15.0));
/// ```
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut sorted: Vec<(f64, f64)> = buckets
        .iter()
        .copied()
        .filter(|(le, _)| !le.is_nan())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let &(last_le, total) = sorted.last()?;
    if last_le != f64::INFINITY || total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, count) in &sorted {
        if count >= rank {
            if le == f64::INFINITY {
                return Some(prev.0);
            }
            let (lower, below) = if prev.0 == 0.0 && le <= 0.0 {
                (le, 0.0)
            } else {
                prev
            };
            let in_bucket = count - below;
            if in_bucket <= 0.0 {
                return Some(le);
            }
            return Some(lower + (le - lower) * (rank - below) / in_bucket);
        }
        prev = (le, count);
    }
    None
}

/// Sums per-bound bucket counts of several series (all paths and methods of a
/// service) into one cumulative histogram, sorted by bound.
pub fn merge_buckets(series: impl IntoIterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut by_bound: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for (le, count) in series {
        // Keyed by the bound's bits: one entry per distinct bound.
        let entry = by_bound.entry(le.to_bits()).or_insert((le, 0.0));
        entry.1 += count;
    }
    let mut merged: Vec<(f64, f64)> = by_bound.into_values().collect();
    merged.sort_by(|a, b| a.0.total_cmp(&b.0));
    merged
}

/// Each target's first scrape in a window, milliseconds since the epoch.
pub type FirstScrapes = BTreeMap<String, i64>;

/// One series over a window: the samples of one target with one name and label set.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<'a> {
    /// `host:port` of the target.
    pub target: &'a str,
    /// The sample name.
    pub name: &'a str,
    /// The labels.
    pub labels: &'a Labels,
    /// `(scrape time in ms, value)`, in time order.
    pub points: Vec<(i64, f64)>,
}

impl Series<'_> {
    /// The counter's increase over the series ([`increase`]).
    pub fn increase(&self) -> f64 {
        self.points.windows(2).map(|w| delta(w[0].1, w[1].1)).sum()
    }
}

/// Groups rows in time order (as the store returns them) into series. A series
/// first seen after its target's first scrape in the window was created in between,
/// at zero: it starts with a zero point at its first scrape time, so its first value
/// counts as an increase.
pub fn series<'a>(rows: &'a [StoredSample], first_scrapes: &FirstScrapes) -> Vec<Series<'a>> {
    // Target, name, labels: what makes a series.
    type Key<'a> = (&'a str, &'a str, &'a Labels);
    let mut grouped: BTreeMap<Key<'_>, Vec<(i64, f64)>> = BTreeMap::new();
    for r in rows {
        grouped
            .entry((&r.target, &r.sample.name, &r.sample.labels))
            .or_default()
            .push((r.ts_ms, r.sample.value));
    }
    grouped
        .into_iter()
        .map(|((target, name, labels), mut points)| {
            if let (Some(first), Some(&(born, _))) = (first_scrapes.get(target), points.first())
                && born > *first
            {
                points.insert(0, (born, 0.0));
            }
            Series {
                target,
                name,
                labels,
                points,
            }
        })
        .collect()
}

/// Per target: the increases of its series of a counter, summed.
pub fn increases_by_target(series: &[Series<'_>]) -> BTreeMap<String, f64> {
    let mut totals = BTreeMap::new();
    for s in series {
        *totals.entry(s.target.to_owned()).or_insert(0.0) += s.increase();
    }
    totals
}

/// Per target: the increases of its `_bucket` series over a window, merged into one
/// cumulative histogram by bound ([`merge_buckets`]). A series without a numeric
/// `le` is left out.
pub fn buckets_by_target(series: &[Series<'_>]) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut by_target: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for s in series {
        if let Some(le) = s.labels.get(BUCKET_LABEL).and_then(bucket_bound) {
            by_target
                .entry(s.target.to_owned())
                .or_default()
                .push((le, s.increase()));
        }
    }
    by_target
        .into_iter()
        .map(|(target, buckets)| (target, merge_buckets(buckets)))
        .collect()
}

/// The seconds a target's rates are averaged over: the window, or less when the
/// target's first scrape in it came later (a fleet started two minutes ago is not
/// averaged over five); at least one second.
pub fn covered_seconds(window: f64, first_ms: Option<i64>, until_ms: i64) -> f64 {
    first_ms.map_or(window, |first| {
        ((until_ms - first) as f64 / 1000.0).clamp(1.0, window)
    })
}

/// A counter's rate per second in each of the 60 minutes up to `until_ms` (oldest
/// first), for one target: each increase between consecutive scrapes of a series
/// counts in the minute of the later scrape.
pub fn per_minute_rate(series: &[Series<'_>], target: &str, until_ms: i64) -> Vec<f64> {
    let mut minutes = vec![0.0; 60];
    for s in series.iter().filter(|s| s.target == target) {
        for w in s.points.windows(2) {
            let age = until_ms - w[1].0;
            let slot = 59 - (age / 60_000).clamp(0, 59) as usize;
            minutes[slot] += delta(w[0].1, w[1].1) / 60.0;
        }
    }
    minutes
}

/// A histogram's quantiles in each of the 60 minutes up to `until_ms` (oldest
/// first), for one target's `_bucket` series: each bucket increase between
/// consecutive scrapes counts in the minute of the later scrape, as in
/// [`per_minute_rate`]; a minute without observations is `None`.
pub fn per_minute_quantiles(
    series: &[Series<'_>],
    target: &str,
    until_ms: i64,
    quantiles: &[f64],
) -> Vec<Vec<Option<f64>>> {
    let mut minutes: Vec<Vec<(f64, f64)>> = vec![Vec::new(); 60];
    for s in series.iter().filter(|s| s.target == target) {
        let Some(le) = s.labels.get(BUCKET_LABEL).and_then(bucket_bound) else {
            continue;
        };
        for w in s.points.windows(2) {
            let age = until_ms - w[1].0;
            let slot = 59 - (age / 60_000).clamp(0, 59) as usize;
            minutes[slot].push((le, delta(w[0].1, w[1].1)));
        }
    }
    minutes
        .into_iter()
        .map(|buckets| {
            let merged = merge_buckets(buckets);
            quantiles
                .iter()
                .map(|&q| histogram_quantile(q, &merged))
                .collect()
        })
        .collect()
}

/// One target's health over a window, as the dashboard shows it (and as
/// `GET /api/v1/services` writes it, field by field).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ServiceHealth {
    /// HTTP requests per second.
    pub request_rate: f64,
    /// HTTP requests answered with status >= 500, per second.
    pub error_rate: f64,
    /// Median request duration in ms; `None` without observations.
    pub p50_ms: Option<f64>,
    /// 99th percentile of the request duration in ms; `None` without observations.
    pub p99_ms: Option<f64>,
    /// Agent invocations per second; `None` for a service without agent metrics.
    pub agent_invocation_rate: Option<f64>,
}

/// A window's counter and bucket increases per target: what every target's
/// [`ServiceHealth`] follows from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowIncreases {
    /// The window's length in seconds.
    pub seconds: f64,
    /// The window's end, milliseconds since the epoch.
    pub until_ms: i64,
    /// Each target's first scrape in the window.
    pub first_scrapes: FirstScrapes,
    /// Increase of the HTTP request counter.
    pub requests: BTreeMap<String, f64>,
    /// Increase of the HTTP error counter.
    pub errors: BTreeMap<String, f64>,
    /// Increase of the agent invocation counter (only targets that serve it).
    pub invocations: BTreeMap<String, f64>,
    /// Request-duration histogram, merged over paths and methods ([`buckets_by_target`]).
    pub latency_buckets: BTreeMap<String, Vec<(f64, f64)>>,
}

impl WindowIncreases {
    /// The health of `target`: its increases divided by the part of the window it
    /// was scraped in ([`covered_seconds`]), and its latency quantiles.
    pub fn health(&self, target: &str) -> ServiceHealth {
        let span = covered_seconds(
            self.seconds,
            self.first_scrapes.get(target).copied(),
            self.until_ms,
        );
        let buckets = self
            .latency_buckets
            .get(target)
            .map_or(&[][..], Vec::as_slice);
        ServiceHealth {
            request_rate: self.requests.get(target).copied().unwrap_or(0.0) / span,
            error_rate: self.errors.get(target).copied().unwrap_or(0.0) / span,
            p50_ms: histogram_quantile(0.5, buckets),
            p99_ms: histogram_quantile(0.99, buckets),
            agent_invocation_rate: self.invocations.get(target).map(|v| v / span),
        }
    }
}

#[cfg(test)]
mod tests {
    use keviq::MetricType;

    use super::*;
    use crate::sample::Sample;

    fn row(target: &str, labels: &[(&str, &str)], ts_ms: i64, value: f64) -> StoredSample {
        StoredSample {
            target: target.to_owned(),
            ts_ms,
            sample: Sample {
                name: "x_total".to_owned(),
                metric_type: MetricType::Unknown,
                labels: labels.iter().copied().collect(),
                value,
                timestamp_ms: None,
            },
        }
    }

    #[test]
    fn increase_handles_resets_and_short_input() {
        assert_eq!(increase(&[]), 0.0);
        assert_eq!(increase(&[7.0]), 0.0);
        assert_eq!(increase(&[1.0, 2.0, 4.0]), 3.0);
        assert_eq!(increase(&[100.0, 2.0]), 2.0);
        assert_eq!(increase(&[1.0, f64::NAN, 3.0]), 0.0 + 3.0);
    }

    #[test]
    fn quantiles_follow_histogram_quantile() {
        let b = [
            (1.0, 0.0),
            (5.0, 80.0),
            (10.0, 99.0),
            (f64::INFINITY, 100.0),
        ];
        assert_eq!(histogram_quantile(0.5, &b), Some(1.0 + 4.0 * 50.0 / 80.0));
        assert_eq!(histogram_quantile(0.99, &b), Some(10.0));
        assert_eq!(histogram_quantile(1.0, &b), Some(10.0));
        assert_eq!(
            histogram_quantile(0.5, &[(1.0, 0.0), (f64::INFINITY, 0.0)]),
            None
        );
        assert_eq!(
            histogram_quantile(0.5, &[(1.0, 3.0)]),
            None,
            "no +Inf bucket"
        );
        assert_eq!(histogram_quantile(1.5, &b), None);
    }

    #[test]
    fn merging_sums_per_bound() {
        let merged = merge_buckets([
            (5.0, 1.0),
            (f64::INFINITY, 2.0),
            (5.0, 3.0),
            (f64::INFINITY, 4.0),
        ]);
        assert_eq!(merged, [(5.0, 4.0), (f64::INFINITY, 6.0)]);
    }

    #[test]
    fn rates_cover_the_window_or_the_time_since_the_first_scrape() {
        let now = 1_000_000;
        assert_eq!(covered_seconds(300.0, None, now), 300.0);
        assert_eq!(covered_seconds(300.0, Some(now - 120_000), now), 120.0);
        assert_eq!(covered_seconds(300.0, Some(now - 900_000), now), 300.0);
        assert_eq!(covered_seconds(300.0, Some(now), now), 1.0);
    }

    #[test]
    fn series_are_grouped_by_target_and_label_set_and_born_at_zero() {
        let rows = [
            row("a:1", &[("p", "/"), ("m", "GET")], 1_000, 5.0),
            row("a:1", &[("m", "GET"), ("p", "/")], 2_000, 7.0),
            // First seen at the second scrape: created in between, at zero.
            row("a:1", &[("p", "/new")], 2_000, 4.0),
            row("b:1", &[("p", "/")], 1_000, 9.0),
        ];
        let first: FirstScrapes = [("a:1".to_owned(), 1_000), ("b:1".to_owned(), 1_000)].into();
        let series = series(&rows, &first);
        assert_eq!(series.len(), 3);
        assert_eq!(series[0].points, [(1_000, 5.0), (2_000, 7.0)]);
        assert_eq!(series[1].points, [(2_000, 0.0), (2_000, 4.0)]);
        let totals = increases_by_target(&series);
        assert_eq!(totals["a:1"], 2.0 + 4.0);
        assert_eq!(totals["b:1"], 0.0);
    }

    #[test]
    fn bucket_series_merge_into_one_histogram_per_target() {
        let rows = [
            row("a:1", &[("p", "/x"), ("le", "5")], 0, 1.0),
            row("a:1", &[("p", "/x"), ("le", "+Inf")], 0, 1.0),
            row("a:1", &[("p", "/y"), ("le", "5")], 0, 0.0),
            row("a:1", &[("p", "/y"), ("le", "+Inf")], 0, 2.0),
            row("a:1", &[("p", "/x"), ("le", "5")], 10, 4.0),
            row("a:1", &[("p", "/x"), ("le", "+Inf")], 10, 5.0),
            row("a:1", &[("p", "/y"), ("le", "5")], 10, 1.0),
            row("a:1", &[("p", "/y"), ("le", "+Inf")], 10, 4.0),
            row("a:1", &[("p", "/z"), ("le", "bad")], 10, 4.0),
        ];
        let buckets = buckets_by_target(&series(&rows, &FirstScrapes::new()));
        assert_eq!(
            buckets["a:1"],
            [(5.0, 3.0 + 1.0), (f64::INFINITY, 4.0 + 2.0)]
        );
    }

    #[test]
    fn per_minute_rates_land_in_the_minute_of_the_later_scrape() {
        let until = 3_600_000;
        let rows = [
            row("a:1", &[], until - 150_000, 10.0),
            row("a:1", &[], until - 90_000, 70.0),
            row("a:1", &[], until - 30_000, 10.0),
            row("b:1", &[], until - 30_000, 99.0),
        ];
        let minutes = per_minute_rate(&series(&rows, &FirstScrapes::new()), "a:1", until);
        assert_eq!(minutes.len(), 60);
        assert_eq!(minutes[58], 60.0 / 60.0);
        assert_eq!(minutes[59], 10.0 / 60.0, "a reset counts the new value");
        assert!((minutes.iter().sum::<f64>() - 70.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn per_minute_quantiles_follow_each_minutes_bucket_increases() {
        let until = 3_600_000;
        let mut rows = Vec::new();
        for (le, values) in [("10", [0.0, 4.0, 4.0]), ("+Inf", [0.0, 4.0, 8.0])] {
            for (ago, value) in [150_000, 90_000, 30_000].into_iter().zip(values) {
                rows.push(row("a:1", &[("le", le)], until - ago, value));
            }
        }
        rows.sort_by_key(|r| r.ts_ms);
        let q = per_minute_quantiles(&series(&rows, &FirstScrapes::new()), "a:1", until, &[0.5]);
        assert_eq!(q.len(), 60);
        assert_eq!(q[58], vec![Some(5.0)], "all four under 10");
        assert_eq!(
            q[59],
            vec![Some(10.0)],
            "all four above 10: the highest finite bound"
        );
        assert_eq!(q[0], vec![None]);
    }

    #[test]
    fn health_divides_by_the_covered_part_of_the_window() {
        let increases = WindowIncreases {
            seconds: 300.0,
            until_ms: 1_000_000,
            first_scrapes: [("a:1".to_owned(), 1_000_000 - 120_000)].into(),
            requests: [("a:1".to_owned(), 240.0)].into(),
            errors: [("a:1".to_owned(), 12.0)].into(),
            invocations: BTreeMap::new(),
            latency_buckets: [("a:1".to_owned(), vec![(10.0, 50.0), (f64::INFINITY, 100.0)])]
                .into(),
        };
        let h = increases.health("a:1");
        assert_eq!((h.request_rate, h.error_rate), (2.0, 0.1));
        assert_eq!((h.p50_ms, h.p99_ms), (Some(10.0), Some(10.0)));
        assert_eq!(h.agent_invocation_rate, None);
        let unknown = increases.health("b:1");
        assert_eq!((unknown.request_rate, unknown.p50_ms), (0.0, None));
    }
}
