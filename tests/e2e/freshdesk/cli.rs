//! The `otai` binary with the Freshdesk plugin: `check --connect`, `tickets find/get/update`,
//! `run --once --dry-run` and `--shadow` (nothing written), then `run --once`; and the shipped
//! Freshdesk configs passing `otai check` through the real plugin.

use otai_freshdesk_sim::Plan;
use serde_json::Value;

use super::desk::{config_yaml, count, otai_notes, sim_builder, standard_tickets, Check, Fate};
use crate::{
    desks::{assert_configs_pass_check, assert_refused_credentials, otai_runner},
    support,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_works_through_the_freshdesk_plugin() {
    let sim = sim_builder(standard_tickets(), Plan::Enterprise)
        .start()
        .await
        .unwrap();
    let check = Check::before(&sim);
    let plugins = support::plugins_dir(&[support::FRESHDESK]);
    let cwd = tempfile::tempdir().unwrap();
    let config = cwd.path().join("freshdesk.yml");
    std::fs::write(&config, config_yaml(&sim.base_url(), 3, None, "")).unwrap();
    let bad = cwd.path().join("bad.yml");
    std::fs::write(
        &bad,
        config_yaml(&sim.base_url(), 3, None, "")
            .replace("api_key: sim-api-key", "api_key: wrong-key"),
    )
    .unwrap();
    let otai = otai_runner(cwd.path(), &config, plugins.path());

    let (connected, _) = otai(&["check", "--connect"]).await.unwrap();
    assert!(
        connected.contains("on http://127.0.0.1:")
            && connected.contains("rate budget: 350 credits a minute"),
        "{connected}"
    );
    let (found, _) = otai(&["tickets", "find", "freshdesk", "--status", "new"])
        .await
        .unwrap();
    let found: Vec<Value> = found
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        found.len(),
        check.ids.len() - check.routed_by_hand.len(),
        "only otai's new tickets"
    );

    let (dry, _) = otai(&["run", "--once", "--dry-run"]).await.unwrap();
    assert!(dry.contains("pipeline drill: fetched 10,"), "{dry}");
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
    assert_eq!(
        (count(&fates, Fate::Written), count(&fates, Fate::Untouched)),
        (10, 2)
    );

    let id = found[0]["id"].as_str().unwrap().to_string();
    let (got, _) = otai(&["tickets", "get", "freshdesk", &id]).await.unwrap();
    let got: Value = serde_json::from_str(got.trim()).unwrap();
    assert!(
        got["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "otai_processed"),
        "{got}"
    );
    let update = [
        "tickets",
        "update",
        "freshdesk",
        &id,
        "--queue",
        "Billing",
        "--priority",
        "high",
        "--note",
        "Looked at by hand.",
    ];
    let (updated, _) = otai(&update).await.unwrap();
    let updated: Value = serde_json::from_str(updated.trim()).unwrap();
    assert_eq!(updated["queue"]["name"], "Billing");
    assert_eq!(updated["priority"], "high");
    let notes = sim.conversations(id.parse().unwrap());
    assert_eq!(notes.len(), 2, "otai's note and the manual one: {notes:?}");
    assert_eq!(
        otai_notes(&sim, id.parse().unwrap()).len(),
        2,
        "each with its plan line"
    );

    // A wrong key is a clear error naming what to check, never the key.
    assert_refused_credentials(
        cwd.path(),
        &bad,
        plugins.path(),
        &["invalid_credentials", "`api_key`"],
        "wrong-key",
    );
    sim.shutdown().await;
}

#[test]
fn the_shipped_freshdesk_configs_pass_otai_check_through_the_real_plugin() {
    assert_configs_pass_check(
        support::FRESHDESK,
        &["config/freshdesk.example.yml", "config/demo-freshdesk.yml"],
        &[
            ("FRESHDESK_API_KEY", "a-key"),
            ("OTAI_DEMO_FRESHDESK_URL", "http://127.0.0.1:9"),
        ],
    );
}
