//! TicketUpdate: checks, setters in order, not transactional, multiselect values.

use reqwest::Method;
use serde_json::json;

use crate::common::{call, error_code, note, start, three, update, with_login};

#[tokio::test]
async fn an_update_sets_queue_priority_note_and_tags_in_the_real_order() {
    let sim = start(three()).await;
    let before = sim.ticket(1).unwrap();

    let a = update(
        &sim,
        1,
        json!({"Ticket": {"Queue": "Cards", "Priority": "4 high", "State": "open"},
               "Article": note(),
               "DynamicField": [{"Name": "OTAITags", "Value": ["otai_processed", "queue_cards"]},
                                {"Name": "OTAIQueue", "Value": "Cards"}]}),
    )
    .await;

    assert_eq!(a.status, 200, "{a:?}");
    let article_id = a.body["ArticleID"].as_str().unwrap().to_string();
    assert_eq!(a.body["TicketID"], "1", "the path parameter, echoed");
    assert_eq!(a.body["TicketNumber"], before.number);
    let t = sim.ticket(1).unwrap();
    assert_eq!(
        (t.queue.as_str(), t.priority.as_str(), t.state.as_str()),
        ("Cards", "4 high", "open")
    );
    assert_eq!(
        t.dynamic_fields["OTAITags"],
        json!(["otai_processed", "queue_cards"])
    );
    assert_eq!(t.dynamic_fields["OTAIQueue"], "Cards");
    assert_ne!(t.changed, before.changed);
    let arts = sim.articles(1);
    let n = arts.last().unwrap();
    assert_eq!(n.id.to_string(), article_id);
    assert_eq!(
        (
            n.communication_channel.as_str(),
            n.is_visible_for_customer,
            n.sender_type.as_str()
        ),
        ("Internal", false, "agent")
    );
    assert_eq!(n.created_by, "otai-agent");
    let w = &sim.writes(1)[0];
    assert_eq!(
        w.setters,
        [
            "queue",
            "state",
            "priority",
            "article",
            "dynamic_field",
            "dynamic_field"
        ]
    );
    assert!(w.completed);
    assert_eq!(sim.write_count(1), 1);
    assert_eq!(sim.stats().writes, 1);
    let got = call(
        &sim,
        Method::GET,
        "/Ticket/1",
        &with_login(&[("DynamicFields", "1")]),
        None,
    )
    .await;
    assert_eq!(
        got.body["Ticket"][0]["DynamicField"][1],
        json!({"Name": "OTAITags", "Value": ["otai_processed", "queue_cards"]})
    );
}

#[tokio::test]
async fn an_invalid_name_anywhere_changes_nothing() {
    let sim = start(three()).await;
    let before = sim.ticket(1).unwrap();

    let queue = update(
        &sim,
        1,
        json!({"Ticket": {"Queue": "Nope", "Priority": "4 high"}, "Article": note()}),
    )
    .await;
    let priority = update(
        &sim,
        1,
        json!({"Ticket": {"Queue": "Cards", "Priority": "urgent"}}),
    )
    .await;
    let state = update(&sim, 1, json!({"Ticket": {"State": "solved"}})).await;
    let field = update(
        &sim,
        1,
        json!({"Ticket": {"Queue": "Cards"}, "DynamicField": {"Name": "Unknown", "Value": "x"}}),
    )
    .await;
    let note_without_type = update(
        &sim,
        1,
        json!({"Ticket": {"Queue": "Cards"}, "Article": {"Subject": "s", "Body": "b"}}),
    )
    .await;

    assert_eq!(error_code(&queue), "TicketUpdate.InvalidParameter");
    assert_eq!(
        queue.body["Error"]["ErrorMessage"],
        "TicketUpdate: Ticket->QueueID or Ticket->Queue parameter is invalid!"
    );
    assert_eq!(error_code(&priority), "TicketUpdate.InvalidParameter");
    assert_eq!(error_code(&state), "TicketUpdate.InvalidParameter");
    assert_eq!(error_code(&field), "TicketUpdate.InvalidParameter");
    assert_eq!(
        error_code(&note_without_type),
        "TicketUpdate.MissingParameter"
    );
    assert_eq!(sim.ticket(1).unwrap(), before);
    assert_eq!(sim.articles(1).len(), 1);
    assert!(sim.all_writes().is_empty());
}

#[tokio::test]
async fn unknown_tickets_and_missing_data_are_refused() {
    let sim = start(three()).await;

    let unknown = update(&sim, 99, json!({"Ticket": {"Queue": "Cards"}})).await;
    let by_number = {
        let number = sim.ticket(3).unwrap().number;
        call(
            &sim,
            Method::PATCH,
            "/Ticket/0",
            &[],
            Some(json!({
            "UserLogin": "otai-agent", "Password": "secret", "TicketNumber": number,
            "Ticket": {"Queue": "Billing"}})),
        )
        .await
    };
    let no_auth = call(
        &sim,
        Method::PATCH,
        "/Ticket/1",
        &[],
        Some(json!({"Ticket": {"Queue": "Cards"}})),
    )
    .await;
    let bad_item = update(&sim, 1, json!({"DynamicField": ["OTAITags"]})).await;

    assert_eq!(error_code(&unknown), "TicketUpdate.AccessDenied");
    assert_eq!(
        by_number.body["TicketNumber"],
        sim.ticket(3).unwrap().number
    );
    assert_eq!(
        sim.ticket(3).unwrap().queue,
        "Billing",
        "TicketNumber wins over TicketID"
    );
    assert_eq!(error_code(&no_auth), "TicketUpdate.MissingParameter");
    assert_eq!(
        bad_item.status, 500,
        "an item that is no hash fails the operation"
    );
    let fault: serde_json::Value = serde_json::from_str(&bad_item.text).unwrap();
    assert_eq!(
        fault,
        json!({"faultcode": "Server", "faultstring": "TicketUpdate: Ticket->DynamicField parameter is invalid!"})
    );
}

#[tokio::test]
async fn multiselect_fields_hold_lists_and_possible_values_are_enforced() {
    let sim = start(
        three()
            .multiselect_field("Color")
            .possible_values("Color", &["red", "blue"]),
    )
    .await;

    let one = update(
        &sim,
        3,
        json!({"DynamicField": {"Name": "OTAITags", "Value": "single"}}),
    )
    .await;
    let ok = update(
        &sim,
        3,
        json!({"DynamicField": {"Name": "Color", "Value": ["red", "blue"]}}),
    )
    .await;
    let outside = update(
        &sim,
        3,
        json!({"DynamicField": {"Name": "Color", "Value": ["green"]}}),
    )
    .await;
    let cleared = update(
        &sim,
        2,
        json!({"DynamicField": {"Name": "OTAITags", "Value": []}}),
    )
    .await;

    assert_eq!(one.status, 200);
    assert!(ok.body.get("Error").is_none(), "{ok:?}");
    assert_eq!(error_code(&outside), "TicketUpdate.InvalidParameter");
    assert_eq!(cleared.status, 200);
    let t = sim.ticket(3).unwrap();
    assert_eq!(t.dynamic_fields["OTAITags"], json!(["single"]));
    assert_eq!(t.dynamic_fields["Color"], json!(["red", "blue"]));
    assert!(!sim
        .ticket(2)
        .unwrap()
        .dynamic_fields
        .contains_key("OTAITags"));
}

#[tokio::test]
async fn an_update_with_nothing_new_runs_no_setter_and_keeps_changed() {
    let sim = start(three()).await;
    let before = sim.ticket(2).unwrap();

    let a = update(
        &sim,
        2,
        json!({"Ticket": {"Queue": "Billing", "State": "open", "Priority": "4 high"}}),
    )
    .await;

    assert_eq!(
        a.body,
        json!({"TicketID": "2", "TicketNumber": before.number})
    );
    assert_eq!(sim.ticket(2).unwrap().changed, before.changed);
    assert!(sim.writes(2)[0].setters.is_empty());
}

#[tokio::test]
async fn the_otrs5_article_model_writes_and_shows_article_types() {
    let sim = start(
        three()
            .flavour(otai_otobo_sim::Flavour::Otrs6)
            .article_model(otai_otobo_sim::ArticleModel::ArticleType),
    )
    .await;

    let a = update(&sim, 1, json!({"Article": {"ArticleType": "note-internal", "Subject": "otai", "Body": "b", "ContentType": "text/plain; charset=utf8"}})).await;
    let got = call(
        &sim,
        Method::GET,
        "/Ticket/1",
        &with_login(&[
            ("AllArticles", "1"),
            ("ArticleOrder", "DESC"),
            ("ArticleLimit", "1"),
        ]),
        None,
    )
    .await;

    assert_eq!(a.status, 200);
    let art = &got.body["Ticket"][0]["Article"][0];
    assert_eq!(
        (art["ArticleType"].clone(), art["ArticleTypeID"].clone()),
        (json!("note-internal"), json!("9"))
    );
    assert!(art.get("IsVisibleForCustomer").is_none());
    assert!(!sim.articles(1)[1].is_visible_for_customer);
}
