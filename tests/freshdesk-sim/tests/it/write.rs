//! Writes: PUT validation and atomicity, tags and custom fields, notes, bulk jobs.

use std::time::Duration;

use otai_freshdesk_sim::{JobStatus, WriteKind, API_AGENT_ID};
use reqwest::Method;
use serde_json::json;

use crate::common::{get, send, start, three, T0};

#[tokio::test]
async fn put_validates_everything_and_a_400_changes_nothing() {
    let sim = start(three()).await;
    let before = sim.ticket(1).unwrap();
    let a = send(
        &sim,
        Method::PUT,
        "/api/v2/tickets/1",
        json!({"priority": 3, "group_id": 999}),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["description"], "Validation failed");
    assert_eq!(a.body["errors"].as_array().unwrap().len(), 1);
    assert_eq!(a.error(), ("group_id".into(), "invalid_value".into()));
    assert!(a.body["errors"][0]["message"].is_string());
    assert_eq!(
        sim.ticket(1).unwrap(),
        before,
        "atomic: the valid priority was not applied"
    );
    assert_eq!(sim.write_count(1), 0);
    for (body, field, code) in [
        (json!({"priority": 7}), "priority", "invalid_value"),
        (json!({"priority": "high"}), "priority", "datatype_mismatch"),
        (json!({"colour": "red"}), "colour", "invalid_field"),
        (
            json!({"custom_fields": {"cf_nope": 1}}),
            "cf_nope",
            "invalid_field",
        ),
        (
            json!({"responder_id": 4242}),
            "responder_id",
            "invalid_value",
        ),
        (json!({"type": "Nonsense"}), "type", "invalid_value"),
        (json!({"tags": "vip"}), "tags", "datatype_mismatch"),
    ] {
        let a = send(&sim, Method::PUT, "/api/v2/tickets/1", body.clone()).await;
        assert_eq!(
            (a.status, a.error()),
            (400, (field.into(), code.into())),
            "{body}"
        );
    }
    let raw = reqwest::Client::new()
        .put(format!("{}/api/v2/tickets/1", sim.base_url()))
        .header("Authorization", crate::common::basic("sim-api-key"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    assert_eq!(
        send(
            &sim,
            Method::PUT,
            "/api/v2/tickets/77",
            json!({"priority": 2})
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn put_replaces_tags_merges_custom_fields_and_moves_updated_at() {
    let sim = start(three()).await;
    send(
        &sim,
        Method::PUT,
        "/api/v2/tickets/2",
        json!({"custom_fields": {"cf_locked": true}}),
    )
    .await;
    sim.set_clock(Some(T0 + 5));
    let billing = sim.group_id("Billing").unwrap();
    let a = send(
        &sim,
        Method::PUT,
        "/api/v2/tickets/1",
        json!({"tags": ["otai", "cards"], "group_id": billing, "priority": 2, "status": 3,
               "type": "Question", "responder_id": API_AGENT_ID,
               "custom_fields": {"cf_category": "cards"}}),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body["tags"],
        json!(["otai", "cards"]),
        "replaced, vip gone"
    );
    assert_eq!(a.body["updated_at"], "2026-12-01T10:00:05Z");
    assert_eq!(a.body["description_text"], "Please block it");
    let t = sim.ticket(1).unwrap();
    assert_eq!((t.group_id, t.priority, t.status), (Some(billing), 2, 3));
    assert_eq!(t.type_.as_deref(), Some("Question"));
    assert_eq!(sim.group_name(billing).as_deref(), Some("Billing"));
    let two = sim.ticket(2).unwrap();
    assert_eq!(
        two.custom_fields["cf_category"], "refunds",
        "merged, not replaced"
    );
    assert_eq!(two.custom_fields["cf_locked"], true);
    let w = sim.writes(1);
    assert_eq!((w.len(), w[0].kind), (1, WriteKind::Update));
}

#[tokio::test]
async fn notes_are_private_by_default_and_move_updated_at() {
    let sim = start(three()).await;
    sim.set_clock(Some(T0 + 100));
    let a = send(
        &sim,
        Method::POST,
        "/api/v2/tickets/3/notes",
        json!({"body": "<p>otai: Cards</p>"}),
    )
    .await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body["private"], true);
    assert_eq!(a.body["source"], 2);
    assert_eq!(a.body["user_id"], API_AGENT_ID);
    assert_eq!(a.body["body_text"], "otai: Cards");
    assert_eq!(a.body["ticket_id"], 3);
    assert_eq!(sim.ticket(3).unwrap().updated_at, "2026-12-01T10:01:40Z");
    let c = sim.conversations(3);
    assert_eq!(
        (c.len(), c[0].private, c[0].user_id),
        (1, true, API_AGENT_ID)
    );
    let public = send(
        &sim,
        Method::POST,
        "/api/v2/tickets/3/notes",
        json!({"body": "hi", "private": false}),
    )
    .await;
    assert_eq!(public.body["private"], false);
    assert_eq!(sim.write_count(3), 2);
    let a = send(
        &sim,
        Method::POST,
        "/api/v2/tickets/3/notes",
        json!({"private": true}),
    )
    .await;
    assert_eq!(
        (a.status, a.error()),
        (400, ("body".into(), "missing_field".into()))
    );
    assert_eq!(
        send(
            &sim,
            Method::POST,
            "/api/v2/tickets/9/notes",
            json!({"body": "x"})
        )
        .await
        .status,
        404
    );
    let list = get(&sim, "/api/v2/tickets/3/conversations").await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bulk_update_answers_202_and_its_job_applies_after_the_delay() {
    let sim = start(three().job_delay(Duration::from_millis(300))).await;
    let cards = sim.group_id("Cards").unwrap();
    let a = send(
        &sim,
        Method::POST,
        "/api/v2/tickets/bulk_update",
        json!({"bulk_action": {"ids": [2, 3, 99], "properties": {"group_id": cards, "tags": ["otai"], "priority": 3}}}),
    )
    .await;
    assert_eq!(a.status, 202);
    let job = a.body["job_id"].as_str().unwrap().to_string();
    assert_eq!(
        a.body["href"],
        format!("{}/api/v2/jobs/{job}", sim.base_url())
    );
    let j = get(&sim, &format!("/api/v2/jobs/{job}")).await;
    assert_eq!(
        (j.body["status"].as_str(), j.body["progress"].as_u64()),
        (Some("IN PROGRESS"), Some(0))
    );
    assert_eq!(sim.ticket(3).unwrap().group_id, None, "not yet");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let j = get(&sim, &format!("/api/v2/jobs/{job}")).await;
    assert_eq!(
        (j.body["status"].as_str(), j.body["progress"].as_u64()),
        (Some("COMPLETED"), Some(100))
    );
    for id in [2, 3] {
        let t = sim.ticket(id).unwrap();
        assert_eq!(
            (t.group_id, t.priority, t.tags.clone()),
            (Some(cards), 3, vec!["otai".to_string()])
        );
        assert_eq!(sim.writes(id)[0].kind, WriteKind::BulkUpdate);
    }
    let jobs = sim.jobs();
    assert_eq!(
        (jobs[0].applied.clone(), jobs[0].skipped.clone()),
        (vec![2, 3], vec![99])
    );
    assert_eq!(get(&sim, "/api/v2/jobs/0000").await.status, 404);
}

#[tokio::test]
async fn bulk_update_is_validated_up_front() {
    let sim = start(three()).await;
    let ids: Vec<u64> = (1..=101).collect();
    for (body, field) in [
        (
            json!({"bulk_action": {"ids": ids, "properties": {"priority": 2}}}),
            "ids",
        ),
        (
            json!({"bulk_action": {"ids": [], "properties": {"priority": 2}}}),
            "ids",
        ),
        (
            json!({"bulk_action": {"ids": [1], "properties": {"group_id": 5}}}),
            "group_id",
        ),
        (json!({"bulk_action": {"ids": [1]}}), "properties"),
        (json!({"ids": [1]}), "ids"),
    ] {
        let a = send(
            &sim,
            Method::POST,
            "/api/v2/tickets/bulk_update",
            body.clone(),
        )
        .await;
        assert_eq!(a.status, 400, "{body}");
        assert!(
            a.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{body}: {}",
            a.body
        );
    }
    assert!(sim.jobs().is_empty());
    let a = send(
        &sim,
        Method::POST,
        "/api/v2/tickets/bulk_update",
        json!({"bulk_action": {"ids": [1], "reply": {"body": "We are on it"}}}),
    )
    .await;
    assert_eq!(a.status, 202);
}

#[tokio::test]
async fn create_a_ticket() {
    let sim = start(three()).await;
    let a = send(&sim, Method::POST, "/api/v2/tickets",
                 json!({"subject": "Hi", "description": "<div>Help</div>", "email": "x@example.com", "priority": 2, "status": 2})).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["id"], 4);
    assert_eq!(a.body["description_text"], "Help");
    let a = send(
        &sim,
        Method::POST,
        "/api/v2/tickets",
        json!({"subject": "Hi"}),
    )
    .await;
    assert_eq!((a.status, a.error().1.as_str()), (400, "missing_field"));
    assert_eq!(
        sim.jobs()
            .iter()
            .filter(|j| j.status == JobStatus::Completed)
            .count(),
        0
    );
}
