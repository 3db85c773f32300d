//! The status line: targets up, traffic sent, errors and tail latency, rewritten in
//! place every second on a terminal and printed every ten seconds otherwise; and one
//! line when every target is first up.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use keviq_telemetry::scrape::Scraper;

use crate::traffic::TrafficStats;

/// Prints the status until cancelled.
pub(crate) async fn run(stats: &TrafficStats, scraper: Option<&Scraper>, started: Instant) {
    let terminal = std::io::stdout().is_terminal();
    let every = if terminal { 1 } else { 10 };
    let mut all_up_seen = false;
    let mut ticks = tokio::time::interval(Duration::from_millis(250));
    let mut last = Instant::now();
    for tick in 1u64.. {
        ticks.tick().await;
        if let Some(scraper) = scraper.filter(|_| !all_up_seen) {
            let health = scraper.health();
            if health.iter().all(|h| h.up) {
                all_up_seen = true;
                let line = format!(
                    "all {} services up {:.1} s after start-up",
                    health.len(),
                    started.elapsed().as_secs_f64()
                );
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}{line}", if terminal { "\r\x1b[2K" } else { "" });
            }
        }
        if tick % (4 * every) != 0 {
            continue;
        }
        let period = stats.take();
        let secs = last.elapsed().as_secs_f64().max(0.001);
        last = Instant::now();
        let mut line = String::new();
        if let Some(scraper) = scraper {
            let health = scraper.health();
            let up = health.iter().filter(|h| h.up).count();
            line.push_str(&format!("{up}/{} up · ", health.len()));
        }
        let answered = period.sent.max(1) as f64;
        line.push_str(&format!(
            "{:.1} req/s · {:.1}% 5xx · p99 {} · {} unanswered",
            period.sent as f64 / secs,
            100.0 * period.server_errors as f64 / answered,
            period
                .p99_ms
                .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0} ms")),
            period.unanswered,
        ));
        if period.skipped > 0 {
            line.push_str(&format!(" · {} skipped (fleet saturated)", period.skipped));
        }
        let mut out = std::io::stdout().lock();
        let _ = if terminal {
            write!(out, "\r\x1b[2K{line}")
        } else {
            writeln!(out, "{line}")
        };
        let _ = out.flush();
    }
}
