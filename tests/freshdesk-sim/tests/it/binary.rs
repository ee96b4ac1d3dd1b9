//! The binary prints its base URL first and serves the seed with its plan.

use otai_sim_kit::binary::spawn_for_url;

#[tokio::test]
async fn the_binary_prints_its_base_url_and_serves() {
    let args = [
        "--seed",
        crate::common::DEMO,
        "--plan",
        "trial",
        "--api-key",
        "bin-key",
        "--group",
        "Extra",
        "--custom-field",
        "cf_category",
        "--index-lag",
        "0",
    ];
    let (mut child, base) =
        spawn_for_url(env!("CARGO_BIN_EXE_otai-freshdesk-sim"), &args).expect("binary starts");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let resp = reqwest::Client::new()
        .get(format!("{base}/api/v2/search/tickets?query=%22status:2%22"))
        .header("Authorization", crate::common::basic("bin-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-ratelimit-total"], "50");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["total"], 200);
    child.kill().unwrap();
    child.wait().unwrap();
}
