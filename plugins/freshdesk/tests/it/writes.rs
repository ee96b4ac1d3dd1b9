//! Writing back: note first, then fields with merged tags; resuming; conflicts; bulk jobs.

use otai_plugin_sdk::{
    BatchUpdate, ErrorKind, Note, Queue, SearchQuery, TicketSystemAdapter, TicketUpdate,
};
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

fn decision(queue: &str) -> TicketUpdate {
    TicketUpdate {
        queue: Some(Queue {
            id: None,
            name: Some(queue.into()),
        }),
        priority: Some("high".into()),
        add_tags: vec!["otai_processed".into()],
        note: Some(Note {
            body: format!("Queue: {queue}"),
            ..Note::default()
        }),
        if_unchanged_since: Some(CREATED.into()),
        ..TicketUpdate::default()
    }
}

fn batch(ids: &[u64], update: &TicketUpdate) -> Vec<BatchUpdate> {
    ids.iter()
        .map(|id| BatchUpdate {
            id: id.to_string(),
            update: update.clone(),
            current_tags: None,
        })
        .collect()
}

/// A mock whose list answers `listed` (to every page, every since).
async fn mock_with(listed: Vec<Value>) -> MockServer {
    let mock = MockServer::start().await;
    mount_basics(&mock).await;
    mount_empty_search(&mock).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listed))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path_regex_notes())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 900, "private": true})))
        .mount(&mock)
        .await;
    mock
}

fn path_regex_notes() -> wiremock::matchers::PathRegexMatcher {
    wiremock::matchers::path_regex(r"^/api/v2/tickets/\d+/notes$")
}

async fn mount_put(mock: &MockServer, id: u64, answer: Value) {
    Mock::given(method("PUT"))
        .and(path(format!("/api/v2/tickets/{id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(mock)
        .await;
}

async fn bodies(mock: &MockServer, m: &str, p: &str) -> Vec<Value> {
    mock.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == m && r.url.path() == p)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn the_note_goes_first_then_the_fields_with_the_tags_merged() {
    let mock = mock_with(vec![with(5, json!({"tags": ["vip"]}))]).await;
    mount_put(
        &mock,
        5,
        with(
            5,
            json!({"group_id": 11, "tags": ["vip", "otai_processed"]}),
        ),
    )
    .await;
    let desk = desk(&mock, json!({}));
    let found = desk
        .find_tickets(&SearchQuery {
            statuses: vec!["new".into()],
            ..SearchQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    // The re-read list shows nothing changed since the find: ticket 5 is as read.
    mock.reset().await;
    mount_basics(&mock).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path_regex_notes())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 900})))
        .mount(&mock)
        .await;
    mount_put(
        &mock,
        5,
        with(
            5,
            json!({"group_id": 11, "tags": ["vip", "otai_processed"]}),
        ),
    )
    .await;

    let outcomes = desk
        .update_tickets(&batch(&[5], &decision("Cards")))
        .await
        .unwrap();
    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0].result);
    let order: Vec<String> = calls(&mock)
        .await
        .into_iter()
        .filter(|c| !c.starts_with("GET"))
        .collect();
    assert_eq!(
        order,
        ["POST /api/v2/tickets/5/notes", "PUT /api/v2/tickets/5"]
    );
    let note = &bodies(&mock, "POST", "/api/v2/tickets/5/notes").await[0];
    assert_eq!(note["private"], true);
    assert!(note["body"]
        .as_str()
        .unwrap()
        .contains("[otai] plan: {&quot;group_id&quot;:11"));
    let put = &bodies(&mock, "PUT", "/api/v2/tickets/5").await[0];
    assert_eq!(
        put,
        &json!({"group_id": 11, "priority": 3, "tags": ["vip", "otai_processed"]})
    );
    assert!(
        !calls(&mock)
            .await
            .iter()
            .any(|c| c == "GET /api/v2/tickets/5"),
        "the batch re-read is the list, not one read per ticket"
    );
}

#[tokio::test]
async fn an_interrupted_write_is_finished_from_its_note_without_a_second_note() {
    let noted_at = "2026-12-01T09:01:00Z";
    let current = with(6, json!({"updated_at": noted_at}));
    let mock = mock_with(vec![]).await;
    mount_ticket(&mock, 6, current.clone()).await;
    let plan = json!({"group_id": 12, "priority": 2, "add_tags": ["otai_processed"]});
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/6/conversations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "id": 77, "body": "x", "body_text": format!("Queue: Billing\n\n[otai] plan: {plan}"),
            "private": true, "source": 2, "user_id": ME, "created_at": noted_at}])))
        .mount(&mock)
        .await;
    mount_put(
        &mock,
        6,
        with(6, json!({"group_id": 12, "tags": ["otai_processed"]})),
    )
    .await;
    let desk = desk(&mock, json!({}));
    let mut update = decision("Cards");
    update.if_unchanged_since = Some(noted_at.into());
    let outcomes = desk.update_tickets(&batch(&[6], &update)).await.unwrap();
    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0].result);
    assert!(
        bodies(&mock, "POST", "/api/v2/tickets/6/notes")
            .await
            .is_empty(),
        "no second note"
    );
    let put = &bodies(&mock, "PUT", "/api/v2/tickets/6").await[0];
    assert_eq!(
        put,
        &json!({"group_id": 12, "priority": 2, "tags": ["otai_processed"]}),
        "the note's plan, not the new decision"
    );
}

#[tokio::test]
async fn a_ticket_changed_since_it_was_read_is_a_conflict_and_unknown_groups_are_refused_first() {
    let mock = mock_with(vec![]).await;
    mount_ticket(
        &mock,
        7,
        with(7, json!({"updated_at": "2026-12-01T09:30:00Z"})),
    )
    .await;
    mount_ticket(&mock, 8, ticket(8)).await;
    let desk = desk(&mock, json!({}));
    let mut items = batch(&[7], &decision("Cards"));
    items.extend(batch(&[8], &decision("Nowhere")));
    let outcomes = desk.update_tickets(&items).await.unwrap();
    let conflict = outcomes[0].result.as_ref().unwrap_err();
    assert_eq!(conflict.kind, ErrorKind::Conflict, "{}", conflict.message);
    assert!(
        conflict.message.contains("update_ticket 7"),
        "{}",
        conflict.message
    );
    let refused = outcomes[1].result.as_ref().unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Validation);
    assert!(
        refused.message.contains("no group named \"Nowhere\""),
        "{}",
        refused.message
    );
    let writes: Vec<String> = calls(&mock)
        .await
        .into_iter()
        .filter(|c| !c.starts_with("GET"))
        .collect();
    assert!(writes.is_empty(), "nothing written: {writes:?}");
}

#[tokio::test]
async fn identical_decisions_share_one_bulk_job_checked_ticket_by_ticket() {
    let done = |id: u64| {
        with(
            id,
            json!({"group_id": 11, "priority": 3, "tags": ["otai_processed"],
                                          "updated_at": "2026-12-01T09:10:00Z"}),
        )
    };
    // The list answers the re-read and the read-back: tickets 21 and 22 show the job's work,
    // 23 is untouched (the job stopped before it).
    let mock = mock_with(vec![done(21), done(22)]).await;
    for id in [21, 22, 23] {
        mount_ticket(&mock, id, ticket(id)).await;
    }
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets/bulk_update"))
        .respond_with(
            ResponseTemplate::new(202).set_body_json(
                json!({"job_id": "e4d18654", "href": "http://x/api/v2/jobs/e4d18654"}),
            ),
        )
        .mount(&mock)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/jobs/e4d18654"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "e4d18654", "status": "COMPLETED", "progress": 100})),
        )
        .mount(&mock)
        .await;
    let desk = desk(&mock, json!({}));
    let mut update = decision("Cards");
    update.if_unchanged_since = None;
    let outcomes = desk
        .update_tickets(&batch(&[21, 22, 23], &update))
        .await
        .unwrap();
    assert!(
        outcomes[0].result.is_ok() && outcomes[1].result.is_ok(),
        "{outcomes:?}"
    );
    let missed = outcomes[2].result.as_ref().unwrap_err();
    assert!(
        missed.message.contains("did not apply to ticket 23"),
        "{}",
        missed.message
    );
    let jobs = bodies(&mock, "POST", "/api/v2/tickets/bulk_update").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0],
        json!({"bulk_action": {"ids": [21, 22, 23],
               "properties": {"group_id": 11, "priority": 3, "tags": ["otai_processed"]}}})
    );
    let notes = calls(&mock)
        .await
        .iter()
        .filter(|c| c.ends_with("/notes"))
        .count();
    assert_eq!(notes, 3, "one note each, before the job");
    assert!(!calls(&mock).await.iter().any(|c| c.starts_with("PUT")));
}

#[tokio::test]
async fn a_put_refused_after_the_note_is_finished_on_the_next_attempt_without_a_second_note() {
    let mock = mock_with(vec![]).await;
    mount_ticket(&mock, 10, ticket(10)).await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/10"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"code": "unavailable"})))
        .up_to_n_times(1)
        .mount(&mock)
        .await;
    mount_put(
        &mock,
        10,
        with(10, json!({"group_id": 11, "tags": ["otai_processed"]})),
    )
    .await;
    let desk = desk(&mock, json!({"max_attempts": 1}));
    let mut update = decision("Cards");
    update.if_unchanged_since = None;
    let first = desk.update_ticket("10", &update).await.unwrap_err();
    assert!(
        first.message.contains("PUT /api/v2/tickets/10"),
        "{}",
        first.message
    );
    let mut again = decision("Billing");
    again.if_unchanged_since = None;
    desk.update_ticket("10", &again).await.unwrap();
    assert_eq!(
        bodies(&mock, "POST", "/api/v2/tickets/10/notes")
            .await
            .len(),
        1,
        "one note"
    );
    let puts = bodies(&mock, "PUT", "/api/v2/tickets/10").await;
    assert_eq!(puts.len(), 2);
    assert_eq!(
        puts[1]["group_id"], 11,
        "the noted plan is finished, not the new decision"
    );
}

#[tokio::test]
async fn a_plan_freshdesk_refuses_gives_way_to_the_failed_mark() {
    let noted_at = "2026-12-01T09:01:00Z";
    let mock = mock_with(vec![]).await;
    mount_ticket(&mock, 12, with(12, json!({"updated_at": noted_at}))).await;
    let plan = json!({"group_id": 99, "add_tags": ["otai_processed"]});
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/12/conversations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "id": 78, "body": "x", "body_text": format!("Queue: Gone\n\n[otai] plan: {plan}"),
            "private": true, "source": 2, "user_id": ME, "created_at": noted_at}])))
        .mount(&mock)
        .await;
    // The group of the plan was deleted: Freshdesk refuses it; the mark alone goes through.
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/12"))
        .and(wiremock::matchers::body_partial_json(json!({"group_id": 99})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"description": "Validation failed",
            "errors": [{"field": "group_id", "message": "There is no group matching the given group_id", "code": "invalid_value"}]})))
        .mount(&mock)
        .await;
    mount_put(&mock, 12, with(12, json!({"tags": ["otai_failed"]}))).await;
    let desk = desk(&mock, json!({}));
    let mark = TicketUpdate {
        add_tags: vec!["otai_failed".into()],
        note: Some(Note {
            body: "otai could not write this ticket".into(),
            ..Note::default()
        }),
        if_unchanged_since: Some(noted_at.into()),
        ..TicketUpdate::default()
    };
    desk.update_ticket("12", &mark).await.unwrap();
    let puts = bodies(&mock, "PUT", "/api/v2/tickets/12").await;
    assert_eq!(puts.len(), 2, "the plan, refused, then the mark: {puts:?}");
    assert_eq!(puts[1], json!({"tags": ["otai_failed"]}));
    let notes = bodies(&mock, "POST", "/api/v2/tickets/12/notes").await;
    assert_eq!(notes.len(), 1, "the failed note says why");
}
