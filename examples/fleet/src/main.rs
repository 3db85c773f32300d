//! The Keviq Core fleet: fifteen `#[keviq::service]` services in one process on
//! loopback, the telemetry service scraping all of them into an embedded SQLite file,
//! and a traffic generator driving realistic call chains through them.
//!
//! ```text
//! cargo run --release -p example-fleet                    # the demo; Ctrl-C stops it
//! cargo run --release -p example-fleet -- --help          # rate, faults, ports, modes
//! cargo run -p example-fleet -- --print-prometheus-config # infra/prometheus/prometheus.yml
//! ```
//!
//! In containers (`infra/docker/`), the same binary runs one service per container
//! (`fleet --service api-gateway`) or the traffic alone (`fleet --traffic-only`).

mod peers;
mod services;
mod status;
mod traffic;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use keviq_telemetry::config::{
    DATABASE_URL_VAR, FLEET, INTERVAL_VAR, LOG_FILES_VAR, Settings, TARGETS_VAR,
};
use keviq_telemetry::sample::Target;
use tokio::net::TcpListener;

use crate::peers::Peers;
use crate::services::{Ctx, Faults};
use crate::traffic::TrafficStats;

/// The Keviq Core fleet demo.
#[derive(Debug, Parser)]
#[command(about, long_about = None)]
struct Args {
    /// Port of the first service (api-gateway); the others follow in ARCHITECTURE.md's
    /// order, up to the telemetry service on base + 14.
    #[arg(long, default_value_t = 8001, value_parser = clap::value_parser!(u16).range(1..=65_521))]
    base_port: u16,
    /// Requests per second the traffic generator sends to the api-gateway (0: none).
    #[arg(long, default_value_t = 20.0, value_parser = rate)]
    rate: f64,
    /// Share of leaf-service requests answered 503 (0 to 1).
    #[arg(long, default_value_t = 0.01, value_parser = share)]
    error_share: f64,
    /// Share of leaf-service requests that stall for 150 to 600 ms (0 to 1).
    #[arg(long, default_value_t = 0.02, value_parser = share)]
    slow_share: f64,
    /// Seconds between two scrapes of the fleet by the telemetry service.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=3600))]
    scrape_interval: u64,
    /// The telemetry service's SQLite file.
    #[arg(long, default_value = "target/fleet/telemetry.sqlite")]
    database: PathBuf,
    /// Where the services' JSON logs go (filter with RUST_LOG; default
    /// `warn,keviq::span=info`: slow and failed calls, and a span line per request
    /// and call, which the dashboard draws; `info`: every call's lines too).
    /// The dashboard's request view reads it (TELEMETRY_LOG_FILES).
    #[arg(long, default_value = "target/fleet/fleet.log")]
    log_file: PathBuf,
    /// Print the Prometheus configuration generated from the service registry (each
    /// service at `<name>:8000`, as in containers) and exit.
    #[arg(long)]
    print_prometheus_config: bool,
    /// With `--print-prometheus-config`: the loopback fleet's addresses instead, and
    /// `--scrape-interval`.
    #[arg(long, requires = "print_prometheus_config")]
    loopback: bool,
    /// Run just this service, on KEVIQ_LISTEN, reaching its peers at `<name>:<peer-port>`.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["print_prometheus_config", "traffic_only"])]
    service: Option<String>,
    /// Port of the peers in `--service` mode.
    #[arg(long, default_value_t = 8000)]
    peer_port: u16,
    /// Run just the traffic generator, against `--gateway`.
    #[arg(long, conflicts_with = "print_prometheus_config")]
    traffic_only: bool,
    /// The api-gateway `--traffic-only` drives.
    #[arg(long, default_value = "api-gateway:8000", value_parser = Target::parse)]
    gateway: Target,
}

fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("`{text}` is not a share from 0 to 1")),
    }
}

fn rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=10_000.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{text}` is not a rate from 0 to 10000 requests per second"
        )),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_prometheus_config {
        return match prometheus_config(&args) {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("fleet: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("fleet: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        if let Some(name) = &args.service {
            one_service(&args, name).await
        } else if args.traffic_only {
            traffic_only(&args).await
        } else {
            fleet(&args).await
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The generated Prometheus configuration, with a header saying where it comes from.
fn prometheus_config(args: &Args) -> Result<String, String> {
    let services = keviq::axum::services();
    let yaml = if args.loopback {
        let interval = Duration::from_secs(args.scrape_interval);
        // The clap range keeps base + 14 within u16; checked again for a service
        // outside ARCHITECTURE.md's fifteen.
        if let Some(s) = services
            .iter()
            .find(|s| port_of(args.base_port, s.name).is_none())
        {
            return Err(format!("`{}` has no loopback port", s.name));
        }
        keviq::axum::prometheus_config(services, interval, |s| {
            format!(
                "127.0.0.1:{}",
                port_of(args.base_port, s.name).unwrap_or_default()
            )
        })
    } else {
        keviq::axum::prometheus_config(services, Duration::from_secs(15), |s| {
            format!("{}:8000", s.name)
        })
    };
    let origin = if args.loopback {
        "#   cargo run -p example-fleet -- --print-prometheus-config --loopback\n\
         # for a Prometheus on this machine, next to `cargo run -p example-fleet`.\n"
    } else {
        "#   cargo run -p example-fleet -- --print-prometheus-config > infra/prometheus/prometheus.yml\n\
         # Do not edit: examples/fleet/tests/fleet.rs fails when this file and the generator disagree.\n"
    };
    let yaml = yaml.map_err(|e| e.to_string())?;
    Ok(format!(
        "# Generated from the service registry (one job per #[keviq::service]) by\n{origin}{yaml}"
    ))
}

/// A service's loopback port: `base` plus its place in ARCHITECTURE.md's order.
fn port_of(base: u16, name: &str) -> Option<u16> {
    let index = FLEET.iter().position(|n| *n == name)?;
    base.checked_add(u16::try_from(index).ok()?)
}

fn ctx(args: &Args, peers: Peers) -> Ctx {
    Ctx {
        peers,
        faults: Faults {
            error_share: args.error_share,
            slow_share: args.slow_share,
        },
    }
}

/// `--service NAME`: one service, as a container runs it.
async fn one_service(args: &Args, name: &str) -> Result<(), String> {
    let Some(&name) = FLEET.iter().find(|n| **n == name) else {
        return Err(format!(
            "`{name}` is not a service of the fleet; expected one of {}",
            FLEET.join(", ")
        ));
    };
    keviq::logging::init(name).map_err(|e| e.to_string())?;
    if name == "telemetry-service" {
        return keviq_telemetry::daemon::run()
            .await
            .map_err(|e| e.to_string());
    }
    let router = services::router(name, ctx(args, Peers::by_name(args.peer_port)))
        .ok_or_else(|| format!("no router for `{name}`"))?;
    keviq::axum::serve(router).await.map_err(|e| e.to_string())
}

/// `--traffic-only`: the generator alone, with a status line.
async fn traffic_only(args: &Args) -> Result<(), String> {
    init_file_logging(&args.log_file)?;
    let stats = Arc::new(TrafficStats::default());
    let shutdown = keviq::axum::shutdown_signal();
    println!(
        "driving {} requests/s at http://{}/ ; Ctrl-C to stop",
        args.rate, args.gateway
    );
    let generator = traffic::drive(
        args.gateway.clone(),
        args.rate,
        Arc::clone(&stats),
        shutdown,
    );
    tokio::select! {
        () = generator => {}
        () = status::run(&stats, None, Instant::now()) => {}
    }
    Ok(())
}

/// The whole fleet on loopback. See the module docs.
async fn fleet(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    init_file_logging(&args.log_file)?;
    // Installed first, so a Ctrl-C while starting up is not missed.
    let shutdown = keviq::axum::shutdown_signal();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = move || {
        let mut rx = stopped.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };

    // Every port is bound before anything is scraped, so all fifteen answer the
    // telemetry service's first round.
    let mut listeners = Vec::with_capacity(FLEET.len());
    for name in FLEET {
        let port = port_of(args.base_port, name)
            .ok_or_else(|| format!("--base-port {} leaves no room for {name}", args.base_port))?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            format!("cannot listen on {addr} for {name}: {e}; choose other ports with --base-port")
        })?;
        listeners.push((name, addr, listener));
    }

    let targets: Vec<String> = listeners
        .iter()
        .map(|(_, addr, _)| addr.to_string())
        .collect();
    let database_url = sqlite_url(&args.database)?;
    // The fleet's own values; every other variable keeps its default (24 h retention).
    // The request view reads the fleet's own log file.
    let log_file = args
        .log_file
        .to_str()
        .filter(|p| !p.contains(','))
        .ok_or_else(|| {
            format!(
                "--log-file {} is not a usable path",
                args.log_file.display()
            )
        })?
        .to_owned();
    let settings = Settings::from_vars(|var| match var {
        TARGETS_VAR => Some(targets.join(",")),
        INTERVAL_VAR => Some(args.scrape_interval.to_string()),
        DATABASE_URL_VAR => Some(database_url.clone()),
        LOG_FILES_VAR => Some(log_file.clone()),
        _ => None,
    })
    .map_err(|e| e.to_string())?;
    let telemetry = keviq_telemetry::daemon::start(settings)
        .await
        .map_err(|e| e.to_string())?;

    let ctx = ctx(args, Peers::loopback(args.base_port));
    let mut servers = tokio::task::JoinSet::new();
    let mut dashboard = None;
    for (name, addr, listener) in listeners {
        let router = match services::router(name, ctx.clone()) {
            Some(router) => router,
            None => {
                dashboard = Some(addr);
                telemetry.router.clone()
            }
        };
        let stop = until_stopped();
        servers.spawn(async move {
            (
                name,
                keviq::axum::serve_listener(listener, router, stop).await,
            )
        });
    }

    let stats = Arc::new(TrafficStats::default());
    let gateway = Target::parse(&format!("127.0.0.1:{}", args.base_port)).map_err(|e| e.clone())?;
    tokio::spawn(traffic::drive(
        gateway,
        args.rate,
        Arc::clone(&stats),
        until_stopped(),
    ));

    let dashboard = dashboard.map_or_else(String::new, |a| format!("http://{a}/"));
    println!(
        "keviq fleet: {} services on 127.0.0.1:{}-{}, {} requests/s of traffic\n  \
         dashboard  {dashboard}\n  \
         metrics    http://127.0.0.1:{}/metrics (api-gateway; each service on its own port)\n  \
         storage    {}\n  \
         logs       {}\n\
         Ctrl-C to stop.",
        FLEET.len(),
        args.base_port,
        args.base_port + 14,
        args.rate,
        args.base_port,
        args.database.display(),
        args.log_file.display(),
    );
    tokio::select! {
        () = shutdown => {}
        () = status::run(&stats, Some(&telemetry.scraper), started) => {}
        Some(joined) = servers.join_next() => {
            telemetry.stop().await;
            let _ = stop.send(true);
            return Err(match joined {
                Ok((name, Err(e))) => format!("{name} failed: {e}"),
                Ok((name, Ok(()))) => format!("{name} stopped unexpectedly"),
                Err(e) => format!("a server task failed: {e}"),
            });
        }
    }
    println!("\nstopping: writing the last scrapes and finishing requests in flight");
    // Scraping stops (its last round finished) before the services close, so no
    // scrape of a closing service is logged as a failure.
    telemetry.stop().await;
    let _ = stop.send(true);
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        while servers.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        eprintln!("fleet: some requests did not finish within 10 s");
    }
    println!("stopped");
    Ok(())
}

/// `sqlite://<path>` for the telemetry store, creating the file's directory.
fn sqlite_url(path: &std::path::Path) -> Result<String, String> {
    let text = path
        .to_str()
        .filter(|t| !t.is_empty() && !t.contains(['?', '#']))
        .ok_or_else(|| format!("--database {} is not a usable file path", path.display()))?;
    create_parent(path)?;
    Ok(format!("sqlite://{text}"))
}

fn create_parent(path: &std::path::Path) -> Result<(), String> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display())),
        _ => Ok(()),
    }
}

/// The log filter without RUST_LOG: slow and failed calls, and one span line per
/// request and call (what the dashboard's request view draws).
const DEFAULT_LOG_FILTER: &str = "warn,keviq::span=info";

/// JSON logs of every service to `path` (the terminal keeps the status line),
/// filtered by RUST_LOG, [`DEFAULT_LOG_FILTER`] by default.
fn init_file_logging(path: &std::path::Path) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    create_parent(path)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open the log file {}: {e}", path.display()))?;
    // Without RUST_LOG: warnings, and the span lines the request view draws.
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) => EnvFilter::try_new(directives),
        Err(_) => EnvFilter::try_new(DEFAULT_LOG_FILTER),
    }
    .map_err(|e| format!("RUST_LOG is not a valid filter: {e}"))?;
    tracing_subscriber::fmt()
        .event_format(keviq::logging::JsonFormat::new("fleet"))
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .map_err(|e| e.to_string())
}
