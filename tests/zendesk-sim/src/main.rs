//! `otai-zendesk-sim`: runs the simulator until SIGINT/SIGTERM. The first line on stdout is the
//! base URL, so a script can read it.

use std::{io::Write as _, path::PathBuf, time::Duration};

use anyhow::Context as _;
use clap::Parser;
use otai_zendesk_sim::{Faults, Simulator};

/// A Zendesk Support API simulator on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Tickets (and groups) to serve: JSON or JSONL.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// API-token e-mail (with --token); default agent@example.com / sim-token.
    #[arg(long, requires = "token")]
    email: Option<String>,
    /// API token (with --email).
    #[arg(long, requires = "email")]
    token: Option<String>,
    /// Also accept this OAuth bearer token.
    #[arg(long)]
    bearer: Option<String>,
    /// Account-wide requests per minute (0 = unlimited).
    #[arg(long, default_value_t = 700)]
    rate_limit: u32,
    /// Added latency per request, milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Faults as JSON (see the `faults` module), or @FILE.
    #[arg(long)]
    faults: Option<String>,
    /// Milliseconds a bulk job stays queued and then working.
    #[arg(long, default_value_t = 500)]
    job_delay_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("otai-zendesk-sim: {e:#}");
        std::process::exit(1);
    }
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut faults = match &args.faults {
        None => Faults::default(),
        Some(text) => {
            let text = match text.strip_prefix('@') {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read faults file {path}"))?,
                None => text.clone(),
            };
            serde_json::from_str(&text).context("--faults is not a valid faults object")?
        }
    };
    if args.latency_ms > 0 {
        faults.latency.fixed_ms = args.latency_ms;
    }
    let mut b = Simulator::builder()
        .port(args.port)
        .rate_limit_per_minute(args.rate_limit)
        .faults(faults)
        .job_delays(
            Duration::from_millis(args.job_delay_ms),
            Duration::from_millis(args.job_delay_ms),
        );
    if let Some(seed) = &args.seed {
        b = b.seed_file(seed);
    }
    if let (Some(email), Some(token)) = (&args.email, &args.token) {
        b = b.credentials(email, token);
    }
    if let Some(bearer) = &args.bearer {
        if args.email.is_none() {
            b = b.credentials(
                otai_zendesk_sim::DEFAULT_EMAIL,
                otai_zendesk_sim::DEFAULT_TOKEN,
            );
        }
        b = b.credential(otai_zendesk_sim::Credential::Bearer {
            token: bearer.clone(),
            read_only: false,
        });
    }
    let sim = b.start().await?;
    let mut out = std::io::stdout();
    writeln!(out, "{}", sim.base_url())?;
    out.flush()?;
    shutdown_signal().await;
    tracing::info!("Shutting down.");
    sim.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
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
