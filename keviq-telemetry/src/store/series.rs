//! Series ids, resolved in memory: a scrape's samples find their series here, and
//! only series never seen (or forgotten) go to the database.

use std::collections::HashMap;

use crate::sample::Labels;

/// Series whose ids are kept in memory at most. An entry holds the metric name and
/// the labels (a few hundred bytes for a typical series), so the bound is about
/// 100–200 MB at its fullest: five 100,000-series targets, or hundreds of services
/// of a few thousand series each. Past it the map is emptied and fills again from
/// the scrapes that follow: each series then costs one more look-up in the database
/// (an upsert that returns the existing id), and nothing is stored twice.
pub const MAX_CACHED_SERIES: usize = 500_000;

/// Ids by target, then metric, then labels: looked up with borrowed keys, so a
/// sample whose series is known costs no allocation.
#[derive(Debug, Default)]
pub(super) struct SeriesCache {
    by_target: HashMap<String, HashMap<String, HashMap<Labels, i64>>>,
    len: usize,
}

impl SeriesCache {
    /// The id of a known series.
    pub(super) fn get(&self, target: &str, metric: &str, labels: &Labels) -> Option<i64> {
        self.by_target
            .get(target)?
            .get(metric)?
            .get(labels)
            .copied()
    }

    /// Remembers a series' id; past [`MAX_CACHED_SERIES`] forgets every other first.
    pub(super) fn insert(&mut self, target: &str, metric: &str, labels: Labels, id: i64) {
        if self.len >= MAX_CACHED_SERIES {
            self.by_target.clear();
            self.len = 0;
        }
        let by_metric = match self.by_target.get_mut(target) {
            Some(m) => m,
            None => self.by_target.entry(target.to_owned()).or_default(),
        };
        let by_labels = match by_metric.get_mut(metric) {
            Some(m) => m,
            None => by_metric.entry(metric.to_owned()).or_default(),
        };
        if by_labels.insert(labels, id).is_none() {
            self.len += 1;
        }
    }

    /// How many series are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &str) -> Labels {
        Labels::from_json(&format!("{{\"a\":\"{v}\"}}")).expect("labels")
    }

    #[test]
    fn known_series_are_found_and_the_bound_empties_the_map() {
        let mut cache = SeriesCache::default();
        cache.insert("t:1", "m", labels("x"), 7);
        assert_eq!(cache.get("t:1", "m", &labels("x")), Some(7));
        assert_eq!(cache.get("t:1", "m", &labels("y")), None);
        assert_eq!(cache.get("t:2", "m", &labels("x")), None);
        cache.insert("t:1", "m", labels("x"), 7);
        assert_eq!(cache.len(), 1, "a series is counted once");
        for i in 1..MAX_CACHED_SERIES {
            cache.insert("t:1", "n", labels(&i.to_string()), i as i64);
        }
        assert_eq!(cache.len(), MAX_CACHED_SERIES);
        cache.insert("t:1", "n", labels("last"), -1);
        assert_eq!(cache.len(), 1, "emptied past the bound");
        assert_eq!(cache.get("t:1", "m", &labels("x")), None);
    }
}
