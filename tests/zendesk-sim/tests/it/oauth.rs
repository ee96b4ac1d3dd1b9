//! `POST /oauth/tokens`: the client-credentials and refresh grants, expiring and rotating
//! tokens on the API, RFC 6749 errors, scopes, the rate limit, faults, the admin API and the
//! binary's flags.

use std::time::Duration;

use otai_zendesk_sim::{Fault, FaultRule, Faults, OAuthClient, SimBuilder, SimHandle, API_USER_ID};
use serde_json::{json, Value};

use crate::common::*;

const ID: &str = "otai";
const SECRET: &str = "client-s3cret";
const INITIAL: &str = "rt-initial";

/// The common builder with one client (`read write`) holding the refresh token [`INITIAL`].
fn oauth_builder() -> SimBuilder {
    builder().oauth_client(OAuthClient::new(ID, SECRET).with_refresh_token(INITIAL))
}

async fn token(sim: &SimHandle, body: Value) -> Answer {
    call_auth(sim, "POST", "/oauth/tokens", Some(body), None).await
}

fn client_credentials(scope: &str) -> Value {
    json!({"grant_type": "client_credentials", "client_id": ID, "client_secret": SECRET, "scope": scope})
}

fn refresh(refresh_token: &str) -> Value {
    json!({"grant_type": "refresh_token", "client_id": ID, "client_secret": SECRET, "refresh_token": refresh_token})
}

/// An access token for `scope` by client credentials.
async fn access_token(sim: &SimHandle, scope: &str) -> String {
    let a = token(sim, client_credentials(scope)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["access_token"].as_str().unwrap().to_string()
}

async fn with_bearer(
    sim: &SimHandle,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Answer {
    call_auth(sim, method, path, body, Some(&format!("Bearer {token}"))).await
}

async fn get_ticket(sim: &SimHandle, token: &str) -> Answer {
    with_bearer(sim, "GET", "/api/v2/tickets/2", token, None).await
}

async fn put_priority(sim: &SimHandle, token: &str) -> Answer {
    let body = json!({"ticket": {"priority": "low"}});
    with_bearer(sim, "PUT", "/api/v2/tickets/2", token, Some(body)).await
}

fn error_of(a: &Answer) -> (u16, &str) {
    (a.status, a.body["error"].as_str().unwrap_or(""))
}

fn expired_body() -> Value {
    json!({
        "error": "invalid_token",
        "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."
    })
}

#[tokio::test]
async fn client_credentials_token_works_on_the_api() {
    let sim = oauth_builder().start().await.unwrap();
    let a = token(&sim, client_credentials("read write")).await;
    assert_eq!(a.status, 200);
    let mut keys: Vec<&str> = a
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["access_token", "expires_in", "scope", "token_type"],
        "no refresh token for client credentials (RFC 6749 4.4.3)"
    );
    assert_eq!(a.body["token_type"], "bearer");
    assert_eq!(a.body["scope"], "read write");
    assert_eq!(a.body["expires_in"], 1800, "30 minutes by default");
    let t = a.body["access_token"].as_str().unwrap();
    assert!(
        t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()),
        "{t}"
    );
    assert_eq!(a.header("cache-control"), Some("no-store"));
    assert_eq!(a.header("pragma"), Some("no-cache"));

    assert_eq!(get_ticket(&sim, t).await.status, 200);
    assert_eq!(put_priority(&sim, t).await.status, 200);
    assert_eq!(sim.write_count(2), 1);
    let me = with_bearer(&sim, "GET", "/api/v2/users/me", t, None).await;
    assert_eq!(me.body["user"]["id"].as_u64(), Some(API_USER_ID));

    // Form-encoded with HTTP Basic client authentication (RFC 6749 2.3.1) works too.
    let res = reqwest::Client::new()
        .post(format!("{}/oauth/tokens", sim.base_url()))
        .basic_auth(ID, Some(SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=tickets%3Aread+tickets%3Awrite")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "tickets:read tickets:write");
    assert_ne!(body["access_token"].as_str(), Some(t), "every token is new");

    let s = sim.oauth_stats();
    assert_eq!((s.token_requests, s.tokens_issued), (2, 2));
    assert_eq!(s.issued_by_grant.get("client_credentials"), Some(&2));
    assert!(s.errors.is_empty());
    let r = &sim.token_requests()[0];
    assert_eq!(r.grant_type.as_deref(), Some("client_credentials"));
    assert_eq!(
        (r.client_id.as_deref(), r.scope.as_deref()),
        (Some(ID), Some("read write"))
    );
    assert_eq!(
        (r.status, r.error.clone(), r.faulted),
        (Some(200), None, false)
    );
    let admin = get(&sim, "/__sim/oauth").await;
    assert_eq!(admin.body["stats"]["token_requests"], 2);
    assert_eq!(admin.body["requests"][1]["client_id"], ID);
    assert!(
        !admin.body.to_string().contains(SECRET),
        "secrets are never recorded"
    );
}

#[tokio::test]
async fn access_token_expires_after_its_lifetime() {
    let sim = oauth_builder()
        .access_token_lifetime(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let a = token(&sim, client_credentials("read write")).await;
    assert_eq!(a.body["expires_in"], 2);
    let t = a.body["access_token"].as_str().unwrap();
    assert_eq!(
        get_ticket(&sim, t).await.status,
        200,
        "live right after issue"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let late = get_ticket(&sim, t).await;
    assert_eq!(late.status, 401);
    assert_eq!(late.body, expired_body());
    assert_eq!(put_priority(&sim, t).await.status, 401);
    assert_eq!(sim.write_count(2), 0);
    assert_eq!(sim.oauth_stats().rejected_access_tokens, 2);
    assert_eq!(sim.stats().unauthorized, 2);
}

#[tokio::test]
async fn expires_in_shortens_the_lifetime_never_lengthens_it() {
    let sim = oauth_builder().start().await.unwrap();
    let mut body = client_credentials("read");
    body["expires_in"] = json!(1);
    let short = token(&sim, body.clone()).await;
    assert_eq!(short.body["expires_in"], 1);
    body["expires_in"] = json!("999999");
    assert_eq!(token(&sim, body.clone()).await.body["expires_in"], 1800);
    body["expires_in"] = json!(0);
    assert_eq!(error_of(&token(&sim, body).await), (400, "invalid_request"));
    let t = short.body["access_token"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get_ticket(&sim, t).await.body, expired_body());
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_retires_the_old_one() {
    let sim = oauth_builder().start().await.unwrap();
    let first = token(&sim, refresh(INITIAL)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["token_type"], "bearer");
    assert_eq!(
        first.body["scope"], "read write",
        "the initial token's scope"
    );
    assert_eq!(first.body["expires_in"], 1800);
    assert_eq!(first.body["refresh_token_expires_in"], 30 * 24 * 3600);
    let (a1, r1) = (
        first.body["access_token"].as_str().unwrap().to_string(),
        first.body["refresh_token"].as_str().unwrap().to_string(),
    );
    assert_ne!(r1, INITIAL);
    assert_eq!(get_ticket(&sim, &a1).await.status, 200);

    let reused = token(&sim, refresh(INITIAL)).await;
    assert_eq!(error_of(&reused), (400, "invalid_grant"));
    assert!(reused.body["error_description"].is_string());

    let second = token(&sim, refresh(&r1)).await;
    assert_eq!(second.status, 200);
    let (a2, r2) = (
        second.body["access_token"].as_str().unwrap().to_string(),
        second.body["refresh_token"].as_str().unwrap().to_string(),
    );
    assert_eq!(
        get_ticket(&sim, &a1).await.body,
        expired_body(),
        "old access token invalidated"
    );
    assert_eq!(
        error_of(&token(&sim, refresh(&r1)).await),
        (400, "invalid_grant")
    );
    assert_eq!(
        put_priority(&sim, &a2).await.status,
        200,
        "the new pair works"
    );
    assert_ne!((a1, r1.clone()), (a2.clone(), r2.clone()));

    // Another client cannot use it.
    let other = oauth_builder()
        .oauth_client(OAuthClient::new("other", "o"))
        .start()
        .await
        .unwrap();
    let mut foreign = refresh(INITIAL);
    foreign["client_id"] = json!("other");
    foreign["client_secret"] = json!("o");
    assert_eq!(
        error_of(&token(&other, foreign).await),
        (400, "invalid_grant")
    );

    let s = sim.oauth_stats();
    assert_eq!(s.issued_by_grant.get("refresh_token"), Some(&2));
    assert_eq!(s.errors.get("invalid_grant"), Some(&2));
    assert_eq!(s.requests_by_grant.get("refresh_token"), Some(&4));
    let presented: Vec<Option<String>> = sim
        .token_requests()
        .into_iter()
        .map(|r| r.refresh_token)
        .collect();
    assert_eq!(presented[2].as_deref(), Some(r1.as_str()));
}

#[tokio::test]
async fn admins_expire_access_tokens_and_revoke_refresh_tokens() {
    let sim = oauth_builder().start().await.unwrap();
    let first = token(&sim, refresh(INITIAL)).await;
    let a1 = first.body["access_token"].as_str().unwrap();
    let r1 = first.body["refresh_token"].as_str().unwrap();
    let cc = access_token(&sim, "read").await;
    assert_eq!(sim.expire_access_tokens(), 2);
    assert_eq!(get_ticket(&sim, a1).await.body, expired_body());
    assert_eq!(get_ticket(&sim, &cc).await.status, 401);
    // The refresh token outlives its access token: that is what it is for.
    let second = token(&sim, refresh(r1)).await;
    assert_eq!(second.status, 200);
    let a2 = second.body["access_token"].as_str().unwrap();
    let r2 = second.body["refresh_token"].as_str().unwrap();

    let minted = sim.grant_refresh_token(ID, Some("read")).unwrap();
    assert_eq!(sim.revoke_refresh_tokens(ID), 2, "r2 and the minted one");
    assert_eq!(
        error_of(&token(&sim, refresh(r2)).await),
        (400, "invalid_grant")
    );
    assert_eq!(
        error_of(&token(&sim, refresh(&minted)).await),
        (400, "invalid_grant")
    );
    assert_eq!(
        get_ticket(&sim, a2).await.status,
        200,
        "issued access tokens run on"
    );

    // The same through the admin API.
    let m = call(
        &sim,
        "POST",
        "/__sim/oauth/refresh_tokens?client_id=otai&scope=read",
        None,
    )
    .await;
    let minted = m.body["refresh_token"].as_str().unwrap().to_string();
    let third = token(&sim, refresh(&minted)).await;
    assert_eq!(third.body["scope"], "read");
    assert_eq!(
        call(&sim, "POST", "/__sim/oauth/expire", None).await.body["expired"],
        2
    );
    let revoked = call(&sim, "POST", "/__sim/oauth/revoke?client_id=otai", None).await;
    assert_eq!(revoked.body["revoked"], 1);
    let next = third.body["refresh_token"].as_str().unwrap();
    assert_eq!(
        error_of(&token(&sim, refresh(next)).await),
        (400, "invalid_grant")
    );
    assert!(sim.grant_refresh_token("nobody", None).is_err());
}

#[tokio::test]
async fn refresh_tokens_expire_after_their_lifetime() {
    let sim = oauth_builder()
        .refresh_token_lifetime(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let a = token(&sim, refresh(INITIAL)).await;
    assert_eq!(a.body["refresh_token_expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = a.body["refresh_token"].as_str().unwrap();
    assert_eq!(
        error_of(&token(&sim, refresh(r)).await),
        (400, "invalid_grant")
    );
}

#[tokio::test]
async fn wrong_client_credentials_are_invalid_client() {
    let sim = oauth_builder().start().await.unwrap();
    let mut unknown = client_credentials("read");
    unknown["client_id"] = json!("stranger");
    let mut wrong = client_credentials("read");
    wrong["client_secret"] = json!("not-the-secret");
    let mut missing = client_credentials("read");
    missing.as_object_mut().unwrap().remove("client_secret");
    for body in [unknown, wrong, missing, refresh(INITIAL)] {
        let mut body = body;
        if body["grant_type"] == "refresh_token" {
            body["client_secret"] = json!("not-the-secret");
        }
        let a = token(&sim, body).await;
        assert_eq!(error_of(&a), (401, "invalid_client"), "{}", a.body);
        assert!(a.body["error_description"].is_string());
        assert!(a.body.get("access_token").is_none());
    }
    let res = reqwest::Client::new()
        .post(format!("{}/oauth/tokens", sim.base_url()))
        .basic_auth(ID, Some("not-the-secret"))
        .json(&json!({"grant_type": "client_credentials", "scope": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert!(res.headers().get("www-authenticate").is_some());
    assert_eq!(sim.oauth_stats().errors.get("invalid_client"), Some(&5));
    assert_eq!(sim.oauth_stats().tokens_issued, 0);
    let recorded = serde_json::to_string(&sim.token_requests()).unwrap();
    assert!(!recorded.contains("not-the-secret") && !recorded.contains(SECRET));
    // The failed refresh did not use up the refresh token.
    assert_eq!(token(&sim, refresh(INITIAL)).await.status, 200);
}

#[tokio::test]
async fn scopes_beyond_the_client_are_invalid_scope() {
    let sim = oauth_builder()
        .oauth_client(OAuthClient::new("reader", "r").with_scopes(&["read"]))
        .start()
        .await
        .unwrap();
    let reader = |scope: &str| json!({"grant_type": "client_credentials", "client_id": "reader", "client_secret": "r", "scope": scope});
    assert_eq!(
        error_of(&token(&sim, reader("read write")).await),
        (400, "invalid_scope")
    );
    assert_eq!(
        error_of(&token(&sim, reader("tickets:write")).await),
        (400, "invalid_scope")
    );
    let ok = token(&sim, reader("tickets:read")).await;
    assert_eq!(
        (ok.status, ok.body["scope"].as_str()),
        (200, Some("tickets:read"))
    );
    assert_eq!(
        error_of(&token(&sim, client_credentials("admin")).await),
        (400, "invalid_scope")
    );
    assert_eq!(
        error_of(&token(&sim, client_credentials("impersonate")).await),
        (400, "invalid_scope")
    );

    // A refresh may narrow the scope, not widen it; a refused one leaves the token live.
    let rt = sim.grant_refresh_token(ID, Some("read")).unwrap();
    let mut wider = refresh(&rt);
    wider["scope"] = json!("read write");
    assert_eq!(error_of(&token(&sim, wider).await), (400, "invalid_scope"));
    let same = token(&sim, refresh(&rt)).await;
    assert_eq!(
        (same.status, same.body["scope"].as_str()),
        (200, Some("read"))
    );
    assert_eq!(sim.oauth_stats().errors.get("invalid_scope"), Some(&5));
}

#[tokio::test]
async fn other_grant_types_are_unsupported_and_missing_fields_invalid_request() {
    let sim = oauth_builder().start().await.unwrap();
    for grant in [
        "password",
        "implicit",
        "token",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ] {
        let body = json!({"grant_type": grant, "client_id": ID, "client_secret": SECRET,
                          "username": "agent@example.com", "password": "pw", "scope": "read"});
        assert_eq!(
            error_of(&token(&sim, body).await),
            (400, "unsupported_grant_type"),
            "{grant}"
        );
    }
    let code = json!({"grant_type": "authorization_code", "client_id": ID, "client_secret": SECRET,
                      "code": "abc", "redirect_uri": "https://example.com/cb"});
    assert_eq!(
        error_of(&token(&sim, code).await),
        (400, "invalid_grant"),
        "no code was ever issued"
    );

    let mut no_grant = client_credentials("read");
    no_grant.as_object_mut().unwrap().remove("grant_type");
    let mut no_scope = client_credentials("read");
    no_scope.as_object_mut().unwrap().remove("scope");
    let mut no_refresh = refresh(INITIAL);
    no_refresh.as_object_mut().unwrap().remove("refresh_token");
    let mut bad_type = client_credentials("read");
    bad_type["scope"] = json!(["read"]);
    for body in [
        no_grant,
        no_scope,
        no_refresh,
        bad_type,
        json!("grant_type"),
    ] {
        let a = token(&sim, body.clone()).await;
        assert_eq!(error_of(&a), (400, "invalid_request"), "{body}");
        assert!(a.body["error_description"].is_string());
    }
    let s = sim.oauth_stats();
    assert_eq!(s.errors.get("unsupported_grant_type"), Some(&4));
    assert_eq!(s.errors.get("invalid_request"), Some(&5));
    // No grant type, and two bodies that could not be read (their fields are not recorded).
    assert_eq!(s.requests_by_grant.get(""), Some(&3));
}

#[tokio::test]
async fn a_token_without_write_scope_is_read_only() {
    let sim = oauth_builder().start().await.unwrap();
    for scope in ["read", "read users:write"] {
        let t = access_token(&sim, scope).await;
        assert_eq!(get_ticket(&sim, &t).await.status, 200);
        let w = put_priority(&sim, &t).await;
        assert_eq!(error_of(&w), (403, "Forbidden"), "{scope}");
        let tags = json!({"tags": ["x"]});
        let p = with_bearer(&sim, "POST", "/api/v2/tickets/2/tags", &t, Some(tags)).await;
        assert_eq!(p.status, 403);
    }
    assert_eq!(sim.write_count(2), 0);
    let rw = access_token(&sim, "tickets:read tickets:write").await;
    assert_eq!(put_priority(&sim, &rw).await.status, 200);
    assert_eq!(sim.write_count(2), 1);
}

#[tokio::test]
async fn token_requests_are_outside_the_rate_limit() {
    let sim = oauth_builder()
        .rate_limit_per_minute(2)
        .start()
        .await
        .unwrap();
    let mut t = String::new();
    for _ in 0..6 {
        let a = token(&sim, client_credentials("read")).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("x-rate-limit"), None, "no rate-limit headers");
        t = a.body["access_token"].as_str().unwrap().to_string();
    }
    assert_eq!(get_ticket(&sim, &t).await.status, 200);
    let second = get_ticket(&sim, &t).await;
    assert_eq!(second.header("x-rate-limit-remaining"), Some("0"));
    assert_eq!(get_ticket(&sim, &t).await.status, 429);
    assert_eq!(
        token(&sim, client_credentials("read")).await.status,
        200,
        "still served"
    );
    let s = sim.stats();
    assert_eq!(
        (s.requests, s.accepted, s.rate_limited),
        (3, 2, 1),
        "token requests not counted"
    );
    assert_eq!(sim.oauth_stats().token_requests, 7);
}

#[tokio::test]
async fn faults_target_the_token_endpoint() {
    let sim = oauth_builder().start().await.unwrap();
    sim.set_faults(
        Faults::none()
            .rule(FaultRule::always(Fault::Drop).path("/api/v2/*"))
            .rule(
                FaultRule::always(Fault::Error {
                    status: 503,
                    retry_after: None,
                })
                .method("POST")
                .path("/oauth/tokens")
                .next(1),
            )
            .rule(FaultRule::always(Fault::Drop).path("/oauth/*").next(1)),
    );
    let a = token(&sim, client_credentials("read")).await;
    assert_eq!((a.status, a.header("retry-after")), (503, Some("1")));
    let dropped = reqwest::Client::new()
        .post(format!("{}/oauth/tokens", sim.base_url()))
        .json(&refresh(INITIAL))
        .send()
        .await;
    assert!(
        dropped.is_err(),
        "the connection is closed without an answer"
    );
    // The dropped refresh was not processed: the refresh token is still live.
    let ok = token(&sim, refresh(INITIAL)).await;
    assert_eq!(ok.status, 200);

    let s = sim.oauth_stats();
    assert_eq!((s.token_requests, s.faulted, s.tokens_issued), (3, 2, 1));
    let r = sim.token_requests();
    assert_eq!((r[0].status, r[0].faulted), (Some(503), true));
    assert_eq!(
        (r[1].status, r[1].grant_type.as_deref()),
        (None, Some("refresh_token"))
    );
    let api = sim.stats();
    assert_eq!(
        (api.faults_injected, api.dropped_connections, api.requests),
        (2, 1, 0)
    );
}

#[tokio::test]
async fn reset_brings_back_the_initial_refresh_token() {
    let sim = oauth_builder().start().await.unwrap();
    let a = token(&sim, refresh(INITIAL)).await;
    let access = a.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(token(&sim, refresh(INITIAL)).await.status, 400);
    assert_eq!(call(&sim, "POST", "/__sim/reset", None).await.status, 200);
    assert_eq!(sim.oauth_stats().token_requests, 0);
    assert_eq!(
        get_ticket(&sim, &access).await.status,
        401,
        "issued tokens are forgotten"
    );
    assert_eq!(token(&sim, refresh(INITIAL)).await.status, 200);
}

#[tokio::test]
async fn binary_configures_an_oauth_client_and_prints_its_refresh_token() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_otai-zendesk-sim"))
        .args([
            "--oauth-client",
            "bin:bin-secret:with-colon",
            "--access-token-lifetime",
            "1",
            "--rate-limit",
            "50",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut base, mut line) = (String::new(), String::new());
    out.read_line(&mut base).unwrap();
    out.read_line(&mut line).unwrap();
    let base = base.trim().to_string();
    let words: Vec<&str> = line.split_whitespace().collect();
    let body = json!({"grant_type": "refresh_token", "client_id": "bin",
                      "client_secret": "bin-secret:with-colon", "refresh_token": words.get(2)});
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{base}/oauth/tokens"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let grant: Value = res.json().await.unwrap();
    let t = grant["access_token"].as_str().unwrap_or("").to_string();
    let api = client
        .get(format!("{base}/api/v2/tickets"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let api_status = api.status().as_u16();
    let limit = api
        .headers()
        .get("x-rate-limit")
        .map(|v| v.to_str().unwrap().to_string());
    // The default API token still works beside the OAuth client.
    let basic_status = client
        .get(format!("{base}/api/v2/tickets"))
        .header("authorization", basic())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(
        (words.len(), words[0], words[1]),
        (3, "refresh_token", "bin"),
        "{line}"
    );
    assert_eq!(words[2].len(), 64);
    assert!(!line.contains("bin-secret"));
    assert_eq!(status, 200, "{grant}");
    assert_eq!(grant["expires_in"], 1);
    assert_eq!(api_status, 200);
    assert_eq!(limit.as_deref(), Some("50"));
    assert_eq!(basic_status, 200);
}
