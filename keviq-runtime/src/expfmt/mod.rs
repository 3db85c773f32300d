//! The exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0 text.

mod encode;

pub use encode::{Encoder, Format};
