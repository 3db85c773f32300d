//! Serving a router: the listen address from `KEVIQ_LISTEN`, the limits of
//! [`ServeOptions`](super::ServeOptions), graceful shutdown on Ctrl-C and SIGTERM.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use axum::Router;
use tokio::net::TcpListener;

use super::server::{ServeOptions, serve_with};

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
    /// A variable of [`ServeOptions`](super::ServeOptions) is not a whole number of at
    /// least 1.
    #[error("{name}=`{value}` is not a whole number of at least 1")]
    InvalidOption {
        /// The variable.
        name: &'static str,
        /// The value found (printable characters only).
        value: String,
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
    let options = ServeOptions::from_env()?;
    // Installed before anything can observe the server, so no signal is missed.
    let shutdown = shutdown_signal();
    let listener = bind(addr).map_err(|source| ServeError::Bind { addr, source })?;
    // The bound address, so port 0 reports the port the system chose.
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(%addr, "listening");
    serve_with(listener, router, shutdown, options).await
}

/// Connections waiting to be accepted, past `ServeOptions::max_connections`: more than std's default of 128, so a burst waits in the
/// kernel instead of retrying its SYN for seconds.
const BACKLOG: u32 = 1024;

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As std's `TcpListener::bind` does: a restarted service can bind at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves `router` on an already bound listener until `shutdown` completes, with
/// the [`ServeOptions`] of the environment (timeouts and a connection cap, see
/// [`serve_with`]).
///
/// # Errors
/// A bad `KEVIQ_*` limit variable.
pub async fn serve_listener(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_with(listener, router, shutdown, ServeOptions::from_env()?).await
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
