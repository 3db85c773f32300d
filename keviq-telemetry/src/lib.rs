//! The keviq telemetry service: it scrapes every target in `SCRAPE_TARGETS` every
//! `SCRAPE_INTERVAL_SECONDS` ([`scrape`]), stores the samples in
//! `telemetry_core.metric_samples` on SQLite or PostgreSQL ([`writer`], [`store`],
//! [`retention`]), and serves a JSON API and a health dashboard ([`api`], with the
//! figures of [`analytics`]). `keviq-telemetry` (or `keviq-telemetry serve`) runs it
//! ([`daemon`]), with the variables of [`config`].
//!
//! Beyond one fleet, it forwards every scrape over Prometheus remote write 1.0 to a
//! time-series database ([`remote`]), with or without a local store, reads its
//! dashboard back through that database's query API ([`api::prom`]), and splits the
//! targets between several processes (`TELEMETRY_SHARD`).
//!
//! # Layers
//!
//! The modules stack one way; each imports only those below it:
//!
//! | layer | modules |
//! |---|---|
//! | wiring | [`daemon`] (scraper → writer → store, remote write as the writer's follower), [`cli`] |
//! | serving | [`api`] (its health views read through [`api::HealthSource`]: the store, or the PromQL back end [`api::prom`]) |
//! | following the store | [`remote`], [`retention`] |
//! | pipeline | [`writer`] (tells a [`writer::Follower`] of each stored scrape) |
//! | reading and storing | [`scrape`], [`store`], [`analytics`], [`logs`], [`lint`] |
//! | settings | [`config`] (every variable and its default) |
//! | data | [`sample`] (what the pipeline carries), [`clock`], the shared HTTP client |
//!
//! A sample keeps the parser's structure end to end: the scraper turns each parsed
//! sample into a [`sample::Sample`] (name, family type, sorted labels, value,
//! timestamp), which the writer buffers, the store writes and reads back, and the
//! analytics group into series by their [`sample::Labels`].
//!
//! It also validates expositions in the spirit of `promtool check metrics`:
//!
//! ```text
//! keviq-telemetry check-metrics [--format prometheus|openmetrics] [FILE|-]
//! ```
//!
//! It reads `FILE` (standard input for `-` or no argument), parses it with
//! [`keviq_expfmt::parse`] and runs the conventions of [`lint`] on it. The
//! exit status says what it found (see [`cli::exit`]):
//!
//! | status | meaning | output |
//! |---|---|---|
//! | 0 | parses, no findings | nothing |
//! | 1 | does not parse | `<file>:<line>:<column>: <reason>` on stderr |
//! | 2 | usage error (option, format, unreadable file) | the problem and the usage on stderr |
//! | 3 | parses, breaks conventions | one `<metric> <problem>` per line on stdout |
//!
//! The same checks as a library call:
//!
//! ```
//! use keviq_expfmt::{Format, parse};
//! use keviq_telemetry::lint::{Problem, lint};
//!
//! let text = "# TYPE jobs counter\njobs 3\n";
//! let exposition = parse(text, Format::Prometheus).unwrap();
//! let findings = lint(&exposition, Format::Prometheus);
//! let lines: Vec<String> = findings.iter().map(ToString::to_string).collect();
//! assert_eq!(lines, [
//!     "jobs counter metrics should have \"_total\" suffix",
//!     "jobs no help text",
//! ]);
//! assert_eq!(findings[0].problem, Problem::CounterWithoutTotal);
//! ```
#![deny(missing_docs)]

pub mod analytics;
pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
mod http_client;
pub mod lint;
pub mod logs;
pub mod remote;
pub mod retention;
pub mod sample;
pub mod scrape;
pub mod store;
pub mod writer;
