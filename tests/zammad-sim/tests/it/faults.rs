//! Faults reach the Zammad routes, in Zammad's shapes; the per-route counters.

use reqwest::Method;
use serde_json::json;

use crate::common::{get, send, start, three, TOKEN};
use otai_zammad_sim::{Fault, FaultRule, Faults, DEFAULT_AGENT_TAG};

#[tokio::test]
async fn a_dropped_put_changes_nothing_and_is_counted() {
    let faults = Faults::none().rule(
        FaultRule::always(Fault::Drop)
            .method("PUT")
            .path("/api/v1/tickets/*")
            .next(1),
    );
    let sim = start(three().faults(faults)).await;
    let before = sim.ticket(1).unwrap();
    let r = reqwest::Client::new()
        .put(format!("{}/api/v1/tickets/1", sim.base_url()))
        .header("Authorization", TOKEN)
        .json(&json!({"priority": "3 high"}))
        .send()
        .await;
    assert!(r.is_err(), "the connection is closed without an answer");
    assert_eq!(sim.ticket(1).unwrap(), before);
    let again = send(
        &sim,
        Method::PUT,
        "/api/v1/tickets/1",
        json!({"priority": "3 high"}),
    )
    .await;
    assert_eq!(again.status, 200);
    let st = sim.stats();
    assert_eq!(
        (st.dropped_connections, st.faults_injected, st.writes),
        (1, 1, 1)
    );
    assert_eq!(st.by_route["PUT /api/v1/tickets/{id}"], 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_injected_error_has_zammads_shape() {
    let faults = Faults::none()
        .rule(
            FaultRule::always(Fault::Error {
                status: 503,
                retry_after: None,
            })
            .path("/api/v1/tickets/search")
            .next(1),
        )
        .rule(
            FaultRule::always(Fault::Error {
                status: 500,
                retry_after: None,
            })
            .method("PUT")
            .next(1),
        );
    let sim = start(three().faults(faults)).await;
    let a = get(&sim, "/api/v1/tickets/search?query=card").await;
    assert_eq!(a.status, 503);
    assert_eq!(a.header("retry-after"), Some("1"));
    assert_eq!(
        a.body,
        json!({"error": "Service Unavailable", "error_human": "Service Unavailable"})
    );
    let a = send(
        &sim,
        Method::PUT,
        "/api/v1/tickets/1",
        json!({"title": "x"}),
    )
    .await;
    assert_eq!(a.status, 500);
    assert!(a.body["error"]
        .as_str()
        .unwrap()
        .ends_with("Please contact your administrator."));
    assert_eq!(sim.ticket(1).unwrap().title, "My card was stolen");
    assert_eq!(
        get(&sim, "/api/v1/tickets/search?query=card").await.status,
        200
    );
    assert_eq!(sim.stats().by_route["GET /api/v1/tickets/search"], 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_agent_edits_every_ticket_a_search_showed() {
    let faults = Faults::none().rule(
        FaultRule::always(Fault::AgentEditAfterRead { tag: None })
            .path("/api/v1/tickets/search")
            .next(1),
    );
    let sim = start(three().faults(faults)).await;
    let before: Vec<_> = [1, 2, 3].iter().map(|i| sim.ticket(*i).unwrap()).collect();
    let a = get(&sim, "/api/v1/tickets/search?query=state.name:new").await;
    assert_eq!(a.status, 200);
    // The answer shows the tickets as they were read.
    assert_eq!(a.body[0]["updated_at"], before[0].updated_at);
    for (i, b) in [(1, &before[0]), (3, &before[2])] {
        let t = sim.ticket(i).unwrap();
        assert!(t.updated_at > b.updated_at, "ticket {i} was stamped anew");
        assert!(t.tags.contains(&DEFAULT_AGENT_TAG.to_string()));
        assert_eq!(t.priority, b.priority);
    }
    assert_eq!(sim.ticket(2).unwrap(), before[1], "not shown, not edited");
    let agent: Vec<_> = sim
        .all_writes()
        .into_iter()
        .filter(|w| w.by == "agent")
        .map(|w| w.ticket_id)
        .collect();
    assert_eq!(agent, [1, 3]);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_conflict_is_an_agent_edit_just_before_the_write_which_still_wins() {
    let faults = Faults::none().rule(
        FaultRule::always(Fault::Conflict {
            tag: Some("colleague".into()),
        })
        .method("PUT")
        .next(1),
    );
    let sim = start(three().faults(faults)).await;
    let a = send(
        &sim,
        Method::PUT,
        "/api/v1/tickets/2",
        json!({"group": "Users", "article": {"body": "note", "internal": true}}),
    )
    .await;
    assert_eq!(a.status, 200);
    let t = sim.ticket(2).unwrap();
    assert_eq!(t.group, "Users");
    assert_eq!(t.tags, ["colleague"]);
    let w = sim.writes(2);
    assert_eq!(
        w.iter().map(|w| w.by.as_str()).collect::<Vec<_>>(),
        ["agent", "api"]
    );
    assert!(w[1].at >= w[0].at);
    assert_eq!(sim.write_count(2), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_routes_show_a_ticket_and_let_the_agent_edit_it() {
    let sim = start(three()).await;
    let client = reqwest::Client::new();
    let base = sim.base_url();
    let r: serde_json::Value = client
        .post(format!("{base}/__sim/agent_edit/1?tag=by_hand"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["tags"], json!(["vip", "by_hand"]));
    let r: serde_json::Value = client
        .get(format!("{base}/__sim/tickets/1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["ticket"]["title"], "My card was stolen");
    assert_eq!(r["articles"][0]["body"], "Please block my card");
    assert_eq!(r["writes"][0]["by"], "agent");
    let stats: serde_json::Value = client
        .get(format!("{base}/__sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests"], 0, "admin requests are not counted");
    assert!(stats["by_route"].is_object());
    assert_eq!(
        client
            .post(format!("{base}/__sim/agent_edit/99"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // A reset brings the seeded tickets back.
    sim.reset();
    assert_eq!(sim.tags(1), ["vip"]);
    assert!(sim.all_writes().is_empty());
    sim.shutdown().await;
}
