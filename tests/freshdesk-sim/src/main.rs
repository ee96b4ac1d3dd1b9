//! `otai-freshdesk-sim`: runs the simulator until SIGINT/SIGTERM. The first line on stdout is the
//! base URL (`http://127.0.0.1:PORT`; the API is under `/api/v2`), so a script can read it; logs
//! go to stderr.

use std::{path::PathBuf, time::Duration};

use clap::Parser;
use otai_freshdesk_sim::{Plan, Simulator};
use otai_sim_kit::binary;

/// A Freshdesk API v2 simulator on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Tickets (and groups) to serve: JSON or JSONL, Freshdesk- or Zendesk-shaped (repeatable).
    #[arg(long)]
    seed: Vec<PathBuf>,
    #[command(flatten)]
    common: binary::CommonArgs,
    /// Rate-limit plan: trial, growth, pro, enterprise, unlimited or custom:TOTAL,CREATE,UPDATE,LIST.
    #[arg(long, default_value = "enterprise", value_parser = Plan::parse)]
    plan: Plan,
    /// The API key (the Basic user name).
    #[arg(long, default_value = otai_freshdesk_sim::DEFAULT_API_KEY)]
    api_key: String,
    /// Search index lag, seconds of the account clock (0: none).
    #[arg(long, default_value_t = 90.0)]
    index_lag: f64,
    /// Delay before a bulk job runs, milliseconds.
    #[arg(long, default_value_t = 500)]
    job_delay_ms: u64,
    /// Rate-limit window, seconds.
    #[arg(long, default_value_t = 60.0)]
    rate_window: f64,
    /// Groups to create (repeatable).
    #[arg(long = "group")]
    groups: Vec<String>,
    /// Custom ticket fields, e.g. cf_category (repeatable).
    #[arg(long = "custom-field")]
    custom_fields: Vec<String>,
    /// Send a webhook delivery here for every ticket added (`POST /__sim/tickets`), as an
    /// automation rule's Trigger webhook action on ticket creation does (with --webhook-secret).
    #[arg(long, value_name = "URL", requires = "webhook_secret")]
    webhook_url: Option<String>,
    /// The secret the action sends in its custom header.
    #[arg(long, value_name = "SECRET", requires = "webhook_url")]
    webhook_secret: Option<String>,
    /// The custom header's name.
    #[arg(long, value_name = "NAME", default_value = otai_freshdesk_sim::webhooks::DEFAULT_SECRET_HEADER)]
    webhook_header: String,
}

#[tokio::main]
async fn main() {
    binary::init_logging();
    binary::exit_on_error("otai-freshdesk-sim", run(Args::parse()).await);
}

fn seconds(name: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("--{name} must be a non-negative number of seconds"))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let groups: Vec<&str> = args.groups.iter().map(String::as_str).collect();
    let fields: Vec<&str> = args.custom_fields.iter().map(String::as_str).collect();
    let mut b = Simulator::builder()
        .port(args.common.port)
        .faults(args.common.start_faults()?)
        .plan(args.plan)
        .api_key(&args.api_key)
        .index_lag(seconds("index-lag", args.index_lag)?)
        .job_delay(Duration::from_millis(args.job_delay_ms))
        .rate_window(seconds("rate-window", args.rate_window)?)
        .groups(&groups)
        .custom_fields(&fields);
    for seed in &args.seed {
        b = b.seed_file(seed);
    }
    let sim = b.start().await?;
    if let (Some(url), Some(secret)) = (&args.webhook_url, &args.webhook_secret) {
        sim.set_webhook(Some(
            otai_freshdesk_sim::WebhookTarget::new(url, secret).with_header(&args.webhook_header),
        ));
    }
    tracing::info!(
        base_url = %sim.base_url(),
        tickets = sim.tickets().len(),
        plan = ?args.plan,
        "Freshdesk simulator ready."
    );
    binary::serve_until_signal(sim.base_url(), sim.shutdown()).await?;
    Ok(())
}
