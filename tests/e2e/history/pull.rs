//! `otai train --system`: the history pulled from the Zendesk simulator through the real plugin's
//! export, labelled, skipped and folded with counts, trained into a versioned model folder that
//! `Classifier::load` opens; and an interrupted pull resumed from its cursor.

use std::path::Path;

use otai::classifier::{Classifier, ClassifierOptions};
use otai_zendesk_sim::{Fault, FaultRule, Faults, Simulator, DEFAULT_EMAIL, DEFAULT_TOKEN};
use serde_json::{json, Value};

use super::{queries, urgent, FIRST_GROUP_ID, QUEUES};
use crate::support;

const PAGE: usize = 100;
/// A group that exists but has too few tickets: folded into the fallback.
const RARE_GROUP: u64 = FIRST_GROUP_ID + 50;
/// A group that was deleted: not among the current groups.
const GONE_GROUP: u64 = FIRST_GROUP_ID + 99;

/// ~300 solved/closed BANKING77 tickets in their queues' groups, plus 5 deleted, 4 merged, 3
/// empty, 6 in a group that no longer exists, 7 still open and 4 in a rare group.
pub(super) fn history() -> Vec<Value> {
    let mut tickets = Vec::new();
    let mut id = 70_000u64;
    let mut push = |t: Value| {
        let mut t = t;
        t["id"] = json!(id);
        id += 1;
        tickets.push(t);
    };
    for (i, (text, queue)) in queries("train", 33).into_iter().enumerate() {
        let group = FIRST_GROUP_ID + QUEUES.iter().position(|q| q.0 == queue).unwrap() as u64;
        let (high, text) = urgent(i, &text);
        let priority = if high { "high" } else { "normal" };
        let status = if i % 2 == 0 { "solved" } else { "closed" };
        push(
            json!({"description": text, "status": status, "group_id": group, "priority": priority}),
        );
    }
    for _ in 0..5 {
        push(json!({"description": "gone", "status": "deleted", "group_id": FIRST_GROUP_ID}));
    }
    for _ in 0..4 {
        push(
            json!({"description": "dup", "status": "closed", "group_id": FIRST_GROUP_ID,
                    "tags": ["closed_by_merge"], "priority": "normal"}),
        );
    }
    for _ in 0..3 {
        push(
            json!({"description": "", "status": "solved", "group_id": FIRST_GROUP_ID, "priority": "normal"}),
        );
    }
    for _ in 0..6 {
        push(
            json!({"description": "old team", "status": "solved", "group_id": GONE_GROUP, "priority": "normal"}),
        );
    }
    for _ in 0..7 {
        push(json!({"description": "still open", "status": "open", "group_id": FIRST_GROUP_ID}));
    }
    for _ in 0..4 {
        push(
            json!({"description": "a rare kind of question", "status": "solved",
                    "group_id": RARE_GROUP, "priority": "normal"}),
        );
    }
    tickets
}

/// The queues' groups, the rare one and a deleted one.
pub(super) fn groups() -> Vec<Value> {
    let mut groups: Vec<Value> = QUEUES
        .iter()
        .enumerate()
        .map(|(i, q)| json!({"id": FIRST_GROUP_ID + i as u64, "name": q.1}))
        .collect();
    groups.push(json!({"id": RARE_GROUP, "name": "Rare"}));
    groups.push(json!({"id": GONE_GROUP, "name": "Old team", "deleted": true}));
    groups
}

pub(super) fn config(base_url: &str) -> String {
    format!(
        r#"
ticket_systems:
  zendesk:
    use: otai_zendesk:ZendeskTicketsystemService
    call_timeout: 60
    params:
      base_url: {base_url}
      email: {DEFAULT_EMAIL}
      api_token: {DEFAULT_TOKEN}
      export_min_interval: 0
      export_page_size: {PAGE}
      max_attempts: 1
pipelines: {{}}
"#
    )
}

/// `otai train --system zendesk ...` in `dir`; (success, stdout, stderr).
fn train(dir: &Path, plugins: &Path, out: &str) -> (bool, String, String) {
    super::train_from_system(dir, plugins, "zendesk", out, 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn train_from_history_skips_folds_resumes_and_writes_a_versioned_model() {
    let tickets = history();
    let total = tickets.len();
    let pages = total.div_ceil(PAGE);
    assert!(pages >= 3, "{total} tickets");
    // Page 1 passes (a no-op delay, spent after one request); page 2's connection is dropped.
    let incremental = "/api/v2/incremental/tickets/cursor";
    let sim = Simulator::builder()
        .group_objects(groups())
        .tickets(tickets)
        .rate_limit_per_minute(100_000)
        .faults(Faults {
            rules: vec![
                FaultRule::always(Fault::Delay { ms: 0 })
                    .path(incremental)
                    .next(1),
                FaultRule::always(Fault::Drop).path(incremental).next(1),
            ],
            ..Faults::default()
        })
        .start()
        .await
        .expect("the simulator starts");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.yml"), config(sim.base_url())).unwrap();
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let (d, p) = (dir.path().to_path_buf(), plugins.path().to_path_buf());

    // 1. Interrupted on page 2: nothing written, the cursor after page 1 kept.
    let (ok, stdout, stderr) = {
        let (d, p) = (d.clone(), p.clone());
        tokio::task::spawn_blocking(move || train(&d, &p, "models/first"))
            .await
            .unwrap()
    };
    assert!(!ok, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("pulled {PAGE} tickets (page 1)")),
        "{stderr}"
    );
    assert!(stderr.contains("run the same command again"), "{stderr}");
    assert!(!d.join("models/first").exists());
    let cursor: Value = serde_json::from_str(
        &std::fs::read_to_string(d.join(".otai/history/zendesk.cursor")).unwrap(),
    )
    .unwrap();
    assert_eq!(cursor["pages"], 1);
    let before = sim.stats().requests;

    // 2. The rerun continues from the cursor: page 1 is not asked for again.
    let (ok, stdout, stderr) = {
        let (d, p) = (d.clone(), p.clone());
        tokio::task::spawn_blocking(move || train(&d, &p, "models/zendesk-v1"))
            .await
            .unwrap()
    };
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stderr.contains("(page 2, resumed)"), "{stderr}");
    assert!(
        stderr.contains(&format!("(page {pages}, resumed)")),
        "{stderr}"
    );
    assert!(!stderr.contains("(page 1"), "{stderr}");
    // One group list, then pages 2..=pages.
    assert_eq!(sim.stats().requests - before, 1 + (pages as u64 - 1));

    // Skip counts and folded classes.
    assert!(
        stdout.contains(&format!("{total} tickets in the history")),
        "{stdout}"
    );
    for line in [
        "skipped      5: deleted",
        "skipped      4: merged into another ticket",
        "skipped      7: not solved or closed",
        "skipped      3: no subject and no text",
        "skipped      6: queue no longer exists",
        "folded `queue` = Rare (4 examples, fewer than 10) into Unclassified",
        "model: models/zendesk-v1",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}");
    }

    // The model folder opens, and its summary says where it came from.
    let folder = d.join("models/zendesk-v1");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("training.json")).unwrap())
            .unwrap();
    let classifier =
        Classifier::load(&folder, &ClassifierOptions::default()).expect("the model loads");
    drop(classifier);
    let h = &summary["history"];
    assert_eq!(h["system"], "zendesk");
    assert_eq!(h["since"], "3650d");
    assert_eq!(h["skipped"]["deleted"], 5);
    assert_eq!(h["skipped"]["unknown_queue"], 6);
    assert_eq!(h["folded"][0]["label"], "Rare");
    assert_eq!(h["label_maps"]["queue"]["Unclassified"], 4);

    // 3. Never into an existing folder.
    let (ok, _, stderr) = {
        let (d, p) = (d.clone(), p.clone());
        tokio::task::spawn_blocking(move || train(&d, &p, "models/zendesk-v1"))
            .await
            .unwrap()
    };
    assert!(!ok);
    assert!(stderr.contains("already exists"), "{stderr}");
}
