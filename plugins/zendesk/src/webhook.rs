//! Zendesk webhook deliveries for `otai serve`: the signature checked, the ticket named.
//!
//! Zendesk signs every delivery: `x-zendesk-webhook-signature` is
//! `base64(HMAC-SHA256(key = the webhook's signing secret as given, message = TIMESTAMP + BODY))`
//! with `TIMESTAMP` the raw `x-zendesk-webhook-signature-timestamp` header (ISO-8601). The
//! signature is checked before the body is read at all, in constant time; a timestamp more than
//! five minutes from the host's clock is refused (a replayed delivery). The secret is the
//! service's `webhook_secret` param (`GET /api/v2/webhooks/{id}/signing_secret` shows it).
//!
//! Two body shapes name a ticket:
//! - a trigger (or automation) webhook whose payload the admin pastes from otai's docs:
//!   `{"ticket_id": "{{ticket.id}}"}` (a number is accepted too);
//! - an event webhook: `{"type": "zen:event-type:ticket.created", "detail": {"id": "123", ...}}`;
//!   other event types (users, organisations) name no ticket and are acknowledged.
//!
//! `x-zendesk-webhook-invocation-id` is the delivery's id: Zendesk may deliver one invocation
//! twice, and the host drops the second.

use otai_plugin_sdk::{
    ids::numeric_id,
    webhook::{check_fresh, hmac_sha256_base64_matches, required_header, MAX_SIGNATURE_AGE_SECS},
    Error, ErrorKind, Secret, WebhookEvent, WebhookRequest,
};
use serde_json::Value;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
/// The signed timestamp header.
pub const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";
/// The delivery's id.
pub const INVOCATION_HEADER: &str = "x-zendesk-webhook-invocation-id";

/// The event types that name a ticket in `detail.id`.
const TICKET_EVENT_PREFIX: &str = "zen:event-type:ticket.";

/// Verifies `request` with `secret` and names its ticket.
pub fn verify(secret: Option<&Secret>, request: &WebhookRequest) -> Result<WebhookEvent, Error> {
    let Some(secret) = secret else {
        return Err(Error::new(
            ErrorKind::Config,
            "no `webhook_secret` is configured for this Zendesk service, so its webhook \
             deliveries cannot be verified: set it to the webhook's signing secret \
             (Admin Center > Webhooks > the webhook > Signing secret)",
        ));
    };
    let signature = required_header(request, SIGNATURE_HEADER)?;
    let timestamp = required_header(request, TIMESTAMP_HEADER)?;
    if !hmac_sha256_base64_matches(
        secret.expose().as_bytes(),
        &[timestamp.as_bytes(), &request.body],
        signature,
    ) {
        return Err(Error::new(
            ErrorKind::Auth,
            format!(
                "the delivery's `{SIGNATURE_HEADER}` does not match its timestamp and body \
                 under the configured `webhook_secret`"
            ),
        ));
    }
    let signed_at = OffsetDateTime::parse(timestamp.trim(), &Rfc3339).map_err(|_| {
        Error::new(
            ErrorKind::Auth,
            format!("the delivery's `{TIMESTAMP_HEADER}` is not an ISO-8601 time"),
        )
    })?;
    check_fresh(
        signed_at.unix_timestamp(),
        request.received_at,
        MAX_SIGNATURE_AGE_SECS,
    )?;
    Ok(WebhookEvent {
        ticket_ids: ticket_ids(&request.body)?,
        delivery_id: request.header(INVOCATION_HEADER).map(str::to_string),
    })
}

/// The ticket a (verified) body names: none for an event about something else.
fn ticket_ids(body: &[u8]) -> Result<Vec<String>, Error> {
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::Validation,
            format!(
                "the delivery's body {why}; otai reads a trigger webhook's \
                 `{{\"ticket_id\": \"{{{{ticket.id}}}}\"}}` or a ticket event's `detail.id`"
            ),
        )
    };
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid("is not JSON"))?;
    let Some(object) = value.as_object() else {
        return Err(invalid("is not a JSON object"));
    };
    let id = if let Some(id) = object.get("ticket_id") {
        id
    } else if let Some(kind) = object.get("type").and_then(Value::as_str) {
        if !kind.starts_with(TICKET_EVENT_PREFIX) {
            return Ok(Vec::new());
        }
        match object.get("detail").and_then(|d| d.get("id")) {
            Some(id) => id,
            None => return Err(invalid("is a ticket event without `detail.id`")),
        }
    } else {
        return Err(invalid("has neither `ticket_id` nor an event `type`"));
    };
    let id = match id {
        Value::String(text) => text.trim().to_string(),
        Value::Number(number) if number.is_u64() => number.to_string(),
        _ => {
            return Err(invalid(
                "names its ticket with something other than a string or a number",
            ))
        }
    };
    numeric_id(&id, "Zendesk ticket id in the delivery", "")?;
    Ok(vec![id])
}

#[cfg(test)]
mod tests {
    use otai_plugin_sdk::webhook::hmac_sha256_base64;

    use super::*;

    const SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
    /// 2026-12-02T10:00:00Z.
    const AT: i64 = 1_796_205_600;

    fn signed(body: &str, timestamp: &str, received_at: i64) -> WebhookRequest {
        let signature =
            hmac_sha256_base64(SECRET.as_bytes(), &[timestamp.as_bytes(), body.as_bytes()]);
        WebhookRequest {
            headers: vec![
                (SIGNATURE_HEADER.into(), signature),
                (TIMESTAMP_HEADER.into(), timestamp.into()),
                (
                    INVOCATION_HEADER.into(),
                    "01HANAHBMTDTB8Q98K38YZ5ZQS".into(),
                ),
            ],
            body: body.as_bytes().to_vec(),
            received_at,
        }
    }

    fn verify_with_secret(request: &WebhookRequest) -> Result<WebhookEvent, Error> {
        verify(Some(&Secret::new(SECRET)), request)
    }

    #[test]
    fn the_signing_instant_is_the_one_the_tests_think() {
        let at = OffsetDateTime::parse("2026-12-02T10:00:00Z", &Rfc3339).unwrap();
        assert_eq!(at.unix_timestamp(), AT);
    }

    #[test]
    fn a_signed_trigger_webhook_names_its_ticket_and_its_delivery() {
        for body in [r#"{"ticket_id": "35436"}"#, r#"{"ticket_id": 35436}"#] {
            let event = verify_with_secret(&signed(body, "2026-12-02T10:00:00Z", AT + 3)).unwrap();
            assert_eq!(event.ticket_ids, ["35436"]);
            assert_eq!(
                event.delivery_id.as_deref(),
                Some("01HANAHBMTDTB8Q98K38YZ5ZQS")
            );
        }
    }

    #[test]
    fn a_ticket_event_names_its_ticket_and_other_events_name_none() {
        let created =
            r#"{"type":"zen:event-type:ticket.created","detail":{"id":"77","subject":"Hi"}}"#;
        let event = verify_with_secret(&signed(created, "2026-12-02T10:00:00Z", AT)).unwrap();
        assert_eq!(event.ticket_ids, ["77"]);
        let user = r#"{"type":"zen:event-type:user.created","detail":{"id":"9"}}"#;
        let event = verify_with_secret(&signed(user, "2026-12-02T10:00:00Z", AT)).unwrap();
        assert!(event.ticket_ids.is_empty());
    }

    #[test]
    fn a_wrong_or_missing_signature_is_refused_without_reading_the_body() {
        let mut request = signed(r#"{"ticket_id": "1"}"#, "2026-12-02T10:00:00Z", AT);
        request.body = br#"{"ticket_id": "2"}"#.to_vec();
        let err = verify_with_secret(&request).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(err.message.contains("does not match"), "{}", err.message);
        assert!(!err.message.contains(SECRET));

        let err = verify(
            Some(&Secret::new("another secret")),
            &signed("not json", "2026-12-02T10:00:00Z", AT),
        )
        .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Auth,
            "the signature comes first: {}",
            err.message
        );

        let mut unsigned = signed(r#"{"ticket_id": "1"}"#, "2026-12-02T10:00:00Z", AT);
        unsigned
            .headers
            .retain(|(name, _)| name != SIGNATURE_HEADER);
        let err = verify_with_secret(&unsigned).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(err.message.contains(SIGNATURE_HEADER));
    }

    #[test]
    fn a_stale_delivery_is_refused_even_with_a_good_signature() {
        let err = verify_with_secret(&signed(
            r#"{"ticket_id": "1"}"#,
            "2026-12-02T10:00:00Z",
            AT + 301,
        ))
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(err.message.contains("301 s old"), "{}", err.message);
        let err =
            verify_with_secret(&signed(r#"{"ticket_id": "1"}"#, "yesterday", AT)).unwrap_err();
        assert!(
            err.message.contains("not an ISO-8601 time"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_unreadable_body_is_a_validation_error_that_says_what_otai_reads() {
        for (body, why) in [
            ("[1]", "not a JSON object"),
            ("{}", "neither `ticket_id`"),
            (r#"{"ticket_id": "12a"}"#, "invalid Zendesk ticket id"),
            (r#"{"ticket_id": -1}"#, "something other than"),
            (
                r#"{"type":"zen:event-type:ticket.created","detail":{}}"#,
                "without `detail.id`",
            ),
        ] {
            let err = verify_with_secret(&signed(body, "2026-12-02T10:00:00Z", AT)).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Validation, "{body}");
            assert!(err.message.contains(why), "{body}: {}", err.message);
        }
    }

    #[test]
    fn without_a_configured_secret_nothing_is_accepted() {
        let err = verify(
            None,
            &signed(r#"{"ticket_id": "1"}"#, "2026-12-02T10:00:00Z", AT),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Config);
        assert!(err.message.contains("webhook_secret"));
    }
}
