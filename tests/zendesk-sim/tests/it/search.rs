//! Search: the query subset, paging, the 1,000-result cap, search export cursors.

use otai_zendesk_sim::Simulator;
use serde_json::{json, Value};

use crate::common::*;

async fn found(sim: &otai_zendesk_sim::SimHandle, q: &str) -> Vec<u64> {
    let a = get(sim, &format!("/api/v2/search.json?query={}", urlenc(q))).await;
    assert_eq!(a.status, 200, "{q}: {:?}", a.body);
    assert_eq!(
        a.body["count"].as_u64().unwrap() as usize,
        a.body["results"].as_array().unwrap().len()
    );
    ids(&a.body["results"])
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn query_subset_matches_as_documented() {
    let sim = sim().await;
    assert_eq!(
        found(&sim, "type:ticket status:new status:open").await,
        vec![2, 6, BIG]
    );
    assert_eq!(
        found(&sim, "type:ticket status:open -tags:otai_done").await,
        vec![6]
    );
    assert_eq!(
        found(&sim, "type:ticket group:\"billing\"").await,
        vec![4, 6, BIG]
    );
    let support = sim.ticket(2).unwrap().group_id.unwrap();
    assert_eq!(
        found(&sim, &format!("group_id:{support}")).await,
        vec![2, 3]
    );
    // Repeated tags: any of them.
    assert_eq!(found(&sim, "tags:vip tags:billing").await, vec![3, 6, BIG]);
    assert_eq!(found(&sim, "tags:vip status:pending").await, vec![3]);
    assert_eq!(
        found(&sim, "updated>2024-05-04T10:00:00Z").await,
        vec![5, 6]
    );
    assert_eq!(
        found(&sim, "updated>=2024-05-04T10:00:00Z").await,
        vec![3, 5, 6]
    );
    assert_eq!(found(&sim, "created<2024-05-02").await, vec![4, BIG]);
    assert_eq!(found(&sim, "status<solved priority:high").await, vec![2]);
    assert_eq!(
        found(&sim, "printer").await,
        vec![2],
        "free words match subject/description"
    );
    assert_eq!(found(&sim, "type:user").await, Vec::<u64>::new());
    let a = get(&sim, "/api/v2/search?query=brand%3Aacme+status%3Aclosed").await;
    assert_eq!(a.header("x-sim-ignored-terms"), Some("brand:acme"));
    assert_eq!(ids(&a.body["results"]), vec![4]);
    assert_eq!(a.body["results"][0]["result_type"], "ticket");
    assert!(missing_keys(&fixture("GET/search_ticket.json"), &a.body).is_empty());
    assert_eq!(
        get(&sim, "/api/v2/search/count?query=status%3Aopen")
            .await
            .body,
        json!({"count": 2})
    );
    assert_eq!(
        get(&sim, "/api/v2/search?query=updated%3Eyesterdayish")
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn sorting_and_offset_paging() {
    let sim = sim().await;
    let a = get(
        &sim,
        "/api/v2/search?query=type%3Aticket&sort_by=created_at&sort_order=asc&per_page=2&page=2",
    )
    .await;
    // Created order: 4, BIG, 2, 3, 5, 6.
    let order: Vec<u64> = a.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(order, vec![2, 3]);
    let desc = get(
        &sim,
        "/api/v2/search?query=type%3Aticket&sort_by=created_at&per_page=2",
    )
    .await;
    let order: Vec<u64> = desc.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(order, vec![6, 5], "desc is the default order");
    assert_eq!(a.body["count"], 6);
    assert!(a.body["next_page"].as_str().unwrap().contains("page=3"));
    assert!(a.body["previous_page"].as_str().unwrap().contains("page=1"));
    let last = get(&sim, "/api/v2/search?query=type%3Aticket&per_page=2&page=3").await;
    assert_eq!(last.body["next_page"], Value::Null);
}

fn many(n: u64) -> Vec<Value> {
    (1..=n)
        .map(|i| {
            json!({"id": 10_000_000_000 + i, "subject": format!("T{i}"), "status": "open",
                        "created_at": format!("2024-01-01T00:{:02}:{:02}Z", (i / 60) % 60, i % 60),
                        "updated_at": "2024-02-01T00:00:00Z"})
        })
        .collect()
}

#[tokio::test]
async fn thousand_result_cap_and_search_export() {
    let sim = Simulator::builder()
        .tickets(many(1005))
        .start()
        .await
        .unwrap();
    let p10 = get(
        &sim,
        "/api/v2/search?query=type%3Aticket+status%3Aopen&per_page=100&page=10",
    )
    .await;
    assert_eq!(p10.status, 200);
    assert_eq!(p10.body["count"], 1005);
    assert_eq!(p10.body["results"].as_array().unwrap().len(), 100);
    assert!(
        p10.body["next_page"].is_string(),
        "more results exist, past the cap"
    );
    let p11 = get(
        &sim,
        "/api/v2/search?query=type%3Aticket+status%3Aopen&per_page=100&page=11",
    )
    .await;
    assert_eq!(p11.status, 422);
    assert_eq!(
        get(
            &sim,
            "/api/v2/search?query=status%3Aopen&per_page=50&page=21"
        )
        .await
        .status,
        422
    );

    let bad = get(
        &sim,
        "/api/v2/search/export?query=type%3Aticket+status%3Aopen&filter%5Btype%5D=ticket",
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        get(&sim, "/api/v2/search/export?query=status%3Aopen")
            .await
            .status,
        400,
        "filter[type] required"
    );

    let mut all = Vec::new();
    let mut path =
        "/api/v2/search/export?query=status%3Aopen&filter%5Btype%5D=ticket&page%5Bsize%5D=400"
            .to_string();
    let mut pages = 0;
    loop {
        let a = get(&sim, &path).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        pages += 1;
        assert_eq!(a.body["links"]["prev"], Value::Null);
        all.extend(
            a.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_u64().unwrap()),
        );
        if a.body["meta"]["has_more"] != true {
            break;
        }
        path = format!(
            "/api/v2/search/export?query=status%3Aopen&filter%5Btype%5D=ticket&page%5Bsize%5D=400&page%5Bafter%5D={}",
            a.body["meta"]["after_cursor"].as_str().unwrap()
        );
    }
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 1005);
    let mut sorted = all.clone();
    sorted.sort_unstable();
    assert_eq!(all, sorted, "ordered by created_at");
}
