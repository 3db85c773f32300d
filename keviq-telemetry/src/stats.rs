//! Rates and percentiles from stored samples, as PromQL's `increase` and
//! `histogram_quantile` compute them (without extrapolation to the window's edges).

use std::collections::BTreeMap;

/// How much a counter grew over samples in time order, counting a drop as a reset
/// (the process restarted, and counted up from zero again).
///
/// ```
/// use keviq_telemetry::stats::increase;
/// assert_eq!(increase(&[10.0, 15.0, 3.0, 5.0]), 5.0 + 3.0 + 2.0);
/// ```
pub fn increase(values: &[f64]) -> f64 {
    values
        .windows(2)
        .map(|w| if w[1] >= w[0] { w[1] - w[0] } else { w[1] })
        .filter(|d| d.is_finite())
        .sum()
}

/// The `q`-quantile (0 ≤ q ≤ 1) of a histogram given as cumulative bucket counts by
/// upper bound (`+Inf` included), interpolating linearly inside the bucket, as
/// `histogram_quantile` does. `None` when there is no observation or no `+Inf`
/// bucket; the highest finite bound when the quantile falls in `+Inf`.
///
/// ```
/// use keviq_telemetry::stats::histogram_quantile;
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

/// Sums per-bound bucket increases over several series (all paths and methods of a
/// service) into one cumulative histogram.
pub fn merge_buckets(series: impl IntoIterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut by_bound: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for (le, count) in series {
        // Order-preserving key for f64 bounds (all bounds are positive or +Inf here).
        let entry = by_bound.entry(le.to_bits()).or_insert((le, 0.0));
        entry.1 += count;
    }
    let mut merged: Vec<(f64, f64)> = by_bound.into_values().collect();
    merged.sort_by(|a, b| a.0.total_cmp(&b.0));
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
