//! Every variable of the telemetry service, read once at start-up into [`Settings`].
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `SCRAPE_TARGETS` | the 15 services of the fleet at `<name>:8000` | comma-separated `host:port` list |
//! | `SCRAPE_INTERVAL_SECONDS` | `30` | seconds between two scrapes of every target (1 to 86400) |
//! | `TELEMETRY_DATABASE_URL` | `sqlite://telemetry.sqlite` | `sqlite://PATH` or `postgres://…` |
//! | `TELEMETRY_RETENTION_HOURS` | `24` | hours samples are kept (1 to 87600) |
//! | `TELEMETRY_BUFFER_BYTES` | `256MiB` | bound of the scrapes waiting for the store (bytes, or `KiB`/`MiB`/`GiB`); past it the oldest are dropped and counted |
//! | `TELEMETRY_DRAIN_SECONDS` | `15` | how long shutdown goes on writing the buffer (0 to 3600); what is left is logged and counted |
//! | `TELEMETRY_QUERY_TIMEOUT_SECONDS` | `5` | statement timeout of every API read (1 to 300) |
//! | `KEVIQ_LISTEN` | `127.0.0.1:8015` | the address the API and dashboard listen on |
//! | `TELEMETRY_REMOTE_WRITE_URL` | unset: no remote write | comma-separated `http://` remote-write 1.0 endpoints |
//! | `TELEMETRY_REMOTE_WRITE_BEARER_TOKEN_FILE` | unset | a file holding the token of `Authorization: Bearer` |
//! | `TELEMETRY_REMOTE_WRITE_HEADERS` | unset | extra headers, `Name=value,Name=value` (Mimir's `X-Scope-OrgID=…`) |
//! | `TELEMETRY_REMOTE_WRITE_TIMEOUT_SECONDS` | `30` | limit of one request (1 to 600) |
//! | `TELEMETRY_REMOTE_WRITE_BATCH_SAMPLES` | `2000` | samples per request (1 to 100000) |
//! | `TELEMETRY_REMOTE_WRITE_QUEUE_BYTES` | `256MiB` | bound of the unsent backlog (bytes, or `KiB`/`MiB`/`GiB`) |
//! | `TELEMETRY_QUERY_URL` | unset: the local store | a Prometheus-compatible query API the API and dashboard read |
//! | `TELEMETRY_SHARD` | unset: every target | `i/n`: only the targets whose hash modulo `n` is `i` |
//! | `TELEMETRY_LOG_FILES` | unset: no request view | comma-separated JSON log files `GET /api/v1/requests/{id}` reads (the `logs` module) |
//! | `TELEMETRY_LOG_URL` | unset | a link with `{request_id}` (Grafana Explore, Loki) the dashboard opens for a request instead |
//!
//! `TELEMETRY_DATABASE_URL=none` keeps no local store: the service scrapes and
//! forwards only (it then needs `TELEMETRY_REMOTE_WRITE_URL`). The remote-write token
//! and headers are sent to `TELEMETRY_QUERY_URL` too. See the `remote` module.
//!
//! `KEVIQ_LISTEN` is every keviq service's listen variable ([`keviq::axum::LISTEN_VAR`]);
//! the telemetry service's default is its published port, so it runs next to a
//! service on the default `127.0.0.1:8000`. A bad value stops start-up with a message
//! that names the variable; a value that is not UTF-8 is read with its bad bytes
//! replaced, so it is refused rather than taken for unset.

mod remote;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use crate::sample::Target;

/// The fleet of ARCHITECTURE.md, in its order: the default targets, each at `<name>:8000`.
pub const FLEET: [&str; 15] = [
    "api-gateway",
    "auth-service",
    "workspace-service",
    "policy-service",
    "orchestrator",
    "agent-runtime",
    "artifact-service",
    "execution-service",
    "event-store",
    "model-gateway",
    "sse-gateway",
    "audit-service",
    "notification-service",
    "secret-broker",
    "telemetry-service",
];

pub use self::remote::{
    BATCH_VAR, BEARER_TOKEN_FILE_VAR, DEFAULT_BATCH_SAMPLES, DEFAULT_QUEUE_BYTES, DEFAULT_TIMEOUT,
    Endpoint, HEADERS_VAR, QUERY_URL_VAR, QUEUE_BYTES_VAR, QueryConfig, REMOTE_WRITE_URL_VAR,
    RemoteWriteConfig, SHARD_VAR, Secret, Shard, TIMEOUT_VAR, request_headers,
};

/// Variable holding the JSON log files of the request view.
pub const LOG_FILES_VAR: &str = "TELEMETRY_LOG_FILES";
/// Variable holding the request link template.
pub const LOG_URL_VAR: &str = "TELEMETRY_LOG_URL";
/// The placeholder of [`LOG_URL_VAR`].
pub const REQUEST_ID_PLACEHOLDER: &str = "{request_id}";

/// Where the logs of one request are: files this service reads, or a link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogConfig {
    /// JSON log files, read by `GET /api/v1/requests/{id}`.
    pub files: Vec<std::path::PathBuf>,
    /// A link template holding [`REQUEST_ID_PLACEHOLDER`], `http://` or `https://`.
    pub url: Option<String>,
}

impl LogConfig {
    /// Reads [`LOG_FILES_VAR`] and [`LOG_URL_VAR`] through `get`.
    ///
    /// # Errors
    /// A link template without `{request_id}`, or not `http(s)://`.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let files = get(LOG_FILES_VAR)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
            .collect();
        let url = match get(LOG_URL_VAR).map(|u| u.trim().to_owned()) {
            None => None,
            Some(u) if u.is_empty() => None,
            Some(u) => {
                let web = u.starts_with("http://") || u.starts_with("https://");
                if !web || !u.contains(REQUEST_ID_PLACEHOLDER) || u.chars().any(char::is_control) {
                    return Err(ConfigError {
                        variable: LOG_URL_VAR,
                        reason: format!(
                            "expected an http:// or https:// link holding {REQUEST_ID_PLACEHOLDER}"
                        ),
                    });
                }
                Some(u)
            }
        };
        Ok(Self { files, url })
    }
}

/// Variable holding the targets.
pub const TARGETS_VAR: &str = "SCRAPE_TARGETS";
/// Variable holding the interval.
pub const INTERVAL_VAR: &str = "SCRAPE_INTERVAL_SECONDS";
/// Interval when [`INTERVAL_VAR`] is unset.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// Largest `/metrics` body accepted; a larger one fails that scrape.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Variable holding the per-scrape sample limit ([`ScrapeConfig::sample_limit`]).
pub const SAMPLE_LIMIT_VAR: &str = "TELEMETRY_SAMPLE_LIMIT";
/// Sample limit when [`SAMPLE_LIMIT_VAR`] is unset: far above a keviq service's
/// exposition, low enough that one runaway target cannot flood the store.
pub const DEFAULT_SAMPLE_LIMIT: usize = 200_000;
/// Variable holding the database URL.
pub const DATABASE_URL_VAR: &str = "TELEMETRY_DATABASE_URL";
/// The [`DATABASE_URL_VAR`] value that keeps no local store.
pub const NO_DATABASE: &str = "none";
/// Database when [`DATABASE_URL_VAR`] is unset: a file next to the process.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://telemetry.sqlite";
/// Variable holding the retention.
pub const RETENTION_VAR: &str = "TELEMETRY_RETENTION_HOURS";
/// Retention when [`RETENTION_VAR`] is unset.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// Variable holding the write buffer's bound ([`StorageConfig::buffer_bytes`]).
pub const BUFFER_BYTES_VAR: &str = "TELEMETRY_BUFFER_BYTES";
/// Variable holding the shutdown drain limit ([`StorageConfig::drain_limit`]).
pub const DRAIN_VAR: &str = "TELEMETRY_DRAIN_SECONDS";
/// Variable holding the API's statement timeout ([`StorageConfig::query_timeout`]).
pub const QUERY_TIMEOUT_VAR: &str = "TELEMETRY_QUERY_TIMEOUT_SECONDS";
/// Variable holding the listen address (every keviq service's).
pub const LISTEN_VAR: &str = keviq::axum::LISTEN_VAR;
/// Where the telemetry service listens when [`LISTEN_VAR`] is unset: its published
/// port, on loopback.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8015));

/// A configuration value that cannot be used, naming its variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// What the scraper needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeConfig {
    /// Every target, without duplicates, in the order given.
    pub targets: Vec<Target>,
    /// Time between two scrapes of every target.
    pub interval: Duration,
    /// Limit for one scrape, connection to last byte: below the interval, so one
    /// slow target never delays the next round.
    pub timeout: Duration,
    /// Largest body accepted.
    pub body_limit: usize,
    /// Most samples one scrape may hold, as Prometheus' `sample_limit`: a scrape
    /// over it fails as `sample_limit_exceeded` and nothing of it is stored; `0`
    /// for no limit.
    pub sample_limit: usize,
}

impl ScrapeConfig {
    /// Reads the variables through `get` (`std::env::var` in the binary).
    ///
    /// # Errors
    /// The first bad variable, named.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let targets = match get(TARGETS_VAR) {
            None => FLEET
                .iter()
                .map(|name| Target {
                    host: (*name).to_owned(),
                    port: 8000,
                })
                .collect(),
            Some(list) => parse_targets(&list)?,
        };
        let targets = match Shard::from_var(get(SHARD_VAR))? {
            Some(shard) => targets
                .into_iter()
                .filter(|t| shard.owns(&t.to_string()))
                .collect(),
            None => targets,
        };
        let interval = match get(INTERVAL_VAR) {
            None => DEFAULT_INTERVAL,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(0) => {
                    return Err(ConfigError {
                        variable: INTERVAL_VAR,
                        reason: "must be at least 1 second, not 0".into(),
                    });
                }
                Ok(secs) if secs <= 86_400 => Duration::from_secs(secs),
                Ok(_) => {
                    return Err(ConfigError {
                        variable: INTERVAL_VAR,
                        reason: "must be at most 86400 (one day)".into(),
                    });
                }
                Err(_) => {
                    return Err(ConfigError {
                        variable: INTERVAL_VAR,
                        reason: format!("`{}` is not a whole number of seconds", printable(&text)),
                    });
                }
            },
        };
        // Below the interval, and never above 10 s: a target that slow is down.
        let timeout = (interval.mul_f64(0.8)).min(Duration::from_secs(10));
        let sample_limit = match get(SAMPLE_LIMIT_VAR) {
            None => DEFAULT_SAMPLE_LIMIT,
            Some(text) => text.trim().parse::<usize>().map_err(|_| ConfigError {
                variable: SAMPLE_LIMIT_VAR,
                reason: format!(
                    "`{}` is not a whole number of samples (0 for no limit)",
                    printable(&text)
                ),
            })?,
        };
        Ok(Self {
            targets,
            interval,
            timeout,
            body_limit: DEFAULT_BODY_LIMIT,
            sample_limit,
        })
    }
}

/// Bound of the write buffer by default: 256 MiB of scrapes, about a minute of a
/// 100,000-series target or hours of the 15-service fleet.
pub const DEFAULT_BUFFER_BYTES: u64 = 256 << 20;

/// How long shutdown waits for the buffer to be written, by default.
pub const DEFAULT_DRAIN_LIMIT: Duration = Duration::from_secs(15);

/// How long one read of the API may run before the database stops it (the store's
/// `StoreError::Timeout`), by default; `Store::with_query_timeout` changes it.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How the local store is written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageConfig {
    /// Most bytes of scrapes waiting for the store (the `writer`'s buffer).
    pub buffer_bytes: u64,
    /// How long shutdown goes on writing what is buffered.
    pub drain_limit: Duration,
    /// How long one read of the API may run before the database stops it.
    pub query_timeout: Duration,
}

impl StorageConfig {
    /// Reads [`BUFFER_BYTES_VAR`], [`DRAIN_VAR`] and [`QUERY_TIMEOUT_VAR`] through `get`.
    ///
    /// # Errors
    /// The first bad variable, named.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            buffer_bytes: size(
                BUFFER_BYTES_VAR,
                get(BUFFER_BYTES_VAR),
                DEFAULT_BUFFER_BYTES,
            )?,
            drain_limit: Duration::from_secs(number(
                DRAIN_VAR,
                get(DRAIN_VAR),
                DEFAULT_DRAIN_LIMIT.as_secs(),
                0..=3600,
                "seconds",
            )?),
            query_timeout: Duration::from_secs(number(
                QUERY_TIMEOUT_VAR,
                get(QUERY_TIMEOUT_VAR),
                STATEMENT_TIMEOUT.as_secs(),
                1..=300,
                "seconds",
            )?),
        })
    }
}

/// Everything the telemetry service runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Targets, interval, limits.
    pub scrape: ScrapeConfig,
    /// `sqlite://…` or `postgres://…` (checked when the store connects), or `none`
    /// ([`Settings::store_url`]).
    pub database_url: String,
    /// How long samples are kept.
    pub retention: Duration,
    /// The write buffer in front of the store.
    pub storage: StorageConfig,
    /// Where the API and the dashboard listen.
    pub listen: SocketAddr,
    /// Remote write, if configured.
    pub remote_write: Option<RemoteWriteConfig>,
    /// The query API the API and dashboard read, if configured.
    pub query: Option<QueryConfig>,
    /// This process's shard of the targets (already applied to `scrape.targets`).
    pub shard: Option<Shard>,
    /// Where the request view finds log lines.
    pub logs: LogConfig,
}

impl Settings {
    /// Reads every variable of the table above through `get` (the process's
    /// environment in [`Settings::from_env`]; fixed values in tests and the fleet demo).
    ///
    /// # Errors
    /// The first bad variable, named.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Self {
            scrape: ScrapeConfig::from_vars(&get)?,
            database_url: get(DATABASE_URL_VAR)
                .map(|url| url.trim().to_owned())
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            retention: retention_from(get(RETENTION_VAR))?,
            storage: StorageConfig::from_vars(&get)?,
            listen: listen_from(get(LISTEN_VAR))?,
            remote_write: RemoteWriteConfig::from_vars(&get)?,
            query: QueryConfig::from_vars(&get)?,
            shard: Shard::from_var(get(SHARD_VAR))?,
            logs: LogConfig::from_vars(&get)?,
        };
        if settings.store_url().is_none() && settings.remote_write.is_none() {
            return Err(ConfigError {
                variable: DATABASE_URL_VAR,
                reason: format!(
                    "`{NO_DATABASE}` keeps no local store, so the samples need somewhere to go: set {REMOTE_WRITE_URL_VAR}"
                ),
            });
        }
        Ok(settings)
    }

    /// The local store's URL; `None` for `TELEMETRY_DATABASE_URL=none`.
    pub fn store_url(&self) -> Option<&str> {
        (!self.database_url.eq_ignore_ascii_case(NO_DATABASE)).then_some(self.database_url.as_str())
    }

    /// Reads the process's environment.
    ///
    /// # Errors
    /// The first bad variable, named.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| {
            std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
        })
    }
}

/// The retention from the text of `TELEMETRY_RETENTION_HOURS`.
///
/// # Errors
/// A value that is not a whole number of hours from 1 to 87600.
pub fn retention_from(value: Option<String>) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(DEFAULT_RETENTION),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(h) if (1..=87_600).contains(&h) => Ok(Duration::from_secs(h * 3600)),
            _ => Err(ConfigError {
                variable: RETENTION_VAR,
                reason: format!(
                    "`{}` is not a whole number of hours from 1 to 87600",
                    printable(&text)
                ),
            }),
        },
    }
}

/// The listen address from the text of `KEVIQ_LISTEN`.
///
/// # Errors
/// A value that is not `ip:port`.
pub fn listen_from(value: Option<String>) -> Result<SocketAddr, ConfigError> {
    match value {
        None => Ok(DEFAULT_LISTEN),
        Some(text) => text.trim().parse().map_err(|_| ConfigError {
            variable: LISTEN_VAR,
            reason: format!(
                "`{}` is not a socket address such as `127.0.0.1:8015` or `0.0.0.0:8015`",
                printable(&text)
            ),
        }),
    }
}

fn parse_targets(list: &str) -> Result<Vec<Target>, ConfigError> {
    let mut targets: Vec<Target> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let target = Target::parse(item).map_err(|reason| ConfigError {
            variable: TARGETS_VAR,
            reason,
        })?;
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    if targets.is_empty() {
        return Err(ConfigError {
            variable: TARGETS_VAR,
            reason: "lists no target; expected `host:port,host:port`".into(),
        });
    }
    Ok(targets)
}

fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// A whole number in `range`; `default` when unset.
fn number(
    variable: &'static str,
    value: Option<String>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    what: &str,
) -> Result<u64, ConfigError> {
    let Some(text) = value else {
        return Ok(default);
    };
    match text.trim().parse::<u64>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(ConfigError {
            variable,
            reason: format!(
                "`{}` is not a whole number of {what} from {} to {}",
                printable(&text),
                range.start(),
                range.end()
            ),
        }),
    }
}

/// A byte count: a whole number, optionally with `KiB`, `MiB` or `GiB`, from 4 KiB
/// to 1 TiB; `default` when unset.
fn size(variable: &'static str, value: Option<String>, default: u64) -> Result<u64, ConfigError> {
    let Some(text) = value else {
        return Ok(default);
    };
    let trimmed = text.trim();
    let (digits, unit) = [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        .into_iter()
        .find_map(|(suffix, unit)| trimmed.strip_suffix(suffix).map(|d| (d.trim(), unit)))
        .unwrap_or((trimmed, 1));
    match digits.parse::<u64>().ok().and_then(|n| n.checked_mul(unit)) {
        Some(n) if (4096..=1 << 40).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            variable,
            reason: format!(
                "`{}` is not a size from 4096 bytes to 1024GiB, such as `268435456` or `256MiB`",
                printable(&text)
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The variables `vars` set, as `from_vars` reads them.
    pub(super) fn lookup<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn config(vars: &[(&str, &str)]) -> Result<ScrapeConfig, ConfigError> {
        ScrapeConfig::from_vars(lookup(vars))
    }

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_vars(lookup(vars))
    }

    #[test]
    fn log_files_and_the_request_link() {
        let s = settings(&[(LOG_FILES_VAR, " a.log, ,/var/log/b.log ")]).expect("files");
        assert_eq!(
            s.logs.files,
            [PathBuf::from("a.log"), PathBuf::from("/var/log/b.log")]
        );
        assert_eq!(s.logs.url, None);
        assert_eq!(settings(&[]).expect("defaults").logs, LogConfig::default());
        let url = "https://grafana.example/explore?q={request_id}";
        assert_eq!(
            settings(&[(LOG_URL_VAR, url)])
                .expect("link")
                .logs
                .url
                .as_deref(),
            Some(url)
        );
        for bad in ["https://grafana.example/explore", "javascript:{request_id}"] {
            let e = settings(&[(LOG_URL_VAR, bad)]).expect_err(bad);
            assert_eq!(e.variable, LOG_URL_VAR, "{bad}");
        }
    }

    #[test]
    fn defaults_are_the_fleet_every_30_seconds() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.targets.len(), 15);
        assert_eq!(c.targets[5].to_string(), "agent-runtime:8000");
        assert_eq!(c.interval, Duration::from_secs(30));
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.sample_limit, DEFAULT_SAMPLE_LIMIT);
    }

    #[test]
    fn the_sample_limit_is_read_and_checked() {
        let c = config(&[(SAMPLE_LIMIT_VAR, " 5000 ")]).expect("valid");
        assert_eq!(c.sample_limit, 5000);
        assert_eq!(
            config(&[(SAMPLE_LIMIT_VAR, "0")]).map(|c| c.sample_limit),
            Ok(0)
        );
        let err = config(&[(SAMPLE_LIMIT_VAR, "lots")]).expect_err("not a number");
        assert_eq!(
            err.to_string(),
            "TELEMETRY_SAMPLE_LIMIT: `lots` is not a whole number of samples (0 for no limit)"
        );
    }

    #[test]
    fn targets_are_parsed_and_deduplicated() {
        let c = config(&[
            (TARGETS_VAR, " 127.0.0.1:8000, [::1]:9000,127.0.0.1:8000,"),
            (INTERVAL_VAR, "2"),
        ])
        .expect("ok");
        assert_eq!(
            c.targets
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["127.0.0.1:8000", "[::1]:9000"]
        );
        assert_eq!(c.targets[1].metrics_url(), "http://[::1]:9000/metrics");
        assert_eq!(c.timeout, Duration::from_millis(1600));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (vars, expected) in [
            (
                &[(TARGETS_VAR, "agent-runtime")][..],
                "SCRAPE_TARGETS: `agent-runtime` has no port",
            ),
            (
                &[(TARGETS_VAR, "h:0")],
                "SCRAPE_TARGETS: `h:0` has an invalid port `0`",
            ),
            (
                &[(TARGETS_VAR, "h:99999")],
                "SCRAPE_TARGETS: `h:99999` has an invalid port",
            ),
            (&[(TARGETS_VAR, ":80")], "SCRAPE_TARGETS: `:80` has no host"),
            (&[(TARGETS_VAR, " , ")], "SCRAPE_TARGETS: lists no target"),
            (
                &[(INTERVAL_VAR, "0")],
                "SCRAPE_INTERVAL_SECONDS: must be at least 1 second",
            ),
            (
                &[(INTERVAL_VAR, "ten")],
                "SCRAPE_INTERVAL_SECONDS: `ten` is not a whole number",
            ),
            (
                &[(INTERVAL_VAR, "-5")],
                "SCRAPE_INTERVAL_SECONDS: `-5` is not a whole number",
            ),
            (
                &[(RETENTION_VAR, "0")],
                "TELEMETRY_RETENTION_HOURS: `0` is not a whole number of hours",
            ),
            (
                &[(BUFFER_BYTES_VAR, "lots")],
                "TELEMETRY_BUFFER_BYTES: `lots` is not a size",
            ),
            (
                &[(DRAIN_VAR, "3601")],
                "TELEMETRY_DRAIN_SECONDS: `3601` is not a whole number of seconds from 0 to 3600",
            ),
            (
                &[(QUERY_TIMEOUT_VAR, "0")],
                "TELEMETRY_QUERY_TIMEOUT_SECONDS: `0` is not a whole number of seconds from 1 to 300",
            ),
            (
                &[(RETENTION_VAR, "87601")],
                "TELEMETRY_RETENTION_HOURS: `87601` is not",
            ),
            (
                &[(LISTEN_VAR, "localhost")],
                "KEVIQ_LISTEN: `localhost` is not a socket address",
            ),
            (
                &[(INTERVAL_VAR, "0"), (LISTEN_VAR, "x")],
                "SCRAPE_INTERVAL_SECONDS",
            ),
        ] {
            // Every variable, the scrape ones included, goes through `Settings`.
            let message = settings(vars).expect_err("refused").to_string();
            assert!(message.starts_with(expected), "{message}");
        }
    }

    #[test]
    fn settings_default_to_sqlite_a_day_and_the_published_port() {
        let s = settings(&[]).expect("defaults");
        assert_eq!(s.scrape, config(&[]).expect("defaults"));
        assert_eq!(s.database_url, "sqlite://telemetry.sqlite");
        assert_eq!(s.retention, Duration::from_secs(24 * 3600));
        assert_eq!(s.listen.to_string(), "127.0.0.1:8015");
        assert_eq!(
            s.storage,
            StorageConfig {
                buffer_bytes: 256 << 20,
                drain_limit: Duration::from_secs(15),
                query_timeout: Duration::from_secs(5),
            }
        );
        let s = settings(&[
            (DATABASE_URL_VAR, "postgres://db/t"),
            (RETENTION_VAR, " 2 "),
            (LISTEN_VAR, "0.0.0.0:9000"),
        ])
        .expect("ok");
        assert_eq!(s.database_url, "postgres://db/t");
        assert_eq!(s.retention, Duration::from_secs(7200));
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
        assert_eq!((s.remote_write, s.query, s.shard), (None, None, None));
    }

    #[test]
    fn a_stateless_forwarder_needs_somewhere_to_forward() {
        let e = settings(&[(DATABASE_URL_VAR, "none")]).expect_err("refused");
        assert_eq!(e.variable, DATABASE_URL_VAR);
        assert!(e.reason.contains(REMOTE_WRITE_URL_VAR), "{e}");
        let s = settings(&[
            (DATABASE_URL_VAR, "none"),
            (REMOTE_WRITE_URL_VAR, "http://vm:8428/api/v1/write"),
            (QUERY_URL_VAR, "http://vm:8428"),
        ])
        .expect("ok");
        assert_eq!(s.store_url(), None);
        assert!(s.remote_write.is_some() && s.query.is_some());
        assert_eq!(
            settings(&[]).expect("ok").store_url(),
            Some(DEFAULT_DATABASE_URL)
        );
    }

    #[test]
    fn a_shard_keeps_its_share_of_the_targets() {
        let all = config(&[]).expect("defaults").targets;
        let mut seen = Vec::new();
        for i in 0..3 {
            let shard = format!("{i}/3");
            let part = config(&[(SHARD_VAR, &shard)]).expect("ok").targets;
            seen.extend(part);
        }
        seen.sort();
        let mut all_sorted = all.clone();
        all_sorted.sort();
        assert_eq!(seen, all_sorted);
        assert!(settings(&[(SHARD_VAR, "3/3")]).is_err());
    }
}
