//! Tickets, articles, tags, reference data and authentication over HTTP.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{call, get, ids, send, start, three, TOKEN};
use otai_zammad_sim::Simulator;

#[tokio::test]
async fn reference_data_has_zammads_seed_ids_and_names() {
    let sim = start(three()).await;
    let me = get(&sim, "/api/v1/users/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["login"], "agent@example.com");
    assert_eq!(me.body["id"], 3);
    let p = get(&sim, "/api/v1/ticket_priorities").await.body;
    let names: Vec<_> = p
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].clone(),
                x["name"].clone(),
                x["default_create"].clone(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (json!(1), json!("1 low"), json!(false)),
            (json!(2), json!("2 normal"), json!(true)),
            (json!(3), json!("3 high"), json!(false))
        ]
    );
    let s = get(&sim, "/api/v1/ticket_states").await.body;
    let states: Vec<_> = s
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_u64().unwrap(),
                x["name"].as_str().unwrap().to_string(),
                x["state_type_id"].as_u64().unwrap(),
                x["active"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(states[0], (1, "new".into(), 1, true));
    assert_eq!(states[3], (4, "closed".into(), 5, true));
    assert_eq!(states[5], (6, "removed".into(), 7, false));
    assert_eq!(states[6], (7, "pending close".into(), 4, true));
    let g = get(&sim, "/api/v1/groups").await.body;
    let groups: Vec<_> = g
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_u64().unwrap(),
                x["name"].as_str().unwrap().to_string(),
                x["active"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [(1, "Users".into(), true), (2, "Billing".into(), true)]
    );
    assert_eq!(get(&sim, "/api/v1/groups/2").await.body["name"], "Billing");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_ticket_list_pages_by_id_with_a_clamp_of_100_and_expands_names() {
    let tickets: Vec<Value> = (0..130)
        .map(|i| json!({"title": format!("T{i}"), "body": "b"}))
        .collect();
    let sim = start(Simulator::builder().tickets(tickets)).await;
    let page = get(&sim, "/api/v1/tickets").await.body;
    assert_eq!(ids(&page).len(), 100);
    assert_eq!(ids(&page)[0], 1);
    let page = get(&sim, "/api/v1/tickets?per_page=500&page=2").await.body;
    assert_eq!(ids(&page), (101..=130).collect::<Vec<u64>>());
    let page = get(&sim, "/api/v1/tickets?per_page=2&page=3&expand=true")
        .await
        .body;
    assert_eq!(ids(&page), [5, 6]);
    let t = &page[0];
    assert_eq!(
        (
            t["group"].as_str(),
            t["priority"].as_str(),
            t["state"].as_str(),
            t["owner"].as_str()
        ),
        (Some("Users"), Some("2 normal"), Some("new"), Some("-"))
    );
    assert_eq!(t["customer"], "nicole.braun@zammad.org");
    assert_eq!(t["group_id"], 1);
    let plain = get(&sim, "/api/v1/tickets?per_page=1").await.body;
    assert!(plain[0].get("group").is_none());
    assert_eq!(plain[0]["owner_id"], 1);
    let full = get(&sim, "/api/v1/tickets?per_page=2&full=true").await.body;
    assert_eq!(full["record_ids"], json!([1, 2]));
    assert_eq!(full["assets"]["Ticket"]["2"]["title"], "T1");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_ticket_with_expand_all_and_its_articles() {
    let sim = start(three()).await;
    let t = get(&sim, "/api/v1/tickets/1").await;
    assert_eq!(t.status, 200);
    assert_eq!(t.body["title"], "My card was stolen");
    assert_eq!(t.body["number"], "20001");
    assert_eq!(t.body["updated_at"], "2026-01-03T00:00:00.000Z");
    assert_eq!(t.body["article_count"], 1);
    assert!(t.body.as_object().unwrap().contains_key("otai_queue"));
    let x = get(&sim, "/api/v1/tickets/1?expand=true").await.body;
    assert_eq!(x["customer"], "jane@example.com");
    let all = get(&sim, "/api/v1/tickets/1?all=true").await.body;
    assert_eq!(all["ticket_id"], 1);
    assert_eq!(all["tags"], json!(["vip"]));
    assert_eq!(all["ticket_article_ids"], json!([1]));
    assert_eq!(
        all["assets"]["TicketArticle"]["1"]["body"],
        "Please block my card"
    );
    let arts = get(&sim, "/api/v1/ticket_articles/by_ticket/1").await.body;
    let a = &arts[0];
    assert_eq!(
        (
            a["type"].as_str(),
            a["sender"].as_str(),
            a["content_type"].as_str(),
            a["internal"].as_bool()
        ),
        (
            Some("web"),
            Some("Customer"),
            Some("text/plain"),
            Some(false)
        )
    );
    assert_eq!(a["from"], "jane@example.com");
    assert_eq!(
        get(&sim, "/api/v1/ticket_articles/1").await.body["ticket_id"],
        1
    );
    let missing = get(&sim, "/api/v1/tickets/99").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        json!({"error": "Couldn't find Ticket with 'id'=99", "error_human": "Couldn't find Ticket with 'id'=99"})
    );
    assert_eq!(
        get(&sim, "/api/v1/ticket_articles/by_ticket/99")
            .await
            .status,
        404
    );
    assert_eq!(get(&sim, "/api/v1/no_such_thing").await.status, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn put_with_an_article_is_atomic() {
    let sim = start(three()).await;
    let before = sim.ticket(1).unwrap();
    let bad = send(
        &sim,
        Method::PUT,
        "/api/v1/tickets/1",
        json!({
        "priority": "3 high", "group": "Nope", "article": {"body": "routed", "internal": true}}),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.body,
        json!({"error": "No lookup value found for 'group': \"Nope\"",
                                "error_human": "No lookup value found for 'group': \"Nope\""})
    );
    assert_eq!(sim.ticket(1).unwrap(), before);
    assert_eq!(sim.articles(1).len(), 1);
    assert_eq!(sim.write_count(1), 0);
    let bad = send(
        &sim,
        Method::PUT,
        "/api/v1/tickets/1",
        json!({"priority": "3 high", "article": {"internal": true}}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.body["error"].as_str()),
        (422, Some("Need at least an 'article body' field."))
    );
    assert_eq!(sim.ticket(1).unwrap(), before);

    let ok = send(&sim, Method::PUT, "/api/v1/tickets/1", json!({
        "group": "Billing", "priority": "3 high", "state": "open", "otai_queue": "cards", "typo_field": 1,
        "article": {"subject": "otai", "body": "Queue: cards", "internal": true, "type": "note", "sender": "Agent"}})).await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        (
            ok.body["group_id"].as_u64(),
            ok.body["priority_id"].as_u64(),
            ok.body["state_id"].as_u64()
        ),
        (Some(2), Some(3), Some(2))
    );
    assert!(
        ok.body.get("group").is_none(),
        "the plain answer has ids only"
    );
    assert_eq!(ok.body["otai_queue"], "cards");
    assert!(ok.body.get("typo_field").is_none());
    assert_eq!(ok.body["article_count"], 2);
    let t = sim.ticket(1).unwrap();
    assert_eq!(
        (t.group.as_str(), t.priority.as_str(), t.state.as_str()),
        ("Billing", "3 high", "open")
    );
    assert_ne!(t.updated_at, before.updated_at);
    let note = sim.articles(1).pop().unwrap();
    assert_eq!(
        (
            note.kind.as_str(),
            note.sender.as_str(),
            note.internal,
            note.body.as_str()
        ),
        ("note", "Agent", true, "Queue: cards")
    );
    let w = sim.writes(1);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].route, "PUT /api/v1/tickets/{id}");
    assert_eq!(w[0].article_id, Some(note.id));
    let fields: Vec<_> = w[0].changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["group", "priority", "state", "otai_queue"]);

    let x = send(
        &sim,
        Method::PUT,
        "/api/v1/tickets/2?expand=true",
        json!({"priority_id": 1}),
    )
    .await;
    assert_eq!(x.body["priority"], "1 low");
    let bad = send(
        &sim,
        Method::PUT,
        "/api/v1/tickets/2",
        json!({"group_id": 77}),
    )
    .await;
    assert_eq!(bad.body["error"], "Invalid value for param 'group_id': 77");
    assert_eq!(
        send(
            &sim,
            Method::PUT,
            "/api/v1/tickets/42",
            json!({"title": "x"})
        )
        .await
        .status,
        404
    );
    assert_eq!(sim.stats().writes, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn tags_are_a_collection_of_their_own() {
    let sim = start(three()).await;
    let list = get(&sim, "/api/v1/tags?object=Ticket&o_id=1").await;
    assert_eq!(list.body, json!({"tags": ["vip"]}));
    let stamp = sim.ticket(1).unwrap().updated_at;
    let add = send(
        &sim,
        Method::POST,
        "/api/v1/tags/add",
        json!({"item": "otai_processed", "object": "Ticket", "o_id": 1}),
    )
    .await;
    assert_eq!((add.status, add.body.clone()), (201, Value::Bool(true)));
    assert_ne!(
        sim.ticket(1).unwrap().updated_at,
        stamp,
        "a new tag touches the ticket"
    );
    let again = send(
        &sim,
        Method::POST,
        "/api/v1/tags/add",
        json!({"item": "otai_processed", "object": "Ticket", "o_id": 1}),
    )
    .await;
    assert_eq!(
        (again.status, again.body.clone()),
        (201, Value::Bool(true)),
        "adding a tag twice is no error"
    );
    assert_eq!(sim.tags(1), ["vip", "otai_processed"]);
    let rm = send(
        &sim,
        Method::DELETE,
        "/api/v1/tags/remove",
        json!({"item": "vip", "object": "Ticket", "o_id": "1"}),
    )
    .await;
    assert_eq!((rm.status, rm.body.clone()), (200, Value::Bool(true)));
    assert_eq!(
        get(&sim, "/api/v1/tags?object=Ticket&o_id=1").await.body,
        json!({"tags": ["otai_processed"]})
    );
    let w = sim.writes(1);
    assert_eq!(
        w.iter()
            .filter_map(|w| w.tag_added.clone())
            .collect::<Vec<_>>(),
        ["otai_processed"]
    );
    assert_eq!(
        w.iter()
            .filter_map(|w| w.tag_removed.clone())
            .collect::<Vec<_>>(),
        ["vip"]
    );
    assert_eq!(
        send(
            &sim,
            Method::POST,
            "/api/v1/tags/add",
            json!({"item": "x", "object": "Ticket", "o_id": 9})
        )
        .await
        .status,
        404
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn auth_modes_and_their_failures() {
    let sim = start(
        three()
            .token("t1")
            .basic("bot@example.com", "pw")
            .bearer("oauth1"),
    )
    .await;
    let basic = format!("Basic {}", base64_of("bot@example.com:pw"));
    for auth in ["Token token=t1", "Bearer oauth1", basic.as_str()] {
        let a = call(&sim, Method::GET, "/api/v1/users/me", Some(auth), None).await;
        assert_eq!(a.status, 200, "{auth}");
        assert_eq!(a.body["login"], "bot@example.com");
    }
    let none = call(&sim, Method::GET, "/api/v1/tickets", None, None).await;
    assert_eq!(none.status, 403);
    assert_eq!(none.header("x-failure"), Some("Authentication required"));
    let wrong = call(&sim, Method::GET, "/api/v1/tickets", Some(TOKEN), None).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.header("x-failure"), Some("Can't find User for Token"));
    assert_eq!(
        wrong.body,
        json!({"error": "Can't find User for Token", "error_human": "Can't find User for Token"})
    );
    let bad_basic = format!("Basic {}", base64_of("bot@example.com:nope"));
    let a = call(&sim, Method::GET, "/api/v1/tickets", Some(&bad_basic), None).await;
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (401, Some("Invalid BasicAuth credentials"))
    );
    let a = call(
        &sim,
        Method::GET,
        "/api/v1/tickets",
        Some("Bearer nope"),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (401, Some("The provided token is invalid."))
    );
    assert_eq!(sim.stats().by_status.get(&401), Some(&3));
    sim.shutdown().await;

    let sim = start(three().disable_token_auth().disable_basic_auth()).await;
    let a = call(&sim, Method::GET, "/api/v1/tickets", Some(TOKEN), None).await;
    assert_eq!(
        (a.status, a.header("x-failure")),
        (403, Some("API token access disabled!"))
    );
    let basic = format!("Basic {}", base64_of("agent@example.com:secret"));
    let a = call(&sim, Method::GET, "/api/v1/tickets", Some(&basic), None).await;
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (403, Some("API password access disabled!"))
    );
    sim.shutdown().await;
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}
