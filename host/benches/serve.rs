//! Webhook to write: how long after a help desk's webhook delivery `otai serve` has written the
//! ticket back. Figures only, nothing asserted (the machine may be shared).
//!
//! The real `otai` binary (release) runs `otai serve` with the real `libotai_zendesk.so` and the
//! demo model (models/banking77) against the Zendesk simulator (in process, on 127.0.0.1), whose
//! trigger webhook posts a signed `{"ticket_id": ...}` for every ticket a customer adds. Polling is
//! an hour away, so only the webhook routes. Per ticket: from the moment the simulator sends the
//! delivery to the moment the ticket carries `otai_processed` (polled every 5 ms). The write is one
//! `update_many` job, which the simulator keeps queued then working for 500 ms each (real Zendesk
//! jobs take about as long), then, in a second round, for no time at all: what otai itself adds.
//!
//! - `one by one`: a ticket arrives when the last one is written (latency of a quiet desk);
//! - `burst`: 20 tickets arrive at once (deliveries coalesce into the passes that follow).
//!
//! Run: `cargo bench -p otai --bench serve` (part of `make bench`). Needs `models/setup.sh` first.

mod common;

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use common::{plugin_so, repo};
use otai_zendesk_sim::{Simulator, WebhookTarget};
use serde_json::{json, Value};

const SECRET: &str = "bench-webhook-secret";
const ONE_BY_ONE: u64 = 30;
const BURST: u64 = 20;

const TEXTS: &[&str] = &[
    "My card was stolen yesterday, please block it immediately",
    "Why was I charged a fee for my transfer?",
    "How do I activate my card?",
    "The ATM did not give me my cash but my account was debited",
    "My top-up failed, what should I do?",
    "My transfer to a friend has not arrived yet",
];

fn ticket(id: u64) -> Value {
    json!({"id": id, "subject": format!("Request {id}"), "status": "new",
           "description": TEXTS[id as usize % TEXTS.len()]})
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{label:<11} {:>3} tickets: median {:>6.0} ms, p95 {:>6.0} ms, min {:>6.0} ms, max {:>6.0} ms",
        ms.len(),
        percentile(&ms, 50.0),
        percentile(&ms, 95.0),
        ms[0],
        ms[ms.len() - 1]
    );
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Zendesk-like job times, then none: what otai itself adds.
    for job_delay_ms in [500, 0] {
        measure(job_delay_ms).await;
    }
}

async fn measure(job_delay_ms: u64) {
    let sim = Simulator::builder()
        .groups(&[
            "Cards",
            "Card payments",
            "Disputes",
            "Transfers",
            "Top-ups",
            "Cash and ATM",
            "Exchange",
            "Account security",
            "Unclassified",
            "Inbox",
        ])
        .job_delays(
            Duration::from_millis(job_delay_ms),
            Duration::from_millis(job_delay_ms),
        )
        .start()
        .await
        .expect("the simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(
        plugin_so("libotai_zendesk.so"),
        plugins.join("libotai_zendesk.so"),
    )
    .unwrap();
    let address = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = dir.path().join("serve.yml");
    std::fs::write(
        &config,
        format!(
            r#"
ticket_systems:
  zendesk:
    use: otai_zendesk:ZendeskTicketsystemService
    params:
      base_url: {base}
      email: {email}
      api_token: {token}
      webhook_secret: {SECRET}
pipelines:
  bench:
    ticket_system: zendesk
    model: {model}
    inbox_queues: ["Inbox"]
    interval: 3600
    fields:
      queue:
        action: queue
        map: {{cards: Cards, card_payments: Card payments, disputes: Disputes, transfers: Transfers, top_ups: Top-ups, cash_atm: Cash and ATM, exchange: Exchange, account_security: Account security}}
        fallback: Unclassified
      priority: {{action: priority, fallback: normal}}
serve:
  poll_interval: 3600
  inbox: inbox.jsonl
"#,
            base = sim.base_url(),
            email = otai_zendesk_sim::DEFAULT_EMAIL,
            token = otai_zendesk_sim::DEFAULT_TOKEN,
            model = repo().join("models/banking77").display(),
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(["--config"])
        .arg(&config)
        .args(["--plugins-dir"])
        .arg(&plugins)
        .args(["serve", "--listen", &address.to_string()])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start otai serve");
    let _serve = Serve(child);
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http
        .get(format!("http://{address}/readyz"))
        .send()
        .await
        .map_or(true, |r| r.status() != 200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "otai serve did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sim.set_webhook(Some(WebhookTarget {
        url: format!("http://{address}/webhooks/zendesk"),
        secret: SECRET.into(),
    }));

    let processed = |id: u64| {
        sim.ticket(id)
            .is_some_and(|t| t.tags.iter().any(|tag| tag == "otai_processed"))
    };
    let sent_at = |id: u64| {
        sim.webhook_deliveries()
            .iter()
            .find(|d| d.ticket_id == id)
            .map(|d| d.sent_at_ms)
    };
    let wait_written = |ids: Vec<u64>| async move {
        let mut written = std::collections::BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while written.len() < ids.len() && Instant::now() < deadline {
            for &id in &ids {
                if !written.contains_key(&id) && processed(id) {
                    written.insert(id, now_ms());
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        written
    };

    println!("webhook to write, otai serve (release) over the Zendesk simulator (update_many jobs {job_delay_ms} ms queued + {job_delay_ms} ms working)");
    // A warm-up ticket: the first classification initialises the encoder's session.
    sim.add_tickets(vec![ticket(1)]).unwrap();
    wait_written(vec![1]).await;

    let mut one_by_one = Vec::new();
    for id in 100..100 + ONE_BY_ONE {
        sim.add_tickets(vec![ticket(id)]).unwrap();
        let written = wait_written(vec![id]).await;
        if let (Some(at), Some(sent)) = (written.get(&id), sent_at(id)) {
            one_by_one.push(at.saturating_sub(sent) as f64);
        }
    }
    report("one by one", one_by_one);

    let ids: Vec<u64> = (1000..1000 + BURST).collect();
    sim.add_tickets(ids.iter().map(|&id| ticket(id)).collect())
        .unwrap();
    let written = wait_written(ids.clone()).await;
    let burst: Vec<f64> = ids
        .iter()
        .filter_map(|id| Some(written.get(id)?.saturating_sub(sent_at(*id)?) as f64))
        .collect();
    report("burst", burst);
    let refused = sim
        .webhook_deliveries()
        .iter()
        .filter(|d| d.status != Some(202))
        .count();
    println!("deliveries not answered 202: {refused}");
}
