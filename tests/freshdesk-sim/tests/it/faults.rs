//! Faults: the agent before a write and after a read, stop_mid_write on bulk jobs and PUTs,
//! error answers in Freshdesk's shape.

use std::time::Duration;

use otai_freshdesk_sim::{Fault, FaultRule, Faults, JobStatus, WriteKind, DEFAULT_AGENT_TAG};
use reqwest::Method;
use serde_json::json;

use crate::common::{get, send, start, three, T0};

#[tokio::test]
async fn conflict_edits_before_the_put_which_still_wins() {
    let sim = start(three()).await;
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Conflict { tag: None })
                .method("PUT")
                .next(1),
        ),
    );
    sim.set_clock(Some(T0 + 1));
    let a = send(
        &sim,
        Method::PUT,
        "/api/v2/tickets/1",
        json!({"tags": ["otai"]}),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body["tags"],
        json!(["otai"]),
        "the write replaced the agent's tag"
    );
    let kinds: Vec<_> = sim.writes(1).iter().map(|w| w.kind).collect();
    assert_eq!(kinds, [WriteKind::AgentEdit, WriteKind::Update]);
    assert_eq!(sim.write_count(1), 1);
}

#[tokio::test]
async fn agent_edit_after_read_edits_what_a_read_showed() {
    let sim = start(three()).await;
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::AgentEditAfterRead { tag: None })
                .method("GET")
                .next(1),
        ),
    );
    let a = get(&sim, "/api/v2/tickets/2").await;
    assert_eq!(
        a.body["tags"],
        json!([]),
        "the answer shows the ticket as read"
    );
    assert_eq!(sim.ticket(2).unwrap().tags, [DEFAULT_AGENT_TAG]);
    assert_eq!(sim.ticket(2).unwrap().updated_at, "2026-12-01T10:00:00Z");
}

#[tokio::test]
async fn stop_mid_write_stops_a_bulk_job_midway_and_fails_a_put() {
    let sim = start(three().job_delay(Duration::from_millis(50))).await;
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::StopMidWrite {
                after: Some("1".into()),
            })
            .path("/api/v2/tickets/bulk_update")
            .next(1),
        ),
    );
    let a = send(
        &sim,
        Method::POST,
        "/api/v2/tickets/bulk_update",
        json!({"bulk_action": {"ids": [3, 2, 1], "properties": {"priority": 3}}}),
    )
    .await;
    assert_eq!(a.status, 202);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let job = &sim.jobs()[0];
    assert_eq!((job.status, job.progress), (JobStatus::Failed, 33));
    let j = get(&sim, &format!("/api/v2/jobs/{}", job.id)).await;
    assert_eq!(j.body["status"], "FAILED");
    assert_eq!(sim.ticket(3).unwrap().priority, 3);
    assert_eq!(sim.ticket(2).unwrap().priority, 1, "untouched");
    assert_eq!(sim.ticket(1).unwrap().priority, 4, "untouched");

    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::StopMidWrite { after: None })
                .method("PUT")
                .next(1),
        ),
    );
    let a = send(
        &sim,
        Method::PUT,
        "/api/v2/tickets/2",
        json!({"priority": 4}),
    )
    .await;
    assert_eq!(a.status, 500);
    assert_eq!(a.body["code"], "internal_error");
    assert_eq!(sim.ticket(2).unwrap().priority, 1, "a PUT is atomic");
    assert!(a.header("x-ratelimit-total").is_some());
}

#[tokio::test]
async fn conflict_on_a_bulk_job_edits_each_ticket_before_its_write() {
    let sim = start(three().job_delay(Duration::ZERO)).await;
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Conflict {
                tag: Some("human".into()),
            })
            .method("POST")
            .next(1),
        ),
    );
    send(
        &sim,
        Method::POST,
        "/api/v2/tickets/bulk_update",
        json!({"bulk_action": {"ids": [2, 3], "properties": {"tags": ["otai"]}}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for id in [2, 3] {
        let kinds: Vec<_> = sim.writes(id).iter().map(|w| w.kind).collect();
        assert_eq!(kinds, [WriteKind::AgentEdit, WriteKind::BulkUpdate]);
        assert_eq!(sim.ticket(id).unwrap().tags, ["otai"]);
    }
}

#[tokio::test]
async fn error_faults_answer_in_freshdesks_shape_and_are_logged() {
    let sim = start(three()).await;
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Error {
                status: 503,
                retry_after: Some(4),
            })
            .next(1),
        ),
    );
    let a = get(&sim, "/api/v2/tickets/1").await;
    assert_eq!(a.status, 503);
    assert_eq!(a.body["code"], "service_unavailable");
    assert_eq!(a.header("retry-after"), Some("4"));
    assert_eq!(sim.requests().last().unwrap().status, 503);
    assert_eq!(get(&sim, "/api/v2/tickets/1").await.status, 200);
}
