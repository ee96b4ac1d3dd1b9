//! A pass over the Freshdesk simulator under a plan's rate limits: API calls and credits per
//! ticket, minutes per pass, and the most credits otai spent in any 60 s, for 200 and 1,000 new
//! tickets on the Enterprise and Growth plans (the adapter told the plan, `plan: growth`, and
//! keeping its default budget: half of each limit, per endpoint too), bulk jobs on. Figures only, nothing asserted (the machine may be shared).
//!
//! Everything is the real thing except Freshdesk: the simulator (otai-freshdesk-sim, in process,
//! on 127.0.0.1) with the plan's per-minute and per-endpoint limits and 0.5 s bulk jobs; the real
//! `libotai_freshdesk.so` through the real loader; the real demo model. The tickets are new
//! (created when the bench starts, as in a running help desk), so the figures are the steady
//! state's; `cargo test -p otai --test e2e freshdesk::pass -- --nocapture` gives the one-time
//! backlog figures of the demo help desk.
//!
//! Run: `cargo bench -p otai --bench freshdesk` (`make bench-freshdesk`); about half an hour,
//! most of it waiting for the Growth plan's minutes. `OTAI_BENCH_FRESHDESK_PLANS=enterprise`
//! runs one plan. Needs `models/setup.sh` first. Tickets: BANKING77 test queries (CC-BY-4.0).

mod common;

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use common::{plugin_so, repo};
use otai::{
    classifier::{Classifier, ClassifierOptions},
    config::Config,
    pipeline::{run::stop_pair, Classify, Pipeline},
    plugins::PluginRegistry,
};
use otai_freshdesk_sim::{Plan, Simulator};
use serde_json::{json, Value};

const GROUPS: [&str; 9] = [
    "Cards",
    "Card payments",
    "Disputes",
    "Transfers",
    "Top-ups",
    "Cash and ATM",
    "Exchange",
    "Account security",
    "Unclassified",
];

fn tickets(texts: &[String], n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let text = &texts[(i * 7) % texts.len()];
            let subject: String = text
                .split_whitespace()
                .take(6)
                .collect::<Vec<_>>()
                .join(" ");
            json!({"subject": subject, "description": text, "status": 2, "priority": 1,
                   "requester": format!("customer{:02}@example.com", i % 20)})
        })
        .collect()
}

/// The pipeline over the simulator at `base_url`, the adapter told the account's `plan` (as an
/// operator would: otai then keeps to half of each endpoint's limit too).
fn config(base_url: &str, plan: &str) -> Config {
    let yaml = format!(
        r#"
ticket_systems:
  freshdesk:
    use: otai_freshdesk:FreshdeskTicketsystemService
    call_timeout: 1800
    params:
      base_url: "{base_url}"
      api_key: sim-api-key
      plan: {plan}
pipelines:
  bench:
    ticket_system: freshdesk
    model: {model}
    fetch: {{statuses: [new], limit: 1000}}
    inbox_queues: []
    state_file: null
    fields:
      queue:
        action: queue
        map: {{cards: Cards, card_payments: "Card payments", disputes: Disputes, transfers: Transfers, top_ups: Top-ups, cash_atm: "Cash and ATM", exchange: Exchange, account_security: "Account security"}}
        fallback: Unclassified
      priority:
        action: priority
        fallback: normal
      intent:
        action: tag
"#,
        model = repo().join("models/banking77").display(),
    );
    Config::parse(&yaml, Path::new("bench-freshdesk.yml"), &|_| Ok(None))
        .unwrap_or_else(|e| panic!("the bench configuration: {e}"))
}

struct Figures {
    requests: u64,
    credits: u64,
    most_in_a_minute: u64,
    rate_limited: u64,
    elapsed: Duration,
    passes: usize,
    bulk_jobs: u64,
    puts: u64,
}

async fn measure(
    texts: &[String],
    classifier: Arc<Classifier>,
    (plan, plan_name): (Plan, &str),
    n: usize,
) -> Figures {
    let sim = Simulator::builder()
        .groups(&GROUPS)
        .tickets(tickets(texts, n))
        .plan(plan)
        .start()
        .await
        .unwrap_or_else(|e| panic!("the simulator starts: {e}"));
    let dir = tempfile::tempdir().expect("a temporary plugins directory");
    std::fs::copy(
        plugin_so("libotai_freshdesk.so"),
        dir.path().join("libotai_freshdesk.so"),
    )
    .expect("copy the plugin");
    let config = config(&sim.base_url(), plan_name);
    let registry = PluginRegistry::load(dir.path());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    let system = registry
        .ticket_system(&config, "freshdesk")
        .unwrap_or_else(|e| panic!("the Freshdesk service: {e}"));
    let mut pipeline = Pipeline::new(
        config.pipelines["bench"].clone(),
        system,
        classifier as Arc<dyn Classify>,
    );
    let (_stop_handle, stop) = stop_pair();
    let start = Instant::now();
    let (mut done, mut passes) = (0usize, 0usize);
    while done < n && passes < 20 {
        let report = pipeline.pass(false, &stop).await;
        passes += 1;
        if let Some(failure) = &report.failure {
            panic!("pass {passes} failed: {failure}");
        }
        done += report.summary.written;
    }
    let elapsed = start.elapsed();
    let stats = sim.stats();
    let figures = Figures {
        requests: stats.requests,
        credits: sim.requests().iter().map(|r| r.cost).sum(),
        most_in_a_minute: sim.max_credits_in_window(Duration::from_secs(60)),
        rate_limited: stats.rate_limited,
        elapsed,
        passes,
        bulk_jobs: stats
            .by_route
            .get("POST /api/v2/tickets/bulk_update")
            .copied()
            .unwrap_or(0),
        puts: stats
            .by_route
            .get("PUT /api/v2/tickets/{id}")
            .copied()
            .unwrap_or(0),
    };
    drop(pipeline);
    sim.shutdown().await;
    figures
}

fn main() {
    let texts =
        otai::classifier::data::Dataset::load(&repo().join("data/banking77/test.csv"), None)
            .unwrap_or_else(|e| panic!("{e}"))
            .texts;
    let classifier = Arc::new(
        Classifier::load(
            &repo().join("models/banking77"),
            &ClassifierOptions::default(),
        )
        .unwrap_or_else(|e| panic!("the demo model (run models/setup.sh): {e}")),
    );
    let plans =
        std::env::var("OTAI_BENCH_FRESHDESK_PLANS").unwrap_or_else(|_| "enterprise,growth".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!(
        "Freshdesk simulator under a plan's limits, otai's budget half of each (real \
         libotai_freshdesk.so, models/banking77, bulk jobs 0.5 s):"
    );
    println!(
        "  {:<34} {:>7} {:>9} {:>8} {:>9} {:>8} {:>11} {:>8} {:>6}",
        "plan",
        "tickets",
        "requests",
        "per tkt",
        "credits",
        "minutes",
        "max/60 s",
        "bulk/PUT",
        "429s"
    );
    for plan_name in plans.split(',').map(str::trim) {
        let (plan, label) = match plan_name {
            "enterprise" => (Plan::Enterprise, "Enterprise 700/min (update 280)"),
            "growth" => (Plan::Growth, "Growth 200/min (update 80, list 20)"),
            other => panic!("OTAI_BENCH_FRESHDESK_PLANS: unknown plan {other}"),
        };
        for n in [200, 1_000] {
            let f = rt.block_on(measure(&texts, classifier.clone(), (plan, plan_name), n));
            println!(
                "  {:<34} {:>7} {:>9} {:>8.2} {:>9} {:>8.1} {:>11} {:>8} {:>6}   ({} passes)",
                label,
                n,
                f.requests,
                f.requests as f64 / n as f64,
                f.credits,
                f.elapsed.as_secs_f64() / 60.0,
                f.most_in_a_minute,
                format!("{}/{}", f.bulk_jobs, f.puts),
                f.rate_limited,
                f.passes
            );
        }
    }
}
