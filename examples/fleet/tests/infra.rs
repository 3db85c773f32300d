//! The deployment files under `infra/` against ARCHITECTURE.md: both compose files match
//! the Compose specification's JSON schema; `docker-compose.yml` runs the 15 fleet
//! services from the one image, the telemetry service on PostgreSQL and published on
//! 8015; the observability overlay adds Prometheus (9090) and Grafana (3001, admin
//! credentials from the environment); and the provisioned Grafana dashboard has the
//! design's panels, every query on the provisioned Prometheus datasource.
//!
//! YAML is read through `python3` (PyYAML) and the schema check runs `jsonschema`, as
//! `scripts/test` installs them. A missing tool fails the test: a skipped check would
//! hide a regression.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const COMPOSE: &str = "infra/docker/docker-compose.yml";
const OBSERVABILITY: &str = "infra/docker/docker-compose.observability.yml";
const DASHBOARD: &str = "infra/grafana/dashboards/keviq-fleet.json";
const DATASOURCES: &str = "infra/grafana/provisioning/datasources/prometheus.yml";
const DASHBOARD_PROVIDERS: &str = "infra/grafana/provisioning/dashboards/keviq.yml";

/// The fleet of ARCHITECTURE.md, each listening on `<name>:8000` in containers.
const FLEET: [&str; 15] = keviq_telemetry::config::FLEET;

/// Runs `program args` in the repository root.
fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(keviq_testkit::repo_root())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `{program}` ({e}); install it as `scripts/test` does")
        })
}

/// Exit status, stdout and stderr of a finished tool, for assertion messages.
fn report(out: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Prints the YAML file named by the first argument as JSON.
const YAML_TO_JSON: &str = "import json, sys, yaml
with open(sys.argv[1], encoding='utf-8') as f:
    json.dump(yaml.safe_load(f), sys.stdout)";

/// A YAML file of the repository as JSON, through PyYAML's `safe_load` (the crate has
/// no YAML parser of its own).
fn load_yaml(relative: &str) -> Value {
    let out = run("python3", &["-c", YAML_TO_JSON, relative]);
    assert!(
        out.status.success(),
        "cannot load {relative}: {}",
        report(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{relative} as JSON: {e}\n{}", report(&out)))
}

/// The strings of a YAML list (`ports`, `volumes`, `command`); empty when absent.
fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The services of a compose file, by name.
fn services_of<'a>(compose: &'a Value, file: &str) -> &'a serde_json::Map<String, Value> {
    compose["services"]
        .as_object()
        .unwrap_or_else(|| panic!("{file}: `services` is not a mapping"))
}

#[test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs Python with PyYAML and jsonschema: run with `--features system-tests` (scripts/test does)"
)]
fn compose_files_match_the_compose_specification() {
    let fetched = run("bash", &["examples/fleet/tests/compose_spec.sh"]);
    assert!(
        fetched.status.success(),
        "fetching the compose schema failed: {}",
        report(&fetched)
    );
    let stdout = String::from_utf8_lossy(&fetched.stdout);
    let schema = stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("compose_spec.sh printed no path: {}", report(&fetched)))
        .trim();
    assert!(
        Path::new(schema).is_file(),
        "compose_spec.sh printed `{schema}`, which is not a file"
    );

    let out = run(
        "python3",
        &[
            "examples/fleet/tests/validate_compose.py",
            schema,
            COMPOSE,
            OBSERVABILITY,
        ],
    );
    assert!(
        out.status.success(),
        "the compose files do not match the Compose specification: {}",
        report(&out)
    );
}

#[test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs Python with PyYAML: run with `--features system-tests` (scripts/test does)"
)]
fn compose_runs_the_fleet_of_the_design() {
    let compose = load_yaml(COMPOSE);
    let services = services_of(&compose, COMPOSE);

    for name in FLEET {
        let service = services
            .get(name)
            .unwrap_or_else(|| panic!("{COMPOSE}: `{name}` is not a service"));
        assert_eq!(
            service["image"], "keviq-fleet:local",
            "{COMPOSE}: `{name}` runs another image"
        );
        // The image holds the fleet binary only (the Dockerfile builds the fleet
        // package); `--service telemetry-service` runs the telemetry service.
        assert_eq!(
            strings(&service["command"]),
            ["fleet", "--service", name],
            "{COMPOSE}: `{name}` runs another command"
        );
    }
    assert!(
        services.values().any(|service| !service["build"].is_null()),
        "{COMPOSE}: no service builds keviq-fleet:local"
    );
    let loadgen = strings(&services["loadgen"]["command"]);
    assert!(
        loadgen.starts_with(&["fleet", "--traffic-only", "--gateway", "api-gateway:8000"]),
        "{COMPOSE}: loadgen runs {loadgen:?}"
    );

    // The telemetry service: itself, on PostgreSQL, the only published port.
    let telemetry = &services["telemetry-service"];
    assert_eq!(strings(&telemetry["ports"]), ["8015:8000"]);
    let database = telemetry["environment"]["TELEMETRY_DATABASE_URL"]
        .as_str()
        .unwrap_or_else(|| panic!("{COMPOSE}: telemetry-service sets no TELEMETRY_DATABASE_URL"));
    assert!(
        database.starts_with("postgres://") && database.contains("@postgres:5432/"),
        "{COMPOSE}: telemetry-service stores in `{database}`, not the postgres service"
    );
    assert_eq!(
        telemetry["depends_on"]["postgres"]["condition"], "service_healthy",
        "{COMPOSE}: telemetry-service may start before PostgreSQL accepts connections"
    );
    let postgres = &services["postgres"];
    assert!(
        postgres["image"]
            .as_str()
            .is_some_and(|image| image.starts_with("postgres:16")),
        "{COMPOSE}: postgres runs {}",
        postgres["image"]
    );
    assert!(
        strings(&postgres["healthcheck"]["test"])
            .iter()
            .any(|part| part.contains("pg_isready")),
        "{COMPOSE}: postgres has no pg_isready health check"
    );
    for (name, service) in services {
        if name != "telemetry-service" {
            assert!(
                service["ports"].is_null(),
                "{COMPOSE}: `{name}` publishes {}, only telemetry-service may",
                service["ports"]
            );
        }
    }

    // The overlay: Prometheus and Grafana, mounting files that exist.
    let overlay = load_yaml(OBSERVABILITY);
    let overlay_services = services_of(&overlay, OBSERVABILITY);
    let prometheus = &overlay_services["prometheus"];
    assert!(
        prometheus["image"]
            .as_str()
            .is_some_and(|image| image.starts_with("prom/prometheus")),
        "{OBSERVABILITY}: prometheus runs {}",
        prometheus["image"]
    );
    assert_eq!(strings(&prometheus["ports"]), ["9090:9090"]);
    assert!(
        strings(&prometheus["volumes"])
            .contains(&"../prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"),
        "{OBSERVABILITY}: prometheus mounts {}",
        prometheus["volumes"]
    );
    let grafana = &overlay_services["grafana"];
    assert!(
        grafana["image"]
            .as_str()
            .is_some_and(|image| image.starts_with("grafana/grafana")),
        "{OBSERVABILITY}: grafana runs {}",
        grafana["image"]
    );
    assert_eq!(strings(&grafana["ports"]), ["3001:3000"]);
    assert_eq!(
        grafana["environment"]["GF_SECURITY_ADMIN_USER"],
        "${GRAFANA_ADMIN_USER:-admin}"
    );
    assert_eq!(
        grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"],
        "${GRAFANA_ADMIN_PASSWORD:-admin}"
    );
    let compose_dir = keviq_testkit::repo_root().join("infra/docker");
    for service in overlay_services.values() {
        for volume in strings(&service["volumes"]) {
            let host = volume.split(':').next().unwrap_or_default();
            assert!(
                compose_dir.join(host).exists(),
                "{OBSERVABILITY}: `{volume}` mounts `{host}`, which does not exist"
            );
        }
    }
}

#[test]
#[cfg_attr(
    not(feature = "system-tests"),
    ignore = "needs Python with PyYAML: run with `--features system-tests` (scripts/test does)"
)]
fn grafana_dashboard_has_the_design_panels() {
    let path = keviq_testkit::repo_root().join(DASHBOARD);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let dashboard: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{DASHBOARD}: {e}"));
    assert_eq!(dashboard["uid"], "keviq-fleet");

    let panels = dashboard["panels"]
        .as_array()
        .unwrap_or_else(|| panic!("{DASHBOARD}: `panels` is not a list"));
    let titles: Vec<&str> = panels
        .iter()
        .filter_map(|panel| panel["title"].as_str())
        .collect();
    for title in [
        "Request Rate",
        "Error Rate",
        "Latency P50/P99",
        "Agent Invocations",
    ] {
        assert!(
            titles.contains(&title),
            "{DASHBOARD}: no panel `{title}` in {titles:?}"
        );
    }

    let mut exprs = Vec::new();
    for panel in panels {
        let title = &panel["title"];
        assert_eq!(
            panel["datasource"]["uid"], "prometheus",
            "{DASHBOARD}: panel {title} is on another datasource"
        );
        let targets = panel["targets"]
            .as_array()
            .filter(|targets| !targets.is_empty())
            .unwrap_or_else(|| panic!("{DASHBOARD}: panel {title} has no targets"));
        for target in targets {
            assert_eq!(
                target["datasource"]["uid"], "prometheus",
                "{DASHBOARD}: a target of panel {title} is on another datasource"
            );
            assert!(
                target["refId"].is_string(),
                "{DASHBOARD}: a target of panel {title} has no refId"
            );
            let expr = target["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("{DASHBOARD}: a target of panel {title} has no expr"));
            // Literal PromQL: the end-to-end check sends every expr to Prometheus as is.
            assert!(
                !expr.contains('$'),
                "{DASHBOARD}: `{expr}` uses a Grafana variable"
            );
            exprs.push(expr);
        }
    }
    for wanted in [
        "rate(mona_http_requests_total[5m])",
        "rate(mona_http_request_errors_total[5m])",
        "rate(mona_agent_invocations_total[5m])",
    ] {
        assert!(
            exprs.iter().any(|expr| expr.contains(wanted)),
            "{DASHBOARD}: no query over `{wanted}` in {exprs:?}"
        );
    }
    for quantile in ["histogram_quantile(0.5,", "histogram_quantile(0.99,"] {
        assert!(
            exprs.iter().any(|expr| expr.starts_with(quantile)
                && expr.contains("mona_http_request_duration_ms_bucket")),
            "{DASHBOARD}: no `{quantile}` over mona_http_request_duration_ms_bucket in {exprs:?}"
        );
    }

    // The uid the panels name is the provisioned datasource's, and the provisioned
    // dashboards are read from where the overlay mounts this directory.
    let datasources = load_yaml(DATASOURCES);
    let provisioned: Vec<&Value> = datasources["datasources"]
        .as_array()
        .map(|list| list.iter().collect())
        .unwrap_or_default();
    assert!(
        provisioned
            .iter()
            .any(|source| source["uid"] == "prometheus"
                && source["type"] == "prometheus"
                && source["url"] == "http://prometheus:9090"),
        "{DATASOURCES}: no Prometheus datasource with uid `prometheus` in {}",
        datasources["datasources"]
    );
    // Exemplar dots link to the dashboard's request view, by request ID and by
    // trace ID (`$$` is Grafana's `$`).
    let links: Vec<(&str, &str)> = provisioned
        .iter()
        .flat_map(|source| {
            source["jsonData"]["exemplarTraceIdDestinations"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .filter_map(|d| Some((d["name"].as_str()?, d["url"].as_str()?)))
        .collect();
    assert_eq!(
        links,
        [
            (
                "request_id",
                "http://localhost:8015/#request=$${__value.raw}"
            ),
            ("trace_id", "http://localhost:8015/#trace=$${__value.raw}")
        ],
        "{DATASOURCES}: the exemplar links"
    );
    let providers = load_yaml(DASHBOARD_PROVIDERS);
    assert_eq!(
        providers["providers"][0]["options"]["path"], "/var/lib/grafana/dashboards",
        "{DASHBOARD_PROVIDERS}: dashboards are read from elsewhere"
    );
}
