//! The binary prints its base URL first and serves the seed.

use otai_sim_kit::binary::spawn_for_url;

#[tokio::test]
async fn the_binary_prints_its_base_url_and_serves() {
    let args = [
        "--seed",
        crate::common::DEMO,
        "--port",
        "0",
        "--token",
        "bin-token",
        "--no-elasticsearch",
        "--search-shape",
        "legacy",
    ];
    let (mut child, base) =
        spawn_for_url(env!("CARGO_BIN_EXE_otai-zammad-sim"), &args).expect("binary starts");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let client = reqwest::Client::new();
    let search: serde_json::Value = client
        .get(format!("{base}/api/v1/tickets/search?query=state.name:new"))
        .header("Authorization", "Token token=bin-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        search["tickets"],
        serde_json::json!([]),
        "no Elasticsearch: field queries find nothing"
    );
    let cond: serde_json::Value = client
        .get(format!("{base}/api/v1/tickets/search?condition[ticket.state_id][operator]=is&condition[ticket.state_id][value]=1&per_page=5"))
        .header("Authorization", "Token token=bin-token")
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(cond["tickets_count"], 5);
    child.kill().unwrap();
    child.wait().unwrap();
}
