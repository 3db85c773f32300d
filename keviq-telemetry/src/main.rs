//! The `keviq-telemetry` command: `check-metrics` lints an exposition (see
//! [`keviq_telemetry::cli`]); with no subcommand (or `serve`) it runs the telemetry
//! service (see [`keviq_telemetry::daemon`]).

use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    match args.peek().and_then(|a| a.to_str()) {
        None | Some("serve") => serve(),
        Some(_) => ExitCode::from(keviq_telemetry::cli::run(
            args,
            &mut io::stdin().lock(),
            &mut io::stdout().lock(),
            &mut io::stderr().lock(),
        )),
    }
}

fn serve() -> ExitCode {
    if let Err(e) = keviq::logging::init("telemetry-service") {
        eprintln!("keviq-telemetry: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("keviq-telemetry: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(keviq_telemetry::daemon::run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "telemetry service stopped");
            eprintln!("keviq-telemetry: {e}");
            ExitCode::FAILURE
        }
    }
}
