//! `otai train --system otobo`: closed tickets pulled from the OTOBO simulator through the real
//! plugin's export, merged ones skipped, and a model folder that opens.

use std::path::Path;

use otai_otobo_sim::Simulator;
use serde_json::{json, Value};

use crate::{
    history::{assert_trained, queries, train_from_system, urgent, QUEUES},
    support,
};

const MERGED: usize = 3;

fn history() -> Vec<Value> {
    let mut tickets: Vec<Value> = queries("train", 60)
        .into_iter()
        .enumerate()
        .map(|(i, (text, label))| {
            let queue = QUEUES.iter().find(|q| q.0 == label).unwrap().1;
            let (high, text) = urgent(i, &text);
            let priority = if high { "4 high" } else { "3 normal" };
            let state = if i % 2 == 0 { "closed successful" } else { "closed unsuccessful" };
            json!({"Title": format!("History {i}"), "Body": text, "State": state, "Queue": queue, "Priority": priority})
        })
        .collect();
    for i in 0..MERGED {
        tickets.push(json!({"Title": format!("Duplicate {i}"), "Body": "dup", "State": "merged", "Queue": QUEUES[0].1, "Priority": "3 normal"}));
    }
    for i in 0..4 {
        tickets.push(json!({"Title": format!("Open {i}"), "Body": "still open", "State": "open", "Queue": QUEUES[0].1, "Priority": "3 normal"}));
    }
    tickets
}

fn train(dir: &Path, plugins: &Path, out: &str) -> (bool, String, String) {
    train_from_system(dir, plugins, "otobo", out, 5)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn train_from_otobo_history_skips_merged_and_writes_a_model() {
    let tickets = history();
    let closed = tickets.len() - 4;
    let queues: Vec<&str> = QUEUES.iter().map(|q| q.1).collect();
    let sim = Simulator::builder()
        .queues(&queues)
        .multiselect_field("OTAITags")
        .tickets(tickets)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "ticket_systems:\n  otobo:\n    use: otai_otobo_znuny:OTOBOZnunyTicketSystemService\n    params:\n      \
         base_url: {}\n      username: otai-agent\n      password: secret\n      search_limit: 50\n\
         pipelines: {{}}\n",
        sim.base_url()
    );
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let plugins = support::plugins_dir(&[support::OTOBO]);
    let (d, p) = (dir.path().to_path_buf(), plugins.path().to_path_buf());
    let (ok, stdout, stderr) = tokio::task::spawn_blocking({
        let (d, p) = (d.clone(), p.clone());
        move || train(&d, &p, "models/otobo-v1")
    })
    .await
    .unwrap();
    assert!(ok, "{stdout}\n{stderr}");
    assert_trained(&d, "models/otobo-v1", &stdout, "otobo", closed, MERGED);
    sim.shutdown().await;
}
