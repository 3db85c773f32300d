//! The telemetry service's run mode: the store, the scrape, write and retention
//! loops, and the HTTP server, with the [`Settings`] of [`crate::config`].
//!
//! [`start`] opens the store and starts the loops, for a caller that serves the
//! routes itself (the fleet demo); [`run`] is the whole process: it reads the
//! environment, serves on `KEVIQ_LISTEN` until Ctrl-C or SIGTERM, then writes what it
//! has accepted.
//!
//! With remote write, the senders run too ([`crate::remote`]): with a local store
//! they follow the writer, without one (`TELEMETRY_DATABASE_URL=none`) the scrapes go
//! straight to them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::prom::PromQuery;
use crate::api::{AppState, HealthSource, app};
use crate::config::{ConfigError, Settings};
use crate::logs::{LogIndex, LogLimits};
use crate::remote::RemoteWrite;
use crate::scrape::Scraper;
use crate::store::{Store, StoreError};
use crate::writer::{Drained, Handover, STORAGE, Writer};

/// Why the telemetry service stopped.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A configuration variable is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] keviq::axum::ServeError),
}

/// The telemetry service started: its routes, with the scrape, write and retention
/// loops running in the background until [`Started::stop`].
#[derive(Debug)]
pub struct Started {
    /// The instrumented routes, to serve.
    pub router: axum::Router,
    /// The scraper, for its targets' health.
    pub scraper: Arc<Scraper>,
    stop: watch::Sender<bool>,
    scraping: JoinHandle<()>,
    writing: Option<(Handover, JoinHandle<Drained>)>,
    remote: Option<RemoteWrite>,
}

/// Longest [`Started::stop`] waits for the last remote writes (a receiver that is
/// down: with a local store they are sent after the next start).
const FINAL_SEND_LIMIT: Duration = Duration::from_secs(10);

impl Started {
    /// Stops scraping (a round in progress finishes, within the scrape timeout), then
    /// writes every scrape buffered, for at most the drain limit
    /// (`TELEMETRY_DRAIN_SECONDS`), logging what it could not write, then
    /// remote-writes what is pending, waiting at most 10 s for the receivers.
    /// Returns what the drain left unwritten (nothing without a local store).
    pub async fn stop(self) -> Drained {
        let _ = self.stop.send(true);
        if let Err(e) = self.scraping.await {
            tracing::error!(error = %e, "the scrape task failed");
        }
        let mut drained = Drained::default();
        if let Some((handover, writing)) = self.writing {
            handover.close();
            match writing.await {
                Ok(left) => drained = left,
                Err(e) => tracing::error!(error = %e, "the writer task failed"),
            }
        }
        if let Some(remote) = self.remote {
            remote.stop(FINAL_SEND_LIMIT).await;
        }
        drained
    }
}

/// Completes once `true` is sent, or the sender is dropped.
async fn until_stopped(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Opens the database and starts the background loops. `settings.listen` is not
/// used: the caller serves [`Started::router`].
///
/// # Errors
/// An unusable database.
pub async fn start(settings: Settings) -> Result<Started, DaemonError> {
    let store = match settings.store_url() {
        Some(url) => Some(
            Store::connect(url)
                .await?
                .with_query_timeout(settings.storage.query_timeout),
        ),
        None => None,
    };
    let remote = match &settings.remote_write {
        Some(config) => Some(RemoteWrite::start(config, store.as_ref()).await?),
        None => None,
    };
    tracing::info!(
        targets = settings.scrape.targets.len(),
        interval_s = settings.scrape.interval.as_secs_f64(),
        backend = ?store.as_ref().map(Store::backend),
        remote_write = settings.remote_write.as_ref().map_or(0, |r| r.endpoints.len()),
        query_api = settings.query.is_some(),
        shard = ?settings.shard.map(|s| format!("{}/{}", s.index, s.count)),
        "telemetry service starting"
    );
    let scraper = Scraper::new(settings.scrape);
    let (stop, stopped) = watch::channel(false);

    let (handover, writing) = match &store {
        Some(store) => {
            let mut writer = Writer::new(store.clone(), settings.storage.buffer_bytes)
                .with_drain_limit(settings.storage.drain_limit);
            if let Some(remote) = &remote {
                writer = writer.with_follower(remote.backlog().clone());
            }
            let (handover, writing) = writer.start();
            (Some(handover.clone()), Some((handover, writing)))
        }
        None => (None, None),
    };
    // Without a store, scrapes go straight to the remote-write backlog.
    let direct = remote
        .as_ref()
        .filter(|r| r.in_memory())
        .map(|r| r.backlog().clone());
    // The hand-over moves into the scrape task: when scraping stops, the writer
    // drains what it was given and returns.
    let scraping = tokio::spawn(Scraper::run(
        scraper.clone(),
        move |scrape| {
            if let Some(handover) = &handover {
                handover.send(scrape);
            } else if let Some(backlog) = &direct {
                backlog.push_scrape(scrape);
            }
        },
        until_stopped(stopped.clone()),
    ));
    if let Some(store) = &store {
        let retention = tokio::spawn(crate::retention::run(store.clone(), settings.retention));
        let stopped = stopped.clone();
        tokio::spawn(async move {
            until_stopped(stopped).await;
            retention.abort();
        });
    }

    let log_index = Arc::new(LogIndex::new(settings.logs.files.clone()));
    if !settings.logs.files.is_empty() {
        let following = tokio::spawn(follow_logs(log_index.clone()));
        tokio::spawn(async move {
            until_stopped(stopped).await;
            following.abort();
        });
    }
    let router = app(AppState {
        scraper: scraper.clone(),
        store,
        query: settings
            .query
            .as_ref()
            .map(|q| Arc::new(PromQuery::new(q)) as Arc<dyn HealthSource>),
        log_index,
        logs: Arc::new(settings.logs),
    });
    Ok(Started {
        router,
        scraper,
        stop,
        scraping,
        writing,
        remote,
    })
}

/// Keeps the log index up to date: every second, what the files gained, in a
/// blocking task of at most 900 ms.
async fn follow_logs(index: Arc<LogIndex>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let index = index.clone();
        let _ = tokio::task::spawn_blocking(move || {
            index.catch_up(Duration::from_millis(900), LogLimits::DEFAULT.line_bytes)
        })
        .await;
    }
}

/// Runs the telemetry service with the environment's settings, serving on
/// `settings.listen` until Ctrl-C or SIGTERM, then writes what it has accepted.
///
/// # Errors
/// Bad configuration (naming the variable), an unusable database, an address that
/// cannot be bound, or a server failure.
pub async fn run() -> Result<(), DaemonError> {
    let settings = Settings::from_env()?;
    let listen = settings.listen;
    let started = start(settings).await?;
    // Installed before the server can be reached, so no signal is missed.
    let shutdown = keviq::axum::shutdown_signal();
    let served = serve(listen, started.router.clone(), shutdown).await;
    let drained = started.stop().await;
    tracing::info!(
        samples_in = STORAGE.samples_in.get(),
        stored = STORAGE.stored.get(),
        dropped = STORAGE.dropped.get(),
        unwritten_at_shutdown = drained.unwritten.samples,
        "telemetry service stopped: every sample received is stored or counted as dropped"
    );
    served?;
    Ok(())
}

async fn serve(
    addr: SocketAddr,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), keviq::axum::ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| keviq::axum::ServeError::Bind { addr, source })?;
    // The bound address, so port 0 reports the port the system chose.
    tracing::info!(addr = %listener.local_addr().unwrap_or(addr), "listening");
    keviq::axum::serve_listener(listener, router, shutdown).await
}
