//! The telemetry API and dashboard end to end: a real keviq service is scraped into a
//! real SQLite file, the API answers from it, bad parameters get JSON 400s naming
//! the parameter, and headless Chromium renders the dashboard listing the service.

use std::process::Command;
use std::time::Duration;

use keviq_testkit::cdp;
use keviq_testkit::postgres;

use keviq_testkit::serve;

use axum::Router;
use axum::routing::get;
use keviq_telemetry::api::{AppState, app};
use keviq_telemetry::config::{LOG_FILES_VAR, LogConfig, ScrapeConfig};
use keviq_telemetry::sample::Target;
use keviq_telemetry::scrape::Scraper;
use keviq_telemetry::store::Store;
use serde_json::Value;
use serve::serve;

#[keviq::service(name = "worker")]
fn worker() -> Router {
    Router::new().route("/work", get(|| async { "done" }))
}

async fn get_json(url: &str) -> (u16, Value) {
    let out = tokio::task::spawn_blocking({
        let url = url.to_owned();
        move || {
            Command::new("curl")
                .args(["-s", "-w", "\n%{http_code}", &url])
                .output()
        }
    })
    .await
    .expect("join")
    .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').expect("status line");
    (
        code.parse().expect("status"),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// A fleet's JSON log holding, for every exemplar's request, a line of the worker and
/// an earlier one of the gateway that called it, written after it; and a stranger.
fn write_log(path: &std::path::Path, exemplars: &[Value]) {
    let mut text = String::new();
    for (i, e) in exemplars.iter().enumerate() {
        let id = &e["request_id"];
        text.push_str(&format!(
            "{{\"timestamp\":\"2026-11-30T10:00:{:02}.500000Z\",\"level\":\"INFO\",\"service\":\"worker\",\"request_id\":{id},\"message\":\"work done\"}}\n",
            i % 60
        ));
        text.push_str(&format!(
            "{{\"timestamp\":\"2026-11-30T10:00:{:02}.100000Z\",\"level\":\"INFO\",\"service\":\"api-gateway\",\"request_id\":{id},\"message\":\"calling worker\"}}\n",
            i % 60
        ));
    }
    // Each request's spans: the gateway's, its call, the worker's (the first
    // request's IDs end in a1, a2, b1); the worker's call fails for every other one.
    for (i, e) in exemplars.iter().enumerate() {
        let id = &e["request_id"];
        let trace = format!(
            "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e{:04x}\"",
            0x4736 + i
        );
        let span = |n: usize| format!("{:016x}", n + 0x100 * i);
        let status = if i % 2 == 1 { 503 } else { 200 };
        for (service, kind, own, parent, status, start, ms) in [
            (
                "api-gateway",
                "server",
                span(0xa1),
                None,
                status,
                1_000,
                9.0,
            ),
            (
                "api-gateway",
                "client",
                span(0xa2),
                Some(span(0xa1)),
                status,
                1_001,
                7.0,
            ),
            (
                "worker",
                "server",
                span(0xb1),
                Some(span(0xa2)),
                status,
                1_002,
                6.0,
            ),
        ] {
            let parent = parent.map_or(String::new(), |p| format!(",\"parent_span_id\":\"{p}\""));
            text.push_str(&format!(
                "{{\"timestamp\":\"2026-11-30T10:00:{:02}.900000Z\",\"target\":\"keviq::span\",\"service\":\"{service}\",\"request_id\":{id},{trace},\"kind\":\"{kind}\",\"span_id\":\"{own}\"{parent},\"method\":\"POST\",\"route\":\"/work\",\"status\":{status},\"start_ms\":{start},\"duration_ms\":{ms},\"message\":\"span\"}}\n",
                i % 60
            ));
        }
    }
    text.push_str("{\"timestamp\":\"2026-11-30T10:00:00Z\",\"service\":\"other\",\"request_id\":\"someone-else\"}\n");
    std::fs::write(path, text).expect("write the log");
}

/// One test, the backends in turn: the HTTP families are process-wide, so two
/// concurrent runs would count each other's traffic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs PostgreSQL and Chromium: run with `--features system-tests` (scripts/test does)"
)]
async fn api_and_dashboard_on_sqlite_and_postgres() {
    let dir = std::env::temp_dir().join(format!("keviq-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    check_api(
        &format!("sqlite://{}", dir.join("t.sqlite").display()),
        true,
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);

    let pg = postgres::Postgres::start();
    check_api(&pg.url(), false).await;
}

/// The API checks against the store at `url`; the browser checks when asked.
async fn check_api(url: &str, with_browser: bool) {
    let worker_addr = serve(worker()).await;
    let dir = std::env::temp_dir().join(format!(
        "keviq-browser-{}-{}",
        std::process::id(),
        worker_addr.port()
    ));
    let store = Store::connect(url).await.expect("store");
    let config = ScrapeConfig {
        targets: vec![Target {
            host: "127.0.0.1".into(),
            port: worker_addr.port(),
        }],
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(1),
        body_limit: 1 << 20,
        sample_limit: 0,
    };
    let scraper = Scraper::new(config);

    // Two scrapes with traffic in between, written as the service's writer would
    // (each ends with `up`, as the daemon's rounds do).
    for round in 0..2 {
        for scrape in scraper.scrape_round().await {
            store.write(&scrape).await.expect("write");
        }
        if round == 0 {
            for _ in 0..30 {
                let _ = get_json(&format!("http://{worker_addr}/work")).await;
            }
        }
    }

    let api = serve(app(AppState::local(scraper.clone(), store.clone()))).await;
    let base = format!("http://{api}");
    let target = format!("127.0.0.1:{}", worker_addr.port());

    let (status, targets) = get_json(&format!("{base}/api/v1/targets")).await;
    assert_eq!(status, 200);
    assert_eq!(targets[0]["target"], target.as_str());
    assert_eq!(targets[0]["up"], true);
    assert_eq!(targets[0]["service"], "worker");

    let (status, services) =
        get_json(&format!("{base}/api/v1/services?window=600&history=1")).await;
    assert_eq!(status, 200, "{services}");
    let s = &services["services"][0];
    // 30 requests to /work, and the first scrape's own GET /metrics (counted like any
    // route), averaged over the time since the target's first scrape (under the window).
    assert!(
        s["request_rate"]
            .as_f64()
            .is_some_and(|r| r > 31.0 / 600.0 && r <= 31.0),
        "{s}"
    );
    assert_eq!(s["error_rate"], 0.0);
    assert!(
        s["p50_ms"].as_f64().is_some() && s["p99_ms"].as_f64().is_some(),
        "{s}"
    );
    assert!(
        s["agent_invocation_rate"].is_null(),
        "no agent metrics on this service"
    );
    let history: Vec<f64> = s["history"]["request_rate"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(history.len(), 60);
    assert!(
        (history.iter().sum::<f64>() * 60.0 - 31.0).abs() < 1e-6,
        "{history:?}"
    );

    for series in ["error_rate", "p50_ms", "p99_ms"] {
        assert_eq!(
            s["history"][series].as_array().map(Vec::len),
            Some(60),
            "{series}: {s}"
        );
    }
    assert!(
        s["history"]["p99_ms"]
            .as_array()
            .is_some_and(|m| m.iter().any(Value::is_f64)),
        "the minute with the traffic has a P99: {s}"
    );

    // The exemplars the worker put on its latency buckets (OpenMetrics was
    // negotiated), each with the request's ID, slowest first.
    let (status, exemplars) = get_json(&format!(
        "{base}/api/v1/exemplars?service=worker&metric=mona_http_request_duration_ms_bucket&sort=value&since=0"
    ))
    .await;
    assert_eq!(status, 200, "{exemplars}");
    let exemplars = exemplars.as_array().expect("array").clone();
    assert!(!exemplars.is_empty(), "the worker's exemplars are stored");
    for e in &exemplars {
        assert_eq!(e["service"], "worker", "{e}");
        assert_eq!(e["target"], target.as_str(), "{e}");
        let id = e["request_id"].as_str().expect("a request ID");
        assert!(keviq::request_id::is_well_formed(id.as_bytes()), "{e}");
        assert_eq!(e["labels"]["request_id"].as_str(), Some(id));
        assert!(e["series"]["le"].is_string(), "{e}");
    }
    let values: Vec<f64> = exemplars
        .iter()
        .filter_map(|e| e["value"].as_f64())
        .collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    let (_, none) = get_json(&format!(
        "{base}/api/v1/exemplars?service={target}&min_value=1e12&since=0"
    ))
    .await;
    assert_eq!(none, Value::Array(Vec::new()));
    for (query, parameter) in [
        ("limit=0", Some("limit")),
        ("limit=1001", Some("limit")),
        ("min_value=abc", Some("min_value")),
        ("since=10&until=5", Some("since")),
        ("metric=x-y", Some("metric")),
        ("service=nowhere", Some("service")),
        ("sort=speed", Some("sort")),
        ("bogus=1", None),
    ] {
        let (status, body) = get_json(&format!("{base}/api/v1/exemplars?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["parameter"].as_str(), parameter, "{query}: {body}");
    }

    // The request view: no log files here, then a fleet's log with the request's
    // lines from two services (written out of order), read in time order.
    let id = exemplars[0]["request_id"].as_str().expect("id").to_owned();
    let (status, body) = get_json(&format!("{base}/api/v1/requests/{id}")).await;
    assert_eq!((status, body["parameter"].as_str()), (404, None), "{body}");
    std::fs::create_dir_all(&dir).expect("dir");
    let log_file = dir.join("fleet.log");
    write_log(&log_file, &exemplars);
    let logs =
        LogConfig::from_vars(|var| (var == LOG_FILES_VAR).then(|| log_file.display().to_string()))
            .expect("log config");
    let api = serve(app(
        AppState::local(scraper.clone(), store.clone()).with_logs(logs)
    ))
    .await;
    let base = format!("http://{api}");
    let (status, log) = get_json(&format!("{base}/api/v1/requests/{id}")).await;
    assert_eq!(status, 200, "{log}");
    assert_eq!(log["request_id"], id.as_str());
    assert_eq!(
        log["services"],
        serde_json::json!(["api-gateway", "worker"])
    );
    assert_eq!(log["truncated"], false);
    // The first request also has its spans, as one tree.
    let (status, first) = get_json(&format!(
        "{base}/api/v1/requests/{}",
        exemplars[0]["request_id"].as_str().expect("id")
    ))
    .await;
    assert_eq!(status, 200, "{first}");
    let spans = first["spans"].as_array().expect("spans");
    let tree: Vec<(&str, u64)> = spans
        .iter()
        .map(|s| {
            (
                s["span_id"].as_str().unwrap_or(""),
                s["depth"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    assert_eq!(
        tree,
        [
            ("00000000000000a1", 0),
            ("00000000000000a2", 1),
            ("00000000000000b1", 2)
        ],
        "{first}"
    );
    assert_eq!(first["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(first["lines"].as_array().map(Vec::len), Some(5), "{first}");
    let (status, by_trace) = get_json(&format!(
        "{base}/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    ))
    .await;
    assert_eq!(status, 200, "{by_trace}");
    assert_eq!(by_trace["spans"], first["spans"]);
    for bad in [
        "4BF92F3577B34DA6A3CE929D0E0E4736",
        "00000000000000000000000000000000",
        "xyz",
    ] {
        let (status, body) = get_json(&format!("{base}/api/v1/traces/{bad}")).await;
        assert_eq!(
            (status, body["parameter"].as_str()),
            (400, Some("trace_id")),
            "{bad}"
        );
    }
    // A shortened ID (as an exemplar carries one over budget) matches by prefix.
    let prefix = format!("{}%E2%80%A6", &id[..8]);
    let (status, log) = get_json(&format!("{base}/api/v1/requests/{prefix}")).await;
    assert_eq!(status, 200, "{log}");
    assert!(
        log["lines"].as_array().is_some_and(|l| l.len() >= 2),
        "{log}"
    );
    for bad in ["has%20space", "%E2%80%A6", "a%0Ab"] {
        let (status, body) = get_json(&format!("{base}/api/v1/requests/{bad}")).await;
        assert_eq!(
            (status, body["parameter"].as_str()),
            (400, Some("request_id")),
            "{bad}: {body}"
        );
    }

    let (status, rows) =
        get_json(&format!("{base}/api/v1/samples?metric=mona_http_requests_total&target={target}&label=path=/work&since=0")).await;
    assert_eq!(status, 200);
    let rows = rows.as_array().expect("array");
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r["labels"]["path"] == "/work"),
        "{rows:?}"
    );

    for (query, parameter) in [
        ("metric=x&since=abc", Some("since")),
        ("metric=x&limit=0", Some("limit")),
        ("metric=x&label=nolabel", Some("label")),
        ("metric=x&since=10&until=5", Some("since")),
        ("since=1", Some("metric")),
        ("metric=x-y", Some("metric")),
        ("metric=x&bogus=1", None),
        ("metric=%zz", Some("metric")),
    ] {
        let (status, body) = get_json(&format!("{base}/api/v1/samples?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["error"].is_string(), "{query}: {body}");
        assert_eq!(body["parameter"].as_str(), parameter, "{query}: {body}");
    }
    let (status, body) = get_json(&format!("{base}/api/v1/services?window=0")).await;
    assert_eq!((status, body["parameter"].as_str()), (400, Some("window")));

    if !with_browser {
        return;
    }
    // The dashboard, rendered by a real browser.
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("{base}/");
    // Cargo's directory for test files, wherever the target directory is.
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&shots).expect("target dir");
    let profile = dir.join("chromium-profile");
    let chromium = move |extra: Vec<String>| {
        let mut args: Vec<String> = cdp::HEADLESS.map(String::from).into();
        args.extend(["--virtual-time-budget=5000", "--window-size=1400,500"].map(String::from));
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra);
        args.push(url.clone());
        Command::new("chromium")
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run chromium ({e}); install Debian's `chromium` as .ci/run does")
            })
    };
    let dom = tokio::task::spawn_blocking({
        let chromium = chromium.clone();
        move || chromium(vec!["--dump-dom".into()])
    })
    .await
    .expect("join");
    let dom = String::from_utf8_lossy(&dom.stdout).to_string();
    // Named by the `keviq_service_info` it serves, not by its address.
    assert!(
        dom.contains("data-service=\"worker\""),
        "the dashboard lists the service by name:\n{dom}"
    );
    assert!(dom.contains("data-up=\"true\""), "{dom}");
    assert!(dom.contains("1 of 1 services up"), "{dom}");
    let shot = shots.join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let out = tokio::task::spawn_blocking(move || {
        chromium(vec![format!("--screenshot={}", shot.display())])
    })
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        shots.join("dashboard.png").exists(),
        "the screenshot is saved as a build artifact"
    );

    // An on-call engineer's clicks: the service, its slowest request on the latency
    // chart, that request's log lines.
    let profile = dir.join("cdp-profile");
    tokio::task::spawn_blocking(move || click_through(&base, &profile, &shots))
        .await
        .expect("the click-through");
    let _ = std::fs::remove_dir_all(&dir);
}

fn click_through(base: &str, profile: &std::path::Path, shots: &std::path::Path) {
    let limit = Duration::from_secs(15);
    let mut browser = cdp::Browser::start(profile, 1400, 900);
    browser.navigate(&format!("{base}/"));
    browser.wait_for(
        "the service row",
        r#"document.querySelector('tr[data-service="worker"]') !== null"#,
        limit,
    );
    browser.click(r#"tr[data-service="worker"]"#);
    browser.wait_for(
        "the P50 and P99 lines",
        "document.querySelectorAll('svg[data-chart=latency] path.series').length === 2",
        limit,
    );
    let dots = browser.wait_for(
        "request dots on the latency chart",
        "document.querySelectorAll('svg[data-chart=latency] circle.exemplar.slow').length",
        limit,
    );
    assert!(dots.as_u64() > Some(0));
    for chart in ["requests", "errors"] {
        assert_eq!(
            browser.eval(&format!(
                "document.querySelectorAll('svg[data-chart={chart}] path.series').length"
            )),
            1,
            "{chart}"
        );
    }
    browser.screenshot(&shots.join("dashboard-service.png"));
    // The slowest is the last dot drawn, on top of any it overlaps.
    let id = browser.eval(
        "(() => { const dots = [...document.querySelectorAll('svg[data-chart=latency] circle.exemplar.slow')];
           const top = dots[dots.length - 1];
           const max = Math.max(...dots.map((d) => Number(d.dataset.value)));
           return Number(top.dataset.value) === max ? top.dataset.requestId : null; })()",
    );
    let id = id.as_str().expect("the slowest dot is on top").to_owned();
    browser.click("svg[data-chart=latency] circle.exemplar.slow:last-of-type");
    browser.wait_for(
        "the request's log lines",
        "document.getElementById('request-view').dataset.loaded === 'true'",
        limit,
    );
    assert_eq!(
        browser.eval("document.getElementById('request-id').textContent"),
        id.as_str()
    );
    assert_eq!(
        browser.eval("[...document.querySelectorAll('tr.log-line')].map((r) => r.dataset.service)"),
        serde_json::json!(["api-gateway", "worker"]),
        "every service's line, in time order"
    );
    // The waterfall: three spans nested, the worker's the slowest of its own time.
    assert_eq!(
        browser.eval(
            "[...document.querySelectorAll('.span-row')].map((r) => [r.dataset.service, r.dataset.kind, r.dataset.depth])"
        ),
        serde_json::json!([
            ["api-gateway", "server", "0"],
            ["api-gateway", "client", "1"],
            ["worker", "server", "2"]
        ])
    );
    assert_eq!(
        browser.eval("document.querySelector('.span-row.slowest').dataset.service"),
        "worker"
    );
    browser.screenshot(&shots.join("dashboard-waterfall.png"));
    // A trace ID pasted into the lookup box opens the same spans.
    let trace = browser.eval(
        "document.getElementById('request-summary').textContent.match(/trace ([0-9a-f]{32})/)[1]",
    );
    let trace = trace
        .as_str()
        .expect("the trace ID in the summary")
        .to_owned();
    browser.eval(&format!(
        "document.getElementById('lookup-id').value = '{trace}'; document.getElementById('lookup').requestSubmit(); true"
    ));
    browser.wait_for(
        "the trace view",
        "document.getElementById('request-kind').textContent === 'trace' && document.getElementById('request-view').dataset.loaded === 'true'",
        limit,
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('.span-row').length"),
        3
    );
    browser.screenshot(&shots.join("dashboard-request.png"));
}
