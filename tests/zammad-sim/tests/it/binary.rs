//! The binary prints its base URL first and serves the seed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_binary_prints_its_base_url_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otai-zammad-sim"))
        .args([
            "--seed",
            crate::common::DEMO,
            "--port",
            "0",
            "--token",
            "bin-token",
            "--no-elasticsearch",
            "--search-shape",
            "legacy",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_string();
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
