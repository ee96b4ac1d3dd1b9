//! `otai run --once` routes everything that is waiting: against the Zendesk simulator with the real
//! `libotai_zendesk.so` and the BANKING77 model, 150 new tickets with the default `fetch.limit` of 100
//! are all routed in one run (two passes), each written exactly once.

use otai_zendesk_sim::Simulator;
use serde_json::{json, Value};

use crate::support::{self, banking_sim_config, run_otai, BANKING_GROUPS};

const TEXTS: &[&str] = &[
    "My card was stolen yesterday, please block it immediately",
    "Why was I charged a fee for my transfer?",
    "How do I activate my card?",
    "The ATM did not give me my cash but my account was debited",
    "My top-up failed, what should I do?",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_routes_a_backlog_larger_than_the_fetch_limit_each_ticket_once() {
    let ids: Vec<u64> = (7001..7151).collect();
    let tickets: Vec<Value> = ids
        .iter()
        .map(|&id| {
            let text = TEXTS[id as usize % TEXTS.len()];
            json!({"id": id, "subject": format!("Request {id}"), "description": text, "status": "new"})
        })
        .collect();
    let sim = Simulator::builder()
        .groups(BANKING_GROUPS)
        .tickets(tickets)
        .start()
        .await
        .expect("the simulator starts");
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let cwd = tempfile::tempdir().unwrap();
    let config = cwd.path().join("drain.yml");
    std::fs::write(&config, banking_sim_config(sim.base_url(), "backlog")).unwrap();

    let (stdout, _) = tokio::task::spawn_blocking({
        let (cwd, config, plugins) = (
            cwd.path().to_path_buf(),
            config.clone(),
            plugins.path().to_path_buf(),
        );
        move || run_otai(&cwd, &config, &plugins, &["run", "--once"])
    })
    .await
    .unwrap();

    println!("{stdout}");
    assert!(
        stdout.contains("pipeline backlog: fetched 100, classified 100, written 100"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pipeline backlog: fetched 50, classified 50, written 50"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "pipeline backlog: 2 passes in all: fetched 150, classified 150, written 150"
        ),
        "{stdout}"
    );
    let audit = std::fs::read_to_string(cwd.path().join(".otai/audit/backlog.jsonl")).unwrap();
    let audited: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(audited.len(), 150, "one audit line per write");
    assert!(audited
        .iter()
        .all(|l| l["outcome"] == "written" && l["pipeline"] == "backlog"));
    for id in ids {
        assert!(
            audited.iter().any(|l| l["ticket"] == id.to_string()),
            "ticket {id} is in the audit log"
        );
        assert_eq!(
            sim.write_count(id),
            1,
            "ticket {id} is written exactly once"
        );
        let ticket = sim.ticket(id).unwrap();
        assert!(
            ticket.tags.iter().any(|t| t == "otai_processed"),
            "ticket {id}: {:?}",
            ticket.tags
        );
    }
    sim.shutdown().await;
}
