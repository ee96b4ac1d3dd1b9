//! `otai-otobo-sim`: runs the simulator until SIGINT/SIGTERM. The first line on stdout is the web
//! service's URL (where the routes start), so a script can read it; logs go to stderr.

use std::path::PathBuf;

use clap::Parser;
use otai_otobo_sim::{ArticleModel, Flavour, Routes, Simulator};
use otai_sim_kit::binary;

/// An OTOBO / Znuny / OTRS 6 GenericInterface REST simulator on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Tickets (and groups) to serve: JSON or JSONL, OTOBO- or Zendesk-shaped (repeatable).
    #[arg(long)]
    seed: Vec<PathBuf>,
    #[command(flatten)]
    common: binary::CommonArgs,
    /// Product: otobo (/otobo/...), znuny or otrs6 (/otrs/...).
    #[arg(long, default_value = "otobo", value_parser = parse_flavour)]
    flavour: Flavour,
    /// The web service's name.
    #[arg(long, default_value = otai_otobo_sim::DEFAULT_WEBSERVICE)]
    webservice: String,
    /// Route table: shipped (GenericTicketConnectorREST.yml) or open-ticket-ai.
    #[arg(long, default_value = "shipped", value_parser = parse_routes)]
    routes: Routes,
    /// The API agent as LOGIN:PASSWORD (default otai-agent:secret).
    #[arg(long, value_name = "LOGIN:PASSWORD", value_parser = parse_agent)]
    agent: Option<(String, String)>,
    /// Multiselect ticket dynamic fields (repeatable; default OTAITags).
    #[arg(long = "multiselect-field")]
    multiselect_fields: Vec<String>,
    /// Text ticket dynamic fields (repeatable).
    #[arg(long = "text-field")]
    text_fields: Vec<String>,
    /// OTRS <= 5 articles (ArticleType instead of CommunicationChannel + IsVisibleForCustomer).
    #[arg(long)]
    article_type: bool,
    /// TicketSearch's SearchLimit.
    #[arg(long, default_value_t = 500)]
    search_limit: usize,
    /// Send an invoker's delivery here for every ticket added (`POST /__sim/tickets`), as the
    /// web service's Requester does on TicketCreate (with --webhook-secret).
    #[arg(long, value_name = "URL", requires = "webhook_secret")]
    webhook_url: Option<String>,
    /// The secret the transport sends (header value or BasicAuth password).
    #[arg(long, value_name = "SECRET", requires = "webhook_url")]
    webhook_secret: Option<String>,
    /// The additional header carrying the secret.
    #[arg(long, value_name = "NAME", default_value = otai_otobo_sim::webhooks::DEFAULT_SECRET_HEADER,
          conflicts_with = "webhook_basic_user")]
    webhook_header: String,
    /// BasicAuth as this user (the secret as the password) instead of the header.
    #[arg(long, value_name = "USER")]
    webhook_basic_user: Option<String>,
}

#[tokio::main]
async fn main() {
    binary::init_logging();
    binary::exit_on_error("otai-otobo-sim", run(Args::parse()).await);
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut b = Simulator::builder()
        .port(args.common.port)
        .faults(args.common.start_faults()?)
        .flavour(args.flavour)
        .webservice(&args.webservice)
        .routes(args.routes)
        .search_limit(args.search_limit);
    if let Some((login, password)) = &args.agent {
        b = b.agent(login, password);
    }
    let multiselect = if args.multiselect_fields.is_empty() {
        vec!["OTAITags".to_string()]
    } else {
        args.multiselect_fields
    };
    for f in &multiselect {
        b = b.multiselect_field(f);
    }
    for f in &args.text_fields {
        b = b.text_field(f);
    }
    if args.article_type {
        b = b.article_model(ArticleModel::ArticleType);
    }
    for seed in &args.seed {
        b = b.seed_file(seed);
    }
    let sim = b.start().await?;
    if let (Some(url), Some(secret)) = (&args.webhook_url, &args.webhook_secret) {
        let target = otai_otobo_sim::WebhookTarget::new(url, secret);
        sim.set_webhook(Some(match &args.webhook_basic_user {
            Some(user) => target.with_basic(user),
            None => target.with_header(&args.webhook_header),
        }));
    }
    tracing::info!(
        web_service = %sim.base_url(),
        admin = %sim.server_url(),
        tickets = sim.tickets().len(),
        "OTOBO simulator ready."
    );
    binary::serve_until_signal(sim.base_url(), sim.shutdown()).await?;
    Ok(())
}

fn parse_flavour(s: &str) -> Result<Flavour, String> {
    Flavour::parse(s).map_err(|e| e.to_string())
}

fn parse_routes(s: &str) -> Result<Routes, String> {
    match s {
        "shipped" => Ok(Routes::shipped()),
        "open-ticket-ai" => Ok(Routes::open_ticket_ai()),
        _ => Err("shipped or open-ticket-ai".into()),
    }
}

/// `LOGIN:PASSWORD` (the password may contain `:`).
fn parse_agent(s: &str) -> Result<(String, String), String> {
    let (u, p) = s
        .split_once(':')
        .ok_or("expected LOGIN:PASSWORD, e.g. otai-agent:secret")?;
    if u.is_empty() || p.is_empty() {
        return Err("login and password must not be empty".into());
    }
    Ok((u.to_string(), p.to_string()))
}
