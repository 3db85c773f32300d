//! A keviq service built only from the README's public API, in the shape the W3C
//! Trace Context test suite (github.com/w3c/trace-context, `test/`) drives: `POST
//! /test` with a JSON list of calls, `[{"url": "http://…", "arguments": [...]}]`;
//! the service makes each call, in order, as a `POST` of its `arguments` (JSON)
//! through keviq's client, then answers `200`. keviq's middleware continues or
//! starts the trace; keviq's client makes each call a span of its own.
//!
//! ```text
//! KEVIQ_LISTEN=127.0.0.1:5000 cargo run -p example-trace-context
//! SPEC_LEVEL=2 python test.py http://127.0.0.1:5000/test    # in the suite's test/
//! ```

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use tower::ServiceExt;

/// One call to make.
#[derive(Debug, Deserialize)]
pub struct Call {
    /// Where to `POST`.
    pub url: String,
    /// The body, sent as JSON.
    #[serde(default)]
    pub arguments: serde_json::Value,
}

/// The service: `POST /test`.
#[keviq::service(name = "trace-context-test")]
pub fn app() -> Router {
    Router::new().route("/test", post(test))
}

/// Makes the calls one after another; `502` if one fails.
async fn test(Json(calls): Json<Vec<Call>>) -> StatusCode {
    let client = keviq::axum::client();
    for call in calls {
        let body = serde_json::to_vec(&call.arguments).unwrap_or_else(|_| b"[]".to_vec());
        let Ok(request) = Request::post(&call.url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
        else {
            return StatusCode::BAD_REQUEST;
        };
        match client.clone().oneshot(request).await {
            Ok(response) => {
                // Read to the end, so the connection goes back to the pool.
                let _ = axum::body::to_bytes(Body::new(response.into_body()), 1 << 20).await;
            }
            Err(_) => return StatusCode::BAD_GATEWAY,
        }
    }
    StatusCode::OK
}
