//! Scrape configuration from the environment, checked at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `SCRAPE_TARGETS` | the 15 services of the fleet at `<name>:8000` | comma-separated `host:port` list |
//! | `SCRAPE_INTERVAL_SECONDS` | `30` | seconds between two scrapes of every target (≥ 1) |
//!
//! A bad value stops start-up with a message that names the variable.

use std::fmt;
use std::time::Duration;

/// The fleet of DESIGN.md, in its order: the default targets, each at `<name>:8000`.
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

/// Variable holding the targets.
pub const TARGETS_VAR: &str = "SCRAPE_TARGETS";
/// Variable holding the interval.
pub const INTERVAL_VAR: &str = "SCRAPE_INTERVAL_SECONDS";
/// Interval when [`INTERVAL_VAR`] is unset.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// Largest `/metrics` body accepted; a larger one fails that scrape.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// One scrape target: `host:port`, scraped at `http://host:port/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Target {
    /// Parses `host:port` (`[::1]:8000` for IPv6).
    ///
    /// # Errors
    /// A reason in words, for [`ConfigError`].
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (host, port) = match text.strip_prefix('[') {
            Some(rest) => match rest.split_once("]:") {
                Some((host, port)) => (host, port),
                None => return Err(format!("`{text}` is not `[ipv6]:port`")),
            },
            None => match text.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') => (host, port),
                _ => {
                    return Err(format!(
                        "`{text}` has no port; expected `host:port`, such as `agent-runtime:8000`"
                    ));
                }
            },
        };
        if host.is_empty() {
            return Err(format!("`{text}` has no host; expected `host:port`"));
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'))
        {
            return Err(format!("`{text}` has an invalid host"));
        }
        match port.parse::<u16>() {
            Ok(port) if port > 0 => Ok(Self {
                host: host.to_owned(),
                port,
            }),
            _ => Err(format!(
                "`{text}` has an invalid port `{port}`; expected 1 to 65535"
            )),
        }
    }

    /// The URL of the target's metrics.
    pub fn metrics_url(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}/metrics", self.host, self.port)
        } else {
            format!("http://{}:{}/metrics", self.host, self.port)
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

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
        Ok(Self {
            targets,
            interval,
            timeout,
            body_limit: DEFAULT_BODY_LIMIT,
        })
    }

    /// Reads the process's environment.
    ///
    /// # Errors
    /// The first bad variable, named.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<ScrapeConfig, ConfigError> {
        ScrapeConfig::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_are_the_fleet_every_30_seconds() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.targets.len(), 15);
        assert_eq!(c.targets[5].to_string(), "agent-runtime:8000");
        assert_eq!(c.interval, Duration::from_secs(30));
        assert_eq!(c.timeout, Duration::from_secs(10));
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
        ] {
            let message = config(vars).expect_err("refused").to_string();
            assert!(message.starts_with(expected), "{message}");
        }
    }
}
