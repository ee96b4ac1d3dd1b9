//! Search: the query language over HTTP, paging, the 10-page cap and the index lag.

use std::time::Duration;

use otai_freshdesk_sim::Simulator;
use reqwest::Method;
use serde_json::json;

use crate::common::{get, ids, many, send, start, three, T0};

fn q(query: &str) -> String {
    let enc: String =
        url::form_urlencoded::byte_serialize(format!("\"{query}\"").as_bytes()).collect();
    format!("/api/v2/search/tickets?query={enc}")
}

#[tokio::test]
async fn queries_filter_and_answers_have_total_and_results() {
    let sim = start(three()).await;
    let a = get(&sim, &q("agent_id:null AND status:2")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["total"], 2);
    assert_eq!(
        ids(&a.body["results"]),
        [3, 1],
        "newest first, same second by id descending"
    );
    assert!(a.body["results"][0].get("description").is_none());
    let cards = sim.group_id("Cards").unwrap();
    let a = get(
        &sim,
        &q(&format!(
            "(group_id:{cards} OR cf_category:'Refunds') AND priority:>2"
        )),
    )
    .await;
    assert_eq!(ids(&a.body["results"]), [1]);
    let a = get(&sim, &q("priority:>1")).await;
    assert_eq!(
        a.body["total"], 3,
        ":> is at least (inclusive), as the docs say"
    );
    let a = get(&sim, &q("tag:'vip' OR group_id:null")).await;
    assert_eq!(ids(&a.body["results"]), [3, 1]);
    let a = get(
        &sim,
        &q("created_at:'2026-11-30' AND updated_at:<'2026-11-30'"),
    )
    .await;
    assert_eq!(a.body["total"], 3);
    let a = get(&sim, &q("colour:2")).await;
    assert_eq!((a.status, a.error().1.as_str()), (400, "invalid_value"));
    let a = get(&sim, "/api/v2/search/tickets?query=status:2").await;
    assert_eq!(a.status, 400, "the query must be quoted");
    let long = format!("status:2{}", " OR status:2".repeat(60));
    assert_eq!(
        get(&sim, &q(&long)).await.status,
        400,
        "over 512 characters"
    );
}

#[tokio::test]
async fn thirty_per_page_and_no_page_after_10() {
    let sim = start(
        Simulator::builder()
            .index_lag(Duration::ZERO)
            .tickets(many(65, "2026-11-30T00:00:00Z")),
    )
    .await;
    let a = get(&sim, &q("status:2")).await;
    assert_eq!(a.body["total"], 65);
    assert_eq!(a.body["results"].as_array().unwrap().len(), 30);
    let p3 = get(&sim, &format!("{}&page=3", q("status:2"))).await;
    assert_eq!(p3.body["results"].as_array().unwrap().len(), 5);
    let p10 = get(&sim, &format!("{}&page=10", q("status:2"))).await;
    assert_eq!((p10.status, p10.body["total"].clone()), (200, json!(65)));
    let p11 = get(&sim, &format!("{}&page=11", q("status:2"))).await;
    assert_eq!(
        (p11.status, p11.error()),
        (400, ("page".into(), "invalid_value".into()))
    );
}

#[tokio::test]
async fn search_lags_behind_new_tickets_and_changes() {
    let sim = start(three().index_lag(Duration::from_secs(90))).await;
    assert_eq!(
        get(&sim, &q("status:2")).await.body["total"],
        2,
        "seeded tickets are indexed"
    );
    let new = sim
        .add_tickets(vec![
            json!({"subject": "new", "description": "x", "priority": 3}),
        ])
        .unwrap()[0];
    assert_eq!(get(&sim, &q("priority:3")).await.body["total"], 0);
    let put = send(
        &sim,
        Method::PUT,
        "/api/v2/tickets/3",
        json!({"priority": 3}),
    )
    .await;
    assert_eq!(put.status, 200);
    assert_eq!(
        get(&sim, "/api/v2/tickets/3").await.body["priority"],
        3,
        "reads are live"
    );
    sim.set_clock(Some(T0 + 89));
    assert_eq!(get(&sim, &q("priority:3")).await.body["total"], 0);
    sim.set_clock(Some(T0 + 90));
    let a = get(&sim, &q("priority:3")).await;
    assert_eq!(ids(&a.body["results"]), [new, 3]);
}
