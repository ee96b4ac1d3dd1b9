//! Reads: auth, the ticket list's window, paging, ordering and includes, one ticket,
//! conversations, groups, fields, the agent.

use otai_freshdesk_sim::{Simulator, API_AGENT_ID};
use reqwest::Method;
use serde_json::json;

use crate::common::{basic, call, get, ids, many, start, three};

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_with_freshdesks_body() {
    let sim = start(three().api_key("right-key")).await;
    for auth in [
        None,
        Some(basic("sim-api-key")),
        Some("Bearer right-key".to_string()),
    ] {
        let a = call(&sim, Method::GET, "/api/v2/tickets", auth.as_deref(), None).await;
        assert_eq!(a.status, 401);
        assert_eq!(
            a.body,
            json!({"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})
        );
        assert!(
            a.header("x-ratelimit-remaining").is_some(),
            "headers on errors too"
        );
        assert!(a.header("x-request-id").is_some());
    }
    let ok = call(
        &sim,
        Method::GET,
        "/api/v2/agents/me",
        Some(&basic("right-key")),
        None,
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["id"], API_AGENT_ID);
    assert_eq!(ok.body["contact"]["email"], "otai@example.com");
    assert_eq!(ok.body["type"], "support_agent");
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let sim = start(three()).await;
    let a = get(&sim, "/api/v2/tickets/99").await;
    assert_eq!((a.status, a.body.clone()), (404, serde_json::Value::Null));
    assert_eq!(get(&sim, "/api/v2/nothing").await.status, 404);
    let a = call(
        &sim,
        Method::DELETE,
        "/api/v2/tickets/bulk_update",
        Some(&basic("sim-api-key")),
        None,
    )
    .await;
    assert_eq!(a.status, 405);
    assert_eq!(a.header("allow"), Some("POST"));
}

#[tokio::test]
async fn without_updated_since_only_the_last_30_days_are_listed() {
    let sim = start(three()).await;
    sim.add_tickets(vec![json!({"id": 10, "subject": "old", "description": "x",
                               "created_at": "2026-10-01T00:00:00Z", "updated_at": "2026-11-30T00:00:00Z"})])
        .unwrap();
    sim.add_tickets(vec![
        json!({"id": 11, "subject": "spam", "description": "x", "spam": true,
                               "created_at": "2026-11-30T00:00:00Z"}),
    ])
    .unwrap();
    let a = get(&sim, "/api/v2/tickets").await;
    assert_eq!(a.status, 200);
    assert_eq!(
        ids(&a.body),
        [1, 2, 3],
        "newest first, ties by id; spam and old hidden"
    );
    let a = get(&sim, "/api/v2/tickets?updated_since=2026-01-01T00:00:00Z").await;
    assert_eq!(ids(&a.body), [1, 2, 3, 10]);
    let a = get(&sim, "/api/v2/tickets?updated_since=2026-11-30T12:00:00Z").await;
    assert_eq!(ids(&a.body), [1], "updated_since is inclusive");
    let a = get(&sim, "/api/v2/tickets?filter=spam&updated_since=2026-01-01").await;
    assert_eq!(ids(&a.body), [11]);
}

#[tokio::test]
async fn descriptions_only_with_include_and_includes_cost_two_credits_each() {
    let sim = start(three()).await;
    let a = get(&sim, "/api/v2/tickets").await;
    assert!(a.body[0].get("description").is_none());
    assert!(a.body[0].get("description_text").is_none());
    assert_eq!(a.num_header("x-ratelimit-used-currentrequest"), 1);
    let a = get(&sim, "/api/v2/tickets?include=description,stats").await;
    assert_eq!(a.num_header("x-ratelimit-used-currentrequest"), 5);
    let t = &a.body.as_array().unwrap()[2];
    assert_eq!(t["id"], 3);
    assert_eq!(t["description"], "<div>my top-up did not arrive</div>");
    assert_eq!(t["description_text"], "my top-up did not arrive");
    assert!(t["stats"].is_object());
    let a = get(&sim, "/api/v2/tickets?include=conversations").await;
    assert_eq!(
        (a.status, a.error()),
        (400, ("include".into(), "invalid_value".into()))
    );
    assert_eq!(
        a.num_header("x-ratelimit-used-currentrequest"),
        3,
        "invalid requests cost too"
    );
}

#[tokio::test]
async fn per_page_over_100_and_pages_beyond_300_are_400() {
    let sim = start(three()).await;
    let a = get(&sim, "/api/v2/tickets?per_page=101").await;
    assert_eq!(
        (a.status, a.error()),
        (400, ("per_page".into(), "invalid_value".into()))
    );
    assert_eq!(a.body["description"], "Validation failed");
    let a = get(&sim, "/api/v2/tickets?page=301").await;
    assert_eq!(
        (a.status, a.error()),
        (400, ("page".into(), "invalid_value".into()))
    );
    assert_eq!(get(&sim, "/api/v2/tickets?page=0").await.status, 400);
    assert_eq!(
        get(&sim, "/api/v2/tickets?colour=red").await.error().1,
        "invalid_field"
    );
}

#[tokio::test]
async fn link_points_to_the_next_page_and_stops_at_page_300() {
    let sim = start(Simulator::builder().tickets(many(301, "2026-11-30T00:00:00Z"))).await;
    let a = get(&sim, "/api/v2/tickets?per_page=100&page=3").await;
    let link = a.header("link").expect("a next page");
    assert_eq!(
        link,
        format!(
            "<{}/api/v2/tickets?per_page=100&page=4>; rel=\"next\"",
            sim.base_url()
        )
    );
    let a = get(&sim, "/api/v2/tickets?per_page=100&page=4").await;
    assert_eq!(ids(&a.body).len(), 1);
    assert!(a.header("link").is_none(), "last page");
    let a = get(&sim, "/api/v2/tickets?per_page=1&page=299").await;
    assert!(a.header("link").is_some());
    let a = get(&sim, "/api/v2/tickets?per_page=1&page=300").await;
    assert_eq!(ids(&a.body).len(), 1);
    assert!(
        a.header("link").is_none(),
        "page 300 is the last one the API gives"
    );
}

#[tokio::test]
async fn order_by_updated_at_ascending_breaks_ties_by_id() {
    let sim = start(three()).await;
    let a = get(&sim, "/api/v2/tickets?order_by=updated_at&order_type=asc").await;
    assert_eq!(ids(&a.body), [2, 3, 1]);
    let a = get(&sim, "/api/v2/tickets?order_by=updated_at").await;
    assert_eq!(
        ids(&a.body),
        [1, 2, 3],
        "descending, ties still by id ascending"
    );
    let a = get(&sim, "/api/v2/tickets?order_by=status&order_type=desc").await;
    assert_eq!(ids(&a.body), [2, 1, 3]);
    assert_eq!(
        get(&sim, "/api/v2/tickets?order_by=subject").await.status,
        400
    );
}

#[tokio::test]
async fn one_ticket_has_the_documented_shape_and_includes() {
    let sim = start(three()).await;
    let a = get(
        &sim,
        "/api/v2/tickets/1?include=conversations,requester,stats",
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.num_header("x-ratelimit-used-currentrequest"), 7);
    let t = &a.body;
    assert_eq!(t["subject"], "My card was stolen");
    assert_eq!(t["description"], "Please <b>block</b> it");
    assert_eq!(t["description_text"], "Please block it");
    assert_eq!(t["status"], 2);
    assert_eq!(t["priority"], 4);
    assert_eq!(t["group_id"], sim.group_id("Cards").unwrap());
    assert_eq!(t["tags"], json!(["vip"]));
    assert_eq!(
        t["custom_fields"],
        json!({"cf_category": null, "cf_locked": null})
    );
    assert_eq!(t["created_at"], "2026-11-30T10:00:00Z");
    assert_eq!(t["requester"]["email"], "jane@example.com");
    assert_eq!(t["conversations"][0]["body_text"], "first reply");
    assert_eq!(t["conversations"][0]["source"], 0);
    for k in [
        "due_by",
        "fr_due_by",
        "is_escalated",
        "spam",
        "deleted",
        "source",
        "responder_id",
        "requester_id",
        "company_id",
        "type",
    ] {
        assert!(t.get(k).is_some(), "{k}");
    }
    let two = get(&sim, "/api/v2/tickets/2").await.body;
    assert_eq!(two["description_text"], "Where is my refund?");
    assert_eq!(two["status"], 3);
}

#[tokio::test]
async fn conversations_groups_and_fields() {
    let sim = start(three()).await;
    let a = get(&sim, "/api/v2/tickets/1/conversations").await;
    assert_eq!(a.body[0]["ticket_id"], 1);
    assert_eq!(a.body[0]["private"], false);
    assert_eq!(
        get(&sim, "/api/v2/tickets/9/conversations").await.status,
        404
    );
    let a = get(&sim, "/api/v2/groups?per_page=1").await;
    assert_eq!(a.body[0]["name"], "Cards");
    assert!(a.header("link").unwrap().contains("page=2"));
    let a = get(&sim, "/api/v2/groups?per_page=1&page=2").await;
    assert_eq!(a.body[0]["name"], "Billing");
    assert!(a.header("link").is_none());
    let fields = get(&sim, "/api/v2/ticket_fields").await.body;
    let custom: Vec<_> = fields
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["default"] == false)
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(custom, ["cf_category", "cf_locked"]);
    assert!(fields
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "status"));
}
