//! A Prometheus scrape configuration generated from the service registry, so the
//! scrape jobs can never drift from the services the code declares.

use std::fmt::Write as _;
use std::time::Duration;

use super::service::ServiceInfo;
use crate::Site;

/// Two services declared with one name: Prometheus refuses two jobs of one name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "service name `{name}` is declared twice, at {first} and at {second}; give one of them another `name`"
)]
pub struct DuplicateService {
    /// The name.
    pub name: &'static str,
    /// One declaration.
    pub first: Site,
    /// The other.
    pub second: Site,
}

/// A `prometheus.yml` with one scrape job per service: the job is named after the
/// service (so `job` is the service in every query), scrapes its metrics path at the
/// address `address` gives, every `scrape_interval`.
///
/// ```
/// use std::time::Duration;
/// use keviq_runtime::axum::{prometheus_config, services};
///
/// // In a container fleet every service listens on `<name>:8000`.
/// let yaml = prometheus_config(services(), Duration::from_secs(15), |s| format!("{}:8000", s.name))?;
/// assert!(yaml.starts_with("global:\n  scrape_interval: 15s\n"));
/// # Ok::<(), keviq_runtime::axum::DuplicateService>(())
/// ```
///
/// # Errors
/// Two services with one name (two `#[keviq::service]` without `name` in one
/// package, say), naming both declarations.
pub fn prometheus_config(
    services: &[&ServiceInfo],
    scrape_interval: Duration,
    address: impl Fn(&ServiceInfo) -> String,
) -> Result<String, DuplicateService> {
    let mut seen: std::collections::HashMap<&str, Site> = std::collections::HashMap::new();
    for service in services {
        if let Some(first) = seen.insert(service.name, service.site) {
            return Err(DuplicateService {
                name: service.name,
                first,
                second: service.site,
            });
        }
    }
    let interval = prometheus_duration(scrape_interval);
    let mut out = String::new();
    let _ = write!(
        out,
        "global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n\nscrape_configs:\n"
    );
    for service in services {
        // Names are DNS labels and paths fixed absolute paths (both checked by the
        // attribute); the address is the caller's, so it is quoted.
        let _ = write!(
            out,
            "  - job_name: {name}\n    metrics_path: {path}\n    static_configs:\n      - targets: [{target}]\n",
            name = service.name,
            path = service.metrics_path,
            target = yaml_quoted(&address(service)),
        );
    }
    Ok(out)
}

/// A duration as Prometheus writes it: whole seconds as `15s`, otherwise `250ms`
/// (at least `1ms`).
fn prometheus_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis().max(1))
    }
}

/// A YAML double-quoted scalar.
fn yaml_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    static API: ServiceInfo = ServiceInfo::new(
        "api-gateway",
        "/metrics",
        Site {
            file: file!(),
            line: line!(),
        },
    );
    static AGENT: ServiceInfo = ServiceInfo::new(
        "agent-runtime",
        "/internal/metrics",
        Site {
            file: file!(),
            line: line!(),
        },
    );

    #[test]
    fn one_job_per_service_at_the_given_address() {
        let yaml = prometheus_config(&[&AGENT, &API], Duration::from_millis(1500), |s| {
            format!("{}:8000", s.name)
        })
        .unwrap();
        assert_eq!(
            yaml,
            "global:\n  scrape_interval: 1500ms\n  evaluation_interval: 1500ms\n\nscrape_configs:\n\
             \x20 - job_name: agent-runtime\n    metrics_path: /internal/metrics\n    static_configs:\n      - targets: [\"agent-runtime:8000\"]\n\
             \x20 - job_name: api-gateway\n    metrics_path: /metrics\n    static_configs:\n      - targets: [\"api-gateway:8000\"]\n"
        );
    }

    #[test]
    fn two_services_of_one_name_are_refused() {
        static AGAIN: ServiceInfo = ServiceInfo::new(
            "api-gateway",
            "/metrics",
            Site {
                file: file!(),
                line: line!(),
            },
        );
        let err = prometheus_config(&[&API, &AGAIN], Duration::from_secs(1), |s| {
            s.name.to_owned()
        })
        .unwrap_err();
        assert_eq!(err.name, "api-gateway");
        assert!(err.to_string().contains("declared twice"), "{err}");
    }

    #[test]
    fn durations_and_quoting() {
        assert_eq!(prometheus_duration(Duration::from_secs(15)), "15s");
        assert_eq!(prometheus_duration(Duration::ZERO), "1ms");
        assert_eq!(yaml_quoted("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
