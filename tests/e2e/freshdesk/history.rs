//! `otai train --system freshdesk`: resolved and closed tickets pulled from the Freshdesk
//! simulator through the real plugin's export, and a model folder that opens.

use otai_freshdesk_sim::Simulator;
use serde_json::{json, Value};

use crate::{
    history::{assert_trained, queries, train_from_system, urgent, QUEUES},
    support,
};

fn history() -> Vec<Value> {
    let mut tickets: Vec<Value> = queries("train", 60)
        .into_iter()
        .enumerate()
        .map(|(i, (text, queue))| {
            let group = QUEUES.iter().find(|q| q.0 == queue).unwrap().1;
            let (high, text) = urgent(i, &text);
            let priority = if high { 3 } else { 2 };
            let status = if i % 2 == 0 { 4 } else { 5 };
            json!({"subject": format!("History {i}"), "description": text, "status": status,
                   "group": group, "priority": priority,
                   "created_at": "2026-10-01T08:00:00Z", "updated_at": format!("2026-10-02T08:{:02}:00Z", i % 60)})
        })
        .collect();
    for i in 0..4 {
        tickets.push(
            json!({"subject": format!("Open {i}"), "description": "still open", "status": 2,
                            "group": QUEUES[0].1, "priority": 2}),
        );
    }
    tickets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn train_from_freshdesk_history_writes_a_model() {
    let tickets = history();
    let resolved = tickets.len() - 4;
    let groups: Vec<&str> = QUEUES.iter().map(|q| q.1).collect();
    let sim = Simulator::builder()
        .groups(&groups)
        .tickets(tickets)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "ticket_systems:\n  freshdesk:\n    use: otai_freshdesk:FreshdeskTicketsystemService\n    \
         params:\n      base_url: {}\n      api_key: sim-api-key\npipelines: {{}}\n",
        sim.base_url()
    );
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let plugins = support::plugins_dir(&[support::FRESHDESK]);
    let (d, p) = (dir.path().to_path_buf(), plugins.path().to_path_buf());
    let (ok, stdout, stderr) = tokio::task::spawn_blocking({
        let (d, p) = (d.clone(), p.clone());
        move || train_from_system(&d, &p, "freshdesk", "models/freshdesk-v1", 5)
    })
    .await
    .unwrap();
    assert!(ok, "{stdout}\n{stderr}");
    assert_trained(&d, "models/freshdesk-v1", &stdout, "freshdesk", resolved, 0);
    sim.shutdown().await;
}
