//! Webhook deliveries in otai's native types, and the checks adapters share to verify them.
//!
//! `otai serve` receives a help desk's webhook, lower-cases the header names, caps the body and
//! hands the adapter a [`WebhookRequest`]; the adapter's
//! [`verify_webhook`](crate::TicketSystemAdapter::verify_webhook) checks it with the helpers
//! here and answers a [`WebhookEvent`] naming the tickets. Errors of kind
//! [`Auth`](crate::ErrorKind::Auth) become 401 answers; messages never contain a secret or a
//! signature.

use std::fmt;

/// A delivery as the host received it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WebhookRequest {
    /// `(name, value)`, names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The raw body, the bytes a signature covers.
    pub body: Vec<u8>,
    /// When the host received it, seconds since the Unix epoch.
    pub received_at: i64,
}

impl WebhookRequest {
    /// The first value of header `name` (give it lower-case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Shows header names and the body's length only: values may be credentials.
impl fmt::Debug for WebhookRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("WebhookRequest")
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .field("received_at", &self.received_at)
            .finish()
    }
}

/// What a verified delivery is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The tickets to look at again; empty for a delivery otai has nothing to do with.
    pub ticket_ids: Vec<String>,
    /// The help desk's id of this delivery, by which a delivery sent twice is recognised.
    pub delivery_id: Option<String>,
}

#[cfg(feature = "runtime")]
pub use checks::*;

#[cfg(feature = "runtime")]
mod checks {
    use base64::Engine as _;
    use hmac::{KeyInit, Mac};

    use crate::{Error, ErrorKind, Result};

    /// How old a signed timestamp may be unless an adapter says otherwise: Zendesk's guide
    /// suggests about five minutes. Also how far in the future (a skewed clock).
    pub const MAX_SIGNATURE_AGE_SECS: i64 = 300;

    fn auth(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Auth, message)
    }

    /// The header `name` of `request`, or an [`Auth`](ErrorKind::Auth) error naming it.
    pub fn required_header<'r>(request: &'r super::WebhookRequest, name: &str) -> Result<&'r str> {
        request
            .header(name)
            .ok_or_else(|| auth(format!("the delivery has no `{name}` header")))
    }

    /// Whether `signature_base64` is the base64 HMAC-SHA256 of `parts` (concatenated) under
    /// `key`; compared in constant time. A signature that is not base64 is a mismatch.
    pub fn hmac_sha256_base64_matches(key: &[u8], parts: &[&[u8]], signature_base64: &str) -> bool {
        let Ok(expected) =
            base64::engine::general_purpose::STANDARD.decode(signature_base64.trim())
        else {
            return false;
        };
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
            .expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac.verify_slice(&expected).is_ok()
    }

    /// The base64 HMAC-SHA256 of `parts` under `key` (what a help desk sends; for simulators
    /// and tests).
    pub fn hmac_sha256_base64(key: &[u8], parts: &[&[u8]]) -> String {
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
            .expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// Whether `signature_hex` is the lower- or upper-case hex HMAC-SHA1 of `body` under `key`
    /// (GitHub-style `X-Hub-Signature: sha1=<hex>`, without the prefix); constant time.
    pub fn hmac_sha1_hex_matches(key: &[u8], body: &[u8], signature_hex: &str) -> bool {
        let Some(expected) = hex_decode(signature_hex.trim()) else {
            return false;
        };
        let mut mac = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key)
            .expect("HMAC takes keys of any length");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    }

    /// The lower-case hex HMAC-SHA1 of `body` under `key`.
    pub fn hmac_sha1_hex(key: &[u8], body: &[u8]) -> String {
        let mut mac = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key)
            .expect("HMAC takes keys of any length");
        mac.update(body);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn hex_decode(text: &str) -> Option<Vec<u8>> {
        if text.len() % 2 != 0 {
            return None;
        }
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect()
    }

    /// Whether two secrets are equal, in time that depends only on their lengths (for help
    /// desks that send a shared secret instead of a signature).
    pub fn secrets_equal(given: &[u8], expected: &[u8]) -> bool {
        // Comparing MACs of both under a fixed key hides where they first differ.
        let mac = |bytes: &[u8]| {
            let mut mac =
                <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"otai-secrets-equal")
                    .expect("HMAC takes keys of any length");
            mac.update(bytes);
            mac
        };
        mac(given)
            .verify_slice(&mac(expected).finalize().into_bytes())
            .is_ok()
    }

    /// Refuses a signed timestamp (seconds since the epoch) more than `max_age_secs` away from
    /// `received_at`, either way: an old one is a replay, one far ahead a forged or skewed clock.
    pub fn check_fresh(signed_at: i64, received_at: i64, max_age_secs: i64) -> Result<()> {
        let age = received_at.saturating_sub(signed_at);
        if age > max_age_secs {
            return Err(auth(format!(
                "the delivery's signed timestamp is {age} s old (at most {max_age_secs} s accepted): a replay or a stuck queue"
            )));
        }
        if -age > max_age_secs {
            return Err(auth(format!(
                "the delivery's signed timestamp is {} s in the future (at most {max_age_secs} s accepted): check both clocks",
                -age
            )));
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn an_hmac_sha256_signature_verifies_and_a_changed_byte_does_not() {
            let signature = hmac_sha256_base64(b"secret", &[b"2026-12-02T10:00:00Z", b"{}"]);
            assert!(hmac_sha256_base64_matches(
                b"secret",
                &[b"2026-12-02T10:00:00Z", b"{}"],
                &signature
            ));
            assert!(!hmac_sha256_base64_matches(
                b"secret",
                &[b"2026-12-02T10:00:01Z", b"{}"],
                &signature
            ));
            assert!(!hmac_sha256_base64_matches(
                b"other",
                &[b"2026-12-02T10:00:00Z", b"{}"],
                &signature
            ));
            assert!(!hmac_sha256_base64_matches(
                b"secret",
                &[b"x"],
                "not base64!"
            ));
        }

        #[test]
        fn hmac_sha1_matches_a_known_vector() {
            // RFC 2202, test case 2.
            let hex = hmac_sha1_hex(b"Jefe", b"what do ya want for nothing?");
            assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
            assert!(hmac_sha1_hex_matches(
                b"Jefe",
                b"what do ya want for nothing?",
                &hex.to_uppercase()
            ));
            assert!(!hmac_sha1_hex_matches(
                b"Jefe",
                b"what do ya want for nothing!",
                &hex
            ));
            assert!(!hmac_sha1_hex_matches(b"Jefe", b"x", "abc"));
        }

        #[test]
        fn hmac_sha256_matches_a_known_vector() {
            // RFC 4231, test case 2: "Jefe" / "what do ya want for nothing?".
            let b64 = hmac_sha256_base64(b"Jefe", &[b"what do ya ", b"want for nothing?"]);
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(
                hex,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            );
        }

        #[test]
        fn secrets_compare_by_content() {
            assert!(secrets_equal(b"s3cret", b"s3cret"));
            assert!(!secrets_equal(b"s3cret", b"s3creT"));
            assert!(!secrets_equal(b"s3cret", b"s3cret-longer"));
        }

        #[test]
        fn stale_and_future_timestamps_are_refused() {
            assert!(check_fresh(1_000, 1_300, 300).is_ok());
            assert!(check_fresh(1_300, 1_000, 300).is_ok());
            let old = check_fresh(1_000, 1_301, 300).unwrap_err();
            assert_eq!(old.kind, ErrorKind::Auth);
            assert!(old.message.contains("301 s old"), "{}", old.message);
            let ahead = check_fresh(1_302, 1_000, 300).unwrap_err();
            assert!(ahead.message.contains("in the future"), "{}", ahead.message);
        }

        #[test]
        fn a_missing_header_is_named() {
            let request = crate::webhook::WebhookRequest::default();
            let err = required_header(&request, "x-zendesk-webhook-signature").unwrap_err();
            assert_eq!(err.kind, ErrorKind::Auth);
            assert!(err.message.contains("x-zendesk-webhook-signature"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_header_names_and_the_body_length_only() {
        let request = WebhookRequest {
            headers: vec![("authorization".into(), "Basic c2VjcmV0".into())],
            body: b"{\"subject\":\"my password is hunter2\"}".to_vec(),
            received_at: 5,
        };
        let shown = format!("{request:?}");
        assert!(shown.contains("authorization") && shown.contains("body_bytes"));
        assert!(
            !shown.contains("c2VjcmV0") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert_eq!(request.header("authorization"), Some("Basic c2VjcmV0"));
        assert_eq!(request.header("x-missing"), None);
    }
}
