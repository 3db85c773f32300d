//! A scrape target: where samples come from.

use std::fmt;

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
    /// A reason in words, which the configuration reports with its variable.
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
