//! `keviq::testing` in tests that run in parallel: the README's "Testing an
//! instrumented service" (the first block below is its code, unchanged), and tests
//! that keep the service busy on other routes and label values while each asserts
//! exact counts on its own.
#![cfg(feature = "testing")]

use std::time::Duration;

// ---------------------------------------------------------------- the README's code

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use keviq::HttpMethod;
use keviq::testing::Snapshot;
use tower::ServiceExt;

keviq::metric! {
    /// Shop metrics.
    pub static SHOP: ShopMetrics {
        /// Orders placed, by currency
        orders: Counter(currency: String) = "shop_orders_total",
        /// Order amounts, by currency
        #[metric(buckets = [10, 100, 1000])]
        amounts: Histogram(currency: String) = "shop_order_amount",
    }
}

#[keviq::service(name = "shop", metrics = [SHOP])]
pub fn app() -> Router {
    Router::new()
        .route("/orders/{currency}", post(place))
        .route(
            "/refunds",
            post(|| async { StatusCode::SERVICE_UNAVAILABLE }),
        )
        .route("/health", get(|| async { "ok" }))
}

async fn place(Path(currency): Path<String>) -> StatusCode {
    SHOP.orders.labels(&currency).inc();
    SHOP.amounts.labels(&currency).observe(42.0);
    StatusCode::CREATED
}

#[tokio::test]
async fn placing_an_order_is_counted() {
    let before = Snapshot::service("shop");
    let request = Request::post("/orders/EUR").body(Body::empty()).unwrap();
    let response = app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    let delta = before.delta(&Snapshot::service("shop"));
    assert_eq!(
        delta.value("shop_orders_total", &[("currency", "EUR")]),
        1.0
    );
    let amounts = delta.histogram("shop_order_amount", &[("currency", "EUR")]);
    assert_eq!((amounts.count, amounts.sum), (1.0, 42.0));
    let route = delta.route("/orders/{currency}");
    assert_eq!(route.requests_with(HttpMethod::Post, 201), 1.0);
    assert_eq!(route.duration().count, 1.0);
}

#[tokio::test]
async fn a_failed_refund_is_an_error() {
    let before = Snapshot::service("shop");
    let request = Request::post("/refunds").body(Body::empty()).unwrap();
    app().oneshot(request).await.unwrap();

    let delta = before.changes(); // before.delta(&Snapshot::service("shop"))
    assert_eq!(delta.route("/refunds").requests_with_status(503), 1.0);
    assert_eq!(delta.route("/refunds").errors(), 1.0);
}

// ---------------------------------------------------------------- busy neighbours

/// 200 requests at once on one route, all counted, while the other tests run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_to_one_route_are_all_counted() {
    let before = Snapshot::service("shop");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(async {
                for _ in 0..25 {
                    let request = Request::get("/health").body(Body::empty()).unwrap();
                    let response = app().oneshot(request).await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let delta = before.changes();
    let route = delta.route("/health");
    assert_eq!(route.requests_with(HttpMethod::Get, 200), 200.0, "{delta}");
    assert_eq!(route.requests(), 200.0);
    assert_eq!(route.duration().count, 200.0);
    assert_eq!(route.errors(), 0.0);
}

/// Label values keep tests apart within one family: this test's currency, from
/// several threads, as `&str`, `&String` and `String`.
#[test]
fn label_values_keep_tests_apart() {
    let before = Snapshot::of(&SHOP.orders);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let currency = String::from("CHF");
                for _ in 0..100 {
                    SHOP.orders.labels("CHF").inc();
                    SHOP.orders.labels(&currency).inc();
                    SHOP.orders.labels(currency.clone()).inc();
                }
            });
        }
    });
    let delta = before.changes();
    assert_eq!(
        delta.value("shop_orders_total", &[("currency", "CHF")]),
        900.0
    );
    // `Snapshot::of` renders only what it was given.
    assert!(
        delta.samples().all(|s| s.name() == "shop_orders_total"),
        "{delta}"
    );
}

/// Round after round of exact deltas on one route (requests that match no route)
/// while the tests above keep the service and the family busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_deltas_round_after_round() {
    for round in 0..30 {
        let before = Snapshot::service("shop");
        let request = Request::get("/no/such/route").body(Body::empty()).unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let delta = before.changes();
        let unmatched = delta.route(keviq::axum::UNMATCHED_PATH);
        assert_eq!(
            unmatched.requests_with(HttpMethod::Get, 404),
            1.0,
            "round {round}: {delta}"
        );
        assert_eq!(unmatched.requests(), 1.0, "round {round}: {delta}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[keviq::service(name = "shop-admin", prefix = "admin_")]
fn admin() -> Router {
    Router::new().route("/stock", get(|| async { "12" }))
}

/// `route` reads a service's HTTP families under the names its `prefix` gives them.
#[tokio::test]
async fn route_follows_the_service_prefix() {
    let before = Snapshot::service("shop-admin");
    let request = Request::get("/stock").body(Body::empty()).unwrap();
    admin().oneshot(request).await.unwrap();
    let delta = before.changes();
    assert_eq!(
        delta.route("/stock").requests_with(HttpMethod::Get, 200),
        1.0
    );
    assert_eq!(delta.route("/stock").duration().count, 1.0);
    assert_eq!(
        delta.value("admin_http_requests_total", &[("path", "/stock")]),
        1.0
    );
}

/// A misspelled name fails the test instead of reading as zero.
#[test]
#[should_panic(expected = "no metric `shop_order_total` in this snapshot")]
fn a_misspelled_metric_name_fails_the_test() {
    Snapshot::service("shop").value("shop_order_total", &[("currency", "EUR")]);
}

#[test]
#[should_panic(expected = "`shop_orders_total` has no label `curency`")]
fn a_misspelled_label_name_fails_the_test() {
    Snapshot::of(&SHOP).value("shop_orders_total", &[("curency", "EUR")]);
}

#[test]
#[should_panic(expected = "expected one `#[keviq::service]` named `shops`")]
fn an_unknown_service_fails_the_test() {
    Snapshot::service("shops");
}
