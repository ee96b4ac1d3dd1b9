//! Logs go to stderr through `tracing`; stdout is reserved for command output (JSON lines).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `--log-level` wins over `RUST_LOG`, which wins over the
/// command's default. Both accept a level or tracing directives (`otai=debug,otai::plugin=trace`).
pub fn init(flag: Option<&str>, default_level: &str) -> Result<(), LoggingError> {
    let filter = match flag {
        Some(directives) => EnvFilter::try_new(directives)
            .map_err(|e| LoggingError(format!("invalid --log-level `{directives}`: {e}")))?,
        None => match std::env::var(EnvFilter::DEFAULT_ENV) {
            Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
                .map_err(|e| LoggingError(format!("invalid RUST_LOG `{directives}`: {e}")))?,
            _ => EnvFilter::new(default_level),
        },
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .map_err(|e| LoggingError(format!("cannot install the log subscriber: {e}")))
}

/// The log configuration was unusable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoggingError(String);
