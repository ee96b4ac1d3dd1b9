//! `otai train --system zammad`: closed tickets pulled from the Zammad simulator through the real
//! plugin's export (pages by `updated_at`, ties by id), an interrupted pull resumed from its
//! cursor, merged tickets skipped, and a model folder that opens.

use std::path::Path;

use otai_zammad_sim::{Fault, FaultRule, Faults, Simulator};
use serde_json::{json, Value};

use crate::{
    history::{assert_trained, queries, train_from_system, urgent, QUEUES},
    support,
};

const PAGE: usize = 50;
const MERGED: usize = 3;

/// Closed BANKING77 tickets in their queues' groups (every third one `3 high`), some merged, some
/// still open.
fn history() -> Vec<Value> {
    let mut tickets: Vec<Value> = queries("train", 60)
        .into_iter()
        .enumerate()
        .map(|(i, (text, queue))| {
            let group = QUEUES.iter().find(|q| q.0 == queue).unwrap().1;
            let (high, text) = urgent(i, &text);
            let priority = if high { "3 high" } else { "2 normal" };
            json!({"title": format!("History {i}"), "body": text, "state": "closed",
                   "group": group, "priority": priority})
        })
        .collect();
    for i in 0..MERGED {
        tickets.push(
            json!({"title": format!("Duplicate {i}"), "body": "dup", "state": "merged",
                            "group": QUEUES[0].1, "priority": "2 normal"}),
        );
    }
    for i in 0..4 {
        tickets.push(
            json!({"title": format!("Open {i}"), "body": "still open", "state": "open",
                            "group": QUEUES[0].1}),
        );
    }
    tickets
}

fn train(dir: &Path, plugins: &Path, out: &str) -> (bool, String, String) {
    train_from_system(dir, plugins, "zammad", out, 5)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn train_from_zammad_history_resumes_skips_merged_and_writes_a_model() {
    let tickets = history();
    let closed = tickets.len() - 4;
    let groups: Vec<&str> = QUEUES.iter().map(|q| q.1).collect();
    let search = "/api/v1/tickets/search";
    let sim = Simulator::builder()
        .groups(&groups)
        .tickets(tickets)
        .faults(Faults {
            // Page 1 passes (a no-op delay, spent after one request); page 2's connection drops.
            rules: vec![
                FaultRule::always(Fault::Delay { ms: 0 })
                    .path(search)
                    .next(1),
                FaultRule::always(Fault::Drop).path(search).next(1),
            ],
            ..Faults::none()
        })
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "ticket_systems:\n  zammad:\n    use: otai_zammad:ZammadTicketsystemService\n    params:\n      \
         base_url: {}\n      http_token: sim-token\n      page_size: {PAGE}\n      max_attempts: 1\n\
         pipelines: {{}}\n",
        sim.base_url()
    );
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let plugins = support::plugins_dir(&[support::ZAMMAD]);
    let (d, p) = (dir.path().to_path_buf(), plugins.path().to_path_buf());
    let run = |out: &'static str| {
        let (d, p) = (d.clone(), p.clone());
        tokio::task::spawn_blocking(move || train(&d, &p, out))
    };

    // 1. Interrupted on page 2: nothing written, the cursor after page 1 kept.
    let (ok, stdout, stderr) = run("models/first").await.unwrap();
    assert!(!ok, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("pulled {PAGE} tickets (page 1)")),
        "{stderr}"
    );
    assert!(!d.join("models/first").exists());

    // 2. Resumed: page 1 is not pulled again; every closed ticket arrives once.
    let (ok, stdout, stderr) = run("models/zammad-v1").await.unwrap();
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stderr.contains("(page 2, resumed)"), "{stderr}");
    assert!(!stderr.contains("(page 1"), "{stderr}");
    assert_trained(&d, "models/zammad-v1", &stdout, "zammad", closed, MERGED);
    sim.shutdown().await;
}
