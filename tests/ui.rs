//! Compile-time behaviour of the macros, pinned with trybuild: every `fail/` case's
//! message is in its committed `.stderr`; every `pass/` case compiles and runs.

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
