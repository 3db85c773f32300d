//! Declares `cfg(loom)`, which the crate uses and Cargo does not know: with
//! `RUSTFLAGS="--cfg loom"`, the lock-free primitives are built on loom's atomics
//! and `tests/loom.rs` model-checks them (see `src/sync.rs`).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(loom)");
}
