//! Calls between services: one HTTP client for the whole process, wrapped in
//! keviq's `ForwardRequestIdLayer` so every call made while handling a request
//! carries that request's `X-Request-ID`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use keviq::request_id::{ForwardRequestId, ForwardRequestIdLayer};
use keviq_telemetry::config::FLEET;
use serde_json::Value;
use tower::{Layer, ServiceExt};

/// Longest a call to a peer may take before it counts as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a call to a peer failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    /// No answer: refused, reset, or too slow.
    #[error("{peer} is unreachable: {reason}")]
    Unreachable {
        /// The peer.
        peer: &'static str,
        /// What happened.
        reason: String,
    },
    /// An answer with a status other than 2xx.
    #[error("{peer} answered {status}")]
    Status {
        /// The peer.
        peer: &'static str,
        /// Its status.
        status: StatusCode,
    },
}

/// Where the other services are, and the client that reaches them.
#[derive(Debug, Clone)]
pub(crate) struct Peers {
    addresses: Arc<HashMap<&'static str, String>>,
    client: ForwardRequestId<Client<HttpConnector, Full<Bytes>>>,
}

impl Peers {
    /// Every service on loopback, at `base_port` plus its place in the fleet.
    pub(crate) fn loopback(base_port: u16) -> Self {
        Self::new(|i, _| format!("127.0.0.1:{}", base_port + i))
    }

    /// Every service at `<name>:port`, as in containers.
    pub(crate) fn by_name(port: u16) -> Self {
        Self::new(|_, name| format!("{name}:{port}"))
    }

    fn new(address: impl Fn(u16, &str) -> String) -> Self {
        let addresses = (0u16..)
            .zip(FLEET)
            .map(|(i, name)| (name, address(i, name)))
            .collect();
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CALL_TIMEOUT));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Self {
            addresses: Arc::new(addresses),
            client: ForwardRequestIdLayer::new().layer(client),
        }
    }

    /// The `host:port` of a service of the fleet.
    pub(crate) fn address(&self, peer: &str) -> Option<&str> {
        self.addresses.get(peer).map(String::as_str)
    }

    /// Calls `peer` and returns its JSON answer (`null` for an empty body).
    pub(crate) async fn call(
        &self,
        peer: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let unreachable = |reason: String| CallError::Unreachable { peer, reason };
        let address = self
            .address(peer)
            .ok_or_else(|| unreachable("not a service of the fleet".into()))?;
        let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let request = Request::builder()
            .method(method)
            .uri(format!("http://{address}{path}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(|e| unreachable(e.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .clone()
                .oneshot(request)
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| unreachable(e.to_string()))?
                .to_bytes();
            Ok((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| unreachable(format!("no answer within {CALL_TIMEOUT:?}")))??;
        if !status.is_success() {
            return Err(CallError::Status { peer, status });
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}
