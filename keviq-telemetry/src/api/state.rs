//! What the handlers share, and the one interface they read target health
//! through: [`HealthSource`], which the local store and the query API implement.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::error::ApiError;
use super::response::{Listed, ServicesResponse, TargetEntry};
use crate::config::LogConfig;
use crate::logs::LogIndex;
use crate::scrape::Scraper;
use crate::store::Store;

/// A boxed future, so that [`HealthSource`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What `GET /api/v1/services` asks for, its parameters read and checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServicesRequest {
    /// The window, in seconds.
    pub window: f64,
    /// Whether the per-minute history of the last hour is wanted.
    pub history: bool,
    /// The most services the answer lists.
    pub limit: usize,
}

/// A back end of the API's health views: the local store (figures aggregated by
/// the database) or a Prometheus-compatible query API (figures from PromQL).
pub trait HealthSource: Send + Sync + std::fmt::Debug {
    /// `GET /api/v1/targets`: each target's health. By default the scraper's own
    /// view, which a local store adds nothing to.
    fn targets<'a>(
        &'a self,
        scraper: &'a Scraper,
    ) -> BoxFuture<'a, Result<Vec<TargetEntry>, ApiError>> {
        Box::pin(async move { Ok(scraper_targets(scraper)) })
    }

    /// `GET /api/v1/services`: each target's figures over the window, at most
    /// `request.limit` targets (the answer says whether it was cut).
    fn services<'a>(
        &'a self,
        scraper: &'a Scraper,
        request: ServicesRequest,
    ) -> BoxFuture<'a, Result<Listed<ServicesResponse>, ApiError>>;
}

/// Each target's health as the scraper saw it.
pub(super) fn scraper_targets(scraper: &Scraper) -> Vec<TargetEntry> {
    scraper
        .health()
        .into_iter()
        .map(TargetEntry::from)
        .collect()
}

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The scraper, for target health.
    pub scraper: Arc<Scraper>,
    /// The sample store; `None` for `TELEMETRY_DATABASE_URL=none`.
    pub store: Option<Store>,
    /// The query API that answers targets and services, when configured
    /// (the PromQL back end, `prom::PromQuery`); else the local store answers them.
    pub query: Option<Arc<dyn HealthSource>>,
    /// Where the request view finds log lines.
    pub logs: Arc<LogConfig>,
    /// The index of those files by request and trace ID.
    pub log_index: Arc<LogIndex>,
}

impl AppState {
    /// The state of a service reading its local store.
    pub fn local(scraper: Arc<Scraper>, store: Store) -> Self {
        Self {
            scraper,
            store: Some(store),
            query: None,
            logs: Arc::default(),
            log_index: Arc::new(LogIndex::new(Vec::new())),
        }
    }

    /// The same state, with the request view reading `logs`.
    pub fn with_logs(mut self, logs: LogConfig) -> Self {
        self.log_index = Arc::new(LogIndex::new(logs.files.clone()));
        self.logs = Arc::new(logs);
        self
    }

    pub(super) fn store(&self) -> Result<&Store, ApiError> {
        self.store.as_ref().ok_or(ApiError::NoStore)
    }

    /// Where targets and services are read: the query API when configured, else
    /// the local store.
    pub(super) fn health(&self) -> Result<&dyn HealthSource, ApiError> {
        match (&self.query, &self.store) {
            (Some(query), _) => Ok(query.as_ref()),
            (None, Some(store)) => Ok(store),
            (None, None) => Err(ApiError::NoStore),
        }
    }
}
