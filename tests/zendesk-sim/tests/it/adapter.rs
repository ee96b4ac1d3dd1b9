//! The real adapter (`otai_zendesk::ZendeskClient`) against the simulator: proves the simulator
//! speaks what the adapter speaks, and that the adapter copes with the simulator's faults.

use std::time::Duration;

use otai_plugin_sdk::{BatchUpdate, ErrorKind, Note, Queue, SearchQuery, TicketUpdate};
use otai_zendesk::{Logger, ZendeskClient};
use otai_zendesk_sim::{Fault, FaultRule, Faults, SimHandle, DEFAULT_EMAIL, DEFAULT_TOKEN};
use serde_json::json;

use crate::common::*;

fn rs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| String::from(*s)).collect()
}

fn client(sim: &SimHandle) -> ZendeskClient {
    let params = json!({"base_url": sim.base_url(), "email": DEFAULT_EMAIL, "api_token": DEFAULT_TOKEN, "max_retry_wait": 5});
    let mut c = ZendeskClient::from_params_json(&params.to_string(), Logger::silent()).unwrap();
    c.set_job_poll_waits(Duration::from_millis(10), Duration::from_millis(50));
    c
}

fn group_id(sim: &SimHandle, ticket: u64) -> u64 {
    sim.ticket(ticket).unwrap().group_id.unwrap()
}

fn note(body: &str) -> Option<Note> {
    Some(Note {
        body: body.into(),
        html: false,
        public: false,
    })
}

fn queue(name: &str) -> Option<Queue> {
    Some(Queue {
        id: None,
        name: Some(name.into()),
    })
}

#[tokio::test]
async fn adapter_finds_with_statuses_queue_and_tags_none() {
    let sim = sim().await;
    let c = client(&sim);
    assert!(c.check_connection().await.unwrap().contains(DEFAULT_EMAIL));
    let found = c
        .find_tickets(&SearchQuery {
            statuses: rs(&["new", "open"]),
            tags_none: rs(&["otai_done"]),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut ids: Vec<String> = found.iter().map(|t| t.id.to_string()).collect();
    ids.sort();
    assert_eq!(ids, vec![BIG.to_string(), "6".to_string()]);
    let billing = c
        .find_tickets(&SearchQuery {
            queue: Some("Billing".into()),
            tags_all: rs(&["vip"]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(billing.len(), 1);
    assert_eq!(billing[0].id.as_str(), BIG.to_string());
    assert_eq!(
        billing[0]
            .queue
            .as_ref()
            .unwrap()
            .name
            .as_ref()
            .unwrap()
            .as_str(),
        "Billing"
    );
    let since = c
        .find_tickets(&SearchQuery {
            updated_since: Some("2024-05-04T10:00:00Z".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(since.len(), 3, "at or after: 3, 5, 6");
    let first = c
        .find_first_ticket(&SearchQuery {
            statuses: rs(&["pending"]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.unwrap().id.as_str(), "3");
    assert!(c.get_ticket("999").await.unwrap().is_none());
}

#[tokio::test]
async fn adapter_update_writes_tags_group_priority_and_a_private_note() {
    let sim = sim().await;
    let c = client(&sim);
    let t = c
        .update_ticket(
            "3",
            &TicketUpdate {
                queue: queue("Billing"),
                priority: Some("urgent".into()),
                add_tags: rs(&["ai_routed"]),
                remove_tags: rs(&["login"]),
                note: note("otai: billing (0.91)"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(t.priority.as_ref().unwrap().as_str(), "urgent");
    let s = sim.ticket(3).unwrap();
    assert_eq!(s.group_id, Some(group_id(&sim, BIG)));
    assert_eq!(s.priority.as_deref(), Some("urgent"));
    assert_eq!(s.tags, vec!["vip", "ai_routed"]);
    let last = sim.comments(3).pop().unwrap();
    assert_eq!(
        (last.body.as_str(), last.public),
        ("otai: billing (0.91)", false)
    );
    let w = sim.writes(3);
    assert_eq!(w.len(), 1, "one PUT carries everything");
    assert!(
        w[0].safe_update,
        "a tag write is guarded by the stamp it read"
    );

    c.add_note(
        "2",
        &Note {
            body: "<b>hi</b>".into(),
            html: true,
            public: true,
        },
    )
    .await
    .unwrap();
    let n = sim.comments(2).pop().unwrap();
    assert!(n.public);
    assert_eq!(n.body, "hi");
    let e = c
        .update_ticket(
            "4",
            &TicketUpdate {
                priority: Some("low".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::Validation,
        "closed ticket: {}",
        e.message
    );
}

#[tokio::test]
async fn adapter_batch_update_goes_through_update_many_jobs() {
    let sim = sim().await;
    let c = client(&sim);
    let item = |id: &str, update: TicketUpdate| BatchUpdate {
        id: id.into(),
        update,
        current_tags: None,
    };
    let out = c
        .update_tickets(&[
            item(
                "2",
                TicketUpdate {
                    priority: Some("low".into()),
                    add_tags: rs(&["ai"]),
                    ..Default::default()
                },
            ),
            item(
                "6",
                TicketUpdate {
                    queue: queue("Support"),
                    note: note("moved"),
                    ..Default::default()
                },
            ),
            item(
                &BIG.to_string(),
                TicketUpdate {
                    remove_tags: rs(&["vip"]),
                    ..Default::default()
                },
            ),
            item(
                "4",
                TicketUpdate {
                    priority: Some("low".into()),
                    ..Default::default()
                },
            ),
        ])
        .await
        .unwrap();
    let ok: Vec<bool> = out.iter().map(|o| matches!(o.result, Ok(()))).collect();
    assert_eq!(ok, vec![true, true, true, false]);
    if let Err(e) = &out[3].result {
        assert_eq!(e.kind, ErrorKind::Validation, "{}", e.message);
    }
    assert_eq!(
        sim.ticket(2).unwrap().tags,
        vec!["hardware", "otai_done", "ai"]
    );
    assert_eq!(sim.ticket(2).unwrap().priority.as_deref(), Some("low"));
    assert_eq!(sim.ticket(6).unwrap().group_id, Some(group_id(&sim, 3)));
    assert!(sim.ticket(BIG).unwrap().tags.is_empty());
    let w = sim.all_writes();
    assert_eq!(w.len(), 3);
    assert!(w.iter().all(|w| w.via_update_many));
    assert_eq!(sim.stats().jobs_completed, 1);
}

#[tokio::test]
async fn adapter_survives_a_concurrent_edit_and_a_503() {
    let sim = sim().await;
    let c = client(&sim);
    // An agent edits ticket 3 just as the adapter writes its tags: 409, re-read, retry.
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Conflict {
                tag: Some("agent_tag".into()),
            })
            .method("PUT")
            .next(1),
        ),
    );
    c.update_ticket(
        "3",
        &TicketUpdate {
            add_tags: rs(&["ai"]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let tags = sim.ticket(3).unwrap().tags;
    assert!(
        tags.contains(&"agent_tag".to_string()) && tags.contains(&"ai".to_string()),
        "{tags:?}"
    );
    assert_eq!(sim.stats().by_status.get(&409), Some(&1));

    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Error {
                status: 503,
                retry_after: Some(0),
            })
            .path("/api/v2/search")
            .next(1),
        ),
    );
    let found = c
        .find_tickets(&SearchQuery {
            statuses: rs(&["pending"]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(sim.stats().by_status.get(&503), Some(&1));
    assert!(c.request_stats().rate_limited >= 1);
}
