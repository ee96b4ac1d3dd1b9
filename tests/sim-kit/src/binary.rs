//! What every simulator binary (`otai-zendesk-sim`, `otai-zammad-sim`) does around its own
//! server, written once so that scripts and drills can start any of them the same way:
//!
//! - the log goes to stderr ([`init_logging`]), because stdout is for the script: its first line
//!   is the base URL ([`print_base_url`]), which `scripts/demo.sh` and the tests read;
//! - `--faults` takes the [`Faults`] JSON inline or as `@FILE`, and `--latency-ms N` (N > 0)
//!   overrides its fixed latency ([`faults_from_args`]), with the same error messages everywhere;
//! - the binary runs until SIGTERM (what `kill` and the demo's clean-up send) or Ctrl-C
//!   ([`shutdown_signal`]);
//! - a failure to start is one line `PROGRAM: error: cause` on stderr and exit status 1
//!   ([`exit_on_error`]).
//!
//! The flags every binary has are [`CommonArgs`] (`#[command(flatten)]`); the others stay in
//! each binary (their help texts and defaults are the binary's). [`serve_until_signal`] is the end
//! of every `main`, [`spawn_for_url`] the start of every binary's test.

use std::fmt;
use std::future::Future;
use std::io::{self, BufRead as _, Write as _};
use std::process::{Child, Command, Stdio};

use crate::Faults;

/// `--port`, `--latency-ms` and `--faults`, the flags every simulator binary takes; flatten them
/// into the binary's own `clap` arguments.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Added latency per request, milliseconds (overrides the faults' fixed latency).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Faults as JSON (otai-sim-kit's form), or @FILE.
    #[arg(long)]
    pub faults: Option<String>,
}

impl CommonArgs {
    /// The faults to start with ([`faults_from_args`]).
    pub fn start_faults(&self) -> Result<Faults, FaultsArgError> {
        faults_from_args(self.faults.as_deref(), self.latency_ms)
    }
}

/// The rest of a simulator's `main` once it serves: prints `url` as the first stdout line, waits
/// for SIGTERM or Ctrl-C, then runs `stop` (the simulator's shutdown).
pub async fn serve_until_signal<F: Future<Output = ()>>(
    url: impl fmt::Display,
    stop: F,
) -> io::Result<()> {
    print_base_url(url)?;
    shutdown_signal().await;
    tracing::info!("Shutting down.");
    stop.await;
    Ok(())
}

/// Starts the simulator binary `exe` with `args` (stdout piped, stderr discarded) and reads the
/// first line it prints: the child, to kill when done, and the URL.
pub fn spawn_for_url(exe: &str, args: &[&str]) -> io::Result<(Child, String)> {
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    // Read through a borrow: the pipe stays open for whatever the binary prints later.
    let stdout = child.stdout.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
    io::BufReader::new(stdout).read_line(&mut line)?;
    Ok((child, line.trim().to_string()))
}

/// Sends `tracing` output to stderr, at the level `RUST_LOG` asks for (default `info`), in colour
/// only when stderr is a terminal (the demo writes it to a file). Call once, first thing in
/// `main`.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .init();
}

/// The faults a binary starts with: `faults` is the `--faults` value, JSON text or `@FILE` (a file
/// holding the JSON); none means [`Faults::default`]. A `latency_ms` above 0 (`--latency-ms`)
/// replaces the fixed latency the JSON gives, so a demo can slow a simulator down without writing
/// a faults object.
pub fn faults_from_args(faults: Option<&str>, latency_ms: u64) -> Result<Faults, FaultsArgError> {
    let mut faults = match faults {
        None => Faults::default(),
        Some(text) => {
            let text = match text.strip_prefix('@') {
                Some(path) => {
                    std::fs::read_to_string(path).map_err(|source| FaultsArgError::Read {
                        path: path.to_string(),
                        source,
                    })?
                }
                None => text.to_string(),
            };
            serde_json::from_str(&text).map_err(FaultsArgError::Parse)?
        }
    };
    if latency_ms > 0 {
        faults.latency.fixed_ms = latency_ms;
    }
    Ok(faults)
}

/// Why [`faults_from_args`] failed. Its `Display` is the context only; the cause is its
/// [`source`](std::error::Error::source), so `anyhow`'s `{:#}` prints `context: cause`.
#[derive(Debug)]
pub enum FaultsArgError {
    /// The `@FILE` could not be read.
    Read {
        /// The file named after `@`.
        path: String,
        /// Why it could not be read.
        source: io::Error,
    },
    /// The text is not a [`Faults`] object.
    Parse(serde_json::Error),
}

impl fmt::Display for FaultsArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, .. } => write!(f, "cannot read faults file {path}"),
            Self::Parse(_) => f.write_str("--faults is not a valid faults object"),
        }
    }
}

impl std::error::Error for FaultsArgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            Self::Parse(e) => Some(e),
        }
    }
}

/// Writes the base URL as a line on stdout and flushes it, so a script waiting for the first line
/// gets it at once. A binary with more to say (Zendesk's refresh tokens) writes it after this.
pub fn print_base_url(base_url: impl fmt::Display) -> io::Result<()> {
    let mut out = io::stdout();
    writeln!(out, "{base_url}")?;
    out.flush()
}

/// Waits for SIGTERM or Ctrl-C (SIGINT); where SIGTERM cannot be watched (or off Unix), for
/// Ctrl-C alone. The binary then shuts its simulator down cleanly.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Ends the process with status 1 after printing `PROGRAM: ERROR` on stderr (with `{:#}`, so an
/// `anyhow` error shows its causes) if `result` is an error; returns otherwise.
pub fn exit_on_error<E: fmt::Display>(program: &str, result: Result<(), E>) {
    if let Err(e) = result {
        eprintln!("{program}: {e:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_argument_is_the_default_and_latency_overrides() {
        assert_eq!(faults_from_args(None, 0).unwrap(), Faults::default());
        assert_eq!(faults_from_args(None, 40).unwrap().latency.fixed_ms, 40);
    }

    #[test]
    fn inline_json_and_a_file_give_the_same_faults() {
        let json = r#"{"seed": 7, "latency": {"fixed_ms": 20, "jitter_ms": 30},
                       "rules": [{"fault": {"kind": "drop"}, "method": "PUT", "next": 1}]}"#;
        let inline = faults_from_args(Some(json), 0).unwrap();
        assert_eq!(inline.seed, 7);
        assert_eq!(inline.latency.fixed_ms, 20);
        assert_eq!(inline.rules.len(), 1);

        let path =
            std::env::temp_dir().join(format!("otai-sim-kit-faults-{}.json", std::process::id()));
        std::fs::write(&path, json).unwrap();
        let from_file = faults_from_args(Some(&format!("@{}", path.display())), 0);
        let slowed = faults_from_args(Some(&format!("@{}", path.display())), 90);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(from_file.unwrap(), inline);
        let slowed = slowed.unwrap();
        assert_eq!(slowed.latency.fixed_ms, 90, "--latency-ms wins");
        assert_eq!(slowed.latency.jitter_ms, 30, "the jitter stays");
    }

    #[test]
    fn errors_name_the_argument_and_keep_the_cause() {
        use std::error::Error as _;
        let missing = faults_from_args(Some("@/nonexistent/faults.json"), 0).unwrap_err();
        assert!(matches!(missing, FaultsArgError::Read { .. }));
        assert_eq!(
            missing.to_string(),
            "cannot read faults file /nonexistent/faults.json"
        );
        assert!(missing.source().is_some());

        let bad = faults_from_args(Some("{bad"), 0).unwrap_err();
        assert_eq!(bad.to_string(), "--faults is not a valid faults object");
        assert!(bad.source().unwrap().to_string().contains("line 1"));
    }
}
