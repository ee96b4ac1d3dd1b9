//! Faults: the kit's reach the routes; stop_mid_write, conflict and agent_edit_after_read are
//! the simulator's.

use otai_otobo_sim::{Fault, FaultRule, Faults};
use reqwest::Method;
use serde_json::json;

use crate::common::{call, note, search, start, three, update, with_login};

fn stop_after(step: &str) -> Faults {
    Faults::none().rule(
        FaultRule::always(Fault::StopMidWrite {
            after: Some(step.into()),
        })
        .method("PATCH")
        .next(1),
    )
}

fn full_update() -> serde_json::Value {
    json!({"Ticket": {"Queue": "Cards", "Priority": "4 high"},
           "Article": note(),
           "DynamicField": {"Name": "OTAITags", "Value": ["otai_processed"]}})
}

#[tokio::test]
async fn stop_mid_write_after_queue_leaves_the_queue_changed_and_no_article() {
    let sim = start(three().faults(stop_after("queue"))).await;

    let stopped = update(&sim, 1, full_update()).await;
    let t = sim.ticket(1).unwrap();
    let articles = sim.articles(1).len();
    let retried = update(&sim, 1, full_update()).await;

    assert_eq!(stopped.status, 500);
    assert!(
        stopped.content_type.starts_with("text/plain"),
        "{stopped:?}"
    );
    let fault: serde_json::Value = serde_json::from_str(&stopped.text).unwrap();
    assert_eq!(
        fault,
        json!({"faultcode": "Server",
               "faultstring": "Ticket priority could not be updated, please contact system administrator!"})
    );
    assert_eq!(
        (t.queue.as_str(), t.priority.as_str()),
        ("Cards", "3 normal")
    );
    assert!(!t.dynamic_fields.contains_key("OTAITags"));
    assert_eq!(articles, 1, "only the customer's article");
    let w = &sim.writes(1)[0];
    assert_eq!(
        (w.setters.clone(), w.completed),
        (vec!["queue".to_string()], false)
    );
    assert_eq!(retried.status, 200, "next: 1 fired once");
    assert_eq!(
        sim.writes(1)[1].setters,
        ["priority", "article", "dynamic_field"],
        "the queue is already set"
    );
    assert_eq!(sim.articles(1).len(), 2);
    assert_eq!(sim.stats().writes, 1);
    assert_eq!(sim.write_count(1), 2);
}

#[tokio::test]
async fn stop_mid_write_after_the_article_leaves_the_tags_unset() {
    let sim = start(three().faults(stop_after("article"))).await;

    let stopped = update(&sim, 1, full_update()).await;

    assert_eq!(stopped.status, 500);
    assert!(
        stopped
            .text
            .contains("Dynamic Field OTAITags could not be set"),
        "{}",
        stopped.text
    );
    assert_eq!(sim.articles(1).len(), 2);
    assert!(!sim
        .ticket(1)
        .unwrap()
        .dynamic_fields
        .contains_key("OTAITags"));
}

#[tokio::test]
async fn stop_mid_write_does_not_touch_reads() {
    let sim = start(
        three().faults(Faults::none().rule(FaultRule::always(Fault::StopMidWrite { after: None }))),
    )
    .await;

    let found = search(&sim, &[]).await;
    let stopped = update(&sim, 1, json!({"Ticket": {"Queue": "Cards"}})).await;

    assert_eq!(found.len(), 3);
    assert_eq!(stopped.status, 500);
    assert_eq!(sim.ticket(1).unwrap().queue, "Raw");
}

#[tokio::test]
async fn kit_faults_reach_the_routes_and_are_counted_per_operation() {
    let sim = start(three()).await;
    sim.set_faults(
        Faults::none()
            .rule(
                FaultRule::always(Fault::Error {
                    status: 503,
                    retry_after: None,
                })
                .method("GET")
                .path("*/Ticket/*")
                .next(1),
            )
            .rule(FaultRule::always(Fault::Drop).method("PATCH").next(1)),
    );

    let unavailable = call(&sim, Method::GET, "/Ticket/1", &with_login(&[]), None).await;
    let after = call(&sim, Method::GET, "/Ticket/1", &with_login(&[]), None).await;
    let dropped = reqwest::Client::new()
        .patch(format!("{}/Ticket/1", sim.base_url()))
        .json(
            &json!({"UserLogin": "otai-agent", "Password": "secret", "Ticket": {"Queue": "Cards"}}),
        )
        .send()
        .await;

    assert_eq!(
        (unavailable.status, unavailable.text.as_str()),
        (503, "Service Unavailable")
    );
    assert_eq!(after.status, 200);
    assert!(dropped.is_err());
    assert_eq!(
        sim.ticket(1).unwrap().queue,
        "Raw",
        "a dropped request is not processed"
    );
    let st = sim.stats();
    assert_eq!((st.faults_injected, st.dropped_connections), (2, 1));
    assert_eq!(st.by_operation["TicketGet"], 2);
    assert_eq!(st.by_operation["TicketUpdate"], 1);
}

#[tokio::test]
async fn conflict_edits_the_ticket_just_before_the_write_which_still_wins() {
    let sim = start(three()).await;
    let before = sim.ticket(1).unwrap();
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Conflict {
                tag: Some("agent_was_here".into()),
            })
            .method("PATCH")
            .next(1),
        ),
    );

    let a = update(&sim, 1, json!({"Ticket": {"Priority": "4 high"}})).await;

    assert_eq!(a.status, 200);
    let t = sim.ticket(1).unwrap();
    assert_ne!(t.changed, before.changed);
    assert_eq!(t.dynamic_fields["OTAITags"], json!(["agent_was_here"]));
    assert_eq!(t.priority, "4 high");
    let by: Vec<String> = sim.writes(1).into_iter().map(|w| w.by).collect();
    assert_eq!(by, ["agent", "api"]);
    assert_eq!(sim.write_count(1), 1);
}

#[tokio::test]
async fn agent_edit_after_read_edits_every_ticket_a_read_showed() {
    let sim = start(three()).await;
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::AgentEditAfterRead { tag: None })
                .method("GET")
                .next(1),
        ),
    );

    let found = search(&sim, &[("Queues", "Raw"), ("Queues", "Cards")]).await;
    let later = call(&sim, Method::GET, "/Ticket/1,3", &with_login(&[]), None).await;

    assert_eq!(found, ["3", "1"]);
    for id in [1, 3] {
        assert_eq!(
            sim.ticket(id).unwrap().dynamic_fields["OTAITags"],
            json!(["sim_agent_edit"])
        );
    }
    assert!(sim.ticket(2).unwrap().dynamic_fields["OTAITags"] == json!(["vip"]));
    assert_eq!(later.status, 200);
    assert_eq!(
        sim.all_writes().len(),
        2,
        "next: 1: the second read edits nothing"
    );
}

#[tokio::test]
async fn truncated_and_malformed_bodies_and_the_admin_fault_route() {
    let sim = start(three()).await;
    let client = reqwest::Client::new();
    let put = client
        .put(format!("{}/__sim/faults", sim.server_url()))
        .body(r#"{"rules": [{"fault": {"kind": "stop_mid_write", "after": "queue"}, "method": "PATCH"},
                           {"fault": {"kind": "malformed"}, "method": "GET", "next": 1}]}"#)
        .send()
        .await
        .unwrap();

    let broken = call(&sim, Method::GET, "/Ticket/1", &with_login(&[]), None).await;
    let stopped = update(
        &sim,
        1,
        json!({"Ticket": {"Queue": "Cards", "State": "open"}}),
    )
    .await;

    assert_eq!(put.status(), 200);
    assert_eq!(broken.status, 200);
    assert!(broken.body.is_null(), "not JSON: {}", broken.text);
    assert_eq!(stopped.status, 500);
    let t = sim.ticket(1).unwrap();
    assert_eq!((t.queue.as_str(), t.state.as_str()), ("Cards", "new"));
}
