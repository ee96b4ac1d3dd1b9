//! TicketSearch and TicketGet.

use reqwest::Method;
use serde_json::json;

use crate::common::{call, error_code, search, start, three, with_login};

#[tokio::test]
async fn search_filters_by_queue_state_priority_title_time_and_dynamic_field() {
    let sim = start(three()).await;

    assert_eq!(
        search(&sim, &[("Queues", "Raw"), ("Queues", "Cards")]).await,
        ["3", "1"]
    );
    assert_eq!(search(&sim, &[("QueueIDs", "2")]).await, ["1"]);
    assert_eq!(search(&sim, &[("States", "open")]).await, ["2"]);
    assert_eq!(
        search(&sim, &[("StateType", "new"), ("OrderBy", "Up")]).await,
        ["1", "3"]
    );
    assert_eq!(search(&sim, &[("Priorities", "4 high")]).await, ["2"]);
    assert_eq!(search(&sim, &[("Title", "*card*")]).await, ["1"]);
    assert_eq!(
        search(
            &sim,
            &[("TicketChangeTimeNewerDate", "2026-01-02 12:00:00")]
        )
        .await,
        ["3", "1"]
    );
    assert_eq!(
        search(
            &sim,
            &[
                ("TicketCreateTimeOlderDate", "2026-01-02 08:00:00"),
                ("SortBy", "Age"),
                ("OrderBy", "Up")
            ]
        )
        .await,
        ["1", "2"]
    );
    let a = call(&sim, Method::POST, "/Ticket", &[], None).await;
    assert_eq!(a.status, 500, "the shipped search is GET only");
    let empty = call(
        &sim,
        Method::GET,
        "/Ticket",
        &with_login(&[("DynamicField_OTAITags", "x")]),
        None,
    )
    .await;
    assert_eq!(
        empty.body["TicketID"],
        json!(["3", "2", "1"]),
        "a non-hash operator is ignored"
    );
}

#[tokio::test]
async fn dynamic_field_searches_take_a_json_body_on_a_post_route() {
    let routes = otai_otobo_sim::Routes::shipped()
        .with("search", "POST /TicketSearch")
        .unwrap();
    let sim = start(three().routes(routes)).await;
    let q = |v: serde_json::Value| {
        let mut body = json!({"UserLogin": "otai-agent", "Password": "secret"});
        for (k, x) in v.as_object().unwrap() {
            body[k] = x.clone();
        }
        body
    };

    let unprocessed = call(
        &sim,
        Method::POST,
        "/TicketSearch",
        &[],
        Some(q(json!({"DynamicField_OTAITags": {"Empty": 1}}))),
    )
    .await;
    let vip = call(
        &sim,
        Method::POST,
        "/TicketSearch",
        &[],
        Some(q(json!({"DynamicField_OTAITags": {"Equals": "vip"}}))),
    )
    .await;
    let listed = call(
        &sim,
        Method::POST,
        "/TicketSearch",
        &[],
        Some(q(
            json!({"DynamicField": [{"Name": "OTAITags", "Like": "v*"}]}),
        )),
    )
    .await;

    assert_eq!(unprocessed.body, json!({"TicketID": ["3", "1"]}));
    assert_eq!(vip.body, json!({"TicketID": ["2"]}));
    assert_eq!(listed.body, json!({"TicketID": ["2"]}));
}

#[tokio::test]
async fn limit_cuts_there_is_no_offset_and_no_match_is_an_empty_object() {
    let sim = start(three().search_limit(2)).await;

    let default_limit = search(&sim, &[]).await;
    let limited = search(&sim, &[("Limit", "1")]).await;
    let offset = search(&sim, &[("Limit", "1"), ("Offset", "1"), ("Page", "2")]).await;
    let none = call(
        &sim,
        Method::GET,
        "/Ticket",
        &with_login(&[("Queues", "Junk")]),
        None,
    )
    .await;
    let unknown_queue = call(
        &sim,
        Method::GET,
        "/Ticket",
        &with_login(&[("Queues", "Nope")]),
        None,
    )
    .await;
    let open = search(&sim, &[("StateType", "Open")]).await;

    assert_eq!(default_limit, ["3", "2"], "SearchLimit 2");
    assert_eq!(limited, ["3"]);
    assert_eq!(offset, ["3"], "Offset and Page mean nothing");
    assert_eq!(none.body, json!({}));
    assert_eq!(unknown_queue.body, json!({}));
    assert_eq!(
        open,
        ["2"],
        "`Open` is the state type open, not every open state"
    );
}

#[tokio::test]
async fn ticket_get_answers_many_tickets_in_the_order_asked() {
    let sim = start(three()).await;

    let a = call(&sim, Method::GET, "/Ticket/3,1", &with_login(&[]), None).await;
    let listed = call(
        &sim,
        Method::GET,
        "/Ticket/2",
        &with_login(&[("DynamicFields", "1")]),
        None,
    )
    .await;

    let t = &a.body["Ticket"];
    assert_eq!(t.as_array().unwrap().len(), 2);
    assert_eq!(
        (t[0]["TicketID"].clone(), t[1]["TicketID"].clone()),
        (json!("3"), json!("1"))
    );
    assert_eq!(t[0]["Queue"], "Cards");
    assert_eq!(t[1]["StateType"], "new");
    assert!(
        t[0].get("Article").is_none(),
        "articles only with AllArticles"
    );
    assert!(
        t[0].get("DynamicField").is_none(),
        "fields only with DynamicFields"
    );
    assert_eq!(t[1]["Changed"], "2026-01-03 08:00:00");
    assert!(t[1]["Age"].is_number() && t[1]["QueueID"].is_string());
    assert_eq!(
        listed.body["Ticket"][0]["DynamicField"],
        json!([{"Name": "OTAIQueue", "Value": null}, {"Name": "OTAITags", "Value": ["vip"]}])
    );
}

#[tokio::test]
async fn articles_come_with_all_articles_ordered_and_limited() {
    let sim = start(three()).await;
    let get = |q: Vec<(&'static str, &'static str)>| {
        let sim = sim.clone();
        async move { call(&sim, Method::GET, "/Ticket/2", &with_login(&q), None).await }
    };

    let all = get(vec![("AllArticles", "1")]).await;
    let first = get(vec![("AllArticles", "1"), ("ArticleLimit", "1")]).await;
    let last = get(vec![
        ("AllArticles", "1"),
        ("ArticleOrder", "DESC"),
        ("ArticleLimit", "1"),
    ])
    .await;
    let desc_alone = get(vec![("AllArticles", "1"), ("ArticleOrder", "DESC")]).await;
    let agents = get(vec![("AllArticles", "1"), ("ArticleSenderType", "agent")]).await;

    let arts = all.body["Ticket"][0]["Article"].as_array().unwrap().clone();
    assert_eq!(arts.len(), 2);
    let a = &arts[0];
    assert_eq!(a["Body"], "Where is my refund?");
    assert_eq!(
        (a["SenderType"].clone(), a["IsVisibleForCustomer"].clone()),
        (json!("customer"), json!("1"))
    );
    assert_eq!(a["CommunicationChannelID"], "1");
    assert_eq!(a["ContentType"], "text/plain; charset=utf-8");
    assert_eq!(arts[1]["IsVisibleForCustomer"], "0");
    assert_eq!(
        first.body["Ticket"][0]["Article"][0]["Body"],
        "Where is my refund?"
    );
    assert_eq!(last.body["Ticket"][0]["Article"][0]["Body"], "We are on it");
    assert_eq!(
        last.body["Ticket"][0]["Article"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        desc_alone.body["Ticket"][0]["Article"][0]["Body"], "Where is my refund?",
        "DESC without ArticleLimit keeps the order"
    );
    assert_eq!(
        agents.body["Ticket"][0]["Article"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn unknown_or_missing_ticket_ids_are_errors_as_200() {
    let sim = start(three()).await;

    let unknown = call(&sim, Method::GET, "/Ticket/1,99", &with_login(&[]), None).await;
    let word = call(&sim, Method::GET, "/Ticket/abc", &with_login(&[]), None).await;

    assert_eq!(error_code(&unknown), "TicketGet.AccessDenied");
    assert_eq!(
        unknown.body["Error"]["ErrorMessage"],
        "TicketGet: User does not have access to the ticket!"
    );
    assert_eq!(error_code(&word), "TicketGet.AccessDenied");
    assert!(unknown.content_type.starts_with("application/json"));
}
