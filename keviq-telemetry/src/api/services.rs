//! `GET /api/v1/services?window=300&history=0|1&limit=…`: each target's health over
//! the window and, with `history=1`, per minute over the last hour.
//!
//! The database aggregates: the window is cut into at most 60 slots (a minute each
//! up to an hour's window, longer beyond), the history into 60 minutes, and per
//! target and slot the store reads the sums of a metric's series at the slot's last
//! scrape ([`Store::slot_sums`]) — never the raw rows of the window. A request reads
//! at most `targets × 61` rows per counter and `targets × 61 × bucket bounds` for
//! the latency histogram, whether the store holds an hour or a year.
//!
//! The figures differ from a reading of every scrape only where a counter reset
//! inside a slot: the drop is seen at the slot's end, so what the counter gained
//! before the reset in that slot is not counted (PromQL's `increase` over the raw
//! points would count it).

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use keviq::axum::names::{
    HTTP_REQUEST_DURATION_MS, HTTP_REQUEST_ERRORS_TOTAL, HTTP_REQUESTS_TOTAL,
};

use super::error::ApiError;
use super::params::{Params, limit, number, only, pairs, param};
use super::response::{History, Listed, ServiceEntry, ServicesResponse};
use super::state::{AppState, BoxFuture, HealthSource, ServicesRequest};
use crate::analytics::{
    AGENT_INVOCATIONS_TOTAL, FirstScrapes, WindowIncreases, bucket_slots, counter_slots,
    histogram_quantile, window_buckets, window_totals,
};
use crate::clock::epoch_ms;
use crate::scrape::Scraper;
use crate::store::{Slots, Store};

/// The most services (targets) one answer lists; also the default.
pub const SERVICE_LIMIT: i64 = 1_000;

/// The parameters `GET /api/v1/services` takes.
const SERVICE_PARAMETERS: [&str; 3] = ["window", "history", "limit"];

/// Slots a window is cut into at most; and the minutes of `history=1`.
const MAX_SLOTS: i64 = 60;

/// A minute, the slot of the history and of windows up to an hour.
const MINUTE_MS: i64 = 60_000;

/// The metric of the latency histogram's buckets.
fn bucket_metric() -> String {
    format!("{HTTP_REQUEST_DURATION_MS}_bucket")
}

/// The slots of a `window`-second window ending at `until_ms`: a minute each,
/// at most [`MAX_SLOTS`] of them (longer ones for a window over an hour).
pub(super) fn window_slots(window: f64, until_ms: i64) -> Slots {
    let window_ms = ((window * 1000.0).round() as i64).max(1);
    let count = ((window_ms + MINUTE_MS - 1) / MINUTE_MS).clamp(1, MAX_SLOTS);
    Slots {
        until_ms,
        step_ms: (window_ms + count - 1) / count,
        count,
    }
}

/// `GET /api/v1/services`.
pub(super) async fn services(
    State(state): State<AppState>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Listed<ServicesResponse>, ApiError> {
    let params = pairs(query)?;
    only(&params, &SERVICE_PARAMETERS, "window, history, limit")?;
    let window = number(&params, "window", 300.0, 1.0, 86_400.0)?;
    let history = match param(&params, "history") {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return Err(ApiError::History),
    };
    let limit = usize::try_from(limit(&params, SERVICE_LIMIT, SERVICE_LIMIT)?).unwrap_or(0);
    let request = ServicesRequest {
        window,
        history,
        limit,
    };
    let mut listed = state.health()?.services(&state.scraper, request).await?;
    listed.body.log_url.clone_from(&state.logs.url);
    Ok(listed)
}

/// The local store's figures: aggregated by the database per target and slot.
impl HealthSource for Store {
    fn services<'a>(
        &'a self,
        scraper: &'a Scraper,
        request: ServicesRequest,
    ) -> BoxFuture<'a, Result<Listed<ServicesResponse>, ApiError>> {
        Box::pin(store_services(self, scraper, request))
    }
}

/// `GET /api/v1/services` from the local store.
async fn store_services(
    store: &Store,
    scraper: &Scraper,
    request: ServicesRequest,
) -> Result<Listed<ServicesResponse>, ApiError> {
    let ServicesRequest {
        window,
        history,
        limit,
    } = request;
    let mut health = scraper.health();
    let mut truncated = health.len() > limit;
    health.truncate(limit);
    let targets: Vec<String> = health.iter().map(|h| h.target.to_string()).collect();
    let until_ms = epoch_ms(SystemTime::now());

    let (increases, cut) = window_increases(store, &targets, window, until_ms).await?;
    truncated |= cut;
    let minutes = if history {
        let minutes = Minutes::read(store, &targets, until_ms).await?;
        truncated |= minutes.truncated;
        Some(minutes)
    } else {
        None
    };
    let services = health
        .iter()
        .map(|h| {
            let target = h.target.to_string();
            let history = minutes.as_ref().map(|m| m.history(&target));
            ServiceEntry::new(h, increases.health(&target), history)
        })
        .collect();
    Ok(Listed {
        body: ServicesResponse {
            window_seconds: window,
            services,
            log_url: None,
        },
        truncated,
    })
}

/// The metrics whose first scrape in a window may stand for a target's first one
/// (with the scraper's `up`, see [`Store::first_scrapes`]).
fn figure_metrics() -> [String; 4] {
    [
        HTTP_REQUESTS_TOTAL.to_owned(),
        HTTP_REQUEST_ERRORS_TOTAL.to_owned(),
        AGENT_INVOCATIONS_TOTAL.to_owned(),
        bucket_metric(),
    ]
}

/// Each target's first successful scrape in the slots' window.
async fn first_scrapes(
    store: &Store,
    targets: &[String],
    slots: &Slots,
) -> Result<FirstScrapes, ApiError> {
    let metrics = figure_metrics();
    let metrics: Vec<&str> = metrics.iter().map(String::as_str).collect();
    Ok(store
        .first_scrapes(targets, &metrics, slots.since_ms(), slots.until_ms)
        .await?
        .into_iter()
        .collect())
}

/// Each target's counter increases per slot.
async fn counter(
    store: &Store,
    metric: &str,
    targets: &[String],
    (slots, first): (&Slots, &FirstScrapes),
) -> Result<BTreeMap<String, Vec<f64>>, ApiError> {
    let sums = store.slot_sums(metric, targets, slots, false).await?;
    Ok(counter_slots(&sums.rows, first, slots))
}

/// The window's increases of every figure; and whether a histogram had more bucket
/// bounds than are read.
async fn window_increases(
    store: &Store,
    targets: &[String],
    window: f64,
    until_ms: i64,
) -> Result<(WindowIncreases, bool), ApiError> {
    let slots = window_slots(window, until_ms);
    let first = first_scrapes(store, targets, &slots).await?;
    let at = (&slots, &first);
    let requests = counter(store, HTTP_REQUESTS_TOTAL, targets, at).await?;
    let errors = counter(store, HTTP_REQUEST_ERRORS_TOTAL, targets, at).await?;
    let invocations = counter(store, AGENT_INVOCATIONS_TOTAL, targets, at).await?;
    let buckets = store
        .slot_sums(&bucket_metric(), targets, &slots, true)
        .await?;
    let increases = WindowIncreases {
        seconds: window,
        until_ms,
        requests: window_totals(&requests),
        errors: window_totals(&errors),
        invocations: window_totals(&invocations),
        latency_buckets: window_buckets(&bucket_slots(&buckets.rows, &first, &slots)),
        first_scrapes: first,
    };
    Ok((increases, buckets.truncated))
}

/// The last hour per minute, for every target.
struct Minutes {
    slots: Slots,
    requests: BTreeMap<String, Vec<f64>>,
    errors: BTreeMap<String, Vec<f64>>,
    latency: BTreeMap<String, Vec<Vec<(f64, f64)>>>,
    truncated: bool,
}

impl Minutes {
    /// Reads the hour up to `until_ms`.
    async fn read(store: &Store, targets: &[String], until_ms: i64) -> Result<Self, ApiError> {
        let slots = Slots {
            until_ms,
            step_ms: MINUTE_MS,
            count: MAX_SLOTS,
        };
        let first = first_scrapes(store, targets, &slots).await?;
        let at = (&slots, &first);
        let requests = counter(store, HTTP_REQUESTS_TOTAL, targets, at).await?;
        let errors = counter(store, HTTP_REQUEST_ERRORS_TOTAL, targets, at).await?;
        let buckets = store
            .slot_sums(&bucket_metric(), targets, &slots, true)
            .await?;
        Ok(Self {
            requests,
            errors,
            latency: bucket_slots(&buckets.rows, &first, &slots),
            truncated: buckets.truncated,
            slots,
        })
    }

    /// One target's figures, 60 per series.
    fn history(&self, target: &str) -> History {
        let count = usize::try_from(self.slots.count).unwrap_or(0);
        let seconds = self.slots.step_ms as f64 / 1000.0;
        let rate = |m: &BTreeMap<String, Vec<f64>>| {
            m.get(target).map_or_else(
                || vec![0.0; count],
                |v| v.iter().map(|i| i / seconds).collect(),
            )
        };
        let quantile = |q: f64| {
            self.latency.get(target).map_or_else(
                || vec![None; count],
                |slots| slots.iter().map(|b| histogram_quantile(q, b)).collect(),
            )
        };
        History {
            until: self.slots.until_ms as f64 / 1000.0,
            request_rate: rate(&self.requests),
            error_rate: rate(&self.errors),
            p50_ms: quantile(0.5),
            p99_ms: quantile(0.99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_cut_into_minutes_up_to_sixty_slots() {
        let slots = window_slots(300.0, 1_000_000);
        assert_eq!((slots.step_ms, slots.count), (60_000, 5));
        assert_eq!(slots.since_ms(), 1_000_000 - 300_000);
        let day = window_slots(86_400.0, 0);
        assert_eq!((day.step_ms, day.count), (1_440_000, 60));
        let short = window_slots(1.0, 0);
        assert_eq!((short.step_ms, short.count), (1_000, 1));
        let odd = window_slots(90.0, 0);
        assert_eq!((odd.step_ms, odd.count), (45_000, 2));
    }

    #[test]
    fn a_target_without_rows_has_an_empty_history() {
        let minutes = Minutes {
            slots: Slots {
                until_ms: 120_000,
                step_ms: 60_000,
                count: 2,
            },
            requests: [("a:1".to_owned(), vec![60.0, 30.0])].into(),
            errors: BTreeMap::new(),
            latency: BTreeMap::new(),
            truncated: false,
        };
        let h = minutes.history("a:1");
        assert_eq!(h.request_rate, [1.0, 0.5]);
        assert_eq!(h.error_rate, [0.0, 0.0]);
        assert_eq!(h.p50_ms, [None, None]);
        assert_eq!(minutes.history("b:1").request_rate, [0.0, 0.0]);
    }
}
