//! End to end: tickets per minute through fetch -> classify -> write, and API calls per ticket,
//! against the Zendesk simulator with 100 ms added to every request. Figures only, nothing asserted
//! (the machine may be shared): compare numbers from the same run.
//!
//! Everything is the real thing except Zendesk: the simulator (otai-zendesk-sim, in process, on
//! 127.0.0.1) answers with Zendesk's shapes, rate limit (700 requests/min) and `update_many` jobs
//! (500 ms queued + 500 ms working); otai loads the real `libotai_zendesk.so` through the real
//! loader and classifies with the real demo model (models/banking77), then runs pipeline passes
//! (`Pipeline::pass`, what `otai run` runs) until every ticket is written.
//!
//! Two write paths, side by side:
//! - `bulk`: the pipeline as configured by default: a pass fetches up to 100 tickets with one
//!   search, classifies them in one call and writes them with one `update_many` job (then polls it).
//! - `one at a time`: what an adapter without batches does: each pass fetches one ticket
//!   (`fetch.limit: 1`), classifies it and writes it with the host's one-by-one fallback over
//!   `update_ticket`, as for a plugin without a batch call. The Zendesk plugin's `update_ticket`
//!   reads the ticket's tags (`GET /api/v2/tickets/{id}`) and then writes the full set with the
//!   rest in one `PUT`: three requests per ticket with the search. Fewer tickets (its per-ticket
//!   figures do not depend on the count).
//!
//! API calls are the requests the simulator received (the plugin's own count beside them).
//!
//! Run: `cargo bench -p otai --bench pipeline` (or `make bench`). Needs `models/setup.sh` first.
//! Tickets: BANKING77 test queries (PolyAI, CC-BY-4.0).

mod common;

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use common::{plugin_so, repo};

use otai::{
    classifier::{Classifier, ClassifierOptions, TicketText},
    config::Config,
    pipeline::{run::stop_pair, Classify, Pipeline},
    plugins::PluginRegistry,
    ticket::{
        BoxFuture, Note, RequestStats, SearchQuery, Ticket, TicketResult, TicketSystem,
        TicketUpdate,
    },
};
use otai_zendesk_sim::{Faults, Simulator};
use serde_json::{json, Value};

/// Tickets for the bulk path.
const BULK_TICKETS: usize = 1_000;
/// Tickets for the one-at-a-time path.
const ONE_BY_ONE_TICKETS: usize = 100;
/// Added to every request, milliseconds.
const LATENCY_MS: u64 = 100;
/// Zendesk's account-wide budget (Enterprise: 700 requests per minute).
const RATE_PER_MINUTE: u32 = 700;

const GROUPS: [(&str, &str); 10] = [
    ("cards", "Cards"),
    ("card_payments", "Card payments"),
    ("disputes", "Disputes"),
    ("transfers", "Transfers"),
    ("top_ups", "Top-ups"),
    ("cash_atm", "Cash and ATM"),
    ("exchange", "Exchange"),
    ("account_security", "Account security"),
    ("", "Inbox"),
    ("", "Unclassified"),
];

fn tickets(texts: &[String], n: usize, first_id: u64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let text = &texts[i % texts.len()];
            let subject: String = text
                .split_whitespace()
                .take(6)
                .collect::<Vec<_>>()
                .join(" ");
            json!({
                "id": first_id + i as u64,
                "subject": subject,
                "description": text,
                "status": "new",
                "group": if i % 3 == 0 { Some("Inbox") } else { None },
                "requester": format!("customer{:02}@example.com", i % 20),
                "created_at": "2025-06-02T08:00:00Z",
            })
        })
        .collect()
}

fn config(base_url: &str, limit: usize) -> Config {
    let map: Vec<String> = GROUPS
        .iter()
        .filter(|(label, _)| !label.is_empty())
        .map(|(label, name)| format!("{label}: \"{name}\""))
        .collect();
    let yaml = format!(
        r#"
ticket_systems:
  zendesk:
    use: otai_zendesk:ZendeskTicketsystemService
    params:
      base_url: "{base_url}"
      email: agent@example.com
      api_token: sim-token
pipelines:
  bench:
    ticket_system: zendesk
    model: {model}
    fetch: {{limit: {limit}}}
    inbox_queues: [Inbox]
    state_file: null
    fields:
      queue:
        action: queue
        map: {{{map}}}
        fallback: Unclassified
      priority:
        action: priority
        fallback: normal
      intent:
        action: tag
"#,
        model = repo().join("models/banking77").display(),
        map = map.join(", "),
    );
    Config::parse(&yaml, Path::new("bench-pipeline.yml"), &|_| Ok(None))
        .unwrap_or_else(|e| panic!("the bench configuration: {e}"))
}

/// A ticket system without a batch call: `update_tickets` is the trait's default, one
/// `update_ticket` per ticket, as for a plugin that has none.
#[derive(Debug)]
struct OneAtATime(Arc<dyn TicketSystem>);

impl TicketSystem for OneAtATime {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn find_tickets(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Vec<Ticket>>> {
        self.0.find_tickets(query)
    }
    fn find_first_ticket(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        self.0.find_first_ticket(query)
    }
    fn get_ticket(&self, id: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        self.0.get_ticket(id)
    }
    fn update_ticket(&self, id: &str, update: TicketUpdate) -> BoxFuture<'_, TicketResult<Ticket>> {
        self.0.update_ticket(id, update)
    }
    fn add_note(&self, id: &str, note: Note) -> BoxFuture<'_, TicketResult<()>> {
        self.0.add_note(id, note)
    }
    fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>> {
        self.0.check_connection()
    }
    fn request_stats(&self) -> Option<RequestStats> {
        self.0.request_stats()
    }
}

struct Figures {
    tickets: usize,
    passes: usize,
    elapsed: Duration,
    sim_requests: u64,
    plugin: RequestStats,
    rate_limited: u64,
}

impl Figures {
    fn per_minute(&self) -> f64 {
        self.tickets as f64 / self.elapsed.as_secs_f64() * 60.0
    }
    fn calls_per_ticket(&self) -> f64 {
        self.sim_requests as f64 / self.tickets as f64
    }
}

async fn measure(
    texts: &[String],
    classifier: Arc<Classifier>,
    n: usize,
    one_at_a_time: bool,
) -> Figures {
    let mut faults = Faults::none();
    faults.latency.fixed_ms = LATENCY_MS;
    let sim = Simulator::builder()
        .tickets(tickets(texts, n, 9_000_000_001))
        .groups(&GROUPS.map(|(_, name)| name))
        .rate_limit_per_minute(RATE_PER_MINUTE)
        .faults(faults)
        .start()
        .await
        .unwrap_or_else(|e| panic!("the simulator starts: {e}"));

    let dir = tempfile::tempdir().expect("a temporary plugins directory");
    std::fs::copy(
        plugin_so("libotai_zendesk.so"),
        dir.path().join("libotai_zendesk.so"),
    )
    .expect("copy the plugin");
    let config = config(sim.base_url(), if one_at_a_time { 1 } else { 100 });
    let registry = PluginRegistry::load(dir.path());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    let mut system = registry
        .ticket_system(&config, "zendesk")
        .unwrap_or_else(|e| panic!("the Zendesk service: {e}"));
    if one_at_a_time {
        system = Arc::new(OneAtATime(system));
    }
    let mut pipeline = Pipeline::new(
        config.pipelines["bench"].clone(),
        system.clone(),
        classifier as Arc<dyn Classify>,
    );

    let (_stop_handle, stop) = stop_pair();
    let plugin_before = system.request_stats().unwrap_or_default();
    let sim_before = sim.stats();
    let start = Instant::now();
    let (mut done, mut passes) = (0usize, 0usize);
    while done < n {
        let report = pipeline.pass(false, &stop).await;
        passes += 1;
        if let Some(failure) = &report.failure {
            panic!("pass {passes} failed: {failure}");
        }
        let s = report.summary;
        done += s.written + s.routed_tagged;
        assert!(
            s.fetched > 0,
            "pass {passes} found nothing with {done}/{n} done"
        );
    }
    let elapsed = start.elapsed();
    let sim_after = sim.stats();
    let figures = Figures {
        tickets: n,
        passes,
        elapsed,
        sim_requests: sim_after.requests - sim_before.requests,
        plugin: system
            .request_stats()
            .unwrap_or_default()
            .since(plugin_before),
        rate_limited: sim_after.rate_limited - sim_before.rate_limited,
    };
    drop(pipeline);
    drop(system);
    sim.shutdown().await;
    figures
}

fn main() {
    let texts =
        otai::classifier::data::Dataset::load(&repo().join("data/banking77/test.csv"), None)
            .unwrap_or_else(|e| panic!("{e}"))
            .texts;
    let classifier = Classifier::load(
        &repo().join("models/banking77"),
        &ClassifierOptions::default(),
    )
    .unwrap_or_else(|e| panic!("the demo model (run models/setup.sh): {e}"));
    // Warm up (ONNX Runtime's first runs allocate), outside the timing.
    let warm: Vec<TicketText> = texts[..64]
        .iter()
        .map(|t| TicketText::new("", t.as_str()))
        .collect();
    classifier
        .classify_batch_blocking(&warm)
        .unwrap_or_else(|e| panic!("{e}"));
    let classifier = Arc::new(classifier);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!(
        "End to end (fetch -> classify -> write), Zendesk simulator with {LATENCY_MS} ms per request, \
         {RATE_PER_MINUTE} requests/min, update_many jobs 0.5 s queued + 0.5 s working; \
         real libotai_zendesk.so, models/banking77:"
    );
    let bulk = rt.block_on(measure(&texts, classifier.clone(), BULK_TICKETS, false));
    let single = rt.block_on(measure(&texts, classifier, ONE_BY_ONE_TICKETS, true));
    println!(
        "  {:<34} {:>7} {:>7} {:>9} {:>13} {:>14} {:>10}",
        "write path", "tickets", "passes", "seconds", "tickets/min", "API calls", "calls/ticket"
    );
    for (name, f) in [
        ("bulk (search 100, update_many)", &bulk),
        ("one at a time (search 1, GET, PUT)", &single),
    ] {
        println!(
            "  {:<34} {:>7} {:>7} {:>9.1} {:>13.0} {:>14} {:>10.3}",
            name,
            f.tickets,
            f.passes,
            f.elapsed.as_secs_f64(),
            f.per_minute(),
            format!("{} ({})", f.sim_requests, f.plugin.requests),
            f.calls_per_ticket()
        );
        if f.rate_limited > 0 || f.plugin.retries > 0 {
            println!(
                "    ({} answered 429, {} retries by the plugin)",
                f.rate_limited, f.plugin.retries
            );
        }
    }
    println!(
        "  bulk vs one at a time: {:.1}x the tickets per minute, {:.0}x fewer API calls per ticket \
         (API calls: received by the simulator, the plugin's own count in parentheses)",
        bulk.per_minute() / single.per_minute(),
        single.calls_per_ticket() / bulk.calls_per_ticket()
    );
}
