//! The simulator's webhook: a signed POST to otai for every ticket a customer writes in, as a
//! Zendesk trigger "ticket is created -> notify webhook" with otai's payload
//! `{"ticket_id": "{{ticket.id}}"}` sends it.
//!
//! Signed as Zendesk signs: `x-zendesk-webhook-signature` =
//! base64(HMAC-SHA256(secret, timestamp + body)), `x-zendesk-webhook-signature-timestamp` the
//! system clock's time in ISO-8601 (not the account's clock: otai compares it with its own),
//! plus `x-zendesk-webhook-id`, `-invocation-id` (new per delivery) and `x-zendesk-account-id`.
//! One attempt per delivery; each is recorded with the answer's status.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde::Serialize;

use crate::store::fmt_time;

/// Where the simulator sends its webhooks, and the signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// otai's webhook URL, e.g. `http://127.0.0.1:8411/webhooks/zendesk`.
    pub url: String,
    /// The signing secret (otai's `webhook_secret`).
    pub secret: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// One delivery the simulator made.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The ticket the delivery named.
    pub ticket_id: u64,
    /// Its `x-zendesk-webhook-invocation-id`.
    pub invocation_id: String,
    /// The status otai answered; none if the request failed.
    pub status: Option<u16>,
    /// Why the request failed, if it did.
    pub error: Option<String>,
    /// When it was sent, milliseconds since the Unix epoch.
    pub sent_at_ms: u64,
}

/// The id of the simulated webhook (as Zendesk's ULID-like ids look).
pub const WEBHOOK_ID: &str = "01HSIMWEBHOOK0000000000000";
/// The simulated account's id.
pub const ACCOUNT_ID: &str = "10000001";

/// The headers Zendesk would send with `body` signed by `secret` at `timestamp`.
pub fn signed_headers(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    invocation_id: &str,
) -> Vec<(String, String)> {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(body);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    vec![
        ("content-type".into(), "application/json".into()),
        ("x-zendesk-account-id".into(), ACCOUNT_ID.into()),
        ("x-zendesk-webhook-id".into(), WEBHOOK_ID.into()),
        (
            "x-zendesk-webhook-invocation-id".into(),
            invocation_id.into(),
        ),
        ("x-zendesk-webhook-signature".into(), signature),
        (
            "x-zendesk-webhook-signature-timestamp".into(),
            timestamp.into(),
        ),
    ]
}

/// The trigger payload for ticket `id`.
pub fn trigger_body(id: u64) -> Vec<u8> {
    format!("{{\"ticket_id\": \"{id}\"}}").into_bytes()
}

/// The system clock as Zendesk's timestamp header writes it.
pub fn timestamp_now() -> String {
    fmt_time(crate::store::now())
}

/// A new invocation id: 26 characters of Crockford base32, as Zendesk's look.
pub fn invocation_id(rng: &mut fastrand::Rng) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..26)
        .map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char)
        .collect()
}

/// The emitter: a target (or none), the HTTP client and the record.
pub(crate) struct Webhooks {
    target: Mutex<Option<WebhookTarget>>,
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    rng: Mutex<fastrand::Rng>,
    deliveries: Arc<Mutex<Vec<WebhookDelivery>>>,
}

impl Webhooks {
    pub(crate) fn new(runtime: tokio::runtime::Handle) -> Webhooks {
        Webhooks {
            target: Mutex::new(None),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("a plain HTTP client"),
            runtime,
            rng: Mutex::new(fastrand::Rng::new()),
            deliveries: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub(crate) fn set_target(&self, target: Option<WebhookTarget>) {
        *self.target.lock().unwrap() = target;
    }

    pub(crate) fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.deliveries.lock().unwrap().clone()
    }

    /// Sends the trigger's delivery for each new ticket, in the background.
    pub(crate) fn tickets_created(&self, ids: &[u64]) {
        let Some(target) = self.target.lock().unwrap().clone() else {
            return;
        };
        for &id in ids {
            let invocation = invocation_id(&mut self.rng.lock().unwrap());
            let body = trigger_body(id);
            let headers = signed_headers(&target.secret, &timestamp_now(), &body, &invocation);
            let mut request = self.client.post(&target.url).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let deliveries = self.deliveries.clone();
            self.runtime.spawn(async move {
                let sent_at_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                let answer = request.send().await;
                let (status, error) = match answer {
                    Ok(response) => (Some(response.status().as_u16()), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                tracing::info!(ticket = id, status = ?status, error = ?error, "Sent a webhook delivery.");
                deliveries.lock().unwrap().push(WebhookDelivery {
                    ticket_id: id,
                    invocation_id: invocation,
                    status,
                    error,
                    sent_at_ms,
                });
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_then_body() {
        // Computed independently: python3 -c "import hmac,hashlib,base64;
        // print(base64.b64encode(hmac.new(b'k', b'2026-12-02T10:00:00Z{}', hashlib.sha256).digest()))"
        let headers = signed_headers("k", "2026-12-02T10:00:00Z", b"{}", "X");
        let signature = &headers
            .iter()
            .find(|(n, _)| n == "x-zendesk-webhook-signature")
            .unwrap()
            .1;
        assert_eq!(signature, "0CA/QvgKlUQV+YCuXgFJMdYxxRRoS4OpXJruYiAjuFs=");
        assert_eq!(invocation_id(&mut fastrand::Rng::with_seed(1)).len(), 26);
    }
}
