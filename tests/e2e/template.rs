//! The vendor path: `scripts/plugin-template.sh` (what `make plugin-template` runs) writes a
//! standalone adapter crate outside the workspace; `cargo build --release` there yields its `.so`;
//! its own tests (the SDK's conformance kit against a mock) pass; copied into a plugins
//! directory, the already-built `otai` loads it and `otai tickets find` reaches its mock server.

use std::{path::Path, process::Command};

use serde_json::{json, Value};
use wiremock::{
    matchers::{header, method, path, query_param},
    Mock, MockServer, ResponseTemplate,
};

use crate::support::{otai_command, run_otai};

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `cargo <args>` in `dir`, with a target directory kept between runs inside this workspace's
/// (the crate shares otai's Cargo.lock, so its dependencies build once).
fn cargo(dir: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            workspace().join("target/plugin-template"),
        )
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo {args:?} in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crate_from_the_template_builds_outside_the_workspace_and_otai_loads_it() {
    let tmp = tempfile::TempDir::new().unwrap();
    let crate_dir = tmp.path().join("otai-acme");
    let script = workspace().join("scripts/plugin-template.sh");
    let made = Command::new("bash")
        .arg(&script)
        .args(["acme", crate_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("[workspace]") && manifest.contains("otai-plugin-sdk = \"0.1\""));

    cargo(&crate_dir, &["build", "--release"]);
    cargo(&crate_dir, &["test", "--release"]);

    let plugins = tmp.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let built = workspace().join("target/plugin-template/release/libotai_acme.so");
    let installed = plugins.join("libotai_acme.so");
    std::fs::copy(&built, &installed).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&installed, std::fs::Permissions::from_mode(0o755)).unwrap();

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/tickets"))
        .and(query_param("page", "1"))
        .and(header("authorization", "Bearer acme-e2e-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tickets": [
                {"id": 41, "subject": "Card declined", "body": "At the shop", "status": "new", "tags": []},
                {"id": 42, "subject": "Lost card", "body": "Yesterday", "status": "resolved", "tags": ["vip"]}
            ],
            "next_page": null
        })))
        .expect(1)
        .mount(&server)
        .await;
    let config = tmp.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "ticket_systems:\n  acme:\n    use: otai_acme:AcmeTicketSystemService\n    params:\n      base_url: {}\n      api_token: acme-e2e-token\n",
            server.uri()
        ),
    )
    .unwrap();

    let (listed, _) = run_otai(tmp.path(), &config, &plugins, &["plugins", "list"]);
    assert!(
        listed.contains("otai_acme 0.1.0 (interface 1.4.0)")
            && listed.contains("AcmeTicketSystemService (ticket_system)"),
        "{listed}"
    );
    let output = tokio::task::spawn_blocking(move || {
        otai_command(tmp.path(), &config, &plugins, &["tickets", "find", "acme"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tickets: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(&str, &str, &str)> = tickets
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap(),
                t["subject"].as_str().unwrap(),
                t["state"]["category"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("41", "Card declined", "new"),
            ("42", "Lost card", "solved")
        ],
        "the tickets of the template's mock, with their states mapped by the plugin"
    );
}
