//! URLs, route tables, authentication and the two kinds of error answer.

use std::time::Duration;

use otai_otobo_sim::{Flavour, Routes, Simulator};
use reqwest::Method;
use serde_json::json;

use crate::common::{
    call, call_in_session, call_url, error_code, login, search, session, start, three, with_login,
    LOGIN,
};

#[tokio::test]
async fn each_flavour_serves_under_its_script_path_by_name_and_by_id() {
    for (flavour, script) in [
        (Flavour::Otobo, "/otobo/nph-genericinterface.pl"),
        (Flavour::Znuny, "/otrs/nph-genericinterface.pl"),
        (Flavour::Otrs6, "/otrs/nph-genericinterface.pl"),
    ] {
        let sim = start(three().flavour(flavour).webservice("OTAI")).await;

        let by_name = search(&sim, &[]).await;
        let by_id = call_url(
            Method::GET,
            &format!("{}/WebserviceID/1/Ticket", sim.root_url()),
            &login(),
            None,
        )
        .await;
        let other = call_url(
            Method::GET,
            &format!(
                "{}/otobo-other/nph-genericinterface.pl/Webservice/OTAI/Ticket",
                sim.server_url()
            ),
            &login(),
            None,
        )
        .await;

        assert_eq!(sim.root_url(), format!("{}{script}", sim.server_url()));
        assert_eq!(
            sim.base_url(),
            format!("{}{script}/Webservice/OTAI", sim.server_url())
        );
        assert_eq!(by_name, ["3", "2", "1"], "{flavour:?}");
        assert_eq!(by_id.body["TicketID"], json!(["3", "2", "1"]));
        assert_eq!(other.status, 404);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn an_unknown_web_service_is_an_empty_500_and_no_route_a_plain_text_500() {
    let sim = start(three()).await;

    let unknown = call_url(
        Method::GET,
        &format!("{}/Webservice/Nope/Ticket", sim.root_url()),
        &login(),
        None,
    )
    .await;
    let no_route = call(&sim, Method::POST, "/Ticket/1", &login(), None).await;
    let bad_json = call_url(
        Method::PATCH,
        &format!("{}/Ticket/1", sim.base_url()),
        &[],
        None,
    )
    .await;

    assert_eq!((unknown.status, unknown.text.as_str()), (500, ""));
    assert_eq!(no_route.status, 500);
    assert!(
        no_route.content_type.starts_with("text/plain"),
        "{no_route:?}"
    );
    assert_eq!(
        no_route.text,
        "HTTP::REST Error while determine Operation for request URI '/Ticket/1'."
    );
    // A PATCH without a body carries only the path and query data: the operation answers.
    assert_eq!(error_code(&bad_json), "TicketUpdate.MissingParameter");
    let client = reqwest::Client::new();
    let r = client
        .patch(format!("{}/Ticket/1", sim.base_url()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(
        r.text().await.unwrap(),
        "Error while decoding request content."
    );
}

#[tokio::test]
async fn open_ticket_ais_routes_take_any_method_and_the_body() {
    let sim = start(three().routes(Routes::open_ticket_ai())).await;
    let creds = json!({"UserLogin": LOGIN.0, "Password": LOGIN.1});

    let mut body = creds.clone();
    body["Queues"] = json!(["Billing"]);
    let found = call(&sim, Method::POST, "/ticket-search", &[], Some(body)).await;
    let mut body = creds.clone();
    body["TicketID"] = json!("2");
    let got = call(&sim, Method::PUT, "/ticket-get", &[], Some(body)).await;
    let shipped = call(&sim, Method::GET, "/Ticket", &login(), None).await;

    assert_eq!(found.body, json!({"TicketID": ["2"]}));
    assert_eq!(got.body["Ticket"][0]["Title"], "Refund missing");
    assert_eq!(shipped.status, 500, "the shipped routes are not configured");
}

#[tokio::test]
async fn a_custom_route_table_parses_and_a_get_body_is_ignored() {
    let routes =
        Routes::parse(&[("search", "POST /Search"), ("get", "GET /Ticket/:TicketID")]).unwrap();
    let sim = start(three().routes(routes)).await;

    let searched = call(
        &sim,
        Method::POST,
        "/Search",
        &login(),
        Some(json!({"Queues": ["Cards"]})),
    )
    .await;
    let ignored = call(
        &sim,
        Method::GET,
        "/Ticket/1",
        &[],
        Some(json!({"UserLogin": LOGIN.0, "Password": LOGIN.1})),
    )
    .await;

    assert_eq!(
        searched.body,
        json!({"TicketID": ["3"]}),
        "query login and body filters merge"
    );
    assert_eq!(error_code(&ignored), "TicketGet.AuthFail");
}

#[tokio::test]
async fn sessions_authenticate_until_they_idle_out() {
    let sim = start(three().session_idle_timeout(Duration::from_secs(60))).await;
    sim.set_clock(Some(1_800_000_000));

    let sid = session(&sim).await;
    let fresh = search(&sim, &[]).await;
    let by_session = call_in_session(&sim, Method::GET, "/Ticket/1", &sid).await;
    sim.set_clock(Some(1_800_000_061));
    let idle = call_in_session(&sim, Method::GET, "/Ticket/1", &sid).await;
    let no_password = json!({"UserLogin": LOGIN.0, "Password": "no"});
    let wrong = call(&sim, Method::POST, "/Session", &[], Some(no_password)).await;
    let empty = call(&sim, Method::POST, "/Session", &[("x", "1")], None).await;

    assert_eq!(sid.len(), 32);
    assert_eq!(fresh.len(), 3);
    assert_eq!(by_session.body["Ticket"][0]["TicketID"], "1");
    assert_eq!(error_code(&idle), "TicketGet.AuthFail", "an HTTP 200 error");
    assert_eq!(
        idle.body["Error"]["ErrorMessage"],
        "TicketGet: Authorization failing!"
    );
    assert_eq!(error_code(&wrong), "SessionCreate.AuthFail");
    assert_eq!(error_code(&empty), "SessionCreate.MissingParameter");
    assert_eq!(sim.stats().auth_failures, 2);
}

#[tokio::test]
async fn expired_sessions_fail_every_operation_and_wrong_passwords_too() {
    let sim = start(three()).await;
    let sid = session(&sim).await;
    sim.expire_sessions();

    let searched = call_in_session(&sim, Method::GET, "/Ticket", &sid).await;
    let move_it = json!({"SessionID": sid, "Ticket": {"Queue": "Cards"}});
    let updated = call(&sim, Method::PATCH, "/Ticket/1", &[], Some(move_it)).await;
    let bad_login = [("UserLogin", LOGIN.0), ("Password", "wrong")];
    let wrong = call(&sim, Method::GET, "/Ticket", &bad_login, None).await;

    assert_eq!(error_code(&searched), "TicketSearch.AuthFail");
    assert_eq!(error_code(&updated), "TicketUpdate.AuthFail");
    assert_eq!(
        updated.body["Error"]["ErrorMessage"],
        "TicketUpdate: User could not be authenticated!"
    );
    assert_eq!(error_code(&wrong), "TicketSearch.AuthFail");
    assert_eq!(sim.ticket(1).unwrap().queue, "Raw");
}

#[tokio::test]
async fn operations_are_counted_by_name() {
    let sim = start(three()).await;

    search(&sim, &[]).await;
    search(&sim, &[("Queues", "Cards")]).await;
    call(&sim, Method::GET, "/Ticket/1", &login(), None).await;
    call(
        &sim,
        Method::POST,
        "/Session",
        &[],
        Some(json!({"UserLogin": LOGIN.0, "Password": LOGIN.1})),
    )
    .await;
    call(&sim, Method::GET, "/Nowhere", &with_login(&[]), None).await;

    let st = sim.stats();
    assert_eq!(st.by_operation["TicketSearch"], 2);
    assert_eq!(st.by_operation["TicketGet"], 1);
    assert_eq!(st.by_operation["SessionCreate"], 1);
    assert!(!st.by_operation.contains_key("TicketUpdate"));
    assert_eq!(
        (st.requests, st.by_status[&200], st.by_status[&500]),
        (5, 4, 1)
    );
    let admin: serde_json::Value = reqwest::get(format!("{}/__sim/stats", sim.server_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["by_operation"]["TicketSearch"], 2);
}

#[test]
fn a_blocking_simulator_serves_synchronous_tests() {
    let sim = Simulator::builder().start_blocking().unwrap();
    assert!(sim
        .base_url()
        .ends_with("/otobo/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST"));
    assert!(sim.tickets().is_empty());
}
