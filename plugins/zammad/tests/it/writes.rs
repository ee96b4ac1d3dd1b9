//! Writing back: one PUT with fields and the internal note, then each tag; the guard before it,
//! and the resumption of an interrupted write.

use otai_plugin_sdk::{CustomField, ErrorKind, Note, Queue, TicketSystemAdapter, TicketUpdate};
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

fn classified(id: u64) -> TicketUpdate {
    TicketUpdate {
        queue: Some(Queue {
            id: None,
            name: Some("Cards".into()),
        }),
        priority: Some("urgent".into()),
        add_tags: vec!["otai_intent__card_arrival".into(), "otai_processed".into()],
        custom_fields: vec![CustomField {
            id: "otai_confidence".into(),
            value: json!(0.93),
        }],
        note: Some(Note {
            body: "otai routed this ticket to Cards.".into(),
            ..Note::default()
        }),
        if_unchanged_since: Some(stamp(id)),
        ..TicketUpdate::default()
    }
}

async fn mount_writes(mock: &MockServer, id: u64) {
    Mock::given(method("PUT"))
        .and(path(format!("/api/v1/tickets/{id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": id, "group_id": 2, "priority_id": 3, "state_id": 1,
            "updated_at": "2026-12-01T10:05:00.000Z"
        })))
        .mount(mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/tags/add"))
        .respond_with(ResponseTemplate::new(201).set_body_json(true))
        .mount(mock)
        .await;
}

fn tag_items(bodies: &[Value]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| b["item"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn fields_and_an_internal_note_go_in_one_put_then_each_missing_tag() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    // The agent's tag is there already, and so (from an earlier manual run) is otai_processed.
    mount_all(&mock, 7, all(7, &["vip"], &stamp(7), &[])).await;
    mount_writes(&mock, 7).await;
    let desk = desk(&mock, json!({}));

    let after = desk.update_ticket("7", &classified(7)).await.unwrap();
    assert_eq!(
        after.tags,
        ["vip", "otai_intent__card_arrival", "otai_processed"]
    );
    assert_eq!(
        after.priority.as_deref(),
        Some("high"),
        "urgent writes 3 high, read back as high"
    );

    let puts = bodies(&mock, "PUT", "/api/v1/tickets/7").await;
    assert_eq!(puts.len(), 1);
    assert_eq!(
        puts[0],
        json!({
            "group": "Cards",
            "priority_id": 3,
            "otai_confidence": 0.93,
            "article": {
                "subject": "otai",
                "body": "otai routed this ticket to Cards.\n\n[otai] tags: otai_intent__card_arrival, otai_processed",
                "content_type": "text/plain",
                "type": "note",
                "sender": "Agent",
                "internal": true
            }
        })
    );
    let tags = bodies(&mock, "POST", "/api/v1/tags/add").await;
    assert_eq!(
        tag_items(&tags),
        ["otai_intent__card_arrival", "otai_processed"]
    );
    assert_eq!(
        tags[0],
        json!({"item": "otai_intent__card_arrival", "object": "Ticket", "o_id": 7})
    );
}

#[tokio::test]
async fn a_ticket_changed_since_it_was_read_is_a_conflict_and_nothing_is_written() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    mount_all(&mock, 7, all(7, &[], "2026-12-01T10:03:00.500Z", &[])).await;
    mount_writes(&mock, 7).await;
    let e = desk(&mock, json!({}))
        .update_ticket("7", &classified(7))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(
        e.message.contains("update_ticket 7") && e.message.contains("nothing was written"),
        "{}",
        e.message
    );
    assert!(bodies(&mock, "PUT", "/api/v1/tickets/7").await.is_empty());
    assert!(bodies(&mock, "POST", "/api/v1/tags/add").await.is_empty());
}

#[tokio::test]
async fn an_interrupted_write_is_finished_without_a_second_note() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    // The PUT went through (group, note), the process died after the first tag.
    let note = json!({
        "id": 71, "ticket_id": 7, "internal": true, "created_by_id": ME, "type": "note",
        "created_at": "2026-12-01T10:05:00.000Z",
        "body": "otai routed this ticket to Cards.\n\n[otai] tags: otai_intent__card_arrival, otai_processed"
    });
    let now = "2026-12-01T10:05:00.040Z";
    mount_all(
        &mock,
        7,
        all(7, &["otai_intent__card_arrival"], now, &[note]),
    )
    .await;
    mount_writes(&mock, 7).await;

    // The next pass sees a ticket outside the inbox and asks for the routed tag only.
    let routed = TicketUpdate {
        add_tags: vec!["otai_routed".into()],
        if_unchanged_since: Some(now.into()),
        ..TicketUpdate::default()
    };
    let after = desk(&mock, json!({}))
        .update_ticket("7", &routed)
        .await
        .unwrap();
    assert_eq!(after.tags, ["otai_intent__card_arrival", "otai_processed"]);
    assert!(
        bodies(&mock, "PUT", "/api/v1/tickets/7").await.is_empty(),
        "no second note"
    );
    assert_eq!(
        tag_items(&bodies(&mock, "POST", "/api/v1/tags/add").await),
        ["otai_processed"]
    );
}

#[tokio::test]
async fn an_unknown_group_fails_that_ticket_clearly_and_no_tag_is_added() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    mount_all(&mock, 7, all(7, &[], &stamp(7), &[])).await;
    let refusal = "No lookup value found for 'group': \"Cards\"";
    Mock::given(method("PUT"))
        .and(path("/api/v1/tickets/7"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "error": refusal, "error_human": refusal
        })))
        .mount(&mock)
        .await;
    let e = desk(&mock, json!({}))
        .update_ticket("7", &classified(7))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Validation);
    assert_eq!(e.http_status, Some(422));
    for part in [
        "update_ticket 7",
        "PUT /api/v1/tickets/7",
        refusal,
        "Admin > Groups",
    ] {
        assert!(e.message.contains(part), "{part}: {}", e.message);
    }
    assert!(bodies(&mock, "POST", "/api/v1/tags/add").await.is_empty());
}

#[tokio::test]
async fn a_failed_tag_call_says_the_next_pass_finishes_the_write() {
    let mock = MockServer::start().await;
    mount_lists(&mock).await;
    mount_all(&mock, 7, all(7, &[], &stamp(7), &[])).await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/tickets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 7})))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/tags/add"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": "Error ID 4f2a: Please contact your administrator."
        })))
        .mount(&mock)
        .await;
    let e = desk(&mock, json!({}))
        .update_ticket("7", &classified(7))
        .await
        .unwrap_err();
    assert!(
        e.message
            .contains("tag `otai_intent__card_arrival` not added"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("the next pass adds the missing tags"),
        "{}",
        e.message
    );
    assert_eq!(
        bodies(&mock, "POST", "/api/v1/tags/add").await.len(),
        1,
        "writes are never retried blindly"
    );
}

#[tokio::test]
async fn a_note_alone_is_an_internal_article() {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/ticket_articles"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 99})))
        .mount(&mock)
        .await;
    let note = Note {
        body: "Checked by otai.".into(),
        ..Note::default()
    };
    desk(&mock, json!({})).add_note("7", &note).await.unwrap();
    let sent = bodies(&mock, "POST", "/api/v1/ticket_articles").await;
    assert_eq!(sent[0]["internal"], true);
    assert_eq!(sent[0]["ticket_id"], 7);
    assert_eq!(sent[0]["type"], "note");
}
