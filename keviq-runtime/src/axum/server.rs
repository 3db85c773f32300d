//! The HTTP server under [`serve`](super::serve): hyper's HTTP/1 connections with
//! the limits a service facing the network needs, so that slow or idle clients
//! cannot hold it.
//!
//! The limits are those of [`ServeOptions`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_http::timeout::RequestBodyDeadlineLayer;
use tower_layer::Layer;

use super::serve::ServeError;

/// The limits [`serve`](super::serve) applies to every connection.
///
/// | limit | default | variable | what happens past it |
/// |---|---|---|---|
/// | [`header_read_timeout`](ServeOptions::header_read_timeout) | 10 s | `KEVIQ_HEADER_READ_TIMEOUT_SECONDS` | the connection is closed |
/// | [`body_timeout`](ServeOptions::body_timeout) | 60 s | `KEVIQ_BODY_TIMEOUT_SECONDS` | reading the body fails (the handler's extractor answers `400`) |
/// | [`max_connections`](ServeOptions::max_connections) | 512 | `KEVIQ_MAX_CONNECTIONS` | new connections wait in the kernel's backlog |
///
/// The header-read timer runs from the moment a connection waits for a request's
/// head until the head is complete, so it is also the keep-alive idle timeout: a
/// connection that sends nothing for 10 s after its last response is closed, as is
/// a slowloris client that trickles a head. The body timeout is a deadline for the
/// whole body from the request's start, not a gap between chunks, so a body sent
/// one byte at a time cannot keep a handler waiting either.
///
/// The connection cap keeps file descriptors bounded: with the common limit of
/// 1,024 open files, 512 connections leave room for the service's own sockets and
/// files. When `accept` fails for lack of descriptors anyway, the server waits
/// 100 ms and tries again instead of spinning.
///
/// ```
/// use std::time::Duration;
/// use keviq_runtime::axum::ServeOptions;
///
/// let options = ServeOptions::DEFAULT.with_max_connections(64);
/// assert_eq!(options.header_read_timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// Time a connection may take to send a complete request head, counted from
    /// when it is ready for one: also the keep-alive idle timeout.
    pub header_read_timeout: Duration,
    /// Deadline for a request body, from the request's start.
    pub body_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
}

/// The most header fields a request may have (hyper's default is 100): a proxy
/// chain's and a tracer's headers beside a client that repeats one (a hundred
/// `traceparent` headers are refused by keviq, not by the server). More is
/// answered `431 Request Header Fields Too Large`.
pub const MAX_HEADERS: usize = 256;

/// `KEVIQ_HEADER_READ_TIMEOUT_SECONDS`: [`ServeOptions::header_read_timeout`].
pub const HEADER_READ_TIMEOUT_VAR: &str = "KEVIQ_HEADER_READ_TIMEOUT_SECONDS";
/// `KEVIQ_BODY_TIMEOUT_SECONDS`: [`ServeOptions::body_timeout`].
pub const BODY_TIMEOUT_VAR: &str = "KEVIQ_BODY_TIMEOUT_SECONDS";
/// `KEVIQ_MAX_CONNECTIONS`: [`ServeOptions::max_connections`].
pub const MAX_CONNECTIONS_VAR: &str = "KEVIQ_MAX_CONNECTIONS";

impl ServeOptions {
    /// The production defaults: 10 s for a request head (and keep-alive idle), 60 s
    /// for a body, 512 connections.
    pub const DEFAULT: Self = Self {
        header_read_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(60),
        max_connections: 512,
    };

    /// The defaults, each overridden by its variable when set.
    ///
    /// # Errors
    /// [`ServeError::InvalidOption`] naming the variable, for a value that is not a
    /// whole number of at least 1.
    pub fn from_env() -> Result<Self, ServeError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The defaults, each overridden by `var(name)` when it returns a value.
    ///
    /// # Errors
    /// As [`ServeOptions::from_env`].
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ServeError> {
        let number = |name: &'static str, default: u64| -> Result<u64, ServeError> {
            match var(name) {
                None => Ok(default),
                Some(text) => match text.trim().parse::<u64>() {
                    Ok(n) if n >= 1 => Ok(n),
                    _ => Err(ServeError::InvalidOption {
                        name,
                        value: text.chars().filter(|c| !c.is_control()).take(100).collect(),
                    }),
                },
            }
        };
        let d = Self::DEFAULT;
        Ok(Self {
            header_read_timeout: Duration::from_secs(number(
                HEADER_READ_TIMEOUT_VAR,
                d.header_read_timeout.as_secs(),
            )?),
            body_timeout: Duration::from_secs(number(BODY_TIMEOUT_VAR, d.body_timeout.as_secs())?),
            max_connections: usize::try_from(number(
                MAX_CONNECTIONS_VAR,
                d.max_connections as u64,
            )?)
            .unwrap_or(usize::MAX),
        })
    }

    /// The same options with another connection cap.
    pub const fn with_max_connections(mut self, max_connections: usize) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// The same options with another header-read (and keep-alive idle) timeout.
    pub const fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// The same options with another body deadline.
    pub const fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Serves `router` on `listener` with `options` until `shutdown` completes, then
/// lets every open connection finish its request in flight.
///
/// # Errors
/// None today: failed connections are logged and the server goes on. The `Result`
/// keeps room for listener failures that end serving.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> Result<(), ServeError> {
    let service = RequestBodyDeadlineLayer::new(options.body_timeout).layer(router);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    // Dropped on shutdown: every connection then closes once its request is done.
    let (stop_tx, stop_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Requests and responses are small: send them without Nagle's delay.
        let _ = stream.set_nodelay(true);
        let hyper_service = TowerToHyperService::new(service.clone());
        let mut stop = stop_rx.clone();
        let header_read_timeout = options.header_read_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .max_headers(MAX_HEADERS);
            let conn = builder.serve_connection(TokioIo::new(stream), hyper_service);
            let mut conn = std::pin::pin!(conn.with_upgrades());
            tokio::select! {
                result = conn.as_mut() => log_closed(result),
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    log_closed(conn.await);
                }
            }
        });
    }
    drop(stop_rx);
    drop(stop_tx);
    // Every connection holds a slot until it has closed.
    let _all = slots
        .acquire_many(u32::try_from(options.max_connections.max(1)).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

fn log_closed(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        // Timeouts, resets and malformed requests: the client's doing, not ours.
        tracing::debug!(error = %e, "connection closed");
    }
}

/// Waits after a failed `accept`: briefly when the process is out of file
/// descriptors (`EMFILE`/`ENFILE`), so the server neither spins nor stops.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
