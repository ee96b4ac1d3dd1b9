//! The real adapter's OAuth (`oauth:` params) against the simulator's token endpoint: tokens obtained,
//! renewed before they expire and once after a 401, refresh tokens rotated and saved, and every
//! refusal an error that says what to fix without showing a secret.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use otai_plugin_sdk::{ErrorKind, LogLevel, SearchQuery, TicketUpdate};
use otai_zendesk::{Logger, ZendeskClient};
use otai_zendesk_sim::{Fault, FaultRule, Faults, OAuthClient, SimHandle};
use serde_json::{json, Value};

use crate::common::*;

const CLIENT: &str = "otai";
const SECRET: &str = "s3cret-client-value";

async fn oauth_sim(lifetime: Duration) -> SimHandle {
    builder()
        .oauth_client(OAuthClient::new(CLIENT, SECRET))
        .access_token_lifetime(lifetime)
        .start()
        .await
        .unwrap()
}

/// A client with `oauth` params (client credentials unless `extra` says otherwise) and a log that
/// records every line.
fn oauth_client(sim: &SimHandle, extra: Value) -> (ZendeskClient, Arc<Mutex<Vec<String>>>) {
    let mut oauth = json!({"client_id": CLIENT, "client_secret": SECRET});
    oauth
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let params = json!({"base_url": sim.base_url(), "oauth": oauth, "max_retry_wait": 5});
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let log = Logger::from_fn(move |level: LogLevel, _target: &str, message: &str| {
        sink.lock().unwrap().push(format!("{level:?} {message}"));
    });
    let mut client = ZendeskClient::from_params_json(&params.to_string(), log).unwrap();
    client.set_job_poll_waits(Duration::from_millis(10), Duration::from_millis(50));
    (client, lines)
}

fn all_new() -> SearchQuery {
    SearchQuery {
        statuses: vec!["new".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn client_credentials_token_is_renewed_before_it_expires_without_a_401() {
    // 2 s tokens are renewed 0.5 s before they expire: room for a request's trip on a busy machine.
    let sim = oauth_sim(Duration::from_secs(2)).await;
    let (c, log) = oauth_client(&sim, json!({}));

    for _ in 0..10 {
        c.find_tickets(&all_new()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let stats = sim.oauth_stats();
    assert!(stats.tokens_issued >= 3, "5 s of 2 s tokens: {stats:?}");
    assert_eq!(stats.tokens_issued, c.token_renewals());
    assert_eq!(
        stats.rejected_access_tokens, 0,
        "renewed before expiry, never after a refusal"
    );
    assert_eq!(
        stats.requests_by_grant.get("client_credentials"),
        Some(&stats.token_requests)
    );
    let lines = log.lock().unwrap().join("\n");
    assert!(
        lines.contains("Obtained an OAuth access token (client_credentials, scope `read write`)"),
        "{lines}"
    );
    assert!(!lines.contains(SECRET));
}

#[tokio::test]
async fn a_rejected_token_is_renewed_once_and_the_write_applied_exactly_once() {
    let sim = oauth_sim(Duration::from_secs(1800)).await;
    let (c, _log) = oauth_client(&sim, json!({}));
    c.find_tickets(&all_new()).await.unwrap();
    assert_eq!(sim.expire_access_tokens(), 1);

    let update = TicketUpdate {
        priority: Some("high".into()),
        ..Default::default()
    };
    c.update_ticket("6", &update).await.unwrap();

    assert_eq!(sim.oauth_stats().rejected_access_tokens, 1);
    assert_eq!(sim.oauth_stats().tokens_issued, 2);
    assert_eq!(
        sim.write_count(6),
        1,
        "the refused PUT was not processed; the second one was"
    );
    assert_eq!(sim.ticket(6).unwrap().priority.as_deref(), Some("high"));
}

#[tokio::test]
async fn check_connection_names_the_method_and_when_the_token_expires() {
    let sim = oauth_sim(Duration::from_secs(1800)).await;
    let (c, _log) = oauth_client(&sim, json!({}));

    let said = c.check_connection().await.unwrap();

    assert!(
        said.contains("auth: OAuth client credentials (client `otai`, scope `read write`)"),
        "{said}"
    );
    assert!(said.contains("expires in 29 min"), "{said}");
    assert!(!said.contains(SECRET));
}

#[tokio::test]
async fn the_refresh_grant_rotates_and_saves_the_refresh_token_and_a_restart_uses_the_saved_one() {
    // 3 s tokens: the first call finishes well before its token is due (at 2.25 s); the second,
    // 2.5 s later, needs a new one.
    let sim = oauth_sim(Duration::from_secs(3)).await;
    let first = sim.grant_refresh_token(CLIENT, None).unwrap();
    let dir = tempfile_dir();
    let file = dir.join("zendesk.refresh-token");
    let extra =
        json!({"grant": "refresh_token", "refresh_token": first, "refresh_token_file": file});
    let (c, _log) = oauth_client(&sim, extra.clone());

    c.find_tickets(&all_new()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    c.find_tickets(&all_new()).await.unwrap();
    let saved = std::fs::read_to_string(&file).unwrap().trim().to_string();
    drop(c);
    // A restart with the config's (long dead) refresh token still works: the saved one is newer.
    let (restarted, _log) = oauth_client(&sim, extra);
    restarted.find_tickets(&all_new()).await.unwrap();

    let requests = sim.token_requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_eq!(requests[0].refresh_token.as_deref(), Some(first.as_str()));
    assert_ne!(saved, first, "rotated");
    assert_eq!(
        requests[2].refresh_token.as_deref(),
        Some(saved.as_str()),
        "the restart used the saved token"
    );
    assert!(
        requests.iter().all(|r| r.status == Some(200)),
        "{requests:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_revoked_refresh_token_says_to_authorise_again() {
    let sim = oauth_sim(Duration::from_secs(1800)).await;
    let token = sim.grant_refresh_token(CLIENT, None).unwrap();
    sim.revoke_refresh_tokens(CLIENT);
    let dir = tempfile_dir();
    let extra = json!({"refresh_token": token, "refresh_token_file": dir.join("t")});
    let (c, _log) = oauth_client(&sim, extra);

    let err = c.find_tickets(&all_new()).await.unwrap_err();

    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(
        err.message
            .contains("POST /oauth/tokens failed with HTTP 400 (invalid_grant"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("Authorise otai again"),
        "{}",
        err.message
    );
    assert!(!err.message.contains(&token));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_wrong_secret_or_scope_is_an_error_naming_the_fix_and_no_secret() {
    let sim = oauth_sim(Duration::from_secs(1800)).await;
    let (wrong_secret, _) = oauth_client(&sim, json!({"client_secret": "not-the-secret"}));
    let (wrong_scope, _) = oauth_client(&sim, json!({"scope": "read write impersonate"}));

    let secret_err = wrong_secret.find_tickets(&all_new()).await.unwrap_err();
    let scope_err = wrong_scope.find_tickets(&all_new()).await.unwrap_err();

    assert_eq!(secret_err.kind, ErrorKind::Auth);
    assert!(
        secret_err.message.contains("invalid_client"),
        "{}",
        secret_err.message
    );
    assert!(
        secret_err.message.contains("`oauth.client_secret`"),
        "{}",
        secret_err.message
    );
    assert!(
        secret_err.message.contains("Admin Center"),
        "{}",
        secret_err.message
    );
    assert!(!secret_err.message.contains("not-the-secret"));
    assert_eq!(scope_err.kind, ErrorKind::Forbidden);
    assert!(
        scope_err.message.contains("invalid_scope"),
        "{}",
        scope_err.message
    );
    assert!(
        scope_err.message.contains("`oauth.scope`"),
        "{}",
        scope_err.message
    );
    assert_eq!(sim.stats().requests, 0, "no API request without a token");
}

#[tokio::test]
async fn a_token_endpoint_that_fails_twice_is_retried() {
    let sim = oauth_sim(Duration::from_secs(1800)).await;
    sim.set_faults(
        Faults::none().rule(
            FaultRule::always(Fault::Error {
                status: 503,
                retry_after: None,
            })
            .path("/oauth/tokens")
            .next(2),
        ),
    );
    let (c, log) = oauth_client(&sim, json!({}));

    c.find_tickets(&all_new()).await.unwrap();

    assert_eq!(sim.oauth_stats().token_requests, 3);
    assert_eq!(sim.oauth_stats().tokens_issued, 1);
    assert!(log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("POST /oauth/tokens: HTTP 503; retrying")));
}

#[test]
fn no_secret_appears_in_debug_output() {
    let params = json!({"domain": "acme", "oauth": {"client_id": CLIENT, "client_secret": SECRET,
                        "grant": "refresh_token", "refresh_token": "refresh-xyz"}});
    let config = otai_zendesk::Config::from_json(&params.to_string()).unwrap();
    let client = ZendeskClient::new(&config, Logger::silent()).unwrap();

    for shown in [format!("{config:?}"), format!("{client:?}")] {
        assert!(
            !shown.contains(SECRET) && !shown.contains("refresh-xyz"),
            "{shown}"
        );
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "otai-oauth-it-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
