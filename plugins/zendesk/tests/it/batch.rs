//! Batch writes: `update_many` bodies, tag sets, chunking, job polling, per-ticket outcomes,
//! local validation, request counting.
//!
//! Job-status bodies follow the shapes recorded in the Zendesk API notes (§6.4/§6.5 of
//! docs/zendesk-api.md); go-zendesk has no job-status fixture. The `show_many` answer is
//! go-zendesk's recording (MIT, tests/fixtures/zendesk/GET/ticket_show_many.json).

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use otai_plugin_sdk::{
    BatchOutcome, BatchUpdate, ErrorKind, Note, Queue, RequestStats, TicketUpdate,
};
use otai_zendesk::ZendeskClient;
use serde_json::{json, Value};
use wiremock::{
    matchers::{body_json, method, path, query_param},
    Mock, MockServer, Request, Respond, ResponseTemplate,
};

use crate::common::*;

const UPDATE_MANY: &str = "/api/v2/tickets/update_many";
const SHOW_MANY: &str = "/api/v2/tickets/show_many";
const STAMP: &str = "2024-05-02T10:00:00Z";

fn rs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A client whose job polls wait milliseconds instead of Zendesk's seconds.
fn fast_client(server: &MockServer, extra: Value) -> ZendeskClient {
    let mut c = client_with(server, extra);
    c.set_job_poll_waits(Duration::from_millis(20), Duration::from_millis(50));
    c
}

fn item(id: &str, update: TicketUpdate) -> BatchUpdate {
    BatchUpdate {
        id: id.into(),
        update,
        current_tags: None,
    }
}

fn priority(p: &str) -> TicketUpdate {
    TicketUpdate {
        priority: Some(p.into()),
        ..Default::default()
    }
}

/// `{"job_status": ...}` as `update_many` and `job_statuses/{id}` answer.
fn job(id: &str, status: &str, results: Value) -> Value {
    json!({"job_status": {
        "id": id,
        "url": format!("https://acme.zendesk.com/api/v2/job_statuses/{id}.json"),
        "job_type": "bulk_update",
        "total": results.as_array().map(|r| r.len()),
        "progress": results.as_array().map(|r| r.len()),
        "status": status,
        "message": if status == "completed" { Value::from("Completed at 2024-05-02 10:00:05 +0000") } else { Value::Null },
        "results": results
    }})
}

fn updated(id: u64) -> Value {
    json!({"id": id, "action": "update", "status": "Updated", "success": true})
}

/// `update_many` answers with a queued job `job_id`.
async fn mount_submit(server: &MockServer, job_id: &str, times: u64) {
    Mock::given(method("PUT"))
        .and(path(UPDATE_MANY))
        .respond_with(ResponseTemplate::new(200).set_body_json(job(job_id, "queued", Value::Null)))
        .expect(times)
        .mount(server)
        .await;
}

/// `job_statuses/{job_id}` answers `completed` with `results`.
async fn mount_completed(server: &MockServer, job_id: &str, results: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/job_statuses/{job_id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(job(job_id, "completed", results)))
        .mount(server)
        .await;
}

fn ok(outcome: &BatchOutcome) -> bool {
    matches!(outcome.result, Ok(()))
}

fn err(outcome: &BatchOutcome) -> &otai_plugin_sdk::Error {
    match &outcome.result {
        Err(e) => e,
        Ok(()) => panic!("ticket {} succeeded", outcome.id),
    }
}

/// The `tickets` array of every `update_many` request the server received.
async fn submitted(server: &MockServer) -> Vec<Vec<Value>> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "PUT" && r.url.path() == UPDATE_MANY)
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["tickets"].as_array().unwrap().clone()
        })
        .collect()
}

#[tokio::test]
async fn current_tags_and_stamp_give_the_exact_body_without_reading() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SHOW_MANY))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(UPDATE_MANY))
        .and(body_json(json!({"tickets": [
            {
                "id": 11,
                "group_id": 42,
                "priority": "high",
                "type": "incident",
                "custom_fields": [{"id": 360013088874u64, "value": "opt1"}],
                "tags": ["vip", "billing", "otai_processed"],
                "safe_update": true,
                "updated_stamp": STAMP,
                "comment": {"body": "Classifier: billing (0.93)", "public": false}
            },
            {
                "id": 12,
                "status": "open",
                "safe_update": true,
                "updated_stamp": "2024-05-03T08:00:00Z"
            }
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(job("V3-a1", "queued", Value::Null)))
        .expect(1)
        .mount(&server)
        .await;
    mount_completed(&server, "V3-a1", json!([updated(11), updated(12)])).await;

    let first = BatchUpdate {
        id: "11".into(),
        update: TicketUpdate {
            queue: Some(Queue {
                id: Some("42".into()),
                name: None,
            }),
            priority: Some("High".into()),
            add_tags: rs(&["otai_processed", "vip"]),
            remove_tags: rs(&["old"]),
            custom_fields: vec![otai_plugin_sdk::CustomField {
                id: "360013088874".into(),
                value: serde_json::from_str(r#""opt1""#).unwrap(),
            }],
            note: Some(Note {
                body: "Classifier: billing (0.93)".into(),
                html: false,
                public: false,
            }),
            if_unchanged_since: Some(STAMP.into()),
            system_fields: Some(serde_json::from_str(r#"{"type": "incident", "id": 99}"#).unwrap()),
            ..Default::default()
        },
        current_tags: Some(rs(&["vip", "billing", "old"])),
    };
    // No tag change: the caller's stamp alone makes it a safe update.
    let second = BatchUpdate {
        id: "12".into(),
        update: TicketUpdate {
            status: Some("open".into()),
            if_unchanged_since: Some("2024-05-03T08:00:00Z".into()),
            ..Default::default()
        },
        current_tags: Some(rs(&["x"])),
    };

    let outcomes = fast_client(&server, json!({}))
        .update_tickets(&[first, second])
        .await
        .unwrap();

    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0].id.as_str(), "11");
    assert_eq!(outcomes[1].id.as_str(), "12");
    assert!(outcomes.iter().all(ok), "{outcomes:?}");
}

#[tokio::test]
async fn without_current_tags_the_tickets_are_read_with_show_many() {
    let server = MockServer::start().await;
    // Recorded by go-zendesk (MIT): tickets 2 and 3, no tags.
    Mock::given(method("GET"))
        .and(path(SHOW_MANY))
        .and(query_param("ids", "2,3,404"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("GET/ticket_show_many.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(UPDATE_MANY))
        .and(body_json(json!({"tickets": [
            {"id": 2, "tags": ["otai_processed"], "safe_update": true,
             "updated_stamp": "2019-06-05T01:13:24Z"},
            {"id": 3, "tags": ["a", "b"], "priority": "low", "safe_update": true,
             "updated_stamp": "2019-06-03T02:35:05Z"}
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(job("V3-b", "queued", Value::Null)))
        .expect(1)
        .mount(&server)
        .await;
    mount_completed(&server, "V3-b", json!([updated(2), updated(3)])).await;

    let tagging = |add: &[&str]| TicketUpdate {
        add_tags: rs(add),
        ..Default::default()
    };
    let mut third = tagging(&["a", "b"]);
    third.priority = Some("low".into());
    // current_tags without a stamp cannot be trusted: the ticket is read anyway.
    let mut with_tags_no_stamp = item("3", third);
    with_tags_no_stamp.current_tags = Some(rs(&["stale"]));

    let outcomes = fast_client(&server, json!({}))
        .update_tickets(&[
            item("2", tagging(&["otai_processed"])),
            with_tags_no_stamp,
            item("404", tagging(&["x"])),
        ])
        .await
        .unwrap();

    assert!(ok(&outcomes[0]) && ok(&outcomes[1]), "{outcomes:?}");
    let missing = err(&outcomes[2]);
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(
        missing.message.contains("ticket 404"),
        "{}",
        missing.message
    );
}

/// Answers a sequence of job states, then repeats the last.
struct Sequence {
    bodies: Vec<Value>,
    calls: Arc<AtomicUsize>,
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let body = &self.bodies[n.min(self.bodies.len() - 1)];
        ResponseTemplate::new(200).set_body_json(body.clone())
    }
}

#[tokio::test]
async fn the_job_is_polled_through_queued_and_working_until_completed() {
    let server = MockServer::start().await;
    mount_submit(&server, "V3-poll", 1).await;
    let polls = Arc::new(AtomicUsize::new(0));
    Mock::given(method("GET"))
        .and(path("/api/v2/job_statuses/V3-poll"))
        .respond_with(Sequence {
            bodies: vec![
                job("V3-poll", "queued", Value::Null),
                job("V3-poll", "working", Value::Null),
                job("V3-poll", "completed", json!([updated(7)])),
            ],
            calls: polls.clone(),
        })
        .mount(&server)
        .await;

    let outcomes = fast_client(&server, json!({}))
        .update_tickets(&[item("7", priority("urgent"))])
        .await
        .unwrap();

    assert!(ok(&outcomes[0]), "{outcomes:?}");
    assert_eq!(polls.load(Ordering::SeqCst), 3, "polled until completed");
}

#[tokio::test]
async fn batches_are_chunked_at_100_and_submitted_one_job_at_a_time() {
    let server = MockServer::start().await;
    let submits = Arc::new(AtomicUsize::new(0));
    Mock::given(method("PUT"))
        .and(path(UPDATE_MANY))
        .respond_with(Sequence {
            bodies: vec![
                job("V3-c1", "queued", Value::Null),
                job("V3-c2", "queued", Value::Null),
            ],
            calls: submits.clone(),
        })
        .expect(2)
        .mount(&server)
        .await;
    mount_completed(&server, "V3-c1", (1..=100).map(updated).collect()).await;
    mount_completed(&server, "V3-c2", (101..=150).map(updated).collect()).await;
    let items: Vec<BatchUpdate> = (1..=150)
        .map(|id| item(&id.to_string(), priority("high")))
        .collect();

    let outcomes = fast_client(&server, json!({}))
        .update_tickets(&items)
        .await
        .unwrap();

    assert_eq!(outcomes.len(), 150);
    assert!(outcomes.iter().all(ok));
    let ids: Vec<String> = outcomes.iter().map(|o| o.id.to_string()).collect();
    let expected: Vec<String> = (1..=150).map(|id: u64| id.to_string()).collect();
    assert_eq!(ids, expected, "outcomes in input order");
    let chunks = submitted(&server).await;
    assert_eq!(
        chunks.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![100, 50]
    );
    assert_eq!(chunks[1][0], json!({"id": 101, "priority": "high"}));
    // The second job was submitted only after the first was polled to its end.
    let requests = server.received_requests().await.unwrap();
    let order: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        order,
        vec![
            format!("PUT {UPDATE_MANY}"),
            "GET /api/v2/job_statuses/V3-c1".to_string(),
            format!("PUT {UPDATE_MANY}"),
            "GET /api/v2/job_statuses/V3-c2".to_string(),
        ]
    );
}

#[tokio::test]
async fn per_ticket_failures_conflicts_and_missing_results_are_told_apart() {
    let server = MockServer::start().await;
    mount_submit(&server, "V3-mix", 1).await;
    mount_completed(
        &server,
        "V3-mix",
        json!([
            updated(1),
            {"id": 2, "action": "update", "success": false, "error": "RecordInvalid",
             "details": "Status: closed prevents ticket update"},
            {"id": 3, "action": "update", "success": false, "error": "UpdateConflict",
             "details": "Safe Update prevented the update due to outdated ticket data"}
        ]),
    )
    .await;

    let outcomes = fast_client(&server, json!({}))
        .update_tickets(&[
            item("1", priority("low")),
            item("2", priority("low")),
            item("3", priority("low")),
            item("4", priority("low")),
        ])
        .await
        .unwrap();

    assert!(ok(&outcomes[0]));
    let invalid = err(&outcomes[1]);
    assert_eq!(invalid.kind, ErrorKind::Validation);
    assert!(
        invalid.message.contains("ticket 2")
            && invalid.message.contains("closed prevents ticket update"),
        "{}",
        invalid.message
    );
    assert_eq!(err(&outcomes[2]).kind, ErrorKind::Conflict);
    let unknown = err(&outcomes[3]);
    assert_eq!(
        unknown.kind,
        ErrorKind::Timeout,
        "no result: never claim success"
    );
    assert!(unknown.message.contains("unknown"), "{}", unknown.message);
}

#[tokio::test]
async fn a_failed_job_leaves_its_tickets_unknown() {
    let server = MockServer::start().await;
    mount_submit(&server, "V3-f", 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/job_statuses/V3-f"))
        .respond_with(ResponseTemplate::new(200).set_body_json(job("V3-f", "failed", Value::Null)))
        .mount(&server)
        .await;

    let outcomes = fast_client(&server, json!({}))
        .update_tickets(&[item("1", priority("low")), item("2", priority("low"))])
        .await
        .unwrap();

    for outcome in &outcomes {
        let e = err(outcome);
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(e.message.contains("`failed`"), "{}", e.message);
        assert!(e.message.contains(&format!("ticket {}", outcome.id)));
    }
}

#[tokio::test]
async fn a_job_that_never_finishes_times_out_and_later_chunks_are_not_sent() {
    let server = MockServer::start().await;
    mount_submit(&server, "V3-slow", 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/job_statuses/V3-slow"))
        .respond_with(ResponseTemplate::new(200).set_body_json(job(
            "V3-slow",
            "working",
            Value::Null,
        )))
        .mount(&server)
        .await;
    let items: Vec<BatchUpdate> = (1..=101)
        .map(|id| item(&id.to_string(), priority("high")))
        .collect();
    let started = std::time::Instant::now();

    let outcomes = fast_client(&server, json!({"job_timeout": 1}))
        .update_tickets(&items)
        .await
        .unwrap();

    // The job_timeout error is the proof it gave up; only the lower bound of the time taken is
    // asserted (an upper one would depend on the machine's load).
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    let first = err(&outcomes[0]);
    assert_eq!(first.kind, ErrorKind::Timeout);
    assert!(first.message.contains("job_timeout"), "{}", first.message);
    assert!(outcomes[..100]
        .iter()
        .all(|o| err(o).kind == ErrorKind::Timeout));
    let unsent = err(&outcomes[100]);
    assert_eq!(unsent.kind, ErrorKind::Transport);
    assert!(unsent.message.contains("not sent"), "{}", unsent.message);
}

#[tokio::test]
async fn locally_invalid_items_fail_alone_and_the_rest_is_written() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/groups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "groups": [{"id": 360002440594u64, "name": "Support", "deleted": false}],
            "meta": {"has_more": false, "after_cursor": null}
        })))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(UPDATE_MANY))
        .and(body_json(json!({"tickets": [
            {"id": 5, "group_id": 360002440594u64}
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(job("V3-v", "queued", Value::Null)))
        .expect(1)
        .mount(&server)
        .await;
    mount_completed(&server, "V3-v", json!([updated(5)])).await;
    let queue = |name: &str| TicketUpdate {
        queue: Some(Queue {
            id: None,
            name: Some(name.into()),
        }),
        ..Default::default()
    };

    let outcomes = fast_client(&server, json!({}))
        .update_tickets(&[
            item("abc", priority("low")),
            item("2", priority("critical")),
            item("3", queue("Nowhere")),
            item("4", TicketUpdate::default()),
            item("5", queue("Support")),
            item("5", priority("low")),
            item(
                "6",
                TicketUpdate {
                    system_fields: Some(serde_json::json!([1])),
                    ..Default::default()
                },
            ),
        ])
        .await
        .unwrap();

    assert_eq!(outcomes.len(), 7);
    assert_eq!(err(&outcomes[0]).kind, ErrorKind::Validation);
    assert!(err(&outcomes[0]).message.contains("\"abc\""));
    let bad_priority = err(&outcomes[1]);
    assert_eq!(bad_priority.kind, ErrorKind::Validation);
    assert!(
        bad_priority.message.contains("ticket 2"),
        "{}",
        bad_priority.message
    );
    assert!(err(&outcomes[2]).message.contains("\"Nowhere\""));
    assert!(ok(&outcomes[3]), "an empty update writes nothing");
    assert!(ok(&outcomes[4]));
    assert!(
        err(&outcomes[5]).message.contains("more than once"),
        "a repeated id fails"
    );
    assert_eq!(err(&outcomes[6]).kind, ErrorKind::Validation);
}

#[tokio::test]
async fn a_rejected_chunk_fails_each_ticket_and_401_fails_the_whole_call() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(UPDATE_MANY))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "error": "RecordInvalid", "description": "Record validation errors"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let outcomes = fast_client(&server, json!({}))
        .update_tickets(&[item("1", priority("low")), item("2", priority("low"))])
        .await
        .unwrap();

    for (outcome, id) in outcomes.iter().zip(["1", "2"]) {
        let e = err(outcome);
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(e.message.contains(&format!("ticket {id}")) && e.message.contains(UPDATE_MANY));
    }

    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(UPDATE_MANY))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let e = fast_client(&server, json!({}))
        .update_tickets(&[item("1", priority("low"))])
        .await
        .unwrap_err();

    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(!e.message.contains(API_TOKEN));
}

#[tokio::test]
async fn request_stats_count_every_attempt_retries_and_429s() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(UPDATE_MANY))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_submit(&server, "V3-s", 1).await;
    mount_completed(&server, "V3-s", json!([updated(1)])).await;
    let client = fast_client(&server, json!({}));
    assert_eq!(client.request_stats(), RequestStats::default());

    let outcomes = client
        .update_tickets(&[item("1", priority("low"))])
        .await
        .unwrap();

    assert!(ok(&outcomes[0]));
    assert_eq!(
        client.request_stats(),
        RequestStats {
            requests: 3,
            retries: 1,
            rate_limited: 1
        },
        "PUT (429), PUT again, one poll"
    );
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn the_adapter_answers_update_tickets_and_request_stats() {
    use otai_plugin_sdk::TicketSystemAdapter;
    let server = MockServer::start().await;
    // A job may already be finished in the submission's answer: then nothing is polled.
    Mock::given(method("PUT"))
        .and(path(UPDATE_MANY))
        .respond_with(ResponseTemplate::new(200).set_body_json(job(
            "V3-ffi",
            "completed",
            json!([updated(1), {"id": 2, "success": false, "error": "RecordInvalid"}]),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let service = client(&server);

    let outcomes = TicketSystemAdapter::update_tickets(
        &service,
        &[item("1", priority("low")), item("2", priority("low"))],
    )
    .await
    .unwrap();

    assert!(ok(&outcomes[0]));
    assert_eq!(err(&outcomes[1]).kind, ErrorKind::Validation);
    assert_eq!(
        TicketSystemAdapter::request_stats(&service),
        Some(RequestStats {
            requests: 1,
            retries: 0,
            rate_limited: 0
        })
    );
}

/// The same-second guard (src/reads.rs): `updated_at` has one-second resolution, so a read in the
/// same second as the ticket's last change cannot rule out a change right after it, which a safe
/// update would not catch. Dates are HTTP `Date` headers, Zendesk's clock.
mod same_second {
    use super::*;

    const READ_SECOND: &str = "Thu, 02 May 2024 10:00:00 GMT";
    const LATER_SECOND: &str = "Thu, 02 May 2024 10:00:03 GMT";

    fn stamped(id: u64, tags: &[&str]) -> Value {
        let mut t = ticket(id, tags);
        t["updated_at"] = json!(STAMP);
        t
    }

    /// The host's fetch: ticket 7 as search returns it, answered at `date`.
    async fn fetched(server: &MockServer, date: &str, client: &ZendeskClient) {
        Mock::given(method("GET"))
            .and(path("/api/v2/search"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("date", date)
                    .set_body_json(
                        json!({"results": [stamped(7, &["vip"])], "next_page": null, "count": 1}),
                    ),
            )
            .mount(server)
            .await;
        let found = client
            .find_tickets(&otai_plugin_sdk::SearchQuery::default())
            .await
            .unwrap();
        assert_eq!(found[0].updated_at.as_deref(), Some(STAMP));
    }

    fn routed_item() -> BatchUpdate {
        BatchUpdate {
            id: "7".into(),
            update: TicketUpdate {
                priority: Some("high".into()),
                add_tags: rs(&["otai_processed"]),
                if_unchanged_since: Some(STAMP.into()),
                ..Default::default()
            },
            current_tags: Some(rs(&["vip"])),
        }
    }

    async fn show_many_answers(server: &MockServer, tags: &[&str], date: &str, times: u64) {
        Mock::given(method("GET"))
            .and(path(SHOW_MANY))
            .and(query_param("ids", "7"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("date", date)
                    .set_body_json(json!({"tickets": [stamped(7, tags)]})),
            )
            .expect(times)
            .mount(server)
            .await;
    }

    async fn update_many_completes(server: &MockServer, times: u64) {
        Mock::given(method("PUT"))
            .and(path(UPDATE_MANY))
            .respond_with(ResponseTemplate::new(200).set_body_json(job(
                "V3-ss",
                "completed",
                json!([updated(7)]),
            )))
            .expect(times)
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn a_read_in_a_later_second_is_written_without_another_read() {
        let server = MockServer::start().await;
        let c = fast_client(&server, json!({}));
        fetched(&server, LATER_SECOND, &c).await;
        show_many_answers(&server, &["vip"], LATER_SECOND, 0).await;
        update_many_completes(&server, 1).await;

        let outcomes = c.update_tickets(&[routed_item()]).await.unwrap();

        assert!(ok(&outcomes[0]), "{outcomes:?}");
    }

    #[tokio::test]
    async fn a_same_second_read_is_confirmed_by_a_later_one_before_the_write() {
        let server = MockServer::start().await;
        let c = fast_client(&server, json!({}));
        fetched(&server, READ_SECOND, &c).await;
        show_many_answers(&server, &["vip"], LATER_SECOND, 1).await;
        update_many_completes(&server, 1).await;

        let outcomes = c.update_tickets(&[routed_item()]).await.unwrap();

        assert!(ok(&outcomes[0]), "{outcomes:?}");
    }

    #[tokio::test]
    async fn a_change_in_the_same_second_is_a_conflict_and_nothing_is_written() {
        let server = MockServer::start().await;
        let c = fast_client(&server, json!({}));
        fetched(&server, READ_SECOND, &c).await;
        // An agent added a tag in the second otai read the ticket: same stamp, other tags.
        show_many_answers(&server, &["vip", "agent_escalated"], LATER_SECOND, 1).await;
        update_many_completes(&server, 0).await;

        let outcomes = c.update_tickets(&[routed_item()]).await.unwrap();

        let e = err(&outcomes[0]);
        assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
        assert!(e.message.contains("same second"), "{e}");
    }

    #[tokio::test]
    async fn reads_that_stay_in_the_stamps_second_end_in_a_conflict() {
        let server = MockServer::start().await;
        let c = fast_client(&server, json!({}));
        fetched(&server, READ_SECOND, &c).await;
        show_many_answers(&server, &["vip"], READ_SECOND, 3).await;
        update_many_completes(&server, 0).await;

        let outcomes = c.update_tickets(&[routed_item()]).await.unwrap();

        let e = err(&outcomes[0]);
        assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
        assert!(e.message.contains("could not be ruled out"), "{e}");
    }

    /// The one-ticket write (`update_ticket`, the host's fallback and `otai tickets update`)
    /// confirms the same way, through `GET /api/v2/tickets/{id}`.
    #[tokio::test]
    async fn the_one_ticket_write_confirms_a_same_second_read_too() {
        let server = MockServer::start().await;
        let c = fast_client(&server, json!({}));
        fetched(&server, READ_SECOND, &c).await;
        Mock::given(method("GET"))
            .and(path("/api/v2/tickets/7"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("date", LATER_SECOND)
                    .set_body_json(json!({"ticket": stamped(7, &["vip", "agent_escalated"])})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path("/api/v2/tickets/7"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ticket": stamped(7, &[])})),
            )
            .expect(0)
            .mount(&server)
            .await;

        let e = c
            .update_ticket("7", &routed_item().update)
            .await
            .unwrap_err();

        assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    }
}
