//! Freshdesk webhook deliveries for `otai serve`: the shared secret checked, the ticket named.
//!
//! Freshdesk has no webhook subscriptions: an automation rule (ticket creation or update) runs
//! the **Trigger webhook** action, which signs nothing. So the admin gives that action a custom
//! header carrying a secret shared with otai: by default `X-Otai-Webhook-Secret: <secret>`
//! (the header's name is the `webhook_header` param, compared without regard to case; its value
//! is the `webhook_secret` param, compared in constant time). The secret is checked before the
//! body is read at all.
//!
//! Conservative choices where the docs leave room (`helpdesk-apis.md`, section 2.8):
//! - only the header is accepted. A secret in the URL would sit in proxy and access logs, and
//!   Basic auth (mentioned by a third party only) is not offered;
//! - nothing dates a delivery, so nothing is refused as stale, and Freshdesk sends no delivery
//!   id: the delivery id is left empty. Freshdesk retries a failed delivery at +5, +30 and
//!   +60 minutes; a delivery that comes again only makes otai look at the ticket again.
//!
//! The body is the one the admin writes in the action (Advanced, JSON), with ticket
//! placeholders: otai reads `{"ticket_id": "{{ticket.id}}"}` (a number is accepted too). The
//! *Simple* content mode's `{"freshdesk_webhook": {"ticket_id": ...}}` is accepted as well; that
//! shape is known only from a generated, third-party AsyncAPI description (unverified against
//! Freshdesk), so the Advanced body above is the one to configure. Ids are numeric.

use otai_plugin_sdk::{
    ids::numeric_id,
    webhook::{required_header, secrets_equal},
    Error, ErrorKind, Params, Secret, WebhookEvent, WebhookRequest,
};
use serde_json::Value;

/// The header carrying the shared secret unless `webhook_header` names another.
pub const DEFAULT_SECRET_HEADER: &str = "x-otai-webhook-secret";

/// The Simple content mode's wrapper object (third-party description, see the module docs).
const SIMPLE_WRAPPER: &str = "freshdesk_webhook";

/// How deliveries authenticate: the `webhook_secret` and `webhook_header` params.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookAuth {
    /// The shared secret; `None`: deliveries are refused (not configured).
    pub secret: Option<Secret>,
    /// The header carrying it, lower-case.
    pub header: String,
}

impl Default for WebhookAuth {
    fn default() -> Self {
        WebhookAuth {
            secret: None,
            header: DEFAULT_SECRET_HEADER.to_string(),
        }
    }
}

impl WebhookAuth {
    /// Reads `webhook_secret` and `webhook_header` (a header name without a secret to put in it
    /// is a mistake and refused).
    pub fn read(p: &mut Params) -> Result<WebhookAuth, Error> {
        let secret = p.secret("webhook_secret")?;
        let header = match p.string("webhook_header")? {
            None => DEFAULT_SECRET_HEADER.to_string(),
            Some(name) => {
                if !is_header_name(&name) {
                    return Err(p.error(
                        "`webhook_header` must be an HTTP header name (letters, digits and \
                         `-`, e.g. X-Otai-Webhook-Secret)",
                    ));
                }
                if secret.is_none() {
                    return Err(p.error(
                        "`webhook_header` is set but `webhook_secret` is missing: set the \
                         secret the Trigger webhook action sends in that header",
                    ));
                }
                name.to_ascii_lowercase()
            }
        };
        Ok(WebhookAuth { secret, header })
    }
}

/// An RFC 9110 field name: one or more token characters.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Verifies `request` with `auth` and names its ticket.
pub fn verify(auth: &WebhookAuth, request: &WebhookRequest) -> Result<WebhookEvent, Error> {
    let Some(secret) = &auth.secret else {
        return Err(Error::new(
            ErrorKind::Config,
            "no `webhook_secret` is configured for this Freshdesk service, so its webhook \
             deliveries cannot be verified: choose a long random secret, set it as \
             `webhook_secret` and send it from the automation rule's Trigger webhook action \
             in a custom header (`webhook_header`, default X-Otai-Webhook-Secret)",
        ));
    };
    let given = required_header(request, &auth.header)?;
    if !secrets_equal(given.trim().as_bytes(), secret.expose().as_bytes()) {
        return Err(Error::new(
            ErrorKind::Auth,
            format!(
                "the delivery's `{}` header does not carry the configured `webhook_secret`",
                auth.header
            ),
        ));
    }
    Ok(WebhookEvent {
        ticket_ids: ticket_ids(&request.body)?,
        delivery_id: None,
    })
}

/// The ticket a (verified) body names.
fn ticket_ids(body: &[u8]) -> Result<Vec<String>, Error> {
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::Validation,
            format!(
                "the delivery's body {why}; otai reads the Trigger webhook body \
                 `{{\"ticket_id\": \"{{{{ticket.id}}}}\"}}`"
            ),
        )
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid("is empty"));
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid("is not JSON"))?;
    let Some(object) = value.as_object() else {
        return Err(invalid("is not a JSON object"));
    };
    let mut found: Vec<(&str, &Value)> = Vec::new();
    if let Some(id) = object.get("ticket_id") {
        found.push(("ticket_id", id));
    }
    match object.get(SIMPLE_WRAPPER) {
        None => {}
        Some(Value::Object(simple)) => match simple.get("ticket_id") {
            Some(id) => found.push(("freshdesk_webhook.ticket_id", id)),
            None if found.is_empty() => {
                return Err(invalid("has a `freshdesk_webhook` without `ticket_id`"))
            }
            None => {}
        },
        Some(_) if found.is_empty() => {
            return Err(invalid("has a `freshdesk_webhook` that is not an object"))
        }
        Some(_) => {}
    }
    if found.is_empty() {
        return Err(invalid("names no ticket: it has no `ticket_id`"));
    }
    let mut ids: Vec<String> = Vec::new();
    for (key, id) in found {
        let id = match id {
            Value::String(text) => text.trim().to_string(),
            Value::Number(number) if number.is_u64() => number.to_string(),
            _ => {
                return Err(invalid(&format!(
                    "gives `{key}` as something other than a string or a number"
                )))
            }
        };
        if id.contains("{{") {
            return Err(invalid(&format!(
                "gives `{key}` as an unrendered placeholder (check its spelling: \
                 `{{{{ticket.id}}}}`)"
            )));
        }
        numeric_id(
            &id,
            &format!("Freshdesk ticket id in the delivery's `{key}`"),
            "",
        )?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > 1 {
        return Err(invalid(
            "names two different tickets in `ticket_id` and `freshdesk_webhook.ticket_id`",
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &str = "whsec-4c1d8e0b7f2a9d63";

    fn auth() -> WebhookAuth {
        WebhookAuth {
            secret: Some(Secret::new(SECRET)),
            header: DEFAULT_SECRET_HEADER.to_string(),
        }
    }

    fn delivery(secret_header: Option<(&str, &str)>, body: &str) -> WebhookRequest {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some((name, value)) = secret_header {
            headers.push((name.to_string(), value.to_string()));
        }
        WebhookRequest {
            headers,
            body: body.as_bytes().to_vec(),
            received_at: 1_796_205_600,
        }
    }

    fn good(body: &str) -> WebhookRequest {
        delivery(Some((DEFAULT_SECRET_HEADER, SECRET)), body)
    }

    fn assert_secret_free(err: &Error) {
        assert!(!err.message.contains(SECRET), "{}", err.message);
        assert!(!err.message.contains("4c1d8e0b"), "{}", err.message);
    }

    fn read(params: Value) -> Result<WebhookAuth, Error> {
        let mut p = Params::from_value("otai_freshdesk", params).unwrap();
        let auth = WebhookAuth::read(&mut p)?;
        p.finish()?;
        Ok(auth)
    }

    #[test]
    fn a_delivery_with_the_secret_names_its_ticket_and_no_delivery_id() {
        for body in [
            r#"{"ticket_id": "4711"}"#,
            r#"{"ticket_id": 4711}"#,
            r#"{"ticket_id": "4711", "subject": "VPN down", "status": "Open"}"#,
        ] {
            let event = verify(&auth(), &good(body)).unwrap();
            assert_eq!(event.ticket_ids, ["4711"], "{body}");
            assert_eq!(event.delivery_id, None);
        }
    }

    #[test]
    fn the_simple_content_wrapper_names_its_ticket_too() {
        for body in [
            r#"{"freshdesk_webhook": {"ticket_id": 4711, "ticket_subject": "VPN down"}}"#,
            r#"{"freshdesk_webhook": {"ticket_id": "4711"}}"#,
            r#"{"ticket_id": "4711", "freshdesk_webhook": {"ticket_id": 4711}}"#,
            r#"{"ticket_id": "4711", "freshdesk_webhook": {"ticket_subject": "x"}}"#,
        ] {
            let event = verify(&auth(), &good(body)).unwrap();
            assert_eq!(event.ticket_ids, ["4711"], "{body}");
        }
    }

    #[test]
    fn the_header_is_the_configured_one() {
        let custom = WebhookAuth {
            header: "x-acme-token".into(),
            ..auth()
        };
        let event = verify(
            &custom,
            &delivery(Some(("x-acme-token", SECRET)), r#"{"ticket_id": 1}"#),
        )
        .unwrap();
        assert_eq!(event.ticket_ids, ["1"]);
        let err = verify(&custom, &good(r#"{"ticket_id": 1}"#)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(err.message.contains("x-acme-token"), "{}", err.message);
    }

    #[test]
    fn a_wrong_secret_is_refused_before_the_body_is_read() {
        for wrong in [
            "whsec-4c1d8e0b7f2a9d64",
            "whsec-4c1d8e0b7f2a9d6",
            "whsec-4c1d8e0b7f2a9d63-and-more",
            "WHSEC-4C1D8E0B7F2A9D63",
            "",
        ] {
            let err = verify(
                &auth(),
                &delivery(Some((DEFAULT_SECRET_HEADER, wrong)), "not json"),
            )
            .unwrap_err();
            assert_eq!(err.kind, ErrorKind::Auth, "{wrong:?}: {}", err.message);
            assert!(
                err.message.contains("does not carry"),
                "{wrong:?}: {}",
                err.message
            );
            assert_secret_free(&err);
            if !wrong.is_empty() {
                assert!(!err.message.contains(wrong), "{}", err.message);
            }
        }
    }

    #[test]
    fn a_missing_header_is_refused_and_named() {
        let err = verify(&auth(), &delivery(None, r#"{"ticket_id": 1}"#)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(
            err.message.contains(DEFAULT_SECRET_HEADER),
            "{}",
            err.message
        );
        // The secret in another header (or as Basic credentials) does not count.
        let elsewhere = delivery(Some(("authorization", SECRET)), r#"{"ticket_id": 1}"#);
        let err = verify(&auth(), &elsewhere).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert_secret_free(&err);
    }

    #[test]
    fn unreadable_bodies_are_validation_errors_each_named() {
        for (body, why) in [
            ("", "is empty"),
            ("\r\n", "is empty"),
            ("ticket_id=4711", "is not JSON"),
            (r#""4711""#, "is not a JSON object"),
            ("{}", "names no ticket"),
            (r#"{"id": 4711}"#, "names no ticket"),
            (r#"{"ticket_id": null}"#, "something other than"),
            (r#"{"ticket_id": [4711]}"#, "something other than"),
            (r#"{"ticket_id": -3}"#, "something other than"),
            (
                r#"{"ticket_id": "{{ticket.id}}"}"#,
                "unrendered placeholder",
            ),
            (
                r#"{"ticket_id": "{{ticket.number}}"}"#,
                "unrendered placeholder",
            ),
            (r##"{"ticket_id": "#4711"}"##, "invalid Freshdesk ticket id"),
            (r#"{"freshdesk_webhook": []}"#, "not an object"),
            (
                r#"{"freshdesk_webhook": {"ticket_subject": "x"}}"#,
                "without `ticket_id`",
            ),
            (
                r#"{"freshdesk_webhook": {"ticket_id": true}}"#,
                "`freshdesk_webhook.ticket_id` as something other",
            ),
            (
                r#"{"ticket_id": 1, "freshdesk_webhook": {"ticket_id": 2}}"#,
                "two different tickets",
            ),
        ] {
            let err = verify(&auth(), &good(body)).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Validation, "{body:?}: {}", err.message);
            assert!(err.message.contains(why), "{body:?}: {}", err.message);
            assert_secret_free(&err);
        }
    }

    #[test]
    fn without_a_configured_secret_nothing_is_accepted() {
        let unconfigured = WebhookAuth::default();
        for request in [good(r#"{"ticket_id": 1}"#), WebhookRequest::default()] {
            let err = verify(&unconfigured, &request).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Config);
            assert!(err.message.contains("webhook_secret"), "{}", err.message);
        }
        // The host's probe (an empty delivery) with a secret: it verifies.
        let err = verify(&auth(), &WebhookRequest::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
    }

    #[test]
    fn the_params_read_with_a_lower_cased_header_and_errors_show_no_secret() {
        assert_eq!(read(json!({})).unwrap(), WebhookAuth::default());
        let a = read(json!({"webhook_secret": SECRET, "webhook_header": "X-Acme-Token"})).unwrap();
        assert_eq!(a.header, "x-acme-token");
        assert_eq!(a.secret, Some(Secret::new(SECRET)));
        assert!(!format!("{a:?}").contains(SECRET));
        for (params, why) in [
            (
                json!({"webhook_header": "X-Acme-Token"}),
                "`webhook_secret` is missing",
            ),
            (
                json!({"webhook_secret": SECRET, "webhook_header": "X Acme"}),
                "`webhook_header` must be an HTTP header name",
            ),
            (
                json!({"webhook_secret": SECRET, "webhook_header": "X-Acme:"}),
                "`webhook_header` must be an HTTP header name",
            ),
            (
                json!({"webhook_secret": "two words"}),
                "`webhook_secret` contains spaces",
            ),
            (json!({"webhook_secret": ""}), "`webhook_secret` is empty"),
        ] {
            let err = read(params.clone()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Config);
            assert!(err.message.contains(why), "{params}: {}", err.message);
            assert_secret_free(&err);
            assert!(!err.message.contains("two words"), "{}", err.message);
        }
    }
}
