//! `otai-zammad-sim`: runs the simulator until SIGINT/SIGTERM. The first line on stdout is the
//! base URL (without `/api/v1`), so a script can read it; logs go to stderr.

use std::path::PathBuf;

use clap::Parser;
use otai_sim_kit::binary;
use otai_zammad_sim::{SearchBackend, SearchShape, Simulator};

/// A Zammad REST API simulator on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Tickets (and groups) to serve: JSON or JSONL, Zammad- or Zendesk-shaped (repeatable).
    #[arg(long)]
    seed: Vec<PathBuf>,
    #[command(flatten)]
    common: binary::CommonArgs,
    /// API token (default sim-token).
    #[arg(long)]
    token: Option<String>,
    /// Basic credentials as USER:PASSWORD (default agent@example.com:secret).
    #[arg(long, value_name = "USER:PASSWORD", value_parser = parse_basic)]
    basic: Option<(String, String)>,
    /// OAuth2 bearer token (default sim-oauth-token).
    #[arg(long)]
    bearer: Option<String>,
    /// Turn API token access off (token and bearer headers get 403).
    #[arg(long)]
    no_token_auth: bool,
    /// Turn Basic access off.
    #[arg(long)]
    no_basic_auth: bool,
    /// Search without Elasticsearch (the SQL LIKE fallback).
    #[arg(long)]
    no_elasticsearch: bool,
    /// Search answers of current Zammad (array) or of Zammad up to 2022 (legacy).
    #[arg(long, value_name = "array|legacy", default_value = "array", value_parser = parse_shape)]
    search_shape: SearchShape,
    /// Custom ticket attributes the instance has (comma-separated).
    #[arg(long, value_delimiter = ',')]
    attributes: Vec<String>,
    /// Send a signed webhook delivery here for every ticket added (`POST /__sim/tickets`), as a
    /// Zammad trigger on ticket creation does (with --webhook-secret).
    #[arg(long, value_name = "URL", requires = "webhook_secret")]
    webhook_url: Option<String>,
    /// The webhook's HMAC SHA1 signature token.
    #[arg(long, value_name = "SECRET", requires = "webhook_url")]
    webhook_secret: Option<String>,
}

#[tokio::main]
async fn main() {
    binary::init_logging();
    binary::exit_on_error("otai-zammad-sim", run(Args::parse()).await);
}

async fn run(args: Args) -> anyhow::Result<()> {
    let attributes: Vec<&str> = args.attributes.iter().map(String::as_str).collect();
    let mut b = Simulator::builder()
        .port(args.common.port)
        .faults(args.common.start_faults()?)
        .custom_attributes(&attributes)
        .search_shape(args.search_shape)
        .search_backend(if args.no_elasticsearch {
            SearchBackend::Sql
        } else {
            SearchBackend::Elasticsearch
        });
    for seed in &args.seed {
        b = b.seed_file(seed);
    }
    if let Some(t) = &args.token {
        b = b.token(t);
    }
    if let Some((u, p)) = &args.basic {
        b = b.basic(u, p);
    }
    if let Some(t) = &args.bearer {
        b = b.bearer(t);
    }
    if args.no_token_auth {
        b = b.disable_token_auth();
    }
    if args.no_basic_auth {
        b = b.disable_basic_auth();
    }
    let sim = b.start().await?;
    if let (Some(url), Some(secret)) = (&args.webhook_url, &args.webhook_secret) {
        sim.set_webhook(Some(otai_zammad_sim::WebhookTarget {
            url: url.clone(),
            secret: secret.clone(),
        }));
    }
    tracing::info!(
        base_url = %sim.base_url(),
        tickets = sim.tickets().len(),
        "Zammad simulator ready."
    );
    binary::serve_until_signal(sim.base_url(), sim.shutdown()).await?;
    Ok(())
}

/// `USER:PASSWORD` (the password may contain `:`).
fn parse_basic(s: &str) -> Result<(String, String), String> {
    let (u, p) = s
        .split_once(':')
        .ok_or("expected USER:PASSWORD, e.g. agent@example.com:secret")?;
    if u.is_empty() || p.is_empty() {
        return Err("user and password must not be empty".into());
    }
    Ok((u.to_string(), p.to_string()))
}

fn parse_shape(s: &str) -> Result<SearchShape, String> {
    match s {
        "array" => Ok(SearchShape::Array),
        "legacy" => Ok(SearchShape::Legacy),
        _ => Err("array or legacy".into()),
    }
}
