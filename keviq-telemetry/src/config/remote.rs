//! The variables of remote write, the query API and sharding (see the table in
//! [`crate::config`]).

use std::fmt;
use std::time::Duration;

use http::Uri;
use http::header::{HeaderName, HeaderValue};

use super::{ConfigError, number, printable, size};

/// Variable holding the remote-write endpoints.
pub const REMOTE_WRITE_URL_VAR: &str = "TELEMETRY_REMOTE_WRITE_URL";
/// Variable holding the path of a file with a bearer token.
pub const BEARER_TOKEN_FILE_VAR: &str = "TELEMETRY_REMOTE_WRITE_BEARER_TOKEN_FILE";
/// Variable holding extra headers, `Name=value,Name=value`.
pub const HEADERS_VAR: &str = "TELEMETRY_REMOTE_WRITE_HEADERS";
/// Variable holding the timeout of one request, in seconds.
pub const TIMEOUT_VAR: &str = "TELEMETRY_REMOTE_WRITE_TIMEOUT_SECONDS";
/// Variable holding the samples per request.
pub const BATCH_VAR: &str = "TELEMETRY_REMOTE_WRITE_BATCH_SAMPLES";
/// Variable holding the bound of the unsent backlog, in bytes.
pub const QUEUE_BYTES_VAR: &str = "TELEMETRY_REMOTE_WRITE_QUEUE_BYTES";
/// Variable holding the Prometheus-compatible query API the dashboard reads.
pub const QUERY_URL_VAR: &str = "TELEMETRY_QUERY_URL";
/// Variable holding this process's shard of the targets, `i/n`.
pub const SHARD_VAR: &str = "TELEMETRY_SHARD";

/// Timeout of one remote-write request when [`TIMEOUT_VAR`] is unset.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Samples per request when [`BATCH_VAR`] is unset (Prometheus's
/// `max_samples_per_send`).
pub const DEFAULT_BATCH_SAMPLES: usize = 2_000;
/// Backlog bound when [`QUEUE_BYTES_VAR`] is unset: 256 MiB.
pub const DEFAULT_QUEUE_BYTES: u64 = 256 << 20;

/// Headers the sender sets itself; [`HEADERS_VAR`] cannot replace them.
const RESERVED_HEADERS: [&str; 6] = [
    "content-encoding",
    "content-type",
    "x-prometheus-remote-write-version",
    "user-agent",
    "host",
    "content-length",
];

/// A secret read from a file: never printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, to put in a header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The headers of every request to an endpoint: the configured ones, then
/// `Authorization: Bearer …` (marked sensitive) when a token is configured.
pub fn request_headers(
    headers: &[(HeaderName, HeaderValue)],
    token: Option<&Secret>,
) -> Vec<(HeaderName, HeaderValue)> {
    let mut all = headers.to_vec();
    if let Some(token) = token
        && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
    {
        value.set_sensitive(true);
        all.push((http::header::AUTHORIZATION, value));
    }
    all
}

/// An `http://` endpoint, checked at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL as given (trimmed).
    pub url: String,
    /// The parsed URL.
    pub uri: Uri,
}

impl Endpoint {
    /// The endpoint's name in metrics and logs: host, port and path, no credentials
    /// or query.
    pub fn name(&self) -> String {
        let host = self.uri.host().unwrap_or_default();
        let port = self
            .uri
            .port_u16()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        format!("{host}{port}{}", self.uri.path())
    }

    fn parse(variable: &'static str, text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        let refuse = |reason: String| ConfigError { variable, reason };
        let uri: Uri = text.parse().map_err(|_| {
            refuse(format!(
                "`{}` is not a URL such as `http://victoria-metrics:8428/api/v1/write`",
                printable(text)
            ))
        })?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(refuse(format!(
                    "`{}`: https is not supported; reach the endpoint through a local TLS-terminating proxy over http",
                    printable(text)
                )));
            }
            _ => {
                return Err(refuse(format!(
                    "`{}` is not an `http://` URL",
                    printable(text)
                )));
            }
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(refuse(format!("`{}` has no host", printable(text))));
        }
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(refuse(format!(
                "`{}` carries credentials; use {BEARER_TOKEN_FILE_VAR}",
                printable(uri.host().unwrap_or_default())
            )));
        }
        Ok(Self {
            url: text.to_owned(),
            uri,
        })
    }
}

/// How samples are remote-written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteWriteConfig {
    /// Every endpoint; each gets every sample, with its own cursor.
    pub endpoints: Vec<Endpoint>,
    /// `Authorization: Bearer …`, from [`BEARER_TOKEN_FILE_VAR`].
    pub bearer_token: Option<Secret>,
    /// Extra headers (Mimir's `X-Scope-OrgID`, …), sent on every request.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Limit for one request, connection to answer.
    pub timeout: Duration,
    /// Samples per request, at most.
    pub batch_samples: usize,
    /// Bound of the unsent backlog, in bytes (the samples' encoded size); past it the
    /// oldest scrapes are dropped and counted.
    pub queue_bytes: u64,
}

/// Where the dashboard and the API read from instead of the local store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryConfig {
    /// The base URL of a Prometheus-compatible HTTP API (`…/api/v1/query` is under it).
    pub endpoint: Endpoint,
    /// The bearer token and extra headers of remote write, sent to the query API too
    /// (a Mimir tenant reads what it writes).
    pub bearer_token: Option<Secret>,
    /// Extra headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// This process's share of the targets: those whose [`Shard::owns`] is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This process's index, below `count`.
    pub index: u32,
    /// How many processes share the targets.
    pub count: u32,
}

impl Shard {
    /// Whether the target `host:port` belongs to this shard: FNV-1a of its text,
    /// modulo `count`. The hash is fixed here (not std's, which may change between
    /// releases) so that every process of every version splits the same way.
    pub fn owns(&self, target: &str) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in target.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash % u64::from(self.count) == u64::from(self.index)
    }

    /// Parses `i/n`.
    ///
    /// # Errors
    /// Not two whole numbers with `i < n`.
    pub fn from_var(value: Option<String>) -> Result<Option<Self>, ConfigError> {
        let Some(text) = value else { return Ok(None) };
        let parsed = text.trim().split_once('/').and_then(|(i, n)| {
            Some((i.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?))
        });
        match parsed {
            Some((index, count)) if count > 0 && index < count => Ok(Some(Self { index, count })),
            _ => Err(ConfigError {
                variable: SHARD_VAR,
                reason: format!(
                    "`{}` is not `i/n` with 0 <= i < n, such as `0/3`",
                    printable(&text)
                ),
            }),
        }
    }
}

fn headers(value: Option<String>) -> Result<Vec<(HeaderName, HeaderValue)>, ConfigError> {
    let Some(text) = value else {
        return Ok(Vec::new());
    };
    let refuse = |reason: String| ConfigError {
        variable: HEADERS_VAR,
        reason,
    };
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((name, value)) = item.split_once('=') else {
            return Err(refuse(format!(
                "`{}` is not `Name=value`, such as `X-Scope-OrgID=team-a`",
                printable(item)
            )));
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| refuse(format!("`{}` is not a header name", printable(name))))?;
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(refuse(format!(
                "`{name}` is set by the sender and cannot be replaced"
            )));
        }
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| refuse(format!("the value of `{name}` is not a valid header value")))?;
        out.push((name, value));
    }
    Ok(out)
}

fn bearer_token(value: Option<String>) -> Result<Option<Secret>, ConfigError> {
    let Some(path) = value else { return Ok(None) };
    let refuse = |reason: String| ConfigError {
        variable: BEARER_TOKEN_FILE_VAR,
        reason,
    };
    let text = std::fs::read_to_string(path.trim())
        .map_err(|e| refuse(format!("cannot read `{}`: {e}", printable(&path))))?;
    let token = text.trim();
    if token.is_empty() || HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
        return Err(refuse(format!(
            "`{}` holds no usable token (empty, or characters a header cannot carry)",
            printable(&path)
        )));
    }
    Ok(Some(Secret(token.to_owned())))
}

impl RemoteWriteConfig {
    /// Reads the remote-write variables; `None` when [`REMOTE_WRITE_URL_VAR`] is unset
    /// or empty.
    ///
    /// # Errors
    /// The first bad variable, named.
    pub fn from_vars(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let Some(list) = get(REMOTE_WRITE_URL_VAR).filter(|l| !l.trim().is_empty()) else {
            return Ok(None);
        };
        let mut endpoints: Vec<Endpoint> = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let endpoint = Endpoint::parse(REMOTE_WRITE_URL_VAR, item)?;
            if endpoints.iter().any(|e| e.name() == endpoint.name()) {
                return Err(ConfigError {
                    variable: REMOTE_WRITE_URL_VAR,
                    reason: format!("`{}` is listed twice", endpoint.name()),
                });
            }
            endpoints.push(endpoint);
        }
        Ok(Some(Self {
            endpoints,
            bearer_token: bearer_token(get(BEARER_TOKEN_FILE_VAR))?,
            headers: headers(get(HEADERS_VAR))?,
            timeout: Duration::from_secs(number(
                TIMEOUT_VAR,
                get(TIMEOUT_VAR),
                DEFAULT_TIMEOUT.as_secs(),
                1..=600,
                "seconds",
            )?),
            batch_samples: number(
                BATCH_VAR,
                get(BATCH_VAR),
                DEFAULT_BATCH_SAMPLES as u64,
                1..=100_000,
                "samples",
            )? as usize,
            queue_bytes: size(QUEUE_BYTES_VAR, get(QUEUE_BYTES_VAR), DEFAULT_QUEUE_BYTES)?,
        }))
    }
}

impl QueryConfig {
    /// Reads [`QUERY_URL_VAR`] (with the token and headers of remote write); `None`
    /// when unset or empty.
    ///
    /// # Errors
    /// The first bad variable, named.
    pub fn from_vars(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let Some(url) = get(QUERY_URL_VAR).filter(|l| !l.trim().is_empty()) else {
            return Ok(None);
        };
        Ok(Some(Self {
            endpoint: Endpoint::parse(QUERY_URL_VAR, &url)?,
            bearer_token: bearer_token(get(BEARER_TOKEN_FILE_VAR))?,
            headers: headers(get(HEADERS_VAR))?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::lookup;

    #[test]
    fn remote_write_defaults_and_values() {
        assert_eq!(RemoteWriteConfig::from_vars(&lookup(&[])), Ok(None));
        let c = RemoteWriteConfig::from_vars(&lookup(&[
            (
                REMOTE_WRITE_URL_VAR,
                "http://vm:8428/api/v1/write, http://mimir/api/v1/push",
            ),
            (HEADERS_VAR, "X-Scope-OrgID=team-a"),
            (QUEUE_BYTES_VAR, "64MiB"),
            (BATCH_VAR, "500"),
        ]))
        .expect("valid")
        .expect("configured");
        assert_eq!(c.endpoints.len(), 2);
        assert_eq!(c.endpoints[0].name(), "vm:8428/api/v1/write");
        assert_eq!(c.headers[0].0.as_str(), "x-scope-orgid");
        assert_eq!((c.queue_bytes, c.batch_samples), (64 << 20, 500));
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (vars, expected) in [
            (
                &[(REMOTE_WRITE_URL_VAR, "vm:8428")][..],
                "TELEMETRY_REMOTE_WRITE_URL: `vm:8428` is not an `http://` URL",
            ),
            (
                &[(REMOTE_WRITE_URL_VAR, "https://vm/x")],
                "TELEMETRY_REMOTE_WRITE_URL: `https://vm/x`: https is not supported",
            ),
            (
                &[(REMOTE_WRITE_URL_VAR, "http://a/w,http://a/w")],
                "TELEMETRY_REMOTE_WRITE_URL: `a/w` is listed twice",
            ),
            (
                &[(REMOTE_WRITE_URL_VAR, "http://u:p@a/w")],
                "TELEMETRY_REMOTE_WRITE_URL: `a` carries credentials",
            ),
            (
                &[
                    (REMOTE_WRITE_URL_VAR, "http://a/w"),
                    (HEADERS_VAR, "X-Scope-OrgID"),
                ],
                "TELEMETRY_REMOTE_WRITE_HEADERS: `X-Scope-OrgID` is not `Name=value`",
            ),
            (
                &[
                    (REMOTE_WRITE_URL_VAR, "http://a/w"),
                    (HEADERS_VAR, "Content-Type=x"),
                ],
                "TELEMETRY_REMOTE_WRITE_HEADERS: `content-type` is set by the sender",
            ),
            (
                &[(REMOTE_WRITE_URL_VAR, "http://a/w"), (BATCH_VAR, "0")],
                "TELEMETRY_REMOTE_WRITE_BATCH_SAMPLES: `0` is not a whole number of samples",
            ),
            (
                &[(REMOTE_WRITE_URL_VAR, "http://a/w"), (TIMEOUT_VAR, "x")],
                "TELEMETRY_REMOTE_WRITE_TIMEOUT_SECONDS: `x`",
            ),
            (
                &[
                    (REMOTE_WRITE_URL_VAR, "http://a/w"),
                    (QUEUE_BYTES_VAR, "12"),
                ],
                "TELEMETRY_REMOTE_WRITE_QUEUE_BYTES: `12` is not a size",
            ),
            (
                &[
                    (REMOTE_WRITE_URL_VAR, "http://a/w"),
                    (BEARER_TOKEN_FILE_VAR, "/nonexistent/token"),
                ],
                "TELEMETRY_REMOTE_WRITE_BEARER_TOKEN_FILE: cannot read `/nonexistent/token`",
            ),
        ] {
            let message = RemoteWriteConfig::from_vars(&lookup(vars))
                .expect_err("refused")
                .to_string();
            assert!(message.starts_with(expected), "{message}");
        }
        let message = QueryConfig::from_vars(&lookup(&[(QUERY_URL_VAR, "ftp://x")]))
            .expect_err("refused")
            .to_string();
        assert!(
            message.starts_with("TELEMETRY_QUERY_URL: `ftp://x` is not an `http://` URL"),
            "{message}"
        );
    }

    #[test]
    fn the_token_is_read_from_its_file_and_never_printed() {
        let path = std::env::temp_dir().join(format!("keviq-token-{}", std::process::id()));
        std::fs::write(&path, "s3cret\n").expect("write");
        let path_text = path.to_string_lossy().into_owned();
        let c = RemoteWriteConfig::from_vars(&lookup(&[
            (REMOTE_WRITE_URL_VAR, "http://a/w"),
            (BEARER_TOKEN_FILE_VAR, &path_text),
        ]))
        .expect("valid")
        .expect("configured");
        let _ = std::fs::remove_file(&path);
        let token = c.bearer_token.as_ref().expect("token");
        assert_eq!(token.expose(), "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn shards_split_targets_stably() {
        assert_eq!(Shard::from_var(None), Ok(None));
        let shard = |i| Shard { index: i, count: 3 };
        assert_eq!(Shard::from_var(Some(" 1/3 ".into())), Ok(Some(shard(1))));
        for bad in ["3/3", "1", "a/b", "0/0"] {
            let e = Shard::from_var(Some(bad.into())).expect_err("refused");
            assert_eq!(e.variable, SHARD_VAR);
        }
        // Every target in exactly one shard, and the split is fixed.
        let targets: Vec<String> = (0..300)
            .map(|i| format!("10.0.0.{}:{}", i % 250, 8000 + i))
            .collect();
        let mut sizes = [0; 3];
        for t in &targets {
            let owners: Vec<u32> = (0..3).filter(|&i| shard(i).owns(t)).collect();
            assert_eq!(owners.len(), 1, "{t}");
            sizes[owners[0] as usize] += 1;
        }
        assert!(sizes.iter().all(|&n| n > 70), "{sizes:?}");
        assert!(
            shard(0).owns("api-gateway:8000")
                || shard(1).owns("api-gateway:8000")
                || shard(2).owns("api-gateway:8000")
        );
    }
}
