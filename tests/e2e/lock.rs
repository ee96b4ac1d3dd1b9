//! One writing `otai run` per pipeline: while one runs (the real binary against the Zendesk simulator),
//! a second exits non-zero naming the first's process, and a second with `--wait-lock` waits for the
//! first to stop, then runs.

use std::{
    process::{Child, Command},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::support::{otai_command, BankingDesk};

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_of_a_pipeline_is_refused_naming_the_first_or_waits_for_it() {
    let ticket =
        json!({"id": 9001, "subject": "Card", "description": "I lost my card", "status": "new"});
    let BankingDesk {
        sim,
        plugins,
        cwd,
        config,
    } = BankingDesk::start(vec![ticket], "locked").await;
    let lock = cwd.path().join(".otai/state/locked.lock");
    let (dir, cfg, plug) = (
        cwd.path().to_path_buf(),
        config.clone(),
        plugins.path().to_path_buf(),
    );

    let outcome = tokio::task::spawn_blocking(move || {
        let first = otai_command(&dir, &cfg, &plug, &["run"]).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(&lock)
            .unwrap_or_default()
            .contains(&first.id().to_string())
        {
            assert!(
                Instant::now() < deadline,
                "the first run never took its lock"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let refused = otai_command(&dir, &cfg, &plug, &["run", "--once"])
            .output()
            .unwrap();
        let dry = otai_command(&dir, &cfg, &plug, &["run", "--once", "--dry-run"])
            .output()
            .unwrap();
        let waiting = otai_command(&dir, &cfg, &plug, &["run", "--once", "--wait-lock"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        let still_waiting = std::fs::read_to_string(&lock)
            .unwrap()
            .contains(&first.id().to_string());
        terminate(&first);
        let first = first.wait_with_output().unwrap();
        let waited = waiting.wait_with_output().unwrap();
        (first, refused, dry, still_waiting, waited)
    })
    .await
    .unwrap();
    let (first, refused, dry, still_waiting, waited) = outcome;

    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let first_pid_line = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(!refused.status.success(), "the second run must not start");
    assert!(
        first_pid_line.contains("pipeline `locked` is already running: otai process"),
        "{first_pid_line}"
    );
    assert!(first_pid_line.contains("--wait-lock"), "{first_pid_line}");
    assert!(
        dry.status.success(),
        "a dry run takes no lock: {}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        still_waiting,
        "the waiting run did not take the lock while the first held it"
    );
    assert!(
        waited.status.success(),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    assert_eq!(sim.write_count(9001), 1, "written once, by the first run");
    sim.shutdown().await;
}
