//! Zammad webhook deliveries for `otai serve`: the signature checked, the ticket named.
//!
//! A Zammad webhook (Admin > Webhooks, fired by a trigger or a scheduler job) signs its
//! deliveries when it has a *signature token*: `x-hub-signature` is `sha1=<hex>`, the
//! HMAC-SHA1 of the raw body under that token. The token is the service's `webhook_secret`
//! param, used byte for byte as given (it is an HMAC key, never sent anywhere, so spaces and any
//! other characters are allowed, and nothing is trimmed). The signature is checked before the
//! body is read at all, in constant time.
//!
//! Conservative choices where Zammad's docs leave room:
//! - the signature is **required**: the token is optional in Zammad, and a webhook without one
//!   is refused, as is Zammad's other authentication towards the receiver (Basic or Bearer
//!   credentials): otai checks the signature only, so a delivery is trusted because of its
//!   body, not because of where it came from;
//! - only `sha1=` is accepted (the prefix in any case), the hex digest in either case;
//! - Zammad signs no timestamp, so a recorded delivery cannot be told from a fresh one by its
//!   signature. `x-zammad-delivery` (a random id per delivery) is the delivery's id, by which the
//!   host drops a delivery it has already accepted; it is outside the signature, so that guards
//!   against Zammad's own retries (up to 4), not against an attacker. A replay can only make
//!   otai look at a ticket again, which a pass does anyway.
//!
//! Two body shapes name a ticket (ids are numeric, Zammad's ticket id, not its number):
//! - Zammad's default payload: the ticket under `ticket` (its `id`) beside the `article`;
//! - a custom payload, e.g. `{"ticket_id": "#{ticket.id}"}` (a number is accepted too).
//!
//! A body that names two different tickets is refused rather than guessed at.

use otai_plugin_sdk::{
    ids::numeric_id,
    webhook::{hmac_sha1_hex_matches, required_header},
    Error, ErrorKind, Secret, WebhookEvent, WebhookRequest,
};
use serde_json::Value;

/// The signature header: `sha1=<hex HMAC-SHA1 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-hub-signature";
/// The delivery's id (random, unique per delivery).
pub const DELIVERY_HEADER: &str = "x-zammad-delivery";
/// What precedes the hex digest in [`SIGNATURE_HEADER`].
const SIGNATURE_PREFIX: &str = "sha1=";

/// Verifies `request` with `secret` (the webhook's signature token) and names its ticket.
pub fn verify(secret: Option<&Secret>, request: &WebhookRequest) -> Result<WebhookEvent, Error> {
    let Some(secret) = secret else {
        return Err(Error::new(
            ErrorKind::Config,
            "no `webhook_secret` is configured for this Zammad service, so its webhook \
             deliveries cannot be verified: give the webhook a signature token (Admin > \
             Webhooks > the webhook > HMAC SHA1 Signature Token) and set `webhook_secret` to it",
        ));
    };
    let signature = required_header(request, SIGNATURE_HEADER)?.trim();
    let hex = signature
        .get(..SIGNATURE_PREFIX.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(SIGNATURE_PREFIX))
        .map(|_| &signature[SIGNATURE_PREFIX.len()..])
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Auth,
                format!(
                    "the delivery's `{SIGNATURE_HEADER}` is not of the form \
                     `{SIGNATURE_PREFIX}<hex digest>`"
                ),
            )
        })?;
    if !hmac_sha1_hex_matches(secret.expose().as_bytes(), &request.body, hex) {
        return Err(Error::new(
            ErrorKind::Auth,
            format!(
                "the delivery's `{SIGNATURE_HEADER}` does not match its body under the \
                 configured `webhook_secret` (the webhook's signature token)"
            ),
        ));
    }
    Ok(WebhookEvent {
        ticket_ids: ticket_ids(&request.body)?,
        delivery_id: request
            .header(DELIVERY_HEADER)
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_string),
    })
}

/// The ticket a (verified) body names.
fn ticket_ids(body: &[u8]) -> Result<Vec<String>, Error> {
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::Validation,
            format!(
                "the delivery's body {why}; otai reads Zammad's default payload (`ticket.id`) \
                 or a custom payload `{{\"ticket_id\": \"#{{ticket.id}}\"}}`"
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
    match object.get("ticket") {
        None => {}
        Some(Value::Object(ticket)) => match ticket.get("id") {
            Some(id) => found.push(("ticket.id", id)),
            None if found.is_empty() => return Err(invalid("has a `ticket` without its `id`")),
            None => {}
        },
        Some(_) if found.is_empty() => return Err(invalid("has a `ticket` that is not an object")),
        Some(_) => {}
    }
    if found.is_empty() {
        return Err(invalid(
            "names no ticket: it has neither `ticket_id` nor `ticket.id`",
        ));
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
        numeric_id(
            &id,
            &format!("Zammad ticket id in the delivery's `{key}`"),
            " (Zammad's ticket id, not its number)",
        )?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > 1 {
        return Err(invalid(
            "names two different tickets in `ticket_id` and `ticket.id`",
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use otai_plugin_sdk::webhook::hmac_sha1_hex;

    use super::*;

    /// A signature token as an admin might type it: spaces are fine in an HMAC key.
    const SECRET: &str = "zammad signature token 9f2c";
    const DELIVERY: &str = "3f2a0a6e-5b1d-4c55-9c1e-8a4e1b7d2f10";

    fn signed_with(secret: &str, body: &str) -> WebhookRequest {
        let signature = format!("sha1={}", hmac_sha1_hex(secret.as_bytes(), body.as_bytes()));
        WebhookRequest {
            headers: vec![
                ("user-agent".into(), "Zammad User Agent".into()),
                ("x-zammad-trigger".into(), "otai: new tickets".into()),
                (DELIVERY_HEADER.into(), DELIVERY.into()),
                (SIGNATURE_HEADER.into(), signature),
            ],
            body: body.as_bytes().to_vec(),
            received_at: 1_796_205_600,
        }
    }

    fn signed(body: &str) -> WebhookRequest {
        signed_with(SECRET, body)
    }

    fn verify_with_secret(request: &WebhookRequest) -> Result<WebhookEvent, Error> {
        verify(Some(&Secret::new(SECRET)), request)
    }

    fn assert_secret_free(err: &Error) {
        assert!(!err.message.contains(SECRET), "{}", err.message);
        assert!(!err.message.contains("9f2c"), "{}", err.message);
    }

    /// Zammad's default payload, shortened: the ticket with nested objects, and the article.
    const DEFAULT_PAYLOAD: &str = r#"{
        "ticket": {"id": 31, "number": "31001", "title": "Printer on fire",
                   "group": {"id": 1, "name": "Users"}, "state": "new",
                   "customer": {"id": 2, "email": "nicole.braun@zammad.org"}},
        "article": {"id": 55, "ticket_id": 31, "from": "Nicole Braun", "body": "Help"}
    }"#;

    #[test]
    fn the_default_payload_names_its_ticket_and_the_delivery() {
        let event = verify_with_secret(&signed(DEFAULT_PAYLOAD)).unwrap();
        assert_eq!(event.ticket_ids, ["31"]);
        assert_eq!(event.delivery_id.as_deref(), Some(DELIVERY));
    }

    #[test]
    fn a_custom_payload_names_its_ticket_as_a_string_or_a_number() {
        for body in [
            r#"{"ticket_id": "31"}"#,
            r#"{"ticket_id": 31}"#,
            r#"{"ticket_id": " 31 "}"#,
            r#"{"ticket_id": "31", "ticket": {"id": 31}}"#,
        ] {
            let event = verify_with_secret(&signed(body)).unwrap();
            assert_eq!(event.ticket_ids, ["31"], "{body}");
        }
    }

    #[test]
    fn the_signature_prefix_and_digest_case_do_not_matter() {
        let mut request = signed(r#"{"ticket_id": 7}"#);
        let signature = request.header(SIGNATURE_HEADER).unwrap().to_string();
        request.headers.retain(|(name, _)| name != SIGNATURE_HEADER);
        request.headers.push((
            SIGNATURE_HEADER.into(),
            format!("SHA1={}", &signature["sha1=".len()..].to_uppercase()),
        ));
        assert_eq!(verify_with_secret(&request).unwrap().ticket_ids, ["7"]);
    }

    #[test]
    fn a_delivery_without_its_id_still_verifies() {
        let mut request = signed(r#"{"ticket_id": 7}"#);
        request.headers.retain(|(name, _)| name != DELIVERY_HEADER);
        let event = verify_with_secret(&request).unwrap();
        assert_eq!(event.ticket_ids, ["7"]);
        assert_eq!(event.delivery_id, None);
    }

    #[test]
    fn a_signature_under_another_token_is_refused_before_the_body_is_read() {
        let err = verify_with_secret(&signed_with("another token", "not json")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth, "{}", err.message);
        assert!(err.message.contains("does not match"), "{}", err.message);
        assert_secret_free(&err);
    }

    #[test]
    fn a_changed_body_is_refused() {
        let mut request = signed(r#"{"ticket_id": 1}"#);
        request.body = br#"{"ticket_id": 2}"#.to_vec();
        let err = verify_with_secret(&request).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(err.message.contains(SIGNATURE_HEADER), "{}", err.message);
        assert_secret_free(&err);
    }

    #[test]
    fn a_token_is_used_as_given_without_trimming() {
        let err = verify(
            Some(&Secret::new(format!(" {SECRET}"))),
            &signed(r#"{"ticket_id": 1}"#),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
    }

    #[test]
    fn a_missing_or_malformed_signature_is_refused() {
        let mut unsigned = signed(r#"{"ticket_id": 1}"#);
        unsigned
            .headers
            .retain(|(name, _)| name != SIGNATURE_HEADER);
        // Zammad's Basic auth towards the receiver does not replace the signature.
        unsigned
            .headers
            .push(("authorization".into(), "Basic b3RhaTpzM2NyZXQ=".into()));
        let err = verify_with_secret(&unsigned).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(err.message.contains(SIGNATURE_HEADER), "{}", err.message);

        let good = signed(r#"{"ticket_id": 1}"#);
        let digest = good.header(SIGNATURE_HEADER).unwrap()["sha1=".len()..].to_string();
        for bad in [
            digest.clone(),
            format!("sha256={digest}"),
            "sha1=".to_string(),
            "sha1=not-hex".to_string(),
            format!("sha1={}", &digest[..10]),
        ] {
            let mut request = signed(r#"{"ticket_id": 1}"#);
            request.headers.retain(|(name, _)| name != SIGNATURE_HEADER);
            request.headers.push((SIGNATURE_HEADER.into(), bad.clone()));
            let err = verify_with_secret(&request).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Auth, "{bad}");
            assert!(!err.message.contains(&digest), "{bad}: {}", err.message);
            assert_secret_free(&err);
        }
    }

    #[test]
    fn unreadable_bodies_are_validation_errors_each_named() {
        for (body, why) in [
            ("", "is empty"),
            ("  \n", "is empty"),
            ("ticket_id=31", "is not JSON"),
            ("[31]", "is not a JSON object"),
            ("{}", "names no ticket"),
            (r#"{"article": {"ticket_id": 31}}"#, "names no ticket"),
            (r#"{"ticket": {"number": "31001"}}"#, "without its `id`"),
            (r#"{"ticket": 31}"#, "not an object"),
            (r#"{"ticket_id": null}"#, "something other than"),
            (r#"{"ticket_id": -1}"#, "something other than"),
            (r#"{"ticket_id": 3.5}"#, "something other than"),
            (
                r#"{"ticket": {"id": [31]}}"#,
                "`ticket.id` as something other",
            ),
            (r##"{"ticket_id": "#31"}"##, "invalid Zammad ticket id"),
            (r#"{"ticket_id": ""}"#, "invalid Zammad ticket id"),
            (
                r#"{"ticket_id": "31", "ticket": {"id": 32}}"#,
                "two different tickets",
            ),
        ] {
            let err = verify_with_secret(&signed(body)).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Validation, "{body:?}: {}", err.message);
            assert!(err.message.contains(why), "{body:?}: {}", err.message);
            assert_secret_free(&err);
        }
    }

    #[test]
    fn without_a_configured_secret_nothing_is_accepted() {
        for request in [signed(DEFAULT_PAYLOAD), WebhookRequest::default()] {
            let err = verify(None, &request).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Config);
            assert!(err.message.contains("webhook_secret"), "{}", err.message);
        }
    }

    #[test]
    fn an_empty_probe_with_a_secret_is_an_auth_error() {
        // `otai serve` probes with an empty delivery: anything but Config/Unsupported means
        // "verifies".
        let err = verify_with_secret(&WebhookRequest::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
    }
}
