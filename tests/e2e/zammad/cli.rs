//! The `otai` binary with the Zammad plugin: `check --connect`, `tickets find/get/update/note`,
//! `run --once --dry-run` and `--shadow` (nothing written), then `run --once`.

use serde_json::Value;

use super::desk::{
    all_ids, config_yaml, count, sim_builder, standard_tickets, Check, Fate, INBOX, MARKER,
};
use crate::{
    desks::{assert_configs_pass_check, assert_refused_credentials, otai_runner},
    support,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_works_through_the_zammad_plugin() {
    let sim = sim_builder(standard_tickets()).start().await.unwrap();
    let ids = all_ids(&sim);
    let check = Check::before(&sim, ids.clone());
    let plugins = support::plugins_dir(&[support::ZAMMAD]);
    let cwd = tempfile::tempdir().unwrap();
    let config = cwd.path().join("zammad.yml");
    std::fs::write(&config, config_yaml(&sim.base_url(), 3, None)).unwrap();
    let bad = cwd.path().join("bad.yml");
    let otai = otai_runner(cwd.path(), &config, plugins.path());

    let (connected, _) = otai(&["check", "--connect"]).await.unwrap();
    assert!(connected.contains("on http://127.0.0.1:"), "{connected}");
    assert!(connected.contains("urgent → 3 high"), "{connected}");

    let (found, _) = otai(&["tickets", "find", "zammad", "--status", "new"])
        .await
        .unwrap();
    let found: Vec<Value> = found
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), ids.len(), "every new ticket, inbox and routed");
    let html = found
        .iter()
        .find(|t| t["subject"] == "Request 3")
        .expect("the HTML ticket");
    assert_eq!(
        html["body"],
        format!("{}\n\nThanks!", super::desk::TEXTS[3]),
        "plain text from HTML"
    );

    let (dry, _) = otai(&["run", "--once", "--dry-run"]).await.unwrap();
    assert!(dry.contains("pipeline drill: fetched 12,"), "{dry}");
    let (shadow, _) = otai(&["run", "--once", "--shadow"]).await.unwrap();
    assert!(
        shadow.contains("shadow: recorded 10 new ticket(s)"),
        "{shadow}"
    );
    assert_eq!(
        sim.stats().writes,
        0,
        "dry runs and shadow runs write nothing"
    );

    let (ran, _) = otai(&["run", "--once"]).await.unwrap();
    assert!(ran.contains("written 10"), "{ran}");
    let fates = check.run(&sim);
    assert_eq!(count(&fates, Fate::Written), 10);
    assert_eq!(count(&fates, Fate::Routed), 2);

    // By hand: one ticket read, updated and noted.
    let id = ids[0].to_string();
    let (got, _) = otai(&["tickets", "get", "zammad", &id]).await.unwrap();
    let got: Value = serde_json::from_str(got.trim()).unwrap();
    assert_eq!(got["id"], id.as_str());
    assert!(got["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "otai_processed"));
    let update = [
        "tickets",
        "update",
        "zammad",
        &id,
        "--queue",
        INBOX,
        "--priority",
        "high",
        "--add-tag",
        "checked",
        "--note",
        "Looked at by hand.",
    ];
    let (updated, _) = otai(&update).await.unwrap();
    let updated: Value = serde_json::from_str(updated.trim()).unwrap();
    assert_eq!(updated["queue"]["name"], INBOX);
    assert_eq!(updated["priority"], "high");
    let notes = sim.articles(ids[0]);
    assert_eq!(
        notes.iter().filter(|a| a.body.contains(MARKER)).count(),
        2,
        "otai's note and the manual one"
    );
    assert!(notes.iter().all(|a| a.sender != "Customer" || !a.internal));

    // A wrong token is a clear error naming what to check.
    std::fs::write(
        &bad,
        config_yaml(&sim.base_url(), 3, None).replace("http_token: sim-token", "http_token: wrong"),
    )
    .unwrap();
    assert_refused_credentials(
        cwd.path(),
        &bad,
        plugins.path(),
        &["HTTP 401", "`http_token`"],
        "wrong\"",
    );
    sim.shutdown().await;
}

#[test]
fn the_shipped_zammad_configs_pass_otai_check_through_the_real_plugin() {
    assert_configs_pass_check(
        support::ZAMMAD,
        &["config/zammad.example.yml", "config/demo-zammad.yml"],
        &[
            ("ZAMMAD_TOKEN", "a-token"),
            ("OTAI_DEMO_ZAMMAD_URL", "http://127.0.0.1:9"),
        ],
    );
}
