//! The two-step write (note with its plan, then the fields), the guard before it, and the
//! resumption of a write interrupted between steps or between TicketUpdate's setters.

use otai_plugin_sdk::{
    BatchUpdate, CustomField, ErrorKind, Note, Queue, TicketSystemAdapter, TicketUpdate,
};
use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::common::*;

const CHANGED: &str = "2026-12-01 09:30:00";

fn classified() -> TicketUpdate {
    TicketUpdate {
        queue: Some(Queue {
            id: None,
            name: Some("Cards".into()),
        }),
        priority: Some("urgent".into()),
        add_tags: vec!["otai_intent__card_arrival".into(), "otai_processed".into()],
        custom_fields: vec![CustomField {
            id: "OTAIConfidence".into(),
            value: json!("0.93"),
        }],
        note: Some(Note {
            body: "otai routed this ticket to Cards.".into(),
            ..Note::default()
        }),
        if_unchanged_since: Some("2026-12-01T09:30:00Z".into()),
        ..TicketUpdate::default()
    }
}

async fn mount(mock: &MockServer, ticket: Value, update_status: u16, update_body: Value) {
    mount_session(mock).await;
    Mock::given(method("GET"))
        .and(path(format!("{WS}/Ticket/7")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Ticket": [ticket]})))
        .mount(mock)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{WS}/Ticket/7")))
        .respond_with(ResponseTemplate::new(update_status).set_body_json(update_body))
        .mount(mock)
        .await;
}

fn ok() -> Value {
    json!({"TicketID": "7", "TicketNumber": "2026120110000007"})
}

async fn patches(mock: &MockServer) -> Vec<Value> {
    calls(mock, "PATCH", &format!("{WS}/Ticket/7")).await
}

#[tokio::test]
async fn the_note_with_its_plan_goes_first_then_the_fields_with_the_tags_last() {
    let mock = MockServer::start().await;
    mount(
        &mock,
        gi_ticket(7, "Raw", json!(["vip"]), CHANGED, &[]),
        200,
        ok(),
    )
    .await;
    let after = desk(&mock, json!({}))
        .update_ticket("7", &classified())
        .await
        .unwrap();
    assert_eq!(after.queue.unwrap().name.as_deref(), Some("Cards"));
    assert_eq!(
        after.tags,
        ["vip", "otai_intent__card_arrival", "otai_processed"]
    );

    let sent = patches(&mock).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    let note = &sent[0];
    assert_eq!(note["SessionID"], SESSION);
    assert!(
        note.get("Ticket").is_none() && note.get("DynamicField").is_none(),
        "{note}"
    );
    let article = &note["Article"];
    assert_eq!(article["CommunicationChannel"], "Internal");
    assert_eq!(article["IsVisibleForCustomer"], 0);
    assert_eq!(article["SenderType"], "agent");
    let body = article["Body"].as_str().unwrap();
    assert!(
        body.starts_with("otai routed this ticket to Cards.\n\n[otai] plan: {"),
        "{body}"
    );
    assert!(body.contains("\"priority\":\"5 very high\""), "{body}");
    let fields = &sent[1];
    assert_eq!(
        fields["Ticket"],
        json!({"Queue": "Cards", "Priority": "5 very high"})
    );
    assert_eq!(
        fields["DynamicField"],
        json!([
            {"Name": "OTAIConfidence", "Value": "0.93"},
            {"Name": "OTAITags", "Value": ["vip", "otai_intent__card_arrival", "otai_processed"]}
        ])
    );
    assert!(fields.get("Article").is_none());
}

#[tokio::test]
async fn a_ticket_changed_since_it_was_read_is_a_conflict() {
    let mock = MockServer::start().await;
    mount(
        &mock,
        gi_ticket(7, "Raw", json!(null), "2026-12-01 09:31:00", &[]),
        200,
        ok(),
    )
    .await;
    let e = desk(&mock, json!({}))
        .update_ticket("7", &classified())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(patches(&mock).await.is_empty());
}

fn otai_note(at: &str) -> Value {
    let plan = json!({"queue": "Cards", "priority": "5 very high",
                      "tags": ["otai_intent__card_arrival", "otai_processed"]});
    json!({"ArticleID": "71", "Subject": "otai", "SenderType": "agent", "IsVisibleForCustomer": "0",
           "CreateBy": "3", "CreateTime": at,
           "Body": format!("otai routed this ticket to Cards.\n\n[otai] plan: {plan}")})
}

#[tokio::test]
async fn a_write_stopped_between_setters_is_finished_from_the_note_and_not_taken_for_an_agents() {
    let mock = MockServer::start().await;
    // The queue setter ran, then the system failed: the ticket is in Cards, no tags.
    let ticket = gi_ticket(
        7,
        "Cards",
        json!(null),
        "2026-12-01 09:40:01",
        &[otai_note("2026-12-01 09:40:00")],
    );
    mount(&mock, ticket, 200, ok()).await;
    // The next pass sees a ticket outside the inbox and asks for the routed tag only.
    let routed = TicketUpdate {
        add_tags: vec!["otai_routed".into()],
        if_unchanged_since: Some("2026-12-01T09:40:01Z".into()),
        ..TicketUpdate::default()
    };
    let after = desk(&mock, json!({}))
        .update_ticket("7", &routed)
        .await
        .unwrap();
    assert_eq!(after.tags, ["otai_intent__card_arrival", "otai_processed"]);
    let sent = patches(&mock).await;
    assert_eq!(sent.len(), 1, "only the fields, no second note: {sent:?}");
    assert!(sent[0].get("Article").is_none());
    assert_eq!(
        sent[0]["Ticket"],
        json!({"Queue": "Cards", "Priority": "5 very high"})
    );
}

#[tokio::test]
async fn a_failed_second_step_says_the_next_pass_finishes_it() {
    let mock = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("{WS}/Ticket/7")))
        .and(wiremock::matchers::body_partial_json(json!({"Ticket": {"Queue": "Cards"}})))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({"faultcode": "Server", "faultstring": "Ticket queue could not be updated, please contact system administrator!"}),
        ))
        .with_priority(1)
        .mount(&mock)
        .await;
    mount(
        &mock,
        gi_ticket(7, "Raw", json!(null), CHANGED, &[]),
        200,
        ok(),
    )
    .await;
    let e = desk(&mock, json!({}))
        .update_ticket("7", &classified())
        .await
        .unwrap_err();
    for part in [
        "update_ticket 7",
        "Ticket queue could not be updated",
        "the next pass finishes them from the note",
    ] {
        assert!(e.message.contains(part), "{part}: {}", e.message);
    }
}

#[tokio::test]
async fn a_plan_the_system_refuses_gives_way_to_the_failed_mark() {
    let mock = MockServer::start().await;
    let ticket = gi_ticket(
        7,
        "Raw",
        json!(null),
        "2026-12-01 09:40:00",
        &[otai_note("2026-12-01 09:40:00")],
    );
    mount_session(&mock).await;
    Mock::given(method("GET"))
        .and(path(format!("{WS}/Ticket/7")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Ticket": [ticket]})))
        .mount(&mock)
        .await;
    // Cards does not exist: every write naming it is refused; the mark goes through.
    Mock::given(method("PATCH"))
        .and(path(format!("{WS}/Ticket/7")))
        .and(wiremock::matchers::body_partial_json(json!({"Ticket": {"Queue": "Cards"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Error": {
            "ErrorCode": "TicketUpdate.InvalidParameter",
            "ErrorMessage": "TicketUpdate: Ticket->QueueID or Ticket->Queue parameter is invalid!"}})))
        .with_priority(1)
        .mount(&mock)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{WS}/Ticket/7")))
        .respond_with(ResponseTemplate::new(200).set_body_json(ok()))
        .mount(&mock)
        .await;
    let failed = TicketUpdate {
        add_tags: vec!["otai_failed".into()],
        note: Some(Note {
            body: "otai could not write its classification after 3 attempts".into(),
            ..Note::default()
        }),
        ..TicketUpdate::default()
    };
    let after = desk(&mock, json!({}))
        .update_ticket("7", &failed)
        .await
        .unwrap();
    assert_eq!(after.tags, ["otai_failed"]);
    let sent = patches(&mock).await;
    assert_eq!(
        sent.len(),
        3,
        "the refused plan, the failed note, its tag: {sent:?}"
    );
}

#[tokio::test]
async fn a_batch_reads_all_its_tickets_in_one_ticket_get() {
    let mock = MockServer::start().await;
    mount_session(&mock).await;
    Mock::given(method("GET"))
        .and(path(format!("{WS}/Ticket/7,8")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Ticket": [
            gi_ticket(7, "Raw", json!(null), CHANGED, &[]), gi_ticket(8, "Raw", json!(null), CHANGED, &[])
        ]})))
        .mount(&mock)
        .await;
    for id in [7, 8] {
        Mock::given(method("PATCH"))
            .and(path(format!("{WS}/Ticket/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(ok()))
            .mount(&mock)
            .await;
    }
    let batch: Vec<BatchUpdate> = ["7", "8"]
        .iter()
        .map(|id| BatchUpdate {
            id: id.to_string(),
            update: classified(),
            current_tags: None,
        })
        .collect();
    let outcomes = desk(&mock, json!({})).update_tickets(&batch).await.unwrap();
    assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
    assert_eq!(
        calls(&mock, "GET", &format!("{WS}/Ticket/7,8")).await.len(),
        1
    );
}
