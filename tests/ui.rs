//! Compile-time behaviour of the macros, pinned with trybuild: every `fail/` case's
//! message is in its committed `.stderr`; every `pass/` case compiles and runs.
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite` and read each one: it is
//! what a user sees.

#[test]
fn metric_macro() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/metric/pass/*.rs");
    t.compile_fail("tests/ui/metric/fail/*.rs");
}

#[test]
fn service_attribute() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/service/pass/*.rs");
    t.compile_fail("tests/ui/service/fail/*.rs");
}

#[test]
fn label_value() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/label_value/pass/*.rs");
    t.compile_fail("tests/ui/label_value/fail/*.rs");
}
