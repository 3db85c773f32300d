//! The dashboard's figures, aggregated by the database ([`Store::slot_sums`]): per
//! target and slot of a window, the last scrape is found with one index seek, and
//! only the sum of its series (per bucket bound for a histogram) leaves the
//! database.

use super::read::{Arg, Bounded, Sql};
use super::{Backend, Store, StoreError};
use crate::sample::UP;

/// Targets bound in one statement of [`Store::slot_sums`] and
/// [`Store::first_scrapes`]; more are read in several.
const TARGETS_PER_STATEMENT: usize = 500;

/// Distinct bucket bounds per target and scrape [`Store::slot_sums`] reads at most.
pub const MAX_BUCKET_BOUNDS: usize = 100;
/// The slots of a window the dashboard's figures are read in: `count` slots of
/// `step_ms`, the newest ending at `until_ms` (slot 0), so the window is
/// `(until_ms - count * step_ms, until_ms]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    /// The end of the newest slot, milliseconds since the epoch.
    pub until_ms: i64,
    /// Each slot's length in ms (at least 1).
    pub step_ms: i64,
    /// How many slots (at least 1).
    pub count: i64,
}

impl Slots {
    /// The start of the oldest slot (exclusive).
    pub fn since_ms(&self) -> i64 {
        self.until_ms
            .saturating_sub(self.step_ms.saturating_mul(self.count))
    }

    /// The slot a time falls in, `0` for the newest; `None` outside the window.
    pub fn slot_of(&self, ts_ms: i64) -> Option<i64> {
        if ts_ms > self.until_ms || ts_ms <= self.since_ms() {
            return None;
        }
        Some((self.until_ms - ts_ms) / self.step_ms.max(1))
    }
}

/// A metric summed over one target's series at one scrape (per bucket bound for a
/// histogram's `_bucket` series): what [`Store::slot_sums`] reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeSum {
    /// `host:port`.
    pub target: String,
    /// The scrape time, milliseconds since the epoch.
    pub ts_ms: i64,
    /// The `le` label, for sums per bucket bound.
    pub le: Option<String>,
    /// The sum of the finite values.
    pub sum: f64,
}

impl Store {
    /// Each target's first successful scrape in `(since_ms, until_ms]`: its first
    /// `up` sample of value 1 (the scraper ends every scrape with one) or, for rows
    /// stored without, its first sample named in `metrics`, whichever is earlier;
    /// one index seek per target and metric. Targets without one are left out.
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    pub async fn first_scrapes(
        &self,
        targets: &[String],
        metrics: &[&str],
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut found = Vec::new();
        for chunk in targets.chunks(TARGETS_PER_STATEMENT) {
            let mut sql = Sql::new(
                "",
                vec![
                    Arg::Int(since_ms),
                    Arg::Int(until_ms),
                    Arg::Text(UP.to_owned()),
                ],
            );
            let targets = values(&mut sql, chunk.iter().cloned().map(Arg::Text));
            let metrics = values(
                &mut sql,
                std::iter::once(UP)
                    .chain(metrics.iter().copied())
                    .map(|m| Arg::Text(m.to_owned())),
            );
            // Per target and metric: the target's scrapes in the range, oldest first,
            // each checked for a sample of one of the metric's series (by key).
            sql.text = format!(
                "WITH targets(t) AS (VALUES {targets}), metrics(m) AS (VALUES {metrics})
                 SELECT t, CAST(MIN(first) AS BIGINT) FROM (
                     SELECT t, (SELECT sc.ts_ms FROM telemetry_core.scrapes sc
                                WHERE sc.target = t AND sc.ts_ms > $1 AND sc.ts_ms <= $2
                                  AND EXISTS (
                                      SELECT 1 FROM telemetry_core.series se
                                      {join} telemetry_core.samples s
                                        ON s.scrape_id = sc.id AND s.series_id = se.id
                                      WHERE se.target = t AND se.metric = m
                                        AND (m <> $3 OR s.value = 1))
                                ORDER BY sc.ts_ms LIMIT 1) AS first
                     FROM targets CROSS JOIN metrics) firsts
                 WHERE first IS NOT NULL GROUP BY t LIMIT {}",
                chunk.len(),
                join = self.join(),
            );
            found.extend(self.read::<(String, i64)>(&sql.text, &sql.args).await?);
        }
        Ok(found)
    }

    /// `metric` summed per target at the scrapes that bound the `slots`: each
    /// target's first scrape of the metric in the window and its last in every slot
    /// (one index seek each), summed over the target's series by the database — per
    /// bucket bound (`le`) when `by_bound`, for a histogram's `_bucket` series. Non-finite
    /// values are left out of the sums. By target, then time; at most
    /// `targets × (slots + 1)` rows (times [`MAX_BUCKET_BOUNDS`] by bound), so the
    /// rows read follow the fleet and the slots, not how long it has run.
    ///
    /// A counter's increase between two such sums is its series' increases added up
    /// while none reset (a process that restarts resets all of them: the sum drops).
    ///
    /// # Errors
    /// The database failed, or the read ran past its timeout.
    pub async fn slot_sums(
        &self,
        metric: &str,
        targets: &[String],
        slots: &Slots,
        by_bound: bool,
    ) -> Result<Bounded<ScrapeSum>, StoreError> {
        let mut sums = Bounded {
            rows: Vec::new(),
            truncated: false,
        };
        for chunk in targets.chunks(TARGETS_PER_STATEMENT) {
            let part = self.slot_sums_of(metric, chunk, slots, by_bound).await?;
            sums.rows.extend(part.rows);
            sums.truncated |= part.truncated;
        }
        Ok(sums)
    }

    async fn slot_sums_of(
        &self,
        metric: &str,
        targets: &[String],
        slots: &Slots,
        by_bound: bool,
    ) -> Result<Bounded<ScrapeSum>, StoreError> {
        let mut sql = Sql::new(
            "",
            vec![
                Arg::Text(metric.to_owned()),
                Arg::Int(slots.until_ms),
                Arg::Int(slots.step_ms.max(1)),
                Arg::Int(slots.count.max(1)),
                Arg::Int(slots.since_ms()),
            ],
        );
        let list = values(&mut sql, targets.iter().cloned().map(Arg::Text));
        let bounds = if by_bound { MAX_BUCKET_BOUNDS } else { 1 };
        let cap = targets.len() * (usize::try_from(slots.count).unwrap_or(0) + 1) * bounds;
        // SQLite would otherwise scan the metric's every row and probe the picks:
        // its `CROSS JOIN` keeps the picks outside, each joined by index.
        let join = self.join();
        // The bucket bound of each series, read once per series (NULL: no split).
        let le = match (by_bound, self.backend) {
            (false, _) => "CAST(NULL AS TEXT)",
            (true, Backend::Sqlite) => {
                "CASE WHEN json_valid(labels) THEN json_extract(labels, '$.le') END"
            }
            (true, Backend::Postgres) => "labels::json ->> 'le'",
        };
        // $1 metric, $2 until, $3 step, $4 slots, $5 since. The picks are scrapes
        // of the target that hold the metric; a slot without one picks NULL and
        // joins nothing. Summed per pick before the scrape's time is joined: a
        // shorter key to group by (10% less time on the API soak's histogram).
        let holds_metric = format!(
            "EXISTS (SELECT 1 FROM ser
                     {join} telemetry_core.samples s ON s.scrape_id = sc.id AND s.series_id = ser.id
                     WHERE ser.st = t)"
        );
        sql.text = format!(
            "WITH RECURSIVE slots(k, hi) AS (
                 SELECT 0, CAST($2 AS BIGINT)
                 UNION ALL SELECT k + 1, hi - $3 FROM slots WHERE k + 1 < $4),
             targets(t) AS (VALUES {list}),
             ser(id, st, le) AS MATERIALIZED (
                 SELECT id, target, {le} FROM telemetry_core.series
                 WHERE metric = $1 AND target IN (SELECT t FROM targets)),
             picks(t, id) AS (
                 SELECT t, (SELECT sc.id FROM telemetry_core.scrapes sc
                            WHERE sc.target = t AND sc.ts_ms > hi - $3 AND sc.ts_ms <= hi
                              AND {holds_metric}
                            ORDER BY sc.ts_ms DESC LIMIT 1)
                 FROM targets CROSS JOIN slots
                 UNION
                 SELECT t, (SELECT sc.id FROM telemetry_core.scrapes sc
                            WHERE sc.target = t AND sc.ts_ms > $5 AND sc.ts_ms <= $2
                              AND {holds_metric}
                            ORDER BY sc.ts_ms LIMIT 1)
                 FROM targets)
             SELECT g.t, sc.ts_ms, g.le, g.sum FROM (
                 SELECT p.t AS t, p.id AS id, ser.le AS le,
                        CAST(SUM(s.value) AS DOUBLE PRECISION) AS sum
                 FROM picks p
                 {join} ser ON ser.st = p.t
                 {join} telemetry_core.samples s ON s.scrape_id = p.id AND s.series_id = ser.id
                 WHERE s.value > -1e308 AND s.value < 1e308
                 GROUP BY p.t, p.id, ser.le) g
             {join} telemetry_core.scrapes sc ON sc.id = g.id
             ORDER BY 1, 2 LIMIT {}",
            cap + 1
        );
        let mut rows: Vec<(String, i64, Option<String>, f64)> =
            self.read(&sql.text, &sql.args).await?;
        let truncated = rows.len() > cap;
        rows.truncate(cap);
        Ok(Bounded {
            rows: rows
                .into_iter()
                .map(|(target, ts_ms, le, sum)| ScrapeSum {
                    target,
                    ts_ms,
                    le,
                    sum,
                })
                .collect(),
            truncated,
        })
    }
}

/// `($n), ($n+1), …`: one `VALUES` row per argument.
fn values(sql: &mut Sql, args: impl IntoIterator<Item = Arg>) -> String {
    args.into_iter()
        .map(|a| format!("({})", sql.arg(a)))
        .collect::<Vec<_>>()
        .join(", ")
}
