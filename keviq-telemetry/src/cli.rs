//! The command line: a small hand-written argument parser (only the options below
//! exist, so a parser crate would cost more than it saves) and [`run`], which the
//! binary delegates to.
//!
//! ```text
//! keviq-telemetry check-metrics [--format prometheus|openmetrics] [--scrape] [FILE|-]
//! ```
//!
//! By default the exposition is read strictly, as the specifications write them
//! (OpenMetrics 1.0, Prometheus text 0.0.4): a semantic error (a histogram without
//! `+Inf`, a repeated series, ...) is a parse error. `--scrape` reads it as the
//! telemetry scraper and Prometheus do: what they tolerate is printed as a finding
//! (`<name>:<line>:<column>: <reason>`) and the conventions are linted.
//!
//! `--format` also takes the form `--format=openmetrics`; `--` ends the options;
//! `-h`/`--help` prints the usage.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use keviq::Format;
use keviq_expfmt::{Mode, parse_with};

use crate::lint;

/// The usage line.
pub const USAGE: &str = "usage: keviq-telemetry check-metrics [--format prometheus|openmetrics] [--scrape] [FILE|-]\n       keviq-telemetry [serve]   (run the telemetry service)";

/// Exit statuses of the command.
pub mod exit {
    /// Valid and clean (also after `--help`).
    pub const OK: u8 = 0;
    /// The exposition does not parse.
    pub const PARSE_ERROR: u8 = 1;
    /// Bad arguments, or the input cannot be read.
    pub const USAGE: u8 = 2;
    /// The exposition parses but breaks conventions.
    pub const LINT: u8 = 3;
}

/// What the arguments ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print the usage.
    Help,
    /// Validate one exposition.
    CheckMetrics {
        /// The format to parse it in.
        format: Format,
        /// Strict (the specifications) or scrape (what scrapers accept).
        mode: Mode,
        /// Where to read it from.
        input: Input,
    },
}

/// Where the exposition comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`-` or no argument).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// The name used in messages: the path, or `<stdin>`.
    pub fn display_name(&self) -> String {
        match self {
            Self::Stdin => "<stdin>".to_owned(),
            Self::File(path) => path.display().to_string(),
        }
    }
}

/// Arguments the command does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// No subcommand.
    #[error("missing command; expected `check-metrics` or `serve`")]
    MissingCommand,
    /// A subcommand other than `check-metrics`.
    #[error("unknown command `{0}`; expected `check-metrics`")]
    UnknownCommand(String),
    /// An option other than `--format`, `--help`.
    #[error("unknown option `{0}`")]
    UnknownOption(String),
    /// `--format` as the last argument.
    #[error("option `--format` needs a value: `prometheus` or `openmetrics`")]
    MissingFormat,
    /// A `--format` value other than the two formats.
    #[error("unknown format `{0}`; expected `prometheus` or `openmetrics`")]
    UnknownFormat(String),
    /// `--format` twice.
    #[error("option `--format` given more than once")]
    DuplicateFormat,
    /// A second `FILE`.
    #[error("unexpected argument `{0}`; only one FILE is read")]
    ExtraArgument(String),
}

/// Why `check-metrics` could not run.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The input could not be read.
    #[error("cannot read {name}: {source}")]
    Read {
        /// The input's name ([`Input::display_name`]).
        name: String,
        /// The I/O error.
        source: io::Error,
    },
}

/// Parses the arguments after the program name.
///
/// ```
/// use keviq::Format;
/// use keviq_expfmt::Mode;
/// use keviq_telemetry::cli::{Command, Input, parse_args};
///
/// let command = parse_args(["check-metrics", "--format=openmetrics", "-"].map(Into::into));
/// assert_eq!(
///     command,
///     Ok(Command::CheckMetrics { format: Format::OpenMetrics, mode: Mode::Strict, input: Input::Stdin }),
/// );
/// ```
///
/// # Errors
/// The first argument that does not fit.
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let command = match args.next() {
        None => return Err(UsageError::MissingCommand),
        Some(command) => command,
    };
    match command.to_str() {
        Some("check-metrics") => {}
        Some("-h" | "--help") => return Ok(Command::Help),
        Some(other) if other.starts_with('-') => {
            return Err(UsageError::UnknownOption(other.to_owned()));
        }
        _ => return Err(UsageError::UnknownCommand(lossy(&command))),
    }

    let mut format = None;
    let mut mode = Mode::Strict;
    let mut input = None;
    let mut options_done = false;
    while let Some(arg) = args.next() {
        // Options are ASCII; anything not UTF-8 can only be a path.
        let text = arg.to_str().filter(|_| !options_done);
        let value = match text {
            Some("--") => {
                options_done = true;
                continue;
            }
            Some("-h" | "--help") => return Ok(Command::Help),
            Some("--scrape") => {
                mode = Mode::Scrape;
                continue;
            }
            Some("--format") => match args.next() {
                Some(value) => Some(lossy(&value)),
                None => return Err(UsageError::MissingFormat),
            },
            Some(t) if t.starts_with("--format=") => {
                Some(t.trim_start_matches("--format=").to_owned())
            }
            Some(t) if t.starts_with('-') && t != "-" => {
                return Err(UsageError::UnknownOption(t.to_owned()));
            }
            _ => None,
        };
        if let Some(value) = value {
            if format.is_some() {
                return Err(UsageError::DuplicateFormat);
            }
            format = Some(match value.as_str() {
                "prometheus" => Format::Prometheus,
                "openmetrics" => Format::OpenMetrics,
                _ => return Err(UsageError::UnknownFormat(value)),
            });
            continue;
        }
        if input.is_some() {
            return Err(UsageError::ExtraArgument(lossy(&arg)));
        }
        input = Some(if arg == "-" && !options_done {
            Input::Stdin
        } else {
            Input::File(PathBuf::from(arg))
        });
    }
    Ok(Command::CheckMetrics {
        format: format.unwrap_or_default(),
        mode,
        input: input.unwrap_or(Input::Stdin),
    })
}

fn lossy(arg: &OsString) -> String {
    arg.to_string_lossy().into_owned()
}

/// What `check-metrics` found in a readable input.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Parses, no findings.
    Clean,
    /// Does not parse: the `<name>:<line>:<column>: <reason>` message.
    Invalid(String),
    /// Parses, with these findings (never both empty): what a scrape-mode parse
    /// tolerated, as `<name>:<line>:<column>: <reason>` lines, and the lint
    /// findings.
    Findings {
        /// What the parser tolerated (scrape mode only).
        tolerated: Vec<String>,
        /// The conventions broken.
        lint: Vec<lint::Finding>,
    },
}

impl Outcome {
    /// The exit status for this outcome.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Clean => exit::OK,
            Self::Invalid(_) => exit::PARSE_ERROR,
            Self::Findings { .. } => exit::LINT,
        }
    }
}

/// Checks the bytes of an exposition named `name` (for messages): parse, then lint.
/// Input that is not UTF-8 is a parse error at the first bad byte.
pub fn check_bytes(name: &str, bytes: &[u8], format: Format, mode: Mode) -> Outcome {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or(bytes);
            // The prefix is valid UTF-8 by definition; lossy only to avoid a panic path.
            let before = String::from_utf8_lossy(valid);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            return Outcome::Invalid(format!("{name}:{line}:{column}: input is not valid UTF-8"));
        }
    };
    match parse_with(text, format, mode) {
        Err(e) => Outcome::Invalid(format!("{name}:{}:{}: {}", e.line, e.column, e.reason)),
        Ok(exposition) => {
            let lint = lint::lint(&exposition, format);
            let mut tolerated: Vec<String> = exposition
                .findings
                .iter()
                // Repeated series are reported by the lint, in promtool's words.
                .filter(|f| f.kind() != "duplicate_series")
                .map(|f| format!("{name}:{}:{}: {}", f.line, f.column, f.reason))
                .collect();
            if exposition.findings_omitted > 0 {
                tolerated.push(format!(
                    "{name}: {} more findings left out",
                    exposition.findings_omitted
                ));
            }
            if tolerated.is_empty() && lint.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Findings { tolerated, lint }
            }
        }
    }
}

/// Runs the command with the arguments after the program name, and returns the exit
/// status ([`exit`]). Output that cannot be written (a closed pipe) is dropped; the
/// status still tells the result.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    match try_run(args, stdin, stdout, stderr) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(stderr, "keviq-telemetry: {e}");
            if matches!(e, CliError::Usage(_)) {
                let _ = writeln!(stderr, "{USAGE}");
            }
            exit::USAGE
        }
    }
}

fn try_run(
    args: impl IntoIterator<Item = OsString>,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, CliError> {
    let (format, mode, input) = match parse_args(args)? {
        Command::Help => {
            let _ = writeln!(stdout, "{USAGE}");
            return Ok(exit::OK);
        }
        Command::CheckMetrics {
            format,
            mode,
            input,
        } => (format, mode, input),
    };
    let name = input.display_name();
    let read_error = |source| CliError::Read {
        name: name.clone(),
        source,
    };
    let bytes = match &input {
        Input::Stdin => {
            let mut bytes = Vec::new();
            stdin.read_to_end(&mut bytes).map_err(read_error)?;
            bytes
        }
        Input::File(path) => std::fs::read(path).map_err(read_error)?,
    };
    let outcome = check_bytes(&name, &bytes, format, mode);
    match &outcome {
        Outcome::Clean => {}
        Outcome::Invalid(message) => {
            let _ = writeln!(stderr, "{message}");
        }
        Outcome::Findings { tolerated, lint } => {
            for line in tolerated {
                let _ = writeln!(stdout, "{line}");
            }
            for finding in lint {
                let _ = writeln!(stdout, "{finding}");
            }
        }
    }
    let _ = stdout.flush();
    Ok(outcome.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Command, UsageError> {
        parse_args(list.iter().map(OsString::from))
    }

    fn check(format: Format, input: Input) -> Result<Command, UsageError> {
        Ok(Command::CheckMetrics {
            format,
            mode: Mode::Strict,
            input,
        })
    }

    #[test]
    fn defaults() {
        assert_eq!(
            args(&["check-metrics"]),
            check(Format::Prometheus, Input::Stdin)
        );
        assert_eq!(
            args(&["check-metrics", "m.txt"]),
            check(Format::Prometheus, Input::File("m.txt".into()))
        );
    }

    #[test]
    fn formats() {
        assert_eq!(
            args(&["check-metrics", "--format", "openmetrics", "-"]),
            check(Format::OpenMetrics, Input::Stdin)
        );
        assert_eq!(
            args(&["check-metrics", "x", "--format=prometheus"]),
            check(Format::Prometheus, Input::File("x".into()))
        );
        assert_eq!(
            args(&["check-metrics", "--format", "json"]),
            Err(UsageError::UnknownFormat("json".into()))
        );
        assert_eq!(
            args(&["check-metrics", "--format"]),
            Err(UsageError::MissingFormat)
        );
        assert_eq!(
            args(&[
                "check-metrics",
                "--format=prometheus",
                "--format=openmetrics"
            ]),
            Err(UsageError::DuplicateFormat)
        );
    }

    #[test]
    fn usage_errors() {
        assert_eq!(args(&[]), Err(UsageError::MissingCommand));
        assert_eq!(
            args(&["scrape"]),
            Err(UsageError::UnknownCommand("scrape".into()))
        );
        assert_eq!(
            args(&["check-metrics", "--strict"]),
            Err(UsageError::UnknownOption("--strict".into()))
        );
        assert_eq!(
            args(&["check-metrics", "a", "b"]),
            Err(UsageError::ExtraArgument("b".into()))
        );
    }

    #[test]
    fn double_dash_and_help() {
        assert_eq!(
            args(&["check-metrics", "--", "--format"]),
            check(Format::Prometheus, Input::File("--format".into()))
        );
        assert_eq!(args(&["check-metrics", "-h"]), Ok(Command::Help));
        assert_eq!(args(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn non_utf8_input_is_a_parse_error() {
        let outcome = check_bytes("f", b"a 1\nb\xff 2\n", Format::Prometheus, Mode::Strict);
        assert_eq!(
            outcome,
            Outcome::Invalid("f:2:2: input is not valid UTF-8".into())
        );
        assert_eq!(outcome.exit_code(), exit::PARSE_ERROR);
    }

    #[test]
    fn run_reports_to_the_right_stream() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"# TYPE x counter\nx 1\n";
        let code = run(
            ["check-metrics"].map(OsString::from),
            &mut input,
            &mut out,
            &mut err,
        );
        assert_eq!(code, exit::LINT);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "x counter metrics should have \"_total\" suffix\nx no help text\n"
        );
        assert!(err.is_empty());
    }
}
