//! Each fault type, targeted and deterministic, set through the handle and the admin API.

use std::time::Duration;

use otai_zendesk_sim::{Fault, FaultRule, Faults, JobFaults};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn error_faults_hit_only_their_target_then_stop() {
    let sim = sim().await;
    sim.set_faults(
        Faults::none()
            .rule(
                FaultRule::always(Fault::Error {
                    status: 503,
                    retry_after: Some(7),
                })
                .method("GET")
                .path("/api/v2/search*")
                .next(1),
            )
            .rule(
                FaultRule::always(Fault::Error {
                    status: 502,
                    retry_after: None,
                })
                .method("PUT")
                .next(1),
            ),
    );
    assert_eq!(
        get(&sim, "/api/v2/tickets/2").await.status,
        200,
        "not targeted"
    );
    let a = get(&sim, "/api/v2/search?query=status%3Aopen").await;
    assert_eq!((a.status, a.header("retry-after")), (503, Some("7")));
    assert_eq!(
        get(&sim, "/api/v2/search?query=status%3Aopen").await.status,
        200,
        "next: 1 is spent"
    );
    let p = call(
        &sim,
        "PUT",
        "/api/v2/tickets/2",
        Some(json!({"ticket": {"priority": "low"}})),
    )
    .await;
    assert_eq!(p.status, 502);
    assert_eq!(sim.write_count(2), 0, "a faulted request is not processed");
    assert_eq!(sim.stats().faults_injected, 2);
    assert_eq!(sim.faults().rules[0].next, Some(0));
}

#[tokio::test]
async fn dropped_connections_truncated_and_malformed_bodies() {
    let sim = sim().await;
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Drop)
                .path("/api/v2/tickets/2")
                .next(1),
        ),
    );
    let err = reqwest::Client::new()
        .get(format!("{}/api/v2/tickets/2", sim.base_url()))
        .header("authorization", basic())
        .send()
        .await;
    assert!(err.is_err(), "the connection is closed without an answer");
    assert_eq!(get(&sim, "/api/v2/tickets/2").await.status, 200);
    assert_eq!(sim.stats().dropped_connections, 1);

    // Set through the admin API this time.
    let f = Faults::none()
        .rule(
            FaultRule::always(Fault::Truncate)
                .path("/api/v2/tickets/3")
                .next(1),
        )
        .rule(
            FaultRule::always(Fault::Malformed)
                .path("/api/v2/tickets/5")
                .next(1),
        );
    assert_eq!(
        call(
            &sim,
            "PUT",
            "/__sim/faults",
            Some(serde_json::to_value(&f).unwrap())
        )
        .await
        .status,
        200
    );
    let t = get(&sim, "/api/v2/tickets/3").await;
    assert_eq!(t.status, 200);
    let text = t.body.as_str().expect("not JSON");
    assert!(text.starts_with("{\"ticket\":"));
    let m = get(&sim, "/api/v2/tickets/5").await;
    assert!(m.body.as_str().unwrap().contains("<html>"));
    assert!(get(&sim, "/api/v2/tickets/5").await.body.is_object());
}

#[tokio::test]
async fn conflict_fault_makes_a_safe_update_fail_and_records_the_agent() {
    let sim = sim().await;
    let stamp = get(&sim, "/api/v2/tickets/3").await.body["ticket"]["updated_at"].clone();
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Conflict {
                tag: Some("agent_was_here".into()),
            })
            .method("PUT")
            .next(1),
        ),
    );
    let a = call(
        &sim,
        "PUT",
        "/api/v2/tickets/3",
        Some(json!({"ticket": {"tags": ["ai"], "safe_update": true, "updated_stamp": stamp}})),
    )
    .await;
    assert_eq!(a.status, 409);
    let t = sim.ticket(3).unwrap();
    assert!(t.tags.contains(&"agent_was_here".to_string()));
    let w = sim.writes(3);
    assert_eq!((w.len(), w[0].endpoint.as_str()), (1, "agent"));
}

#[tokio::test]
async fn job_faults_fail_items_and_stall() {
    let sim = sim().await;
    sim.set_faults(Faults {
        jobs: JobFaults {
            fail_ids: vec![3],
            ..JobFaults::default()
        },
        ..Faults::none()
    });
    let a = call(
        &sim,
        "PUT",
        "/api/v2/tickets/update_many",
        Some(json!({"tickets": [{"id": 2, "priority": "low"}, {"id": 3, "priority": "low"}]})),
    )
    .await;
    let done = wait_job(&sim, a.body["job_status"]["id"].as_str().unwrap()).await;
    let r = done["results"].as_array().unwrap();
    assert_eq!(r.iter().filter(|x| x["success"] == false).count(), 1);
    assert_eq!(sim.write_count(3), 0);
    assert_eq!(sim.write_count(2), 1);

    sim.set_faults(Faults {
        jobs: JobFaults {
            stall: true,
            ..JobFaults::default()
        },
        ..Faults::none()
    });
    let a = call(
        &sim,
        "PUT",
        "/api/v2/tickets/update_many",
        Some(json!({"tickets": [{"id": 6, "priority": "low"}]})),
    )
    .await;
    let id = a.body["job_status"]["id"].as_str().unwrap().to_string();
    // Wait until it is working, then give it ample time to (not) complete.
    for _ in 0..250 {
        if sim.job(&id).unwrap()["status"] == "working" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sim.job(&id).unwrap()["status"], "working");
    assert_eq!(sim.write_count(6), 0);
    sim.set_faults(Faults::none());
    assert_eq!(wait_job(&sim, &id).await["status"], "completed");
    assert_eq!(sim.write_count(6), 1);
}

#[tokio::test]
async fn seeded_probability_is_reproducible() {
    let run = || async {
        let sim = builder()
            .faults(Faults {
                seed: 42,
                ..Faults::none().rule(
                    FaultRule::always(Fault::Error {
                        status: 500,
                        retry_after: None,
                    })
                    .probability(0.5),
                )
            })
            .start()
            .await
            .unwrap();
        let mut out = Vec::new();
        for _ in 0..20 {
            out.push(get(&sim, "/api/v2/tickets/2").await.status);
        }
        out
    };
    let a = run().await;
    assert_eq!(a, run().await);
    assert!(a.contains(&500) && a.contains(&200));
}

#[test]
fn blocking_helper_serves_a_synchronous_test() {
    use std::io::{Read, Write};
    let sim = builder().start_blocking().unwrap();
    let mut s = std::net::TcpStream::connect(sim.addr()).unwrap();
    write!(
        s,
        "GET /api/v2/tickets/2.json HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        basic()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"id\":2"));
    assert_eq!(sim.stats().requests, 1);
}

#[tokio::test]
async fn conflict_fault_on_update_many_fails_the_guarded_items() {
    let sim = sim().await;
    let stamp2 = sim.ticket_json(2).unwrap()["updated_at"].clone();
    let stamp3 = sim.ticket_json(3).unwrap()["updated_at"].clone();
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Conflict { tag: None })
                .path("/api/v2/tickets/update_many")
                .next(1),
        ),
    );
    let a = call(
        &sim,
        "PUT",
        "/api/v2/tickets/update_many",
        Some(json!({"tickets": [
            {"id": 2, "tags": ["ai"], "safe_update": true, "updated_stamp": stamp2},
            {"id": 3, "priority": "low"}
        ]})),
    )
    .await;
    let done = wait_job(&sim, a.body["job_status"]["id"].as_str().unwrap()).await;
    let r = done["results"].as_array().unwrap();
    let of = |id: u64| r.iter().find(|x| x["id"] == id).unwrap();
    assert_eq!(of(2)["error"], "UpdateConflict");
    assert_eq!(of(3)["success"], true, "an unguarded item still applies");
    assert!(sim
        .ticket(2)
        .unwrap()
        .tags
        .contains(&"sim_agent_edit".to_string()));
    assert_ne!(sim.ticket_json(3).unwrap()["updated_at"], stamp3);
}

/// One-second stamps, a clock that stands still, and an agent who edits what was just read: the
/// same-second race of real Zendesk, reproducible.
#[tokio::test]
async fn a_stopped_clock_and_an_agent_edit_after_a_read_keep_the_stamp() {
    let sim = sim().await;
    let clock = call(
        &sim,
        "PUT",
        "/__sim/clock",
        Some(json!({"at": 1_900_000_000})),
    )
    .await;
    assert_eq!(clock.body["now"], 1_900_000_000);
    let first = call(
        &sim,
        "PUT",
        "/api/v2/tickets/3",
        Some(json!({"ticket": {"priority": "low"}})),
    )
    .await;
    let stamp = first.body["ticket"]["updated_at"].clone();
    assert_eq!(stamp, "2030-03-17T17:46:40Z");
    assert_eq!(first.header("date"), Some("Sun, 17 Mar 2030 17:46:40 GMT"));
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::AgentEditAfterRead {
                tag: Some("agent_fast".into()),
            })
            .path("/api/v2/tickets/3")
            .method("GET")
            .next(1),
        ),
    );

    let read = get(&sim, "/api/v2/tickets/3").await;
    let after = get(&sim, "/api/v2/tickets/3").await;

    assert_eq!(read.body["ticket"]["updated_at"], stamp);
    assert!(!read.body["ticket"]["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("agent_fast")));
    assert_eq!(
        after.body["ticket"]["updated_at"], stamp,
        "same second, same stamp"
    );
    assert!(after.body["ticket"]["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("agent_fast")));
    let back = call(&sim, "PUT", "/__sim/clock", Some(json!({"at": null}))).await;
    assert!(back.body["now"].as_i64().unwrap() < 1_900_000_000);
}
