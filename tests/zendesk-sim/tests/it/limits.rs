//! Rate limiting: 429 + Retry-After, the headers, and the counters.

use otai_zendesk_sim::RateLimits;

use crate::common::*;

#[tokio::test]
async fn budget_is_enforced_with_retry_after_and_headers() {
    let sim = builder().rate_limit_per_minute(5).start().await.unwrap();
    let first = get(&sim, "/api/v2/tickets/2").await;
    assert_eq!(first.header("x-rate-limit"), Some("5"));
    assert_eq!(first.header("x-rate-limit-remaining"), Some("4"));
    assert_eq!(first.header("ratelimit-limit"), Some("5"));
    assert_eq!(first.header("ratelimit-remaining"), Some("4"));
    assert!(
        first
            .header("ratelimit-reset")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            <= 60
    );
    assert!(first.header("x-request-id").is_some());
    for _ in 0..4 {
        assert_eq!(get(&sim, "/api/v2/tickets/2").await.status, 200);
    }
    let limited = get(&sim, "/api/v2/tickets/2").await;
    assert_eq!(limited.status, 429);
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(limited.header("x-rate-limit-remaining"), Some("0"));
    // Admin requests are outside the budget.
    assert_eq!(get(&sim, "/__sim/stats").await.status, 200);
    let s = sim.stats();
    assert_eq!((s.requests, s.accepted, s.rate_limited), (6, 5, 1));
    assert!(s.max_requests_in_60s <= 5);
    assert_eq!(s.max_requests_in_60s, 5);
}

#[tokio::test]
async fn endpoint_bucket_limits_list_tickets() {
    let sim = builder()
        .rate_limits(RateLimits {
            tickets_index: 2,
            ..RateLimits::default()
        })
        .start()
        .await
        .unwrap();
    let a = get(&sim, "/api/v2/tickets").await;
    assert!(a
        .header("zendesk-ratelimit-tickets-index")
        .unwrap()
        .starts_with("total=2; remaining=1; resets="));
    get(&sim, "/api/v2/tickets").await;
    assert_eq!(get(&sim, "/api/v2/tickets").await.status, 429);
    assert_eq!(
        get(&sim, "/api/v2/tickets/2").await.status,
        200,
        "other endpoints go on"
    );
}
