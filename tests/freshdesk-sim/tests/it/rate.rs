//! Rate limits: the account total, an endpoint's sub-limit, Retry-After, invalid requests
//! consuming, other integrations' consumption, the headers and the request log.

use std::time::Duration;

use otai_freshdesk_sim::Plan;
use reqwest::Method;
use serde_json::json;

use crate::common::{call, get, send, start, three};

fn small() -> Plan {
    Plan::Custom {
        total: 10,
        create: 10,
        update: 3,
        list: 4,
    }
}

#[tokio::test]
async fn an_endpoint_sub_limit_refuses_with_retry_after_and_invalid_requests_count() {
    let sim = start(three().plan(small())).await;
    // Two invalid updates and one valid one: all three consume Ticket Update credits.
    assert_eq!(
        send(
            &sim,
            Method::PUT,
            "/api/v2/tickets/1",
            json!({"priority": 9})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        send(
            &sim,
            Method::PUT,
            "/api/v2/tickets/99",
            json!({"priority": 2})
        )
        .await
        .status,
        404
    );
    let ok = send(
        &sim,
        Method::PUT,
        "/api/v2/tickets/1",
        json!({"priority": 2}),
    )
    .await;
    assert_eq!(
        (ok.status, ok.num_header("x-ratelimit-remaining")),
        (200, 7)
    );
    let refused = send(
        &sim,
        Method::PUT,
        "/api/v2/tickets/1",
        json!({"priority": 3}),
    )
    .await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["code"], "rate_limit_exceeded");
    let retry: u64 = refused.num_header("retry-after");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        refused.num_header("x-ratelimit-remaining"),
        7,
        "a 429 consumes nothing"
    );
    assert_eq!(refused.num_header("x-ratelimit-total"), 10);
    assert_eq!(
        sim.ticket(1).unwrap().priority,
        2,
        "the refused write did nothing"
    );
    // Other endpoints still have credit.
    assert_eq!(get(&sim, "/api/v2/tickets/1").await.status, 200);
    let bulk = send(
        &sim,
        Method::POST,
        "/api/v2/tickets/bulk_update",
        json!({"bulk_action": {"ids": [1], "properties": {"priority": 1}}}),
    )
    .await;
    assert_eq!(
        bulk.status, 429,
        "bulk_update shares Ticket Update's sub-limit"
    );
    assert_eq!(sim.stats().rate_limited, 2);
}

#[tokio::test]
async fn the_account_total_refuses_and_other_integrations_use_it_too() {
    let sim = start(three().plan(small())).await;
    sim.consume(8);
    let a = get(&sim, "/api/v2/agents/me").await;
    assert_eq!((a.status, a.num_header("x-ratelimit-remaining")), (200, 1));
    let a = get(&sim, "/api/v2/tickets?include=description").await;
    assert_eq!(a.status, 429, "costs 3, only 1 left");
    let a = get(&sim, "/api/v2/groups").await;
    assert_eq!((a.status, a.num_header("x-ratelimit-remaining")), (200, 0));
    let unauth = call(&sim, Method::GET, "/api/v2/groups", None, None).await;
    assert_eq!(unauth.status, 429, "admission comes before authentication");
    let admin = reqwest::Client::new()
        .post(format!("{}/__sim/consume?credits=5", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        admin.status().as_u16(),
        200,
        "admin routes are never limited"
    );
}

#[tokio::test]
async fn windows_end_and_credits_return() {
    let sim = start(
        three()
            .plan(small())
            .rate_window(Duration::from_millis(1500)),
    )
    .await;
    for _ in 0..4 {
        assert_eq!(get(&sim, "/api/v2/tickets").await.status, 200);
    }
    let a = get(&sim, "/api/v2/tickets").await;
    assert_eq!((a.status, a.num_header("retry-after")), (429, 2));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let a = get(&sim, "/api/v2/tickets").await;
    assert_eq!((a.status, a.num_header("x-ratelimit-remaining")), (200, 9));
}

#[tokio::test]
async fn the_request_log_and_the_busiest_window() {
    let sim = start(three().plan(small())).await;
    get(&sim, "/api/v2/tickets?include=description").await;
    get(&sim, "/api/v2/tickets/2?include=stats").await;
    call(&sim, Method::GET, "/api/v2/tickets/2", None, None).await;
    // Tickets List has 4 credits: 3 used, this one costs 5.
    get(&sim, "/api/v2/tickets?include=description,stats").await;
    let log = sim.requests();
    let seen: Vec<(&str, &str, u16, u64)> = log
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.status, r.cost))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/api/v2/tickets", 200, 3),
            ("GET", "/api/v2/tickets/2", 200, 3),
            ("GET", "/api/v2/tickets/2", 401, 1),
            ("GET", "/api/v2/tickets", 429, 0),
        ]
    );
    assert_eq!(log[3].query, "include=description%2Cstats");
    assert!(log.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert_eq!(sim.max_credits_in_window(Duration::from_secs(60)), 7);
    let admin: serde_json::Value = reqwest::get(format!("{}/__sim/requests", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn unlimited_never_refuses_but_still_sends_headers() {
    let sim = start(three().plan(Plan::Unlimited)).await;
    sim.consume(10_000_000);
    let a = get(&sim, "/api/v2/tickets").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.num_header("x-ratelimit-total"), 1_000_000);
    assert_eq!(a.num_header("x-ratelimit-used-currentrequest"), 1);
    let default = start(three()).await;
    assert_eq!(
        get(&default, "/api/v2/tickets")
            .await
            .num_header("x-ratelimit-total"),
        700
    );
}
