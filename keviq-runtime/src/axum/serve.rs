//! Serving a router: the listen address from `KEVIQ_LISTEN`, graceful shutdown on
//! Ctrl-C and SIGTERM.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use axum::Router;
use tokio::net::TcpListener;

/// The variable holding the listen address.
pub const LISTEN_VAR: &str = "KEVIQ_LISTEN";
/// The listen address when [`LISTEN_VAR`] is unset.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8000));

/// Why a service could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `KEVIQ_LISTEN` is not a socket address.
    #[error(
        "{LISTEN_VAR}=`{value}` is not a socket address such as `127.0.0.1:8000` or `0.0.0.0:8000`"
    )]
    InvalidListen {
        /// The value found (printable characters only).
        value: String,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr} (from {LISTEN_VAR}): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// The listen address: `KEVIQ_LISTEN`, or `127.0.0.1:8000` when unset.
///
/// # Errors
/// [`ServeError::InvalidListen`] when the variable is set but is not `ip:port`.
pub fn listen_addr() -> Result<SocketAddr, ServeError> {
    listen_addr_or(DEFAULT_LISTEN)
}

/// The listen address: `KEVIQ_LISTEN`, or `default` when unset.
///
/// # Errors
/// [`ServeError::InvalidListen`] when the variable is set but is not `ip:port`.
pub fn listen_addr_or(default: SocketAddr) -> Result<SocketAddr, ServeError> {
    match std::env::var(LISTEN_VAR) {
        Ok(value) => value.trim().parse().map_err(|_| ServeError::InvalidListen {
            value: printable(&value),
        }),
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(std::env::VarError::NotUnicode(raw)) => Err(ServeError::InvalidListen {
            value: printable(&raw.to_string_lossy()),
        }),
    }
}

fn printable(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect()
}

/// Serves `router` on [`listen_addr`] until Ctrl-C or SIGTERM, then finishes the
/// requests in flight.
///
/// # Errors
/// A bad `KEVIQ_LISTEN`, an address that cannot be bound, or an I/O failure.
pub async fn serve(router: Router) -> Result<(), ServeError> {
    serve_or(router, DEFAULT_LISTEN).await
}

/// As [`serve`], listening on `default` when `KEVIQ_LISTEN` is unset (for a service
/// with a well-known port of its own).
///
/// # Errors
/// A bad `KEVIQ_LISTEN`, an address that cannot be bound, or an I/O failure.
pub async fn serve_or(router: Router, default: SocketAddr) -> Result<(), ServeError> {
    let addr = listen_addr_or(default)?;
    // Installed before anything can observe the server, so no signal is missed.
    let shutdown = shutdown_signal();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    // The bound address, so port 0 reports the port the system chose.
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(%addr, "listening");
    serve_listener(listener, router, shutdown).await
}

/// Serves `router` on an already bound listener until `shutdown` completes.
///
/// # Errors
/// An I/O failure of the server.
pub async fn serve_listener(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
///
/// The handlers are installed when this is called, not when the future is first
/// polled, so a signal that arrives while the server starts is not missed (its
/// default action would kill the process).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).ok();
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(terminate.take()) => {}
                () = wait(interrupt.take()) => {}
            }
            tracing::info!("shutting down");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}
