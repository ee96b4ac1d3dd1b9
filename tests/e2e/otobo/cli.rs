//! The `otai` binary with the OTOBO plugin: `check --connect`, `tickets find/get/update`,
//! `run --once --dry-run` and `--shadow` (nothing written), then `run --once`; and the shipped
//! OTOBO configs passing `otai check` through the real plugin.

use serde_json::Value;

use super::desk::{config_yaml, count, otai_notes, sim_builder, standard_tickets, Check, Fate};
use crate::{
    desks::{assert_configs_pass_check, assert_refused_credentials, otai_runner},
    support,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_works_through_the_otobo_plugin() {
    let sim = sim_builder(standard_tickets()).start().await.unwrap();
    let check = Check::before(&sim);
    let plugins = support::plugins_dir(&[support::OTOBO]);
    let cwd = tempfile::tempdir().unwrap();
    let config = cwd.path().join("otobo.yml");
    std::fs::write(&config, config_yaml(&sim.base_url(), 3, None)).unwrap();
    let bad = cwd.path().join("bad.yml");
    std::fs::write(
        &bad,
        config_yaml(&sim.base_url(), 3, None).replace("password: secret", "password: wrong"),
    )
    .unwrap();
    let otai = otai_runner(cwd.path(), &config, plugins.path());

    let (connected, _) = otai(&["check", "--connect"]).await.unwrap();
    assert!(
        connected.contains("otai-agent on http://127.0.0.1:"),
        "{connected}"
    );
    let (found, _) = otai(&["tickets", "find", "otobo", "--status", "new"])
        .await
        .unwrap();
    let found: Vec<Value> = found
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), check.ids.len());

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
    assert_eq!(
        (count(&fates, Fate::Written), count(&fates, Fate::Routed)),
        (10, 2)
    );

    let id = check.ids.iter().next().unwrap().to_string();
    let (got, _) = otai(&["tickets", "get", "otobo", &id]).await.unwrap();
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
        "otobo",
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
    assert_eq!(
        otai_notes(&sim, id.parse().unwrap()).len(),
        2,
        "otai's note and the manual one"
    );

    // A wrong password is a clear error naming what to check, never the password.
    assert_refused_credentials(
        cwd.path(),
        &bad,
        plugins.path(),
        &["AuthFail", "`password`"],
        "wrong",
    );
    sim.shutdown().await;
}

#[test]
fn the_shipped_otobo_configs_pass_otai_check_through_the_real_plugin() {
    assert_configs_pass_check(
        support::OTOBO,
        &["config/otobo.example.yml", "config/demo-otobo.yml"],
        &[
            ("OTOBO_PASSWORD", "a-password"),
            (
                "OTAI_DEMO_OTOBO_URL",
                "http://127.0.0.1:9/otobo/nph-genericinterface.pl/Webservice/X",
            ),
        ],
    );
}
