//! The telemetry service's run mode: configuration, storage, the scrape loop, the
//! retention loop and the HTTP server.
//!
//! It listens on `KEVIQ_LISTEN`, or `127.0.0.1:8015` (its published port) when that
//! is unset, so it can run next to a service on the default `127.0.0.1:8000`.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use crate::api::{AppState, app, retention_loop};
use crate::config::{ConfigError, ScrapeConfig};
use crate::scrape::Scraper;
use crate::store::{
    DATABASE_URL_VAR, DEFAULT_DATABASE_URL, DEFAULT_RETENTION, RETENTION_VAR, Store, StoreError,
};
use crate::writer::{DEFAULT_BUFFER_SAMPLES, STORAGE, Writer};

/// Where the telemetry service listens when `KEVIQ_LISTEN` is unset.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8015));

/// Scrapes waiting between the scraper and the writer: a few rounds of a large fleet.
const HANDOVER_SCRAPES: usize = 256;

/// Why the service stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A configuration variable is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] keviq::ServeError),
}

/// The retention from `TELEMETRY_RETENTION_HOURS`.
///
/// # Errors
/// A value that is not a whole number of hours from 1 to 87600.
pub fn retention_from(value: Option<String>) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(DEFAULT_RETENTION),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(h) if (1..=87_600).contains(&h) => Ok(Duration::from_secs(h * 3600)),
            _ => Err(ConfigError {
                variable: RETENTION_VAR,
                reason: format!(
                    "`{}` is not a whole number of hours from 1 to 87600",
                    text.chars().take(64).collect::<String>()
                ),
            }),
        },
    }
}

/// Runs the service until Ctrl-C or SIGTERM.
///
/// # Errors
/// Bad configuration (naming the variable), an unusable database, or a server failure.
pub async fn run() -> Result<(), ServiceError> {
    let config = ScrapeConfig::from_env()?;
    let retention = retention_from(std::env::var(RETENTION_VAR).ok())?;
    let url = std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
    let store = Store::connect(&url).await?;
    tracing::info!(
        targets = config.targets.len(),
        interval_s = config.interval.as_secs(),
        backend = ?store.backend(),
        "telemetry service starting"
    );
    let scraper = Scraper::new(config);

    // Bounded hand-over to the writer: the write buffer is the only place scrapes
    // wait, so memory stays bounded even while a flush is stuck on the database.
    let (tx, mut rx) = tokio::sync::mpsc::channel(HANDOVER_SCRAPES);
    let sink = move |scrape: crate::scrape::Scrape| {
        if let Err(e) = tx.try_send(scrape) {
            let scrape = match e {
                tokio::sync::mpsc::error::TrySendError::Full(s)
                | tokio::sync::mpsc::error::TrySendError::Closed(s) => s,
            };
            STORAGE.dropped.inc_by(scrape.samples.len() as u64);
            tracing::error!(target = %scrape.target, "writer is behind: dropping a new scrape");
        }
    };
    tokio::spawn(Scraper::run(scraper.clone(), sink, std::future::pending()));
    let mut writer = Writer::new(store.clone(), DEFAULT_BUFFER_SAMPLES);
    tokio::spawn(async move {
        let mut retry = tokio::time::interval(Duration::from_secs(2));
        loop {
            tokio::select! {
                scrape = rx.recv() => match scrape {
                    Some(scrape) => { writer.accept(scrape); }
                    None => return,
                },
                _ = retry.tick() => {}
            }
            // A failed flush keeps everything buffered; the next tick retries.
            let _ = writer.flush().await;
        }
    });
    tokio::spawn(retention_loop(store.clone(), retention));

    let router = app(AppState { scraper, store });
    keviq::serve_or(router, DEFAULT_LISTEN).await?;
    Ok(())
}
