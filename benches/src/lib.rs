//! Criterion benchmarks of keviq against its peers: see `benches/` and BENCHMARKS.md.
