//! The traffic generator: a steady rate of requests at the api-gateway, in the mix
//! of a real client (task creation, task reads, event streams, the odd bad token and
//! unknown route), each request on its own task so a slow fleet never slows the rate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use keviq_telemetry::sample::Target;
use tokio::sync::Semaphore;

/// Requests allowed in flight at once; beyond it, a tick is skipped and counted.
const MAX_IN_FLIGHT: usize = 512;

/// What the generator has seen since the last [`TrafficStats::take`].
#[derive(Debug, Default)]
pub(crate) struct TrafficStats {
    sent: AtomicU64,
    server_errors: AtomicU64,
    unanswered: AtomicU64,
    skipped: AtomicU64,
    latencies_ms: Mutex<Vec<f64>>,
}

/// One period of [`TrafficStats`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Period {
    /// Requests answered.
    pub(crate) sent: u64,
    /// Answered with a 5xx.
    pub(crate) server_errors: u64,
    /// Not answered (refused, reset, timed out).
    pub(crate) unanswered: u64,
    /// Ticks skipped because too many requests were in flight.
    pub(crate) skipped: u64,
    /// 99th percentile latency of the answered requests.
    pub(crate) p99_ms: Option<f64>,
}

impl TrafficStats {
    fn record(&self, status: Option<http::StatusCode>, took: Duration) {
        match status {
            Some(status) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                if status.is_server_error() {
                    self.server_errors.fetch_add(1, Ordering::Relaxed);
                }
                self.latencies_ms
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(took.as_secs_f64() * 1000.0);
            }
            None => {
                self.unanswered.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counts since the last call, and resets them.
    pub(crate) fn take(&self) -> Period {
        let mut latencies =
            std::mem::take(&mut *self.latencies_ms.lock().unwrap_or_else(|e| e.into_inner()));
        latencies.sort_by(f64::total_cmp);
        let p99_ms = (!latencies.is_empty()).then(|| {
            let rank = ((latencies.len() as f64) * 0.99).ceil() as usize;
            latencies[rank.clamp(1, latencies.len()) - 1]
        });
        Period {
            sent: self.sent.swap(0, Ordering::Relaxed),
            server_errors: self.server_errors.swap(0, Ordering::Relaxed),
            unanswered: self.unanswered.swap(0, Ordering::Relaxed),
            skipped: self.skipped.swap(0, Ordering::Relaxed),
            p99_ms,
        }
    }
}

/// Sends `rate` requests per second to the api-gateway at `gateway` until `stop`
/// completes.
pub(crate) async fn drive(
    gateway: Target,
    rate: f64,
    stats: Arc<TrafficStats>,
    stop: impl Future<Output = ()>,
) {
    if rate <= 0.0 {
        return stop.await;
    }
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticks.tick() => {}
        }
        let (Ok(permit), Some(request)) = (
            Arc::clone(&in_flight).try_acquire_owned(),
            next_request(&gateway),
        ) else {
            stats.skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let (client, stats) = (client.clone(), Arc::clone(&stats));
        tokio::spawn(async move {
            let started = Instant::now();
            let answer =
                tokio::time::timeout(Duration::from_secs(10), client.request(request)).await;
            let status = match answer {
                Ok(Ok(response)) => Some(response.status()),
                _ => None,
            };
            stats.record(status, started.elapsed());
            drop(permit);
        });
    }
}

/// A request of the mix: half task creations (the full agent chain), a quarter task
/// reads, a sixth event streams, and a few bad tokens and unknown routes.
fn next_request(gateway: &Target) -> Option<Request<Full<Bytes>>> {
    let user = fastrand::u32(1..=50);
    let id = fastrand::u64(1..10_000);
    let roll = fastrand::f64();
    let (method, path, body, token) = if roll < 0.5 {
        let body = format!(
            r#"{{"workspace":{},"prompt":"summarise the incident"}}"#,
            fastrand::u32(1..=20)
        );
        (
            Method::POST,
            "/api/v1/tasks".to_owned(),
            body,
            format!("user-{user}"),
        )
    } else if roll < 0.75 {
        (
            Method::GET,
            format!("/api/v1/tasks/{id}"),
            String::new(),
            format!("user-{user}"),
        )
    } else if roll < 0.92 {
        (
            Method::GET,
            format!("/api/v1/streams/{id}"),
            String::new(),
            format!("user-{user}"),
        )
    } else if roll < 0.97 {
        (
            Method::GET,
            format!("/api/v1/tasks/{id}"),
            String::new(),
            "expired".to_owned(),
        )
    } else {
        (
            Method::GET,
            "/api/v2/tasks".to_owned(),
            String::new(),
            format!("user-{user}"),
        )
    };
    let mut request = Request::new(Full::new(Bytes::from(body)));
    *request.method_mut() = method;
    *request.uri_mut() = format!("http://{gateway}{path}").parse().ok()?;
    let headers = request.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(header::AUTHORIZATION, value);
    }
    Some(request)
}
