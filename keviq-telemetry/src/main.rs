//! The `keviq-telemetry` command; everything happens in [`keviq_telemetry::cli`].

use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(keviq_telemetry::cli::run(
        std::env::args_os().skip(1),
        &mut io::stdin().lock(),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    ))
}
