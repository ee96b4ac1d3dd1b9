//! The binary prints the web service URL first and serves the demo.

use otai_sim_kit::binary::spawn_for_url;
use reqwest::Method;
use serde_json::json;

use crate::common::{call_url, login, with_login, DEMO};

#[tokio::test]
async fn the_binary_prints_its_web_service_url_and_serves_the_demo() {
    let args = ["--seed", DEMO, "--port", "0", "--flavour", "znuny"];
    let (mut child, base) =
        spawn_for_url(env!("CARGO_BIN_EXE_otai-otobo-sim"), &args).expect("binary starts");

    let search = format!("{base}/Ticket");
    let found = call_url(
        Method::GET,
        &search,
        &with_login(&[("Limit", "1000")]),
        None,
    )
    .await;
    let mut body = json!({"DynamicField": {"Name": "OTAITags", "Value": ["otai_processed"]}});
    for (k, v) in login() {
        body[k] = json!(v);
    }
    let patch = format!("{base}/Ticket/9000000001");
    let updated = call_url(Method::PATCH, &patch, &[], Some(body)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let script = "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST";
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with(script),
        "{base}"
    );
    assert_eq!(found.body["TicketID"].as_array().unwrap().len(), 200);
    assert_eq!(
        updated.body["TicketID"], "9000000001",
        "the demo has OTAITags: {updated:?}"
    );
}
