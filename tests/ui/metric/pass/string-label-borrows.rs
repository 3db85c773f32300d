//! A label declared `String` takes `&str`, `&String` or `String`: `&order.currency`
//! compiles and leaves the field where it is, and looking up a series that exists
//! allocates nothing, whichever of the three is given.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use keviq::{Format, Registry};

/// Counts the allocations of the process (the case runs on one thread).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Order {
    currency: String,
    channel: String,
}

keviq::metric! {
    /// Orders placed, by currency and channel
    static ORDERS: Counter(currency: String, channel: &str) = "string_label_orders_total";
    /// Order amounts, by currency
    #[metric(buckets = [10, 100])]
    static AMOUNTS: Histogram(currency: std::string::String) = "string_label_order_amount";
    /// Orders open, by channel
    static OPEN: Gauge(channel: ::std::string::String, currency: String) = "string_label_orders_open";
}

fn main() {
    let order = Order {
        currency: "EUR".to_owned(),
        channel: "web".to_owned(),
    };
    ORDERS.labels(&order.currency, &order.channel).inc();
    ORDERS.labels(order.currency.as_str(), "web").inc();
    ORDERS.labels("EUR", "web").inc();
    ORDERS.labels(order.currency.clone(), "web").inc();
    AMOUNTS.labels(&order.currency).observe(42.0);
    OPEN.labels(&order.channel, &order.currency).inc();
    // One series, however the text was given.
    assert_eq!(ORDERS.labels(&order.currency, "web").get(), 4);

    // The count sees an allocation...
    let probe = ALLOCATIONS.load(Ordering::Relaxed);
    drop(std::hint::black_box(String::from("probe")));
    assert!(ALLOCATIONS.load(Ordering::Relaxed) > probe);
    // ...and none here.
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        ORDERS.labels(&order.currency, "web").inc();
        ORDERS.labels("EUR", &order.channel).inc();
        AMOUNTS.labels(&order.currency).observe(1.0);
        OPEN.labels("web", "EUR").set(1);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(allocations, 0, "lookups of existing series allocated");

    // The fields were borrowed, never moved.
    let Order { currency, channel } = order;
    let text = Registry::global().unwrap().render(Format::Prometheus);
    assert!(
        text.contains(&format!(
            "string_label_orders_total{{currency=\"{currency}\",channel=\"{channel}\"}} 2004\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("string_label_order_amount_count{currency=\"EUR\"} 1001\n"),
        "{text}"
    );
    assert!(
        text.contains("string_label_orders_open{channel=\"web\",currency=\"EUR\"} 1\n"),
        "{text}"
    );
}
