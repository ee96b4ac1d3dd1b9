//! `otai run --once` routes everything that is waiting: against the Zendesk simulator with the real
//! `libotai_zendesk.so` and the BANKING77 model, 150 new tickets with the default `fetch.limit` of 100
//! are all routed in one run (two passes), each written exactly once.

use serde_json::{json, Value};

use crate::support::{self, run_otai, BankingDesk};

const TEXTS: &[&str] = support::REQUEST_TEXTS;

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
    let BankingDesk {
        sim,
        plugins,
        cwd,
        config,
    } = BankingDesk::start(tickets, "backlog").await;

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
            audited
                .iter()
                .any(|l| l["ticket"].as_str().and_then(|t| t.parse().ok()) == Some(id)),
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
