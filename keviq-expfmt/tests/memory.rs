//! How much memory a parse takes, per byte of input: the peak heap in use during
//! `parse_with`, the result included, measured by a counting allocator (which
//! counts a growing vector's old and new blocks at once, as a copying `realloc`
//! holds them).
//!
//! The floor for tiny lines is the size of a [`Sample`](keviq_expfmt::Sample)
//! (80 bytes) and of a [`MetricFamily`](keviq_expfmt::MetricFamily) (80 bytes): a
//! 4-byte line `x 1` costs at least 20 bytes per input byte. Realistic lines of 50
//! to 150 bytes cost about one byte per input byte.
//!
//! `cargo test -p keviq-expfmt --test memory -- --nocapture` prints the figures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use keviq_expfmt::{Format, Mode, parse_with};

/// Counts the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator with the caller's arguments;
// the counters only observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as the old and the new block at once, as a copying realloc holds.
            let now = IN_USE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(now, Ordering::Relaxed);
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap bytes per input byte while parsing `text` (and holding the result).
fn per_byte(text: &str, format: Format, mode: Mode) -> f64 {
    let before = IN_USE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let parsed = parse_with(text, format, mode);
    let peak = PEAK.load(Ordering::Relaxed) - before;
    drop(parsed);
    peak as f64 / text.len() as f64
}

fn lines(n: usize, line: impl Fn(usize) -> String) -> String {
    (0..n).map(line).collect()
}

#[test]
fn memory_is_a_small_multiple_of_the_input() {
    const N: usize = 100_000;
    let cases: Vec<(&str, String, Format, Mode, f64)> = vec![
        (
            "`x 1`, one series repeated (scrape: kept once)",
            lines(N, |_| "x 1\n".to_owned()),
            Format::Prometheus,
            Mode::Scrape,
            26.0,
        ),
        (
            "`m17 1`, a family per line",
            lines(N, |i| format!("m{i} 1\n")),
            Format::Prometheus,
            Mode::Strict,
            33.0,
        ),
        (
            "`x{i=\"17\"} 1`, one family",
            lines(N, |i| format!("x{{i=\"{i}\"}} 1\n")),
            Format::Prometheus,
            Mode::Strict,
            8.0,
        ),
        (
            "counters with three labels (~95 bytes a line)",
            lines(N, |i| {
                format!(
                    "bench_requests_total{{method=\"GET\",path=\"/api/v1/resource{}/items/{{id}}\",status=\"{}\"}} {}\n",
                    i / 4,
                    200 + i % 4,
                    i * 7
                )
            }),
            Format::Prometheus,
            Mode::Strict,
            1.3,
        ),
        (
            "histograms, 15 buckets (OpenMetrics)",
            {
                let bounds = [
                    "0.5", "1.0", "2.5", "5.0", "10.0", "25.0", "50.0", "100.0", "+Inf",
                ];
                let mut text = "# TYPE d_ms histogram\n".to_owned();
                for i in 0..N / 11 {
                    let labels = format!("method=\"GET\",path=\"/api/v1/r{i}\"");
                    for (j, b) in bounds.iter().enumerate() {
                        text.push_str(&format!("d_ms_bucket{{{labels},le=\"{b}\"}} {j}\n"));
                    }
                    text.push_str(&format!(
                        "d_ms_sum{{{labels}}} 17.5\nd_ms_count{{{labels}}} 8\n"
                    ));
                }
                text.push_str("# EOF\n");
                text
            },
            Format::OpenMetrics,
            Mode::Strict,
            2.6,
        ),
    ];
    let mut over = Vec::new();
    for (name, text, format, mode, limit) in &cases {
        let ratio = per_byte(text, *format, *mode);
        println!(
            "{ratio:6.2} bytes of memory per input byte: {name} ({} KB)",
            text.len() / 1024
        );
        if ratio > *limit {
            over.push(format!("{name}: {ratio:.2} > {limit}"));
        }
    }
    assert!(over.is_empty(), "{over:#?}");
}
