//! `GET /api/v1/samples`: stored samples of one metric, oldest first.

use std::time::SystemTime;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use super::error::ApiError;
use super::params::{Params, limit, number, only, pairs, param};
use super::response::{Listed, SampleEntry};
use super::state::AppState;
use crate::clock::epoch_ms;
use crate::store::{LabelMatch, SampleQuery};

/// Samples `GET /api/v1/samples` answers when `limit` is not given.
pub const SAMPLE_LIMIT_DEFAULT: i64 = 10_000;

/// The most samples one answer of `GET /api/v1/samples` holds (`limit`'s cap).
pub const SAMPLE_LIMIT: i64 = 50_000;

/// The most `label` matchers one query of `GET /api/v1/samples` takes.
pub const MAX_LABEL_MATCHERS: usize = 16;

/// The parameters `GET /api/v1/samples` takes.
const SAMPLE_PARAMETERS: [&str; 6] = ["metric", "target", "since", "until", "label", "limit"];

/// `GET /api/v1/samples`: the matchers and the limit are applied by the database;
/// one row more than the limit is asked for, to know whether the answer is cut.
pub(super) async fn samples(
    State(state): State<AppState>,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Listed<Vec<SampleEntry>>, ApiError> {
    let params = pairs(query)?;
    only(
        &params,
        &SAMPLE_PARAMETERS,
        "metric, target, since, until, label, limit",
    )?;
    let metric = param(&params, "metric").ok_or(ApiError::MissingMetric)?;
    // Any sample name the grammar allows (recording rules' `:` included).
    if keviq::model::check_metric_name_syntax(metric).is_err() {
        return Err(ApiError::InvalidMetric);
    }
    let target = param(&params, "target").map(str::to_owned);
    let now = epoch_ms(SystemTime::now()) as f64 / 1000.0;
    let until = number(&params, "until", now, 0.0, 1e11)?;
    let since = number(&params, "since", until - 3600.0, 0.0, 1e11)?;
    if since > until {
        return Err(ApiError::SinceAfterUntil);
    }
    let limit = limit(&params, SAMPLE_LIMIT_DEFAULT, SAMPLE_LIMIT)?;
    let matchers = label_matchers(&params)?;
    let q = SampleQuery {
        metric: metric.to_owned(),
        target,
        since_ms: (since * 1000.0) as i64,
        until_ms: (until * 1000.0) as i64,
        limit: limit + 1,
    };
    let rows = state.store()?.samples_matching(&q, &matchers).await?;
    let rows = rows.into_iter().map(SampleEntry::from).collect();
    Ok(Listed::first(
        rows,
        usize::try_from(limit).unwrap_or(usize::MAX),
    ))
}

/// The `label=name=value` matchers: at most [`MAX_LABEL_MATCHERS`], each name in
/// the label grammar.
fn label_matchers(params: &Params) -> Result<Vec<LabelMatch>, ApiError> {
    let mut matchers = Vec::new();
    for (_, m) in params.iter().filter(|(k, _)| k == "label") {
        let Some((name, value)) = m.split_once('=') else {
            return Err(ApiError::LabelMatcher);
        };
        if name.is_empty() {
            return Err(ApiError::LabelMatcher);
        }
        if keviq::model::check_label_name_syntax(name).is_err() {
            return Err(ApiError::LabelName);
        }
        matchers.push(LabelMatch {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    if matchers.len() > MAX_LABEL_MATCHERS {
        return Err(ApiError::TooManyMatchers {
            max: MAX_LABEL_MATCHERS,
        });
    }
    Ok(matchers)
}
