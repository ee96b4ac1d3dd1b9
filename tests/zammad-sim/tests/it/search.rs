//! Search: both backends, both generations' shapes, condition in GET and POST, paging.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{get, ids, send, start, three};
use otai_zammad_sim::{SearchBackend, SearchShape, Simulator};

const NEW_COND: &str =
    "condition[ticket.state_id][operator]=is&condition[ticket.state_id][value][]=1";

#[tokio::test]
async fn a_field_query_finds_tickets_with_elasticsearch_and_nothing_without() {
    let sim = start(three()).await;
    let es = get(&sim, "/api/v1/tickets/search?query=state.name:new").await;
    assert_eq!(es.status, 200);
    assert_eq!(ids(&es.body), [1, 3], "updated_at desc");
    let es = get(
        &sim,
        "/api/v1/tickets/search?query=group.name:%22Billing%22%20AND%20NOT%20state.name:open",
    )
    .await;
    assert_eq!(ids(&es.body), [3]);
    let words = get(&sim, "/api/v1/tickets/search?query=refund").await;
    assert_eq!(ids(&words.body), [2]);
    let range = get(
        &sim,
        "/api/v1/tickets/search?query=updated_at:%3E%3D2026-01-02T00:00:00Z",
    )
    .await;
    assert_eq!(ids(&range.body), [1, 2]);

    sim.set_search_backend(SearchBackend::Sql);
    let sql = get(&sim, "/api/v1/tickets/search?query=state.name:new").await;
    assert_eq!((sql.status, sql.body.clone()), (200, json!([])));
    let like = get(&sim, "/api/v1/tickets/search?query=TOP-UP").await;
    assert_eq!(
        ids(&like.body),
        [3],
        "LIKE over title and article bodies, any case"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_condition_filters_in_both_backends_by_get_and_post() {
    for backend in [SearchBackend::Elasticsearch, SearchBackend::Sql] {
        let sim = start(three().search_backend(backend)).await;
        let by_get = get(&sim, &format!("/api/v1/tickets/search?{NEW_COND}")).await;
        assert_eq!(ids(&by_get.body), [1, 3], "{backend:?}");
        let by_post = send(
            &sim,
            Method::POST,
            "/api/v1/tickets/search",
            json!({
            "condition": {"ticket.state_id": {"operator": "is", "value": ["1"]},
                          "ticket.group_id": {"operator": "is", "value": "2"}},
            "expand": true}),
        )
        .await;
        assert_eq!(ids(&by_post.body), [3], "{backend:?}");
        assert_eq!(by_post.body[0]["group"], "Billing");
        let both = send(
            &sim,
            Method::POST,
            "/api/v1/tickets/search",
            json!({
            "query": "card", "condition": {"ticket.state_id": {"operator": "is", "value": ["1"]}}}),
        )
        .await;
        assert_eq!(ids(&both.body), [1], "{backend:?}");
        let ordered = get(
            &sim,
            &format!("/api/v1/tickets/search?{NEW_COND}&sort_by=id&order_by=asc"),
        )
        .await;
        assert_eq!(ids(&ordered.body), [1, 3]);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn the_current_shape_and_its_variants() {
    let sim = start(three()).await;
    let plain = get(&sim, &format!("/api/v1/tickets/search?{NEW_COND}"))
        .await
        .body;
    assert!(plain[0].get("group").is_none());
    assert_eq!(plain[0]["article_ids"], json!([1]));
    let counted = get(
        &sim,
        &format!("/api/v1/tickets/search?{NEW_COND}&with_total_count=true&per_page=1"),
    )
    .await
    .body;
    assert_eq!(counted["total_count"], 2);
    assert_eq!(ids(&counted["records"]), [1]);
    let full = get(
        &sim,
        &format!("/api/v1/tickets/search?{NEW_COND}&full=true"),
    )
    .await
    .body;
    assert_eq!(full["record_ids"], json!([1, 3]));
    assert_eq!(full["total_count"], 2);
    assert_eq!(full["assets"]["Ticket"]["3"]["title"], "Top-up failed");
    let only = get(
        &sim,
        &format!("/api/v1/tickets/search?{NEW_COND}&only_total_count=true"),
    )
    .await
    .body;
    assert_eq!(only, json!({"total_count": 2}));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_legacy_shape_and_semantics() {
    let sim = start(three().search_shape(SearchShape::Legacy)).await;
    let old = get(&sim, "/api/v1/tickets/search?query=state.name:new")
        .await
        .body;
    assert_eq!(old["tickets"], json!([1, 3]));
    assert_eq!(old["tickets_count"], 2);
    assert_eq!(old["assets"]["Ticket"]["1"]["title"], "My card was stolen");
    assert_eq!(old["assets"]["Group"]["1"]["name"], "Users");
    let expanded = get(
        &sim,
        "/api/v1/tickets/search?query=state.name:new&expand=true",
    )
    .await
    .body;
    assert_eq!(ids(&expanded), [1, 3]);
    assert_eq!(expanded[0]["state"], "new");
    let cond = get(&sim, &format!("/api/v1/tickets/search?{NEW_COND}"))
        .await
        .body;
    assert_eq!(cond["tickets"], json!([1, 3]));
    // Old Zammad: any query, even an empty one, makes the condition be ignored.
    let with_query = get(&sim, &format!("/api/v1/tickets/search?query=&{NEW_COND}"))
        .await
        .body;
    assert_eq!(with_query["tickets"], json!([1, 2, 3]));
    // The admin route switches the generation back.
    let client = reqwest::Client::new();
    let r = client
        .put(format!("{}/__sim/search", sim.base_url()))
        .json(&json!({"shape": "array"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"backend": "elasticsearch", "shape": "array"})
    );
    let now = get(&sim, &format!("/api/v1/tickets/search?query=&{NEW_COND}"))
        .await
        .body;
    assert_eq!(ids(&now), [1, 3]);
    sim.shutdown().await;
}

#[tokio::test]
async fn search_pages_default_to_50_and_clamp_at_200() {
    let tickets: Vec<Value> = (0..250)
        .map(|i| json!({"title": format!("Card {i}"), "body": "card"}))
        .collect();
    let sim = start(Simulator::builder().tickets(tickets)).await;
    let q = "/api/v1/tickets/search?query=card&sort_by=id&order_by=asc";
    assert_eq!(ids(&get(&sim, q).await.body).len(), 50);
    let big = ids(&get(&sim, &format!("{q}&per_page=1000")).await.body);
    assert_eq!(big.len(), 200);
    let limit = ids(&get(&sim, &format!("{q}&limit=3&page=2")).await.body);
    assert_eq!(limit, [4, 5, 6]);
    let last = ids(&get(&sim, &format!("{q}&per_page=200&page=2")).await.body);
    assert_eq!(last.len(), 50);
    assert_eq!(last[0], 201);
    sim.shutdown().await;
}

#[tokio::test]
async fn queries_elasticsearch_rejects_give_an_empty_answer() {
    let sim = start(three()).await;
    for q in ["(card", "updated_at:[2026-01-01T00:00:00Z%20TO%20*]"] {
        let a = get(&sim, &format!("/api/v1/tickets/search?query={q}")).await;
        assert_eq!((a.status, a.body.clone()), (200, json!([])), "{q}");
    }
    let bad = send(
        &sim,
        Method::POST,
        "/api/v1/tickets/search",
        json!({"condition": {"ticket.state_id": {"operator": "equals", "value": 1}}}),
    )
    .await;
    assert_eq!(bad.status, 500);
    sim.shutdown().await;
}
