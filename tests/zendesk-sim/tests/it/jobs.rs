//! `update_many`: batch and bulk forms, the job lifecycle, per-item results.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn batch_job_runs_async_with_per_ticket_results() {
    let sim = sim().await;
    let stale = "2024-01-01T00:00:00Z";
    let fresh = get(&sim, "/api/v2/tickets/3").await.body["ticket"]["updated_at"].clone();
    let a = call(
        &sim,
        "PUT",
        "/api/v2/tickets/update_many.json",
        Some(json!({"tickets": [
            {"id": 2, "priority": "low", "comment": {"body": "batch note", "public": false}},
            {"id": 3, "tags": ["x"], "safe_update": true, "updated_stamp": fresh},
            {"id": BIG, "tags": ["y"], "safe_update": true, "updated_stamp": stale},
            {"id": 4, "priority": "low"},
            {"id": 777, "priority": "low"}
        ]})),
    )
    .await;
    assert_eq!(a.status, 200);
    let job = &a.body["job_status"];
    assert_eq!(job["status"], "queued");
    assert_eq!(job["total"], 5);
    assert_eq!(job["results"], serde_json::Value::Null);
    let id = job["id"].as_str().unwrap();
    assert!(id.starts_with("V3-") && id.len() == 35);
    assert_eq!(sim.write_count(2), 0, "nothing applied at submission");

    let done = wait_job(&sim, id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["progress"], 5);
    assert!(done["message"]
        .as_str()
        .unwrap()
        .starts_with("Completed at "));
    let r = done["results"].as_array().unwrap();
    let by_id = |i: u64| r.iter().find(|x| x["id"] == i).unwrap().clone();
    assert_eq!(by_id(2)["status"], "Updated");
    assert_eq!(by_id(2)["success"], true);
    assert_eq!(by_id(3)["success"], true);
    assert_eq!(by_id(BIG)["success"], false);
    assert_eq!(by_id(BIG)["error"], "UpdateConflict");
    assert_eq!(by_id(4)["success"], false);
    assert!(by_id(4)["details"].as_str().unwrap().contains("closed"));
    assert_eq!(by_id(777)["success"], false);

    assert_eq!(sim.ticket(2).unwrap().priority.as_deref(), Some("low"));
    assert_eq!(sim.ticket(BIG).unwrap().tags, vec!["vip"]);
    let w = sim.writes(2);
    assert!(w[0].via_update_many);
    assert_eq!(w[0].job_id.as_deref(), Some(id));
    assert!(!w[0].comment.as_ref().unwrap().public);
    let many = get(
        &sim,
        &format!("/api/v2/job_statuses/show_many?ids={id},nope"),
    )
    .await;
    assert_eq!(many.body["job_statuses"].as_array().unwrap().len(), 1);
    assert_eq!(
        get(&sim, "/api/v2/job_statuses/V3-unknown").await.status,
        404
    );
}

#[tokio::test]
async fn bulk_form_adds_and_removes_tags_and_caps_at_100() {
    let sim = sim().await;
    let a = call(
        &sim,
        "PUT",
        &format!("/api/v2/tickets/update_many?ids=2,3,{BIG}"),
        Some(json!({"ticket": {
            "additional_tags": ["routed"], "remove_tags": ["vip"], "status": "open"
        }})),
    )
    .await;
    assert_eq!(a.status, 200);
    let done = wait_job(&sim, a.body["job_status"]["id"].as_str().unwrap()).await;
    assert!(done["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["success"] == true));
    assert_eq!(sim.ticket(3).unwrap().tags, vec!["login", "routed"]);
    assert_eq!(sim.ticket(BIG).unwrap().tags, vec!["routed"]);
    assert_eq!(sim.ticket(3).unwrap().status, "open");

    let tickets: Vec<_> = (1..=101)
        .map(|i| json!({"id": i, "priority": "low"}))
        .collect();
    let big = call(
        &sim,
        "PUT",
        "/api/v2/tickets/update_many",
        Some(json!({"tickets": tickets})),
    )
    .await;
    assert_eq!(
        (big.status, big.body["error"].as_str()),
        (400, Some("TooManyValues"))
    );
    assert_eq!(sim.stats().jobs_submitted, 1);
}
