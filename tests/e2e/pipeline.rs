//! The routing pipeline end to end: the real `libotai_zendesk.so` loaded by the real loader from a
//! configuration with a `pipelines:` section, the real BANKING77 model through ONNX Runtime, and a
//! wiremock Zendesk on 127.0.0.1 that answers search, groups, `update_many` and job statuses.
//!
//! Ticket texts are BANKING77-style queries the model is sure about (checked with
//! `otai classify`: > 0.95 for queue and priority), plus one whose priority is uncertain (0.54) to
//! exercise the fallback. Notes are compared with the text `note::prediction_note` gives for the
//! model's own predictions, so the exact body is asserted without hard-coding probabilities.

use std::{path::PathBuf, process::Output, sync::Arc};

use otai::{
    classifier::{Classifier, ClassifierOptions, TicketText},
    config::Config,
    pipeline::{self, decide, Pipeline, Stop},
    plugins::PluginRegistry,
};
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path, query_param},
    Mock, MockServer, Request, ResponseTemplate,
};

use crate::support;

const STAMP: &str = "2024-05-01T10:00:00Z";
const STOLEN: &str = "My card was stolen yesterday, please block it immediately";
const FEE: &str = "Why was I charged a fee for my transfer?";
const ARRIVAL: &str = "How long does it take for my new card to arrive?";
const ACTIVATE: &str = "How do I activate my card?";
const SEARCH_QUERY: &str =
    "type:ticket status:new -tags:otai_processed -tags:otai_failed -tags:otai_routed";

/// The demo model; the tests need it and fail (never skip) without it.
fn model_dir() -> PathBuf {
    support::demo_model("the pipeline end-to-end tests need")
}

/// The configuration under test: the seed's Zendesk block (pointed at the mock) and a pipeline.
fn config_yaml(server: &MockServer, extra: &str) -> String {
    format!(
        r#"
ticket_systems:
  zendesk:
    use: otai_zendesk:ZendeskTicketsystemService
    call_timeout: 30
    params:
      base_url: {base}
      email: agent@example.com
      api_token: e2e-pipeline-token
      timeout: 5
      job_timeout: 20
pipelines:
  demo:
    ticket_system: zendesk
    model: {model}
    inbox_queues: ["900"]
{extra}    fields:
      queue:
        action: queue
        map: {{cards: Cards, transfers: Transfers}}
        fallback: Unclassified
      priority:
        action: priority
        fallback: normal
      intent:
        action: tag
"#,
        base = server.uri(),
        model = model_dir().display()
    )
}

fn pipeline(server: &MockServer, extra: &str) -> (tempfile::TempDir, Pipeline, Classifier) {
    let dir = support::plugins_dir(&[support::ZENDESK]);
    let yaml = config_yaml(server, extra);
    let config = Config::parse(&yaml, std::path::Path::new("e2e-pipeline.yml"), &|_| {
        Ok(None)
    })
    .expect("the pipeline configuration loads");
    let p = config.pipelines["demo"].clone();
    let labels = pipeline::model_labels(&p.model, "queue").expect("model labels");
    assert!(pipeline::check_against_model(&p, &labels).is_empty());
    let registry = PluginRegistry::load(dir.path());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    let system = registry.ticket_system(&config, "zendesk").unwrap();
    let classifier = Classifier::load(&p.model, &ClassifierOptions::default())
        .expect("the demo model loads through ONNX Runtime");
    let pipeline = Pipeline::new(p, system, Arc::new(classifier.clone()));
    (dir, pipeline, classifier)
}

fn zticket(id: u64, body: &str, group_id: Option<u64>, tags: &[&str]) -> Value {
    json!({
        "id": id, "subject": "", "description": body, "status": "new", "priority": null,
        "group_id": group_id, "tags": tags, "custom_fields": [], "requester_id": 7,
        "created_at": STAMP, "updated_at": STAMP, "result_type": "ticket"
    })
}

async fn mount_search(server: &MockServer, tickets: Vec<Value>, times: Option<u64>, priority: u8) {
    let count = tickets.len();
    let mock = Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("query", SEARCH_QUERY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": tickets, "next_page": null, "previous_page": null, "count": count
        })))
        .with_priority(priority);
    match times {
        Some(n) => mock.up_to_n_times(n).mount(server).await,
        None => mock.mount(server).await,
    }
}

async fn mount_groups(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v2/groups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "groups": [
                {"id": 1001, "name": "Cards", "deleted": false},
                {"id": 1002, "name": "Transfers", "deleted": false},
                {"id": 1009, "name": "Unclassified", "deleted": false},
                {"id": 900, "name": "Inbox", "deleted": false},
                {"id": 2000, "name": "Billing", "deleted": false}
            ],
            "meta": {"has_more": false, "after_cursor": null}
        })))
        .mount(server)
        .await;
}

/// `update_many` answers job `job_id` (whatever the body: the test reads the bodies afterwards);
/// the job has `results`.
async fn mount_job(server: &MockServer, job_id: &str, results: Value, priority: u8) {
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/update_many"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"job_status": {
                "id": job_id, "status": "queued", "total": null, "progress": null,
                "message": null, "results": null
            }})),
        )
        .up_to_n_times(1)
        .with_priority(priority)
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/job_statuses/{job_id}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"job_status": {
                "id": job_id, "status": "completed", "total": 1, "progress": 1,
                "message": "Completed", "results": results
            }})),
        )
        .mount(server)
        .await;
}

fn ok(id: u64) -> Value {
    json!({"id": id, "action": "update", "status": "Updated", "success": true})
}

/// The bodies of every `update_many` call, in order.
async fn update_many_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r: &&Request| r.method.as_str() == "PUT")
        .map(|r| {
            assert_eq!(
                r.url.path(),
                "/api/v2/tickets/update_many",
                "writes are batched"
            );
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect()
}

/// The note the pipeline must write for `text`, from the model's own prediction.
async fn expected_note(p: &Pipeline, classifier: &Classifier, text: &str) -> String {
    let prediction = classifier
        .classify_batch(&[TicketText::new("", text)])
        .await
        .unwrap()
        .remove(0);
    let ticket = otai::ticket::Ticket {
        id: "x".into(),
        updated_at: Some(STAMP.into()),
        ..Default::default()
    };
    decide::decide(p.config(), "banking77", &ticket, &prediction)
        .update
        .note
        .unwrap()
        .body
}

#[tokio::test]
async fn a_pass_writes_groups_priorities_tags_and_notes_in_one_update_many_batch() {
    let server = MockServer::start().await;
    mount_search(
        &server,
        vec![
            zticket(101, STOLEN, None, &["vip"]),
            zticket(102, FEE, Some(900), &[]),
            zticket(103, ARRIVAL, None, &[]),
            // Routed by hand: in Billing, which is not an inbox queue.
            zticket(104, ACTIVATE, Some(2000), &[]),
        ],
        None,
        5,
    )
    .await;
    mount_groups(&server).await;
    mount_job(
        &server,
        "V3-one",
        json!([ok(104), ok(101), ok(102), ok(103)]),
        5,
    )
    .await;
    let (_dir, mut p, classifier) = pipeline(&server, "");

    let report = p.pass(false, &Stop::never()).await;

    assert!(report.failure.is_none(), "{report}");
    let s = report.summary;
    assert_eq!(
        (
            s.fetched,
            s.routed,
            s.routed_tagged,
            s.classified,
            s.written
        ),
        (4, 1, 1, 3, 3),
        "{report}"
    );
    // search + groups + update_many + one job poll.
    assert_eq!(
        s.api.expect("the Zendesk plugin counts requests").requests,
        4
    );
    let bodies = update_many_bodies(&server).await;
    assert_eq!(bodies.len(), 1, "one batch for the whole pass");
    let note = |text| expected_note(&p, &classifier, text);
    let expected = json!({"tickets": [
        // Routed by hand: only the routed tag, so the next search leaves it out.
        {"id": 104, "tags": ["otai_routed"],
         "safe_update": true, "updated_stamp": STAMP},
        {"id": 101, "group_id": 1001, "priority": "urgent",
         "tags": ["vip", "otai_intent__lost_or_stolen_card", "otai_processed"],
         "safe_update": true, "updated_stamp": STAMP,
         "comment": {"body": note(STOLEN).await, "public": false}},
        {"id": 102, "group_id": 1002, "priority": "normal",
         "tags": ["otai_intent__transfer_fee_charged", "otai_processed"],
         "safe_update": true, "updated_stamp": STAMP,
         "comment": {"body": note(FEE).await, "public": false}},
        // Queue sure (cards), priority not (0.54 < 0.8: the fallback), intent not (no tag).
        {"id": 103, "group_id": 1001, "priority": "normal",
         "tags": ["otai_processed"],
         "safe_update": true, "updated_stamp": STAMP,
         "comment": {"body": note(ARRIVAL).await, "public": false}}
    ]});
    assert_eq!(bodies[0], expected);
    let first = bodies[0]["tickets"][1]["comment"]["body"].as_str().unwrap();
    assert!(
        first.starts_with("otai classified this ticket (model banking77):\n- queue: cards ("),
        "{first}"
    );
    assert!(
        first.contains("-> set queue \"Cards\"\n- priority: urgent ("),
        "{first}"
    );
    let third = bodies[0]["tickets"][3]["comment"]["body"].as_str().unwrap();
    assert!(
        third.contains("-> below the 80% threshold, fallback: set priority normal"),
        "{third}"
    );
}

#[tokio::test]
async fn a_failing_ticket_does_not_block_the_others_and_is_tagged_failed_after_its_attempts() {
    let server = MockServer::start().await;
    // Pass 1 finds three tickets; later passes only the one that keeps failing.
    mount_search(
        &server,
        vec![
            zticket(101, STOLEN, None, &[]),
            zticket(102, FEE, None, &[]),
            zticket(103, ACTIVATE, None, &[]),
        ],
        Some(1),
        1,
    )
    .await;
    mount_search(&server, vec![zticket(102, FEE, None, &[])], None, 5).await;
    mount_groups(&server).await;
    let invalid = json!({"id": 102, "action": "update", "success": false,
                         "error": "RecordInvalid", "details": "Group: is invalid"});
    mount_job(
        &server,
        "V3-a",
        json!([ok(101), invalid.clone(), ok(103)]),
        1,
    )
    .await;
    mount_job(&server, "V3-b", json!([invalid]), 2).await;
    mount_job(&server, "V3-c", json!([ok(102)]), 3).await;
    let (_dir, mut p, _) = pipeline(&server, "    retry: {max_attempts: 2, backoff: 0}\n");

    let first = p.pass(false, &Stop::never()).await;
    let second = p.pass(false, &Stop::never()).await;
    let third = p.pass(false, &Stop::never()).await;

    assert_eq!(
        (first.summary.written, first.summary.failed),
        (2, 1),
        "{first}"
    );
    assert!(
        first.failure.is_none(),
        "a ticket's failure is not the pass's"
    );
    assert_eq!(
        (second.summary.fetched, second.summary.failed),
        (1, 1),
        "{second}"
    );
    assert_eq!(
        (third.summary.classified, third.summary.marked_failed),
        (0, 1),
        "{third}"
    );
    let bodies = update_many_bodies(&server).await;
    assert_eq!(bodies.len(), 3);
    let ids = |b: &Value| -> Vec<u64> {
        b["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids(&bodies[0]), [101, 102, 103]);
    assert_eq!(ids(&bodies[1]), [102], "retried in the next pass");
    let failed_note = "otai could not write its classification to this ticket after 2 attempts and gave up (tag otai_failed); please route it by hand. Last error: ";
    let marked = &bodies[2]["tickets"][0];
    assert_eq!(marked["id"], 102);
    assert_eq!(marked["tags"], json!(["otai_failed"]));
    assert_eq!(marked["safe_update"], true);
    assert_eq!(marked["comment"]["public"], false);
    assert!(marked.get("group_id").is_none() && marked.get("priority").is_none());
    let body = marked["comment"]["body"].as_str().unwrap();
    assert!(body.starts_with(failed_note), "{body}");
    assert!(body.contains("RecordInvalid"), "{body}");
}

/// Runs the binary in `cwd` (where the default state file `.otai/state/<pipeline>.json` goes).
fn run_otai(args: Vec<String>, cwd: PathBuf) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("OTAI_CONFIG")
        .output()
        .expect("run the otai binary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_dry_run_prints_every_decision_and_writes_nothing() {
    let server = MockServer::start().await;
    mount_search(
        &server,
        vec![
            zticket(101, STOLEN, None, &[]),
            zticket(104, ACTIVATE, Some(2000), &[]),
        ],
        None,
        5,
    )
    .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), config_yaml(&server, "")).unwrap();
    let args: Vec<String> = [
        "run",
        "--once",
        "--dry-run",
        "--config",
        config.path().to_str().unwrap(),
        "--plugins-dir",
        plugins.path().to_str().unwrap(),
    ]
    .map(String::from)
    .into();

    let cwd = tempfile::tempdir().unwrap();
    let cwd_path = cwd.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || run_otai(args, cwd_path))
        .await
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // Shown with --nocapture: what an operator sees.
    println!("{stdout}");
    for line in [
        "demo ticket 101 queue: cards 0.9",
        "-> set queue \"Cards\"",
        "demo ticket 101 priority: urgent 0.9",
        "-> set priority urgent",
        "demo ticket 101 intent: lost_or_stolen_card 0.9",
        "-> add tag otai_intent__lost_or_stolen_card",
        "demo ticket 101: would write queue \"Cards\", priority urgent, tags +otai_intent__lost_or_stolen_card +otai_processed, an internal note",
        "demo ticket 104: skipped, already routed by hand (queue id 2000); would add tag otai_routed",
        "pipeline demo: fetched 2, classified 1, written 0, skipped 1 (routed by hand 1, routed tag added 0,",
        "(dry run: nothing written)",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}\n{stderr}");
    }
    assert!(
        !cwd.path().join(".otai").exists(),
        "a dry run never writes the state file"
    );
    // The `.expect(0)` mocks are verified when the server drops.
}

/// `otai run --once` from cron: every run a new process. The write attempts of a ticket that
/// keeps failing survive in the state file, so the third run tags it failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_from_cron_keeps_attempts_in_the_state_file_and_tags_failed() {
    let server = MockServer::start().await;
    mount_search(&server, vec![zticket(102, FEE, None, &[])], None, 5).await;
    mount_groups(&server).await;
    let invalid = json!({"id": 102, "action": "update", "success": false,
                         "error": "RecordInvalid", "details": "Group: is invalid"});
    mount_job(&server, "V3-a", json!([invalid.clone()]), 1).await;
    mount_job(&server, "V3-b", json!([invalid]), 2).await;
    mount_job(&server, "V3-c", json!([ok(102)]), 3).await;
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let cwd = tempfile::tempdir().unwrap();
    let config = cwd.path().join("config.yml");
    std::fs::write(
        &config,
        config_yaml(&server, "    retry: {max_attempts: 2, backoff: 0}\n"),
    )
    .unwrap();
    let state = cwd.path().join(".otai/state/demo.json");

    let mut outputs = Vec::new();
    for _ in 0..3 {
        let args: Vec<String> = [
            "run",
            "--once",
            "--config",
            config.to_str().unwrap(),
            "--plugins-dir",
            plugins.path().to_str().unwrap(),
        ]
        .map(String::from)
        .into();
        let cwd_path = cwd.path().to_path_buf();
        let output = tokio::task::spawn_blocking(move || run_otai(args, cwd_path))
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}\n{stderr}");
        assert!(
            state.is_file(),
            "the default state file: {stdout}\n{stderr}"
        );
        outputs.push(stdout);
    }

    assert!(
        outputs[0].contains("demo ticket 102: write failed (attempt 1):"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[1].contains("demo ticket 102: write failed (attempt 2, the last one):"),
        "{}",
        outputs[1]
    );
    assert!(
        outputs[2].contains("demo ticket 102: 2 attempts failed; tag failed: written"),
        "{}",
        outputs[2]
    );
    let bodies = update_many_bodies(&server).await;
    assert_eq!(bodies.len(), 3);
    let marked = &bodies[2]["tickets"][0];
    assert_eq!(marked["tags"], json!(["otai_failed"]));
    assert!(marked.get("group_id").is_none());
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(
        saved,
        json!({"version": 1, "pipeline": "demo", "tickets": {}}),
        "a ticket tagged failed is forgotten"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_exits_non_zero_when_the_pass_fails() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .mount(&server)
        .await;
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), config_yaml(&server, "")).unwrap();
    let args: Vec<String> = [
        "run",
        "--once",
        "--config",
        config.path().to_str().unwrap(),
        "--plugins-dir",
        plugins.path().to_str().unwrap(),
    ]
    .map(String::from)
    .into();

    let cwd = tempfile::tempdir().unwrap();
    let cwd_path = cwd.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || run_otai(args, cwd_path))
        .await
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("the pass failed: fetching tickets failed"),
        "{stdout}"
    );
    assert!(stderr.contains("1 pass(es) failed as a whole"), "{stderr}");
    assert!(
        !stderr.contains("e2e-pipeline-token"),
        "no secret in the output"
    );
}
