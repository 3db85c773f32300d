//! What the telemetry service computes from stored samples, as plain functions: the
//! increase of a counter over resets, rates over the part of a window that was
//! scraped, quantiles from cumulative histogram buckets, and from those each
//! target's health over a window ([`WindowIncreases::health`]).
//!
//! They follow PromQL's `increase` and `histogram_quantile`, without extrapolation to
//! the window's edges. The database does the reading ([`Store::slot_sums`]): a
//! window is cut into [`Slots`], and per target it returns a metric's sum over its
//! series (per bucket bound for a histogram) at the first scrape of the window and
//! the last of every slot. [`slot_increases`] turns those sums into increases per
//! slot, counting a drop as a reset, so a request reads a bounded number of rows
//! however long the fleet has run: targets × slots (× bucket bounds).
//!
//! [`Store::slot_sums`]: crate::store::Store::slot_sums
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

use keviq::model::parse_bucket_bound;

use crate::store::{ScrapeSum, Slots};

/// The agent runtime's invocation counter (a domain metric of the fleet, not one
/// every keviq service serves): its rate is on the dashboard.
pub const AGENT_INVOCATIONS_TOTAL: &str = "mona_agent_invocations_total";

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

/// The increase in each slot (oldest first) of a counter given by its values at
/// successive scrapes (time order): each increase between two scrapes counts in
/// the slot of the later one, a drop counts as a reset. A counter whose first
/// scrape comes after `first_ms` (its target's first scrape in the window) was
/// created in between, at zero: its first value counts as an increase.
///
/// ```
/// use keviq_telemetry::analytics::slot_increases;
/// use keviq_telemetry::store::Slots;
///
/// let slots = Slots { until_ms: 120_000, step_ms: 60_000, count: 2 };
/// // 10 → 15 in the first minute; a restart, then 3 in the second.
/// let points = [(1_000, 10.0), (50_000, 15.0), (90_000, 3.0)];
/// assert_eq!(slot_increases(&points, Some(1_000), &slots), [5.0, 3.0]);
/// // First seen after its target's first scrape: it counts from zero.
/// assert_eq!(slot_increases(&points[2..], Some(1_000), &slots), [0.0, 3.0]);
/// ```
pub fn slot_increases(points: &[(i64, f64)], first_ms: Option<i64>, slots: &Slots) -> Vec<f64> {
    let count = usize::try_from(slots.count.max(1)).unwrap_or(1);
    let mut increases = vec![0.0; count];
    let born = first_ms.is_some_and(|first| points.first().is_some_and(|p| p.0 > first));
    let mut prev = born.then_some(0.0);
    for &(ts_ms, value) in points {
        if let (Some(p), Some(slot)) = (prev, slots.slot_of(ts_ms))
            && let Some(i) = usize::try_from(slot)
                .ok()
                .and_then(|s| (count - 1).checked_sub(s))
        {
            increases[i] += delta(p, value);
        }
        prev = Some(value);
    }
    increases
}

/// A target and, for a histogram, a bucket bound (`le`).
type SumKey<'a> = (&'a str, Option<&'a str>);

/// `(scrape time in ms, sum)`, in time order.
type SumPoints = Vec<(i64, f64)>;

/// The sums of one metric grouped per target and bucket bound, in time order.
fn grouped(sums: &[ScrapeSum]) -> BTreeMap<SumKey<'_>, SumPoints> {
    let mut groups: BTreeMap<SumKey<'_>, SumPoints> = BTreeMap::new();
    for s in sums {
        groups
            .entry((&s.target, s.le.as_deref()))
            .or_default()
            .push((s.ts_ms, s.sum));
    }
    for points in groups.values_mut() {
        points.sort_by_key(|p| p.0);
    }
    groups
}

/// Per target: a counter's increase in each slot, oldest first ([`slot_increases`]),
/// from its sums over the target's series ([`Store::slot_sums`]).
///
/// [`Store::slot_sums`]: crate::store::Store::slot_sums
pub fn counter_slots(
    sums: &[ScrapeSum],
    first: &FirstScrapes,
    slots: &Slots,
) -> BTreeMap<String, Vec<f64>> {
    let mut by_target: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for ((target, _), points) in grouped(sums) {
        let increases = slot_increases(&points, first.get(target).copied(), slots);
        let total = by_target
            .entry(target.to_owned())
            .or_insert_with(|| vec![0.0; increases.len()]);
        for (t, i) in total.iter_mut().zip(increases) {
            *t += i;
        }
    }
    by_target
}

/// Per target: a histogram's bucket increases in each slot, oldest first, as one
/// cumulative histogram per slot ([`merge_buckets`]), from its `_bucket` sums per
/// bound. A bound that is not a number (`le`) is left out.
pub fn bucket_slots(
    sums: &[ScrapeSum],
    first: &FirstScrapes,
    slots: &Slots,
) -> BTreeMap<String, Vec<Vec<(f64, f64)>>> {
    let mut by_target: BTreeMap<String, Vec<Vec<(f64, f64)>>> = BTreeMap::new();
    for ((target, le), points) in grouped(sums) {
        let Some(bound) = le.and_then(parse_bucket_bound) else {
            continue;
        };
        let increases = slot_increases(&points, first.get(target).copied(), slots);
        let per_slot = by_target
            .entry(target.to_owned())
            .or_insert_with(|| vec![Vec::new(); increases.len()]);
        for (slot, increase) in per_slot.iter_mut().zip(increases) {
            slot.push((bound, increase));
        }
    }
    by_target
        .into_iter()
        .map(|(target, per_slot)| (target, per_slot.into_iter().map(merge_buckets).collect()))
        .collect()
}

/// Per target: the slots' increases added up (the window's).
pub fn window_totals(per_slot: &BTreeMap<String, Vec<f64>>) -> BTreeMap<String, f64> {
    per_slot
        .iter()
        .map(|(target, slots)| (target.clone(), slots.iter().sum()))
        .collect()
}

/// Per target: the slots' histograms merged into the window's.
pub fn window_buckets(
    per_slot: &BTreeMap<String, Vec<Vec<(f64, f64)>>>,
) -> BTreeMap<String, Vec<(f64, f64)>> {
    per_slot
        .iter()
        .map(|(target, slots)| {
            (
                target.clone(),
                merge_buckets(slots.iter().flatten().copied()),
            )
        })
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
    /// Request-duration histogram, merged over paths and methods ([`window_buckets`]).
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
    use super::*;

    fn sum(target: &str, le: Option<&str>, ts_ms: i64, sum: f64) -> ScrapeSum {
        ScrapeSum {
            target: target.to_owned(),
            ts_ms,
            le: le.map(str::to_owned),
            sum,
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
    fn slots_count_from_the_newest_and_exclude_the_window_start() {
        let slots = Slots {
            until_ms: 3_600_000,
            step_ms: 60_000,
            count: 60,
        };
        assert_eq!(slots.since_ms(), 0);
        assert_eq!(slots.slot_of(3_600_000), Some(0));
        assert_eq!(slots.slot_of(3_540_001), Some(0));
        assert_eq!(slots.slot_of(3_540_000), Some(1));
        assert_eq!(slots.slot_of(1), Some(59));
        assert_eq!((slots.slot_of(0), slots.slot_of(3_600_001)), (None, None));
    }

    #[test]
    fn increases_land_in_the_slot_of_the_later_scrape() {
        let slots = Slots {
            until_ms: 3_600_000,
            step_ms: 60_000,
            count: 60,
        };
        let points = [
            (3_600_000 - 150_000, 10.0),
            (3_600_000 - 90_000, 70.0),
            (3_600_000 - 30_000, 10.0),
        ];
        let minutes = slot_increases(&points, Some(3_600_000 - 150_000), &slots);
        assert_eq!(minutes.len(), 60);
        assert_eq!(minutes[58], 60.0);
        assert_eq!(minutes[59], 10.0, "a reset counts the new value");
        assert_eq!(minutes.iter().sum::<f64>(), 70.0);
        assert_eq!(slot_increases(&[], Some(0), &slots), vec![0.0; 60]);
    }

    #[test]
    fn counters_born_after_the_first_scrape_count_from_zero() {
        let slots = Slots {
            until_ms: 10_000,
            step_ms: 10_000,
            count: 1,
        };
        let sums = [
            sum("a:1", None, 2_000, 5.0),
            sum("a:1", None, 4_000, 7.0),
            // First seen after its target's first scrape: created in between.
            sum("b:1", None, 4_000, 4.0),
        ];
        let first: FirstScrapes = [("a:1".to_owned(), 2_000), ("b:1".to_owned(), 2_000)].into();
        let totals = window_totals(&counter_slots(&sums, &first, &slots));
        assert_eq!(totals["a:1"], 2.0);
        assert_eq!(totals["b:1"], 4.0);
        let unknown_first = window_totals(&counter_slots(&sums, &FirstScrapes::new(), &slots));
        assert_eq!(unknown_first["b:1"], 0.0);
    }

    #[test]
    fn bucket_sums_become_one_histogram_per_slot_and_target() {
        let slots = Slots {
            until_ms: 180_000,
            step_ms: 60_000,
            count: 3,
        };
        let mut sums = Vec::new();
        for (le, values) in [("10", [0.0, 4.0, 4.0]), ("+Inf", [0.0, 4.0, 8.0])] {
            for (ts, value) in [30_000, 90_000, 150_000].into_iter().zip(values) {
                sums.push(sum("a:1", Some(le), ts, value));
            }
        }
        sums.push(sum("a:1", Some("bad"), 150_000, 9.0));
        let first: FirstScrapes = [("a:1".to_owned(), 30_000)].into();
        let per_slot = &bucket_slots(&sums, &first, &slots)["a:1"];
        assert_eq!(per_slot[0], [(10.0, 0.0), (f64::INFINITY, 0.0)]);
        assert_eq!(per_slot[1], [(10.0, 4.0), (f64::INFINITY, 4.0)]);
        assert_eq!(per_slot[2], [(10.0, 0.0), (f64::INFINITY, 4.0)]);
        let q = |slot: usize| histogram_quantile(0.5, &per_slot[slot]);
        assert_eq!((q(0), q(1), q(2)), (None, Some(5.0), Some(10.0)));
        let window = window_buckets(&bucket_slots(&sums, &first, &slots));
        assert_eq!(window["a:1"], [(10.0, 4.0), (f64::INFINITY, 8.0)]);
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
