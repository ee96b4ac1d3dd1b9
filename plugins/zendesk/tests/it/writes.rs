//! Writes: update (queue, priority, fields, note, tags with safe_update), add_note, groups.

use otai_plugin_sdk::{CustomField, ErrorKind, Note, Queue, TicketUpdate};
use serde_json::json;
use wiremock::{
    matchers::{body_json, header, method, path, query_param, query_param_is_missing},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

fn rs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn queue_named(name: &str) -> Option<Queue> {
    Some(Queue {
        id: None,
        name: Some(name.into()),
    })
}

/// Two cursor pages of groups; "Billing" is on the second, a deleted "Sales" on the first.
async fn mount_groups(server: &MockServer, times: u64) {
    Mock::given(method("GET"))
        .and(path("/api/v2/groups"))
        .and(query_param("page[size]", "100"))
        .and(query_param_is_missing("page[after]"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "groups": [
                {"id": 360002440594u64, "name": "Support", "deleted": false},
                {"id": 5, "name": "Sales", "deleted": true}
            ],
            "meta": {"has_more": true, "after_cursor": "g-cur-1", "before_cursor": null},
            "links": {"next": "x", "prev": null}
        })))
        .expect(times)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/groups"))
        .and(query_param("page[after]", "g-cur-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "groups": [{"id": 33144692244499u64, "name": "Billing", "deleted": false}],
            "meta": {"has_more": false, "after_cursor": "g-cur-2", "before_cursor": null},
            "links": {"next": "x", "prev": null}
        })))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn update_resolves_group_by_name_and_writes_everything_in_one_put() {
    let server = MockServer::start().await;
    mount_groups(&server, 1).await;
    // Recorded PUT response (go-zendesk, MIT).
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/2"))
        .and(header("authorization", basic_header().as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"ticket": {
            "type": "incident",
            "group_id": 33144692244499u64,
            "priority": "high",
            "status": "open",
            "custom_fields": [{"id": 360013088874u64, "value": "opt1"}],
            "comment": {"body": "Classifier: billing (0.93)", "public": false}
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("PUT/ticket.json")))
        .expect(1)
        .mount(&server)
        .await;

    let update = TicketUpdate {
        queue: queue_named("Billing"),
        priority: Some("High".into()),
        status: Some("open".into()),
        custom_fields: vec![CustomField {
            id: "360013088874".into(),
            value: serde_json::from_str(r#""opt1""#).unwrap(),
        }],
        note: Some(Note {
            body: "Classifier: billing (0.93)".into(),
            html: false,
            public: false,
        }),
        system_fields: Some(serde_json::from_str(r#"{"type": "incident", "id": 99}"#).unwrap()),
        ..Default::default()
    };
    let t = client(&server).update_ticket("2", &update).await.unwrap();

    assert_eq!(t.id.as_str(), "2");
    assert_eq!(t.status.as_str(), "solved");
}

#[tokio::test]
async fn update_by_group_id_needs_no_group_lookup() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .and(body_json(json!({"ticket": {"group_id": 42}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": ticket(7, &[])})))
        .expect(1)
        .mount(&server)
        .await;

    let update = TicketUpdate {
        queue: Some(Queue {
            id: Some("42".into()),
            name: None,
        }),
        ..Default::default()
    };
    client(&server).update_ticket("7", &update).await.unwrap();
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn unknown_group_name_is_a_validation_error_listing_known_names() {
    let server = MockServer::start().await;
    // Loaded once for the first (successful) lookup; the miss right after does not reload a list
    // younger than a minute (the reload bound is tested in groups.rs with a hand-moved clock).
    mount_groups(&server, 1).await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .and(body_json(json!({"ticket": {"group_id": 360002440594u64}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": ticket(7, &[])})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    c.update_ticket(
        "7",
        &TicketUpdate {
            queue: queue_named("support"),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let err = c
        .update_ticket(
            "7",
            &TicketUpdate {
                queue: queue_named("Sales"),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::Validation);
    assert!(err.message.contains("\"Sales\""), "{}", err.message);
    assert!(
        err.message.contains("\"Billing\"") && err.message.contains("\"Support\""),
        "{}",
        err.message
    );
    assert!(err.message.contains("update_ticket 7"), "{}", err.message);
}

#[tokio::test]
async fn invalid_priority_is_rejected_before_any_request() {
    let server = MockServer::start().await;
    let update = TicketUpdate {
        priority: Some("critical".into()),
        ..Default::default()
    };

    let err = client(&server)
        .update_ticket("7", &update)
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::Validation);
    assert!(
        err.message.contains("\"critical\"") && err.message.contains("urgent"),
        "{}",
        err.message
    );
    assert_eq!(request_count(&server).await, 0);
}

#[tokio::test]
async fn tags_are_added_and_removed_without_clobbering_using_safe_update() {
    let server = MockServer::start().await;
    let mut current = ticket(7, &["vip", "billing", "ai_pending"]);
    current["updated_at"] = json!("2024-05-02T10:00:00Z");
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": current})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .and(body_json(json!({"ticket": {
            "tags": ["vip", "billing", "ai_done"],
            "safe_update": true,
            "updated_stamp": "2024-05-02T10:00:00Z"
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket": ticket(7, &["vip", "billing", "ai_done"]),
            "audit": {"id": 1, "events": []}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let update = TicketUpdate {
        add_tags: rs(&["ai_done"]),
        remove_tags: rs(&["ai_pending"]),
        ..Default::default()
    };
    let t = client(&server).update_ticket("7", &update).await.unwrap();

    assert_eq!(t.tags, rs(&["vip", "billing", "ai_done"]));
}

#[tokio::test]
async fn a_conflict_on_our_own_stamp_is_reread_and_retried() {
    let server = MockServer::start().await;
    let mut first = ticket(7, &["vip"]);
    first["updated_at"] = json!("2024-05-02T10:00:00Z");
    let mut second = ticket(7, &["vip", "agent_tag"]);
    second["updated_at"] = json!("2024-05-02T10:05:00Z");
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": first})))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": second})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .and(body_json(json!({"ticket": {
            "tags": ["vip", "ai_done"], "safe_update": true, "updated_stamp": "2024-05-02T10:00:00Z"
        }})))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "error": "UpdateConflict", "description": "Safe Update prevented the update due to outdated ticket data."
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .and(body_json(json!({"ticket": {
            "tags": ["vip", "agent_tag", "ai_done"], "safe_update": true,
            "updated_stamp": "2024-05-02T10:05:00Z"
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket": ticket(7, &["vip", "agent_tag", "ai_done"])
        })))
        .expect(1)
        .mount(&server)
        .await;

    let update = TicketUpdate {
        add_tags: rs(&["ai_done"]),
        ..Default::default()
    };
    let t = client(&server).update_ticket("7", &update).await.unwrap();

    assert_eq!(
        t.tags,
        rs(&["vip", "agent_tag", "ai_done"]),
        "the agent's tag survived"
    );
}

#[tokio::test]
async fn if_unchanged_since_is_sent_and_409_is_a_conflict_without_retry() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .and(body_json(json!({"ticket": {
            "priority": "low", "safe_update": true, "updated_stamp": "2024-05-02T10:00:00Z"
        }})))
        .respond_with(
            ResponseTemplate::new(409)
                .insert_header("x-request-id", "req-409")
                .set_body_json(json!({"error": "UpdateConflict", "description": "Safe Update prevented the update"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let update = TicketUpdate {
        priority: Some("low".into()),
        if_unchanged_since: Some("2024-05-02T10:00:00Z".into()),
        ..Default::default()
    };
    let err = client(&server)
        .update_ticket("7", &update)
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::Conflict);
    assert_eq!(err.http_status, Some(409));
    assert_eq!(err.request_id, Some("req-409".into()));
    assert!(
        err.message.contains("since 2024-05-02T10:00:00Z"),
        "{}",
        err.message
    );
    assert!(err.message.contains("UpdateConflict"), "{}", err.message);
}

#[tokio::test]
async fn add_note_sends_an_internal_comment() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"ticket": {"comment": {"body": "Routed by otai", "public": false}}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": ticket(7, &[])})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/8"))
        .and(body_json(
            json!({"ticket": {"comment": {"html_body": "<p>Hi</p>", "public": true}}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": ticket(8, &[])})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);

    c.add_note(
        "7",
        &Note {
            body: "Routed by otai".into(),
            html: false,
            public: false,
        },
    )
    .await
    .unwrap();
    c.add_note(
        "8",
        &Note {
            body: "<p>Hi</p>".into(),
            html: true,
            public: true,
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_write_is_not_retried_on_500() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .add_note(
            "7",
            &Note {
                body: "x".into(),
                html: false,
                public: false,
            },
        )
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::Transport);
    assert_eq!(err.http_status, Some(500));
}

#[tokio::test]
async fn a_write_that_times_out_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": ticket(7, &[])}))
                .set_delay(std::time::Duration::from_millis(1500)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = client_with(&server, json!({"timeout": 0.3}))
        .add_note(
            "7",
            &Note {
                body: "x".into(),
                html: false,
                public: false,
            },
        )
        .await
        .unwrap_err();

    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(
        err.message.contains("may or may not have been applied"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("PUT /api/v2/tickets/7"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_write_is_retried_after_429_with_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"error": "TooManyRequests"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": ticket(7, &[])})))
        .expect(1)
        .mount(&server)
        .await;
    let started = std::time::Instant::now();

    client(&server)
        .add_note(
            "7",
            &Note {
                body: "x".into(),
                html: false,
                public: false,
            },
        )
        .await
        .unwrap();

    assert!(
        started.elapsed() >= std::time::Duration::from_millis(950),
        "Retry-After honoured"
    );
}

#[tokio::test]
async fn an_empty_update_writes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ticket": ticket(7, &["vip"])})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let c = client(&server);

    c.update_ticket("7", &TicketUpdate::default())
        .await
        .unwrap();
    // Adding a tag that is already there changes nothing either.
    let t = c
        .update_ticket(
            "7",
            &TicketUpdate {
                add_tags: rs(&["VIP"]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(t.tags, rs(&["vip"]));
}
