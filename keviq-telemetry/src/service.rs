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

/// What the service runs with: the scrape configuration, the database and the
/// retention.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Targets, interval, limits.
    pub scrape: ScrapeConfig,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// How long samples are kept.
    pub retention: Duration,
}

impl Settings {
    /// The settings from `SCRAPE_TARGETS`, `SCRAPE_INTERVAL_SECONDS`,
    /// `TELEMETRY_DATABASE_URL` and `TELEMETRY_RETENTION_HOURS`.
    ///
    /// # Errors
    /// The first bad variable, named.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            scrape: ScrapeConfig::from_env()?,
            database_url: std::env::var(DATABASE_URL_VAR)
                .unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned()),
            retention: retention_from(std::env::var(RETENTION_VAR).ok())?,
        })
    }
}

/// The service started: its routes, with the scrape, write and retention loops
/// running in the background until [`Started::stop`].
#[derive(Debug)]
pub struct Started {
    /// The instrumented routes, to serve.
    pub router: axum::Router,
    /// The scraper, for its targets' health.
    pub scraper: std::sync::Arc<Scraper>,
    stop: tokio::sync::watch::Sender<bool>,
    scraping: tokio::task::JoinHandle<()>,
    writer: tokio::task::JoinHandle<()>,
}

/// Longest [`Started::stop`] waits for the last writes (a database that is down).
const FINAL_WRITE_LIMIT: Duration = Duration::from_secs(15);

impl Started {
    /// Stops scraping (a round in progress finishes, within the scrape timeout), then
    /// writes every scrape accepted, waiting at most 15 s for the database.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.scraping.await {
            tracing::error!(error = %e, "the scrape task failed");
        }
        // The scraper's end closed the hand-over: the writer drains it and returns.
        match tokio::time::timeout(FINAL_WRITE_LIMIT, self.writer).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "the writer task failed"),
            Err(_) => tracing::error!(
                buffered = STORAGE.buffered.get(),
                "the database took too long: samples still buffered are not written"
            ),
        }
    }
}

/// Opens the database and starts the background loops.
///
/// # Errors
/// An unusable database.
pub async fn start(settings: Settings) -> Result<Started, ServiceError> {
    let store = Store::connect(&settings.database_url).await?;
    tracing::info!(
        targets = settings.scrape.targets.len(),
        interval_s = settings.scrape.interval.as_secs_f64(),
        backend = ?store.backend(),
        "telemetry service starting"
    );
    let scraper = Scraper::new(settings.scrape);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        // A closed channel (the sender dropped) stops too.
        let _ = rx.wait_for(|stop| *stop).await;
    };

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
    let scraping = tokio::spawn(Scraper::run(
        scraper.clone(),
        sink,
        until_stopped(stopped.clone()),
    ));
    let mut writer = Writer::new(store.clone(), DEFAULT_BUFFER_SAMPLES);
    // Runs until the scraper has stopped and everything it handed over is taken.
    let writer = tokio::spawn(async move {
        let mut retry = tokio::time::interval(Duration::from_secs(2));
        loop {
            tokio::select! {
                scrape = rx.recv() => match scrape {
                    Some(scrape) => { writer.accept(scrape); }
                    None => break,
                },
                _ = retry.tick() => {}
            }
            // A failed flush keeps everything buffered; the next tick retries.
            let _ = writer.flush().await;
        }
        if let Err(e) = writer.flush().await {
            tracing::error!(error = %e, "samples not written at shutdown");
        }
    });
    let retention = tokio::spawn(retention_loop(store.clone(), settings.retention));
    tokio::spawn(async move {
        until_stopped(stopped).await;
        retention.abort();
    });

    let router = app(AppState {
        scraper: scraper.clone(),
        store,
    });
    Ok(Started {
        router,
        scraper,
        stop,
        scraping,
        writer,
    })
}

/// Runs the service until Ctrl-C or SIGTERM, then writes what it has accepted.
///
/// # Errors
/// Bad configuration (naming the variable), an unusable database, or a server failure.
pub async fn run() -> Result<(), ServiceError> {
    let started = start(Settings::from_env()?).await?;
    let served = keviq::serve_or(started.router.clone(), DEFAULT_LISTEN).await;
    started.stop().await;
    served?;
    Ok(())
}
