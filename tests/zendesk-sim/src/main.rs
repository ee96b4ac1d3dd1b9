//! `otai-zendesk-sim`: runs the simulator until SIGINT/SIGTERM. The first line on stdout is the
//! base URL, so a script can read it. Each `--oauth-client` then gets one line
//! `refresh_token {client_id} {token}`: a refresh token made up at start, as if an admin had
//! completed the authorization-code flow, to hand to a client that refreshes. The client secret
//! is never printed or logged.

use std::{io::Write as _, path::PathBuf, time::Duration};

use clap::Parser;
use otai_sim_kit::binary;
use otai_zendesk_sim::{OAuthClient, Simulator};

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
    /// An OAuth client for `POST /oauth/tokens`, as ID:SECRET (repeatable).
    #[arg(long = "oauth-client", value_name = "ID:SECRET", value_parser = parse_oauth_client)]
    oauth_clients: Vec<(String, String)>,
    /// Space-separated scopes the OAuth clients may be granted.
    #[arg(
        long,
        value_name = "SCOPES",
        default_value = "read write",
        requires = "oauth_clients"
    )]
    oauth_scopes: String,
    /// Lifetime of issued OAuth access tokens, seconds (Zendesk's default: 30 minutes).
    #[arg(long, value_name = "SECS", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    access_token_lifetime: u64,
    /// Lifetime of OAuth refresh tokens, seconds (default 30 days).
    #[arg(long, value_name = "SECS", default_value_t = 2_592_000, value_parser = clap::value_parser!(u64).range(1..))]
    refresh_token_lifetime: u64,
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
    /// Send a signed webhook delivery here for every ticket added (`POST /__sim/tickets`), as a
    /// Zendesk trigger on ticket creation does (with --webhook-secret).
    #[arg(long, value_name = "URL", requires = "webhook_secret")]
    webhook_url: Option<String>,
    /// The webhook's signing secret.
    #[arg(long, value_name = "SECRET", requires = "webhook_url")]
    webhook_secret: Option<String>,
}

#[tokio::main]
async fn main() {
    binary::init_logging();
    binary::exit_on_error("otai-zendesk-sim", run(Args::parse()).await);
}

async fn run(args: Args) -> anyhow::Result<()> {
    let faults = binary::faults_from_args(args.faults.as_deref(), args.latency_ms)?;
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
    let scopes: Vec<&str> = args.oauth_scopes.split_whitespace().collect();
    for (id, secret) in &args.oauth_clients {
        b = b.oauth_client(OAuthClient::new(id, secret).with_scopes(&scopes));
    }
    b = b
        .access_token_lifetime(Duration::from_secs(args.access_token_lifetime))
        .refresh_token_lifetime(Duration::from_secs(args.refresh_token_lifetime));
    let sim = b.start().await?;
    if let (Some(url), Some(secret)) = (&args.webhook_url, &args.webhook_secret) {
        sim.set_webhook(Some(otai_zendesk_sim::WebhookTarget {
            url: url.clone(),
            secret: secret.clone(),
        }));
    }
    binary::print_base_url(sim.base_url())?;
    let mut out = std::io::stdout();
    for (id, _) in &args.oauth_clients {
        let token = sim
            .grant_refresh_token(id, None)
            .map_err(|e| anyhow::anyhow!("cannot make a refresh token for {id}: {}", e.body))?;
        writeln!(out, "refresh_token {id} {token}")?;
    }
    out.flush()?;
    binary::shutdown_signal().await;
    tracing::info!("Shutting down.");
    sim.shutdown().await;
    Ok(())
}

/// `ID:SECRET` (the secret may contain `:`; the id may not, nor whitespace).
fn parse_oauth_client(s: &str) -> Result<(String, String), String> {
    let (id, secret) = s
        .split_once(':')
        .ok_or("expected ID:SECRET, e.g. otai:some-secret")?;
    if id.is_empty() || id.contains(char::is_whitespace) {
        return Err("the client id must be non-empty and without spaces".into());
    }
    if secret.is_empty() {
        return Err("the client secret must not be empty".into());
    }
    Ok((id.to_string(), secret.to_string()))
}
