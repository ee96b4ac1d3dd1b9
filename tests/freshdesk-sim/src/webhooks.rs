//! The simulator's webhook: a POST to otai for every ticket a customer writes in, as an
//! automation rule "ticket is created -> Trigger webhook" sends it.
//!
//! Freshdesk signs nothing: the admin gives the action a custom header carrying a secret shared
//! with the receiver (otai's `webhook_header`, by default `X-Otai-Webhook-Secret`, and
//! `webhook_secret`), and writes the body in the action (Advanced, JSON) with placeholders:
//! otai's is `{"ticket_id": "{{ticket.id}}"}`, which Freshdesk renders with the ticket's id as a
//! string. Freshdesk sends no delivery id. One attempt per delivery (Freshdesk retries a failed
//! one later; the simulator does not); each is recorded with the answer's status
//! ([`otai_sim_kit::WebhookSender`]).

use std::sync::Mutex;

use otai_sim_kit::{Outgoing, WebhookDelivery, WebhookSender};

/// The custom header carrying the secret unless the target names another (otai's default).
pub const DEFAULT_SECRET_HEADER: &str = "x-otai-webhook-secret";

/// Where the simulator sends its webhooks, and the header carrying the shared secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// otai's webhook URL, e.g. `http://127.0.0.1:8411/webhooks/freshdesk`.
    pub url: String,
    /// The shared secret (otai's `webhook_secret`).
    pub secret: String,
    /// The custom header's name (otai's `webhook_header`), lower case.
    pub header: String,
}

impl WebhookTarget {
    /// `url` with `secret` in [`DEFAULT_SECRET_HEADER`].
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> WebhookTarget {
        WebhookTarget {
            url: url.into(),
            secret: secret.into(),
            header: DEFAULT_SECRET_HEADER.into(),
        }
    }

    /// The secret in another header.
    pub fn with_header(mut self, name: &str) -> WebhookTarget {
        self.header = name.to_ascii_lowercase();
        self
    }
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// The action's body for ticket `id`: `{"ticket_id": "{{ticket.id}}"}` rendered.
pub fn action_body(id: u64) -> Vec<u8> {
    format!("{{\"ticket_id\": \"{id}\"}}").into_bytes()
}

/// The headers the action sends: the JSON content type and the secret in `header`.
pub fn action_headers(header: &str, secret: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        (header.to_ascii_lowercase(), secret.into()),
    ]
}

/// The emitter: a target (or none) and the kit's sender.
#[derive(Debug)]
pub(crate) struct Webhooks {
    target: Mutex<Option<WebhookTarget>>,
    sender: WebhookSender,
}

impl Webhooks {
    /// No target yet; sends on the current tokio runtime.
    pub(crate) fn new() -> Webhooks {
        Webhooks {
            target: Mutex::new(None),
            sender: WebhookSender::new(),
        }
    }

    pub(crate) fn set_target(&self, target: Option<WebhookTarget>) {
        *self.target.lock().unwrap() = target;
    }

    pub(crate) fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.sender.deliveries()
    }

    /// Sends the action's delivery for each new ticket, in the background.
    pub(crate) fn tickets_created(&self, ids: &[u64]) {
        let Some(target) = self.target.lock().unwrap().clone() else {
            return;
        };
        for &id in ids {
            self.sender.send(Outgoing {
                ticket_id: id,
                delivery_id: None,
                url: target.url.clone(),
                headers: action_headers(&target.header, &target.secret),
                body: action_body(id),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delivery_carries_the_rendered_body_and_the_secret_in_its_header() {
        assert_eq!(action_body(2042), br#"{"ticket_id": "2042"}"#);
        let target = WebhookTarget::new("http://127.0.0.1:1/webhooks/freshdesk", "s3cret")
            .with_header("X-Acme-Token");
        assert_eq!(target.header, "x-acme-token");
        let headers = action_headers(&target.header, &target.secret);
        assert!(headers.contains(&("x-acme-token".into(), "s3cret".into())));
        assert!(!format!("{target:?}").contains("s3cret"));
        assert_eq!(
            WebhookTarget::new("u", "s").header,
            DEFAULT_SECRET_HEADER,
            "otai's default header"
        );
    }
}
