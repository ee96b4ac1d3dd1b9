//! The demo help desk and seeds added while running.

use otai_otobo_sim::Simulator;
use reqwest::Method;
use serde_json::json;

use crate::common::{call, search, start, with_login, DEMO};

#[tokio::test]
async fn the_demo_seed_serves_200_new_tickets_in_their_queues() {
    let sim = start(
        Simulator::builder()
            .multiselect_field("OTAITags")
            .seed_file(DEMO),
    )
    .await;

    let tickets = sim.tickets();
    let queues: Vec<String> = sim.queues().into_iter().map(|q| q.1).collect();
    let unprocessed = search(&sim, &[("StateType", "new"), ("Limit", "1000")]).await;
    let first = call(
        &sim,
        Method::GET,
        "/Ticket/9000000001",
        &with_login(&[("AllArticles", "1")]),
        None,
    )
    .await;

    assert_eq!(tickets.len(), 200);
    for q in [
        "Postmaster",
        "Raw",
        "Junk",
        "Misc",
        "Inbox",
        "Cards",
        "Top-ups",
        "Account security",
    ] {
        assert!(queues.contains(&q.to_string()), "{q} in {queues:?}");
    }
    assert_eq!(unprocessed.len(), 200);
    assert!(tickets
        .iter()
        .all(|t| t.state == "new" && t.priority == "3 normal"));
    let t = &first.body["Ticket"][0];
    assert_eq!(t["Title"], "Tell me why my transfer failed");
    assert_eq!(t["Queue"], "Raw", "a ticket without a group lands in Raw");
    assert_eq!(t["Created"], "2025-06-02 08:05:07");
    assert_eq!(t["CustomerUserID"], "customer19@example.com");
    let a = &t["Article"][0];
    assert_eq!(
        (a["Body"].clone(), a["SenderType"].clone()),
        (json!("Tell me why my transfer failed!"), json!("customer"))
    );
    assert_eq!(
        (
            a["CommunicationChannelID"].clone(),
            a["IsVisibleForCustomer"].clone()
        ),
        (json!("2"), json!("1"))
    );
    assert_eq!(sim.ticket(9000000002).unwrap().queue, "Top-ups");
    let limited = search(&sim, &[]).await;
    assert_eq!(limited.len(), 200, "SearchLimit 500 covers the demo");
}

#[tokio::test]
async fn tickets_can_be_added_while_running_and_reset_forgets_them() {
    let sim = start(Simulator::builder()).await;

    let ids = sim
        .add_tickets(vec![
            json!({"Title": "Card lost", "Body": "lost it", "Queue": "Cards"}),
        ])
        .unwrap();
    let admin = reqwest::Client::new()
        .post(format!("{}/__sim/tickets", sim.server_url()))
        .json(&json!({"subject": "From Zendesk", "description": "hi", "priority": "urgent"}))
        .send()
        .await
        .unwrap();
    let bad = sim.add_tickets(vec![json!({"Title": "x", "State": "solved"})]);

    assert_eq!(ids, [1]);
    assert_eq!(admin.status(), 201);
    assert_eq!(sim.ticket(2).unwrap().priority, "5 very high");
    assert_eq!(sim.ticket(1).unwrap().queue, "Cards");
    assert!(bad.is_err());
    sim.reset();
    assert!(sim.tickets().is_empty());
}
