//! Params validation as the host sees it: errors name the key, never the value.

use otai_plugin_sdk::ErrorKind;
use otai_zendesk::{Config, Logger, ZendeskClient};
use serde_json::json;

fn config_err(params: serde_json::Value) -> String {
    let err = Config::from_json(&params.to_string()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    let message = err.message.to_string();
    for secret in ["SECRET-A", "SECRET-B"] {
        assert!(!message.contains(secret), "{message}");
    }
    message
}

#[test]
fn both_auth_methods_are_rejected() {
    let m = config_err(
        json!({"domain": "acme", "email": "a@b.c", "api_token": "SECRET-A", "oauth_token": "SECRET-B"}),
    );
    assert!(
        m.contains("`oauth_token`") && m.contains("`api_token`"),
        "{m}"
    );
}

#[test]
fn missing_auth_is_rejected() {
    let m = config_err(json!({"domain": "acme"}));
    assert!(
        m.contains("`oauth`") && m.contains("`email` + `api_token`"),
        "{m}"
    );
}

#[test]
fn email_without_token_and_token_without_email_are_rejected() {
    let m = config_err(json!({"domain": "acme", "email": "a@b.c"}));
    assert!(m.contains("`api_token` is missing"), "{m}");
    let m = config_err(json!({"domain": "acme", "api_token": "SECRET-A"}));
    assert!(m.contains("`email` is missing"), "{m}");
}

#[test]
fn unknown_keys_are_named() {
    let m =
        config_err(json!({"domain": "acme", "oauth_token": "SECRET-A", "api_tokn": "SECRET-B"}));
    assert!(m.contains("`api_tokn`"), "{m}");
}

#[test]
fn a_wrongly_typed_secret_is_not_echoed() {
    let m = config_err(json!({"domain": "acme", "email": "a@b.c", "api_token": ["SECRET-A"]}));
    assert!(m.contains("`api_token`"), "{m}");
}

#[test]
fn domain_or_base_url_is_required() {
    let m = config_err(json!({"oauth_token": "SECRET-A"}));
    assert!(m.contains("`domain`"), "{m}");
}

#[test]
fn a_missing_ca_bundle_is_a_config_error_at_construction() {
    let p = json!({"domain": "acme", "oauth_token": "SECRET-A", "verify": "/nonexistent/ca.pem"});
    let err = ZendeskClient::from_params_json(&p.to_string(), Logger::silent()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("`verify`"), "{}", err.message);
}

#[test]
fn a_ca_bundle_and_verify_false_build_a_client() {
    let system_bundle = "/etc/ssl/certs/ca-certificates.crt";
    if std::path::Path::new(system_bundle).exists() {
        let p = json!({"domain": "acme", "oauth_token": "t", "verify": system_bundle});
        ZendeskClient::from_params_json(&p.to_string(), Logger::silent()).unwrap();
    }
    let p = json!({"domain": "acme", "oauth_token": "t", "verify": false});
    ZendeskClient::from_params_json(&p.to_string(), Logger::silent()).unwrap();
}
