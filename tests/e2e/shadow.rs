//! Shadow mode end to end: `otai run --shadow --once` against the Zendesk simulator with the real
//! `libotai_zendesk.so` and the BANKING77 model writes nothing to the help desk and records every
//! ticket once; agents then route the tickets (through the real adapter, as a person would in
//! Zendesk), and `otai evaluate --shadow` reports how often otai would have agreed with them.

use std::{path::Path, process::Command};

use otai::{
    config::Config,
    pipeline::shadow,
    plugins::PluginRegistry,
    ticket::{Queue, TicketUpdate},
};
use serde_json::{json, Value};

use crate::support::{self, run_otai as otai, BankingDesk};

const TEXTS: &[&str] = support::REQUEST_TEXTS;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_run_writes_nothing_and_evaluate_reports_agreement_with_agents() {
    let tickets: Vec<Value> = TEXTS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"id": 5001 + i as u64, "subject": format!("Request {i}"), "description": text,
                   "status": "new", "requester": format!("customer{i}@example.com")})
        })
        .collect();
    let BankingDesk {
        sim,
        plugins,
        cwd,
        config: config_path,
    } = BankingDesk::start(tickets, "shadowed").await;
    let yaml = std::fs::read_to_string(&config_path).unwrap();
    let (config_path2, plugins_path) = (config_path.clone(), plugins.path().to_path_buf());
    let cwd_path = cwd.path().to_path_buf();
    let run = move || {
        otai(
            &cwd_path,
            &config_path2,
            &plugins_path,
            &["run", "--once", "--shadow"],
        )
    };

    // Two shadow runs: nothing written, each ticket recorded once.
    let (stdout, _) = tokio::task::spawn_blocking(run.clone()).await.unwrap();
    assert!(stdout.contains("dry run: nothing written"), "{stdout}");
    assert!(
        stdout.contains("shadow: recorded 6 new ticket(s) of pipeline shadowed"),
        "{stdout}"
    );
    let (stdout, _) = tokio::task::spawn_blocking(run).await.unwrap();
    assert!(
        stdout.contains("shadow: recorded 0 new ticket(s)"),
        "seen tickets are not recorded again: {stdout}"
    );
    assert_eq!(sim.stats().writes, 0, "a shadow run writes nothing");
    assert_eq!(sim.stats().jobs_submitted, 0);
    let file = cwd.path().join(".otai/shadow/shadowed.jsonl");
    let records = shadow::read_records(&file).unwrap();
    let mut ids: Vec<&str> = records.iter().map(|r| r.ticket.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["5001", "5002", "5003", "5004", "5005", "5006"]);
    for r in &records {
        assert_eq!(r.pipeline, "shadowed");
        let q = &r.fields[0];
        assert_eq!(q.field, "queue");
        assert!(
            q.predicted.is_some() && q.predicted_value.is_some(),
            "{r:?}"
        );
    }

    // Agents route five tickets (one of them somewhere otai would not have) and leave one alone.
    let config = Config::parse(&yaml, Path::new("shadow.yml"), &|_| Ok(None)).unwrap();
    let registry = PluginRegistry::load(plugins.path());
    let system = registry.ticket_system(&config, "zendesk").unwrap();
    let mut by_id: Vec<&shadow::ShadowRecord> = records.iter().collect();
    by_id.sort_by(|a, b| a.ticket.cmp(&b.ticket));
    for (i, r) in by_id.iter().enumerate().take(5) {
        let predicted = r.fields[0].predicted_value.as_ref().unwrap();
        let group = if i == 0 {
            "Billing".to_string()
        } else {
            predicted.as_str().unwrap().to_string()
        };
        let update = TicketUpdate {
            queue: Some(Queue {
                id: None,
                name: Some(group),
            }),
            status: Some("solved".into()),
            ..TicketUpdate::default()
        };
        system
            .update_ticket(&r.ticket, update)
            .await
            .expect("an agent routes the ticket");
    }

    let (stdout, _) = tokio::task::spawn_blocking({
        let (cwd, config, plugins) = (
            cwd.path().to_path_buf(),
            config_path.clone(),
            plugins.path().to_path_buf(),
        );
        let file = file.display().to_string();
        move || otai(&cwd, &config, &plugins, &["evaluate", "--shadow", &file])
    })
    .await
    .unwrap();
    println!("{stdout}");
    assert!(
        stdout.contains("6 recorded, 5 handled by agents and compared, 1 not handled yet"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Field `queue`: 5 examples, accuracy 80.0 %"),
        "{stdout}"
    );
    assert!(stdout.contains("Coverage / precision"), "{stdout}");
    // Queue has a fallback, so shadow mode would have written it on every compared ticket; the
    // agent's move to Billing is one of its corrections (fallbacks agents replaced are others).
    assert!(
        stdout.contains("`queue`: shadow mode would have written it on 5 ticket(s)"),
        "{stdout}"
    );
    assert!(stdout.contains(" -> Billing (1)"), "{stdout}");

    let (json_out, _) = tokio::task::spawn_blocking({
        let (cwd, config, plugins) = (
            cwd.path().to_path_buf(),
            config_path.clone(),
            plugins.path().to_path_buf(),
        );
        let file = file.display().to_string();
        move || {
            otai(
                &cwd,
                &config,
                &plugins,
                &["evaluate", "--shadow", &file, "--json"],
            )
        }
    })
    .await
    .unwrap();
    let v: Value = serde_json::from_str(&json_out).expect("JSON");
    assert_eq!(v["fields"][0]["field"], "queue");
    assert_eq!(v["fields"][0]["examples"], 5);
    assert_eq!(v["fields"][0]["worst_pairs"][0]["truth"], "Billing");
    sim.shutdown().await;
}

/// `otai evaluate --json --model <demo model> --data DATA` with `extra`, as JSON (it must succeed).
fn evaluate_data_json(data: &std::path::Path, extra: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(["evaluate", "--json"])
        .args(extra)
        .arg("--model")
        .arg(support::demo_model("otai evaluate --data needs"))
        .arg("--data")
        .arg(data)
        .env_remove("RUST_LOG")
        .env_remove("OTAI_CONFIG")
        .output()
        .expect("run otai");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).expect("JSON")
}

#[test]
fn evaluate_data_scores_the_newest_share_with_the_real_model() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("labelled.csv");
    let mut csv = String::from("text,queue,created_at\n");
    for (i, text) in TEXTS.iter().enumerate() {
        csv += &format!("\"{text}\",cards,2024-05-0{}T10:00:00Z\n", i + 1);
    }
    std::fs::write(&data, csv).unwrap();
    let v = evaluate_data_json(&data, &["--holdout", "0.5"]);
    assert!(
        v["source"].as_str().unwrap().contains("the newest 50 %"),
        "{v}"
    );
    let queue = &v["fields"][0];
    assert_eq!(queue["field"], "queue");
    // The newest three: the ATM, top-up and transfer requests, none of them about cards.
    assert_eq!(queue["examples"], 3);
    assert_eq!(queue["accuracy"], 0.0);
    assert_eq!(queue["coverage"].as_array().unwrap().len(), 10);
}

/// The demo model's heads are hybrid (embedding + lexical n-grams): `evaluate --data` scores each
/// hybrid head's halves alone beside it, on the same examples, in JSON and in the text table.
#[test]
fn evaluate_data_scores_the_halves_of_every_hybrid_head_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("labelled.csv");
    let mut csv = String::from("text,queue,priority\n");
    for text in TEXTS {
        csv += &format!("\"{text}\",cards,high\n");
    }
    std::fs::write(&data, csv).unwrap();
    let model = support::demo_model("otai evaluate --data needs");
    let hybrid = |field: &str| -> bool {
        let head: Value = serde_json::from_str(
            &std::fs::read_to_string(model.join(format!("heads/{field}.json"))).unwrap(),
        )
        .unwrap();
        head.get("lexical").is_some()
    };
    assert!(
        hybrid("queue") || hybrid("priority"),
        "the demo model was trained without hybrid heads"
    );

    let v = evaluate_data_json(&data, &[]);
    let text = Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(["evaluate", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .env_remove("RUST_LOG")
        .env_remove("OTAI_CONFIG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);

    for field in v["fields"].as_array().unwrap() {
        let name = field["field"].as_str().unwrap();
        let halves = &field["halves"];
        assert_eq!(halves.is_object(), hybrid(name), "{name}: {field}");
        if hybrid(name) {
            let lexical = halves["lexical"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&lexical), "{halves}");
            // Scored over the same examples: a share of them, in steps of one example.
            let steps = lexical * field["examples"].as_f64().unwrap();
            assert!((steps - steps.round()).abs() < 1e-9, "{halves}");
        }
    }
    assert!(
        text.contains("Its halves alone: lexical (TF-IDF n-grams)"),
        "{text}"
    );
}

/// A data file in two languages is also scored per language (`queue@de`, `queue@en`), each over
/// its own rows (the scores themselves are the model's, and not what this test is about).
#[test]
fn evaluate_data_in_two_languages_scores_each_language_too() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("labelled.csv");
    let mut csv = String::from("text,queue\n");
    for i in 0..20 {
        csv += &format!(
            "\"My card was stolen yesterday, please block it now. This is request {i}.\",cards\n"
        );
        csv += &format!(
            "\"Meine Karte wurde gestern gestohlen, bitte sperren Sie sie sofort. Das ist Anfrage {i}.\",cards\n"
        );
    }
    std::fs::write(&data, csv).unwrap();
    let v = evaluate_data_json(&data, &[]);
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["queue", "queue@de", "queue@en"]);
    let field = |name: &str| {
        v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(field("queue")["examples"], 40);
    assert_eq!(field("queue@de")["examples"], 20);
    assert_eq!(field("queue@en")["examples"], 20);
    assert_eq!(field("queue@en")["accuracy"], 1.0, "{v}");
    let de = field("queue@de")["accuracy"].as_f64().unwrap();
    assert!(
        de < 1.0,
        "the English-only model should miss some German tickets: {de}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_audit_counts_the_corrections_agents_made_to_what_otai_wrote() {
    let tickets: Vec<Value> = TEXTS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"id": 5101 + i as u64, "subject": format!("Request {i}"), "description": text,
                   "status": "new"})
        })
        .collect();
    let desk = BankingDesk::start(tickets, "audited").await;
    let (cwd, config_path, plugins) = (
        desk.cwd.path().to_path_buf(),
        desk.config.clone(),
        desk.plugins.path().to_path_buf(),
    );
    let otai_in_desk = move |args: &'static [&'static str]| {
        let (cwd, config_path, plugins) = (cwd.clone(), config_path.clone(), plugins.clone());
        tokio::task::spawn_blocking(move || otai(&cwd, &config_path, &plugins, args))
    };
    otai_in_desk(&["run", "--once"]).await.unwrap();
    for i in 0..TEXTS.len() as u64 {
        assert_ne!(desk.sim.ticket(5101 + i).unwrap().group_id, None, "routed");
    }

    // An agent moves the first ticket to a queue otai never routes to and solves the rest as
    // otai routed them.
    let yaml = std::fs::read_to_string(&desk.config).unwrap();
    let config = Config::parse(&yaml, Path::new("audited.yml"), &|_| Ok(None)).unwrap();
    let registry = PluginRegistry::load(desk.plugins.path());
    let system = registry.ticket_system(&config, "zendesk").unwrap();
    for i in 0..TEXTS.len() as u64 {
        let update = TicketUpdate {
            queue: (i == 0).then(|| Queue {
                id: None,
                name: Some("Billing".into()),
            }),
            status: Some("solved".into()),
            ..TicketUpdate::default()
        };
        system
            .update_ticket(&(5101 + i).to_string(), update)
            .await
            .expect("an agent updates the ticket");
    }

    let (stdout, _) = otai_in_desk(&["evaluate", "--audit", ".otai/audit/audited.jsonl"])
        .await
        .unwrap();
    println!("{stdout}");
    assert!(
        stdout
            .contains("6 ticket(s), 6 compared (6 finished by agents), 0 gone (404), 0 unreadable"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`queue`: otai wrote it on 6 ticket(s); agents kept 5 (83.3 %) and corrected 1 (16.7 %); most often "),
        "{stdout}"
    );
    assert!(stdout.contains(" -> Billing (1)."), "{stdout}");
    assert!(
        stdout.contains(
            "`priority`: otai wrote it on 6 ticket(s); agents kept 6 (100.0 %) and corrected 0"
        ),
        "{stdout}"
    );

    let (json_out, _) =
        otai_in_desk(&["evaluate", "--audit", ".otai/audit/audited.jsonl", "--json"])
            .await
            .unwrap();
    let v: Value = serde_json::from_str(&json_out).expect("JSON");
    let queue = &v["fields"]["queue"];
    assert_eq!(
        (queue["written"].as_u64(), queue["corrected"].as_u64()),
        (Some(6), Some(1))
    );
    assert_eq!(queue["moves"][0][1], "Billing");
    desk.sim.shutdown().await;
}

/// A model without lexical halves gets a TF-IDF baseline fitted on the evaluation examples by
/// cross-validation, beside the model's own accuracy; a hybrid model shows its halves instead.
#[test]
fn evaluate_data_fits_a_lexical_baseline_for_a_model_without_lexical_halves() {
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let intents = [
        "card_arrival",
        "lost_or_stolen_card",
        "exchange_rate",
        "top_up_failed",
        "transfer_not_received_by_recipient",
    ];
    let train = dir.path().join("train.csv");
    let test = dir.path().join("test.csv");
    // Labelled `intent`, like the demo model's head.
    let subset = |split: &str, per_label: usize| {
        support::csv_subset(
            &repo.join(format!("data/banking77/{split}.csv")),
            &intents,
            per_label,
        )
        .replacen("text,label\n", "text,intent\n", 1)
    };
    std::fs::write(&train, subset("train", 40)).unwrap();
    std::fs::write(&test, subset("test", 20)).unwrap();
    let model = dir.path().join("embedding-only");
    support::train_from_data(dir.path(), &train, &model, &["--lexical-share", "0"]);

    let evaluate = |json: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_otai"));
        command
            .arg("evaluate")
            .arg("--model")
            .arg(&model)
            .arg("--data")
            .arg(&test);
        if json {
            command.arg("--json");
        }
        let output = command.env_remove("RUST_LOG").output().expect("run otai");
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let v: Value = serde_json::from_str(&evaluate(true)).expect("JSON");
    let field = &v["fields"][0];
    assert_eq!(field["field"], "intent");
    assert_eq!(field["examples"], 100);
    assert!(field.get("halves").is_none(), "no lexical half: {field}");
    let baseline = &field["lexical_baseline"];
    assert_eq!(baseline["folds"], 5);
    let accuracy = baseline["accuracy"].as_f64().unwrap();
    // Five distinct intents, 80 examples to fit per fold: words tell them apart well.
    assert!(accuracy > 0.6 && accuracy <= 1.0, "{baseline}");
    let text = evaluate(false);
    assert!(
        text.contains("Lexical baseline: TF-IDF n-grams + logistic regression, 5-fold cross-validated on these examples"),
        "{text}"
    );

    // The demo model is hybrid: its halves, no cross-validated baseline.
    let v = evaluate_data_json(&test, &[]);
    assert!(v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f.get("lexical_baseline").is_none()));
}
