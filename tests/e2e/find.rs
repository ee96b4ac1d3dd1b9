//! `otai tickets find` page by page (plugin API 1.3 `find_tickets_page`): the real binary, the
//! real Zendesk plugin and the Zendesk simulator. Without `--limit` the whole backlog arrives in
//! search-export pages of 100, never as one answer held at once; `--limit` ends the paging.

use std::collections::BTreeSet;

use otai_zendesk_sim::{Fault, FaultRule, Faults, Simulator, DEFAULT_EMAIL, DEFAULT_TOKEN};
use serde_json::{json, Value};

use crate::support;

const NEW: u64 = 250;

fn ids(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .map(|line| {
            let t: Value = serde_json::from_str(line).expect("one JSON ticket a line");
            t["id"].as_str().unwrap().parse().unwrap()
        })
        .collect()
}

fn tickets() -> Vec<Value> {
    let mut tickets: Vec<Value> = (1..=NEW)
        .map(|id| json!({"id": id, "description": format!("Request {id}"), "status": "new"}))
        .collect();
    tickets.extend((NEW + 1..=NEW + 5).map(|id| json!({"id": id, "status": "solved"})));
    tickets
}

fn write_config(dir: &std::path::Path, base_url: &str) -> std::path::PathBuf {
    let config = dir.join("otai.yml");
    std::fs::write(
        &config,
        format!(
            "ticket_systems:\n  zendesk:\n    use: otai_zendesk:ZendeskTicketsystemService\n    \
             params: {{base_url: \"{base_url}\", email: \"{DEFAULT_EMAIL}\", api_token: \"{DEFAULT_TOKEN}\"}}\n"
        ),
    )
    .unwrap();
    config
}

#[tokio::test]
async fn tickets_find_streams_a_large_backlog_in_pages_and_stops_at_the_limit() {
    let sim = Simulator::builder()
        .groups(&["Inbox"])
        .tickets(tickets())
        .start()
        .await
        .expect("the simulator starts");
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let cwd = tempfile::tempdir().unwrap();
    let config = write_config(cwd.path(), sim.base_url());
    let find = |args: &'static [&'static str]| {
        let (config, plugins, cwd) = (
            config.clone(),
            plugins.path().to_path_buf(),
            cwd.path().to_path_buf(),
        );
        tokio::task::spawn_blocking(move || support::run_otai(&cwd, &config, &plugins, args))
    };

    let before = sim.stats().requests;
    let (all, _) = find(&["tickets", "find", "zendesk", "--status", "new"])
        .await
        .unwrap();
    let found = ids(&all);
    assert_eq!(found.len() as u64, NEW, "every new ticket, no solved one");
    assert_eq!(
        found.iter().copied().collect::<BTreeSet<_>>().len() as u64,
        NEW,
        "each once"
    );
    assert_eq!(
        sim.stats().requests - before,
        3,
        "three search-export pages of 100 (250 tickets), nothing else"
    );

    let before = sim.stats().requests;
    let (some, _) = find(&[
        "tickets", "find", "zendesk", "--status", "new", "--limit", "120",
    ])
    .await
    .unwrap();
    assert_eq!(ids(&some), found[..120], "the first 120, in the same order");
    assert_eq!(
        sim.stats().requests - before,
        2,
        "the limit ends the paging after the page that reached it"
    );
}

/// The pages are printed as they arrive: when the third page is refused, the first two pages'
/// 200 tickets are already out, and otai says which page failed (the whole answer held back until
/// the end would print nothing).
#[tokio::test]
async fn tickets_find_prints_each_page_before_the_next_is_read() {
    let export = "/api/v2/search/export";
    let sim = Simulator::builder()
        .groups(&["Inbox"])
        .tickets(tickets())
        .faults(Faults {
            rules: vec![
                FaultRule::always(Fault::Delay { ms: 0 })
                    .path(export)
                    .next(2),
                FaultRule::always(Fault::Error {
                    status: 400,
                    retry_after: None,
                })
                .path(export)
                .next(1),
            ],
            ..Faults::default()
        })
        .start()
        .await
        .expect("the simulator starts");
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let cwd = tempfile::tempdir().unwrap();
    let config = write_config(cwd.path(), sim.base_url());
    let output = tokio::task::spawn_blocking({
        let (cwd, plugins) = (cwd.path().to_path_buf(), plugins.path().to_path_buf());
        move || {
            support::otai_command(
                &cwd,
                &config,
                &plugins,
                &["tickets", "find", "zendesk", "--status", "new"],
            )
            .output()
            .expect("run otai")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert_eq!(ids(&stdout), (1..=200).collect::<Vec<u64>>(), "{stderr}");
    assert!(stderr.contains("page 3 of the search"), "{stderr}");
}
