//! `otai train --system zendesk --promote models/zendesk`: the scheduled retraining. The history
//! is the pull test's (~300 solved BANKING77 tickets in the Zendesk simulator, through the real
//! plugin); the model in use at first is deliberately wrong (every queue shifted by one), so the
//! candidate must beat it; a candidate that drops a field the model in use routes must not be
//! promoted; and any verdict must agree with the link, the folders and the log.

use std::path::{Path, PathBuf};

use otai::classifier::{Classifier, ClassifierOptions};
use otai_zendesk_sim::Simulator;
use serde_json::{json, Value};

use super::pull::{config, groups, history};
use super::{queries, urgent, FIRST_GROUP_ID, QUEUES};
use crate::support;

/// `otai train --system zendesk --since 3650d --fields FIELDS --min-examples 10 --promote
/// models/zendesk` in `dir`; (success, stdout, stderr).
fn train_promoting(dir: &Path, plugins: &Path, fields: &str) -> (bool, String, String) {
    let args = ["--fields", fields, "--min-examples", "10"];
    super::train_with(
        dir,
        plugins,
        "zendesk",
        &[&args[..], &["--promote", "models/zendesk"]].concat(),
    )
}

/// A model whose every queue is the next one's: wrong on every ticket it routes.
fn train_shifted_model(dir: &Path, out: &str) {
    let mut csv = String::from("text,queue,priority\n");
    for (i, (text, queue)) in queries("test", 40).into_iter().enumerate() {
        let position = QUEUES.iter().position(|q| q.0 == queue).unwrap();
        let wrong = QUEUES[(position + 1) % QUEUES.len()].1;
        let priority = if i % 2 == 0 { "high" } else { "normal" };
        csv.push_str(&format!(
            "\"{}\",{wrong},{priority}\n",
            text.replace('"', "\"\"")
        ));
    }
    std::fs::write(dir.join("shifted.csv"), csv).unwrap();
    support::train_from_data(dir, Path::new("shifted.csv"), Path::new(out), &[]);
}

/// The comparisons logged so far.
fn log_lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("models/zendesk.promotions.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The folder the link points to (its target as written: relative, beside the link).
fn in_use(dir: &Path) -> PathBuf {
    std::fs::read_link(dir.join("models/zendesk")).expect("models/zendesk is a link")
}

fn candidate_folders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("zendesk-"))
        .collect();
    names.sort();
    names
}

fn field<'a>(line: &'a Value, name: &str) -> &'a Value {
    line["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == name)
        .unwrap_or_else(|| panic!("no `{name}` in {line}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_training_promotes_only_a_model_that_beats_the_one_in_use() {
    let sim = Simulator::builder()
        .group_objects(groups())
        .tickets(history())
        .rate_limit_per_minute(100_000)
        .start()
        .await
        .expect("the simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    std::fs::write(d.join("config.yml"), config(sim.base_url())).unwrap();
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let p = plugins.path().to_path_buf();
    let run = |fields: &'static str| {
        let (d, p) = (d.clone(), p.clone());
        tokio::task::spawn_blocking(move || train_promoting(&d, &p, fields))
    };

    // A real folder where the link should be is refused and left alone.
    std::fs::create_dir_all(d.join("models/zendesk")).unwrap();
    let (ok, _, stderr) = run("queue,priority").await.unwrap();
    assert!(!ok);
    assert!(
        stderr.contains("models/zendesk: it is a folder, not a symbolic link"),
        "{stderr}"
    );
    std::fs::remove_dir(d.join("models/zendesk")).unwrap();

    // In use: the shifted model, through the link the pipelines would name.
    train_shifted_model(&d, "models/shifted");
    std::os::unix::fs::symlink("shifted", d.join("models/zendesk")).unwrap();

    // 1. The candidate beats it on both fields: written, the link repointed, the old folder kept.
    let (ok, stdout, stderr) = run("queue,priority").await.unwrap();
    assert!(ok, "{stdout}\n{stderr}");
    println!("{stdout}");
    assert!(
        stdout.contains("Promoted: mean held-out accuracy"),
        "{stdout}"
    );
    let first = in_use(&d);
    let first_name = first.to_string_lossy().into_owned();
    assert!(first_name.starts_with("zendesk-"), "{first_name}");
    assert_eq!(candidate_folders(&d), std::slice::from_ref(&first_name));
    assert!(d.join("models/shifted/otai-model.json").is_file(), "kept");
    Classifier::load(&d.join("models/zendesk"), &ClassifierOptions::default())
        .expect("the promoted model loads through the link");
    let log = log_lines(&d);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["promoted"], true);
    assert!(log[0]["in_use"]
        .as_str()
        .unwrap()
        .ends_with("models/shifted"));
    assert!(log[0]["candidate"].as_str().unwrap().ends_with(&first_name));
    let caveat = log[0]["scored_on"]["caveat"].as_str().unwrap_or_default();
    assert!(
        caveat.contains("not trained from a help desk's history"),
        "the shifted model was trained from a file, so every held-out ticket counts: {}",
        log[0]
    );
    assert!(stdout.contains("on all"), "{stdout}");
    let queue = field(&log[0], "queue");
    assert!(queue["examples"].as_u64().unwrap() >= 20, "{queue}");
    assert!(
        queue["in_use"].as_f64().unwrap() < 0.2 && queue["candidate"].as_f64().unwrap() > 0.4,
        "the shifted model is wrong on the queue, the candidate far better: {queue}"
    );

    // 2. A candidate for the queue alone would drop the priority the model in use routes.
    let (ok, stdout, stderr) = run("queue").await.unwrap();
    assert!(ok, "not promoted is not a failure: {stdout}\n{stderr}");
    assert!(
        stdout.contains("Not promoted: the model in use also routes priority"),
        "{stdout}"
    );
    assert!(stdout.contains("The model in use stays"), "{stdout}");
    assert_eq!(in_use(&d), first, "the link is unchanged");
    assert_eq!(
        candidate_folders(&d),
        std::slice::from_ref(&first_name),
        "nothing written"
    );
    let log = log_lines(&d);
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["promoted"], false);
    assert_eq!(log[1]["missing"], json!(["priority"]));

    // 3. Against the model just promoted (trained on these very tickets), whatever the verdict,
    //    the link, the folders and the log agree with it and with the rule's figures.
    let (ok, stdout, stderr) = run("queue,priority").await.unwrap();
    assert!(ok, "{stdout}\n{stderr}");
    let log = log_lines(&d);
    assert_eq!(log.len(), 3);
    let third = &log[2];
    assert!(third["in_use"].as_str().unwrap().ends_with(&first_name));
    // The model in use pulled after every ticket was created: none is unseen, so all count.
    let caveat = third["scored_on"]["caveat"].as_str().unwrap_or_default();
    assert!(
        caveat.starts_with("only 0 of the ") && caveat.contains("fewer than 20"),
        "{third}"
    );
    let promoted = follows_the_rule(third);
    let folders = candidate_folders(&d);
    if promoted {
        assert_ne!(in_use(&d), first);
        assert_eq!(folders.len(), 2, "{folders:?}");
        assert!(stdout.contains("Promoted:"), "{stdout}");
    } else {
        assert_eq!(in_use(&d), first);
        assert_eq!(folders, [first_name], "the candidate was not written");
        assert!(stdout.contains("Not promoted:"), "{stdout}");
    }

    // 4. Newer tickets arrive after that pull: now the comparison scores only those, which the
    //    model in use cannot have learned from.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    sim.add_tickets(newer_tickets(40)).unwrap();
    let in_use_now = d.join("models").join(in_use(&d));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(in_use_now.join("training.json")).unwrap())
            .unwrap();
    let (ok, stdout, stderr) = run("queue,priority").await.unwrap();
    assert!(ok, "{stdout}\n{stderr}");
    println!("{stdout}");
    let log = log_lines(&d);
    assert_eq!(log.len(), 4);
    let fourth = &log[3];
    assert_eq!(
        fourth["scored_on"]["created_after"], summary["history"]["pulled_at"],
        "{fourth}"
    );
    assert!(fourth["scored_on"].get("caveat").is_none(), "{fourth}");
    let scored = fourth["scored_on"]["tickets"].as_u64().unwrap();
    assert!(
        (20..=40).contains(&scored) && scored <= fourth["held_out"].as_u64().unwrap(),
        "only the new tickets, at least 20 of them: {fourth}"
    );
    assert_eq!(field(fourth, "queue")["examples"].as_u64(), Some(scored));
    assert!(
        stdout.contains(&format!(
            "on the {scored} held-out tickets created after its history pull"
        )),
        "{stdout}"
    );
    follows_the_rule(fourth);
    sim.shutdown().await;
}

/// Asserts that a logged verdict follows the promotion rule's figures; returns whether it promoted.
fn follows_the_rule(line: &Value) -> bool {
    let promoted = line["promoted"].as_bool().unwrap();
    let fields = line["fields"].as_array().unwrap();
    let mean = |key: &str| {
        fields.iter().map(|f| f[key].as_f64().unwrap()).sum::<f64>() / fields.len() as f64
    };
    assert_eq!(
        promoted,
        mean("candidate") > mean("in_use")
            && fields.iter().all(|f| {
                f["candidate"].as_f64().unwrap() >= f["in_use"].as_f64().unwrap() - 0.02
            }),
        "the verdict follows the rule: {line}"
    );
    promoted
}

/// `n` solved tickets from BANKING77's test split, in their queues' groups, created now.
fn newer_tickets(n: usize) -> Vec<Value> {
    queries("test", 37)
        .into_iter()
        .take(n)
        .enumerate()
        .map(|(i, (text, queue))| {
            let group = FIRST_GROUP_ID + QUEUES.iter().position(|q| q.0 == queue).unwrap() as u64;
            let (high, text) = urgent(i, &text);
            json!({"id": 80_000 + i, "description": text, "status": "solved", "group_id": group,
                   "priority": if high { "high" } else { "normal" }})
        })
        .collect()
}
