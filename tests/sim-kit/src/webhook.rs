//! [`WebhookSender`]: the sending half of a simulator's webhooks. A simulator decides when a
//! delivery goes out (a customer writes in), what it says and how it is signed or authenticated
//! (its own `webhooks` module, in its help desk's words); the kit sends it in the background, one
//! attempt, and records what was answered ([`WebhookDelivery`]), so a test can assert on it.
//!
//! The sender keeps the tokio runtime it was made on (a simulator makes it while it starts), so
//! a delivery can be sent from a synchronous handle method on any thread.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

/// One request to send: where, what, and what to record it as.
#[derive(Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The ticket the delivery names.
    pub ticket_id: u64,
    /// The help desk's id for the delivery, if it sends one.
    pub delivery_id: Option<String>,
    /// The receiver, e.g. `http://127.0.0.1:8411/webhooks/zammad`.
    pub url: String,
    /// The headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body, sent as it is.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Outgoing {
    // The headers may carry a secret; only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Outgoing")
            .field("ticket_id", &self.ticket_id)
            .field("delivery_id", &self.delivery_id)
            .field("url", &self.url)
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// One delivery a simulator made.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The ticket the delivery named.
    pub ticket_id: u64,
    /// The help desk's id for the delivery, if it sends one.
    pub delivery_id: Option<String>,
    /// The status the receiver answered; none if the request failed.
    pub status: Option<u16>,
    /// Why the request failed, if it did.
    pub error: Option<String>,
    /// When it was sent, milliseconds since the Unix epoch.
    pub sent_at_ms: u64,
}

/// Sends [`Outgoing`] requests in the background and records each answer.
#[derive(Debug)]
pub struct WebhookSender {
    client: reqwest::Client,
    runtime: Option<tokio::runtime::Handle>,
    deliveries: Arc<Mutex<Vec<WebhookDelivery>>>,
}

impl Default for WebhookSender {
    fn default() -> Self {
        WebhookSender::new()
    }
}

impl WebhookSender {
    /// A sender on the current tokio runtime. Made outside one (a unit test of a simulator's
    /// state), it records every delivery as failed instead of sending it.
    pub fn new() -> WebhookSender {
        WebhookSender {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("a plain HTTP client"),
            runtime: tokio::runtime::Handle::try_current().ok(),
            deliveries: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Every delivery answered (or failed) so far, in that order.
    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.deliveries.lock().unwrap().clone()
    }

    /// Sends `outgoing` in the background; its record is added once it is answered.
    pub fn send(&self, outgoing: Outgoing) {
        let Outgoing {
            ticket_id,
            delivery_id,
            url,
            headers,
            body,
        } = outgoing;
        let record = move |status: Option<u16>, error: Option<String>| WebhookDelivery {
            ticket_id,
            delivery_id,
            status,
            error,
            sent_at_ms: unix_ms(),
        };
        let Some(runtime) = &self.runtime else {
            let error = "the simulator was made outside a tokio runtime: nothing is sent";
            self.deliveries
                .lock()
                .unwrap()
                .push(record(None, Some(error.into())));
            return;
        };
        let mut request = self.client.post(url).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let deliveries = self.deliveries.clone();
        runtime.spawn(async move {
            let sent_at_ms = unix_ms();
            let (status, error) = match request.send().await {
                Ok(answer) => (Some(answer.status().as_u16()), None),
                Err(e) => (None, Some(e.to_string())),
            };
            tracing::info!(ticket = ticket_id, status = ?status, error = ?error, "Sent a webhook delivery.");
            let delivery = WebhookDelivery {
                sent_at_ms,
                ..record(status, error)
            };
            deliveries.lock().unwrap().push(delivery);
        });
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Bound, Fault, Faults, Reply, Req, SimApi, SimState};

    /// A request as the receiver got it: its headers and body.
    type Got = (Vec<(String, String)>, Vec<u8>);

    /// A receiver: `POST /hook` answered 202, what it got kept.
    #[derive(Default)]
    struct Receiver {
        got: Mutex<Vec<Got>>,
    }

    impl SimApi for Receiver {
        fn name(&self) -> &str {
            "Receiver"
        }

        fn serve(&self, req: &Req, _fault: Option<&Fault>) -> Reply {
            self.got
                .lock()
                .unwrap()
                .push((req.headers.clone(), req.body.to_vec()));
            match (req.method.as_str(), req.path.as_str()) {
                ("POST", "/hook") => Reply::status(202, json!({"accepted": true})),
                _ => Reply::status(404, json!({})),
            }
        }

        fn fault_error(&self, _req: &Req, status: u16, _retry_after: Option<u64>) -> Reply {
            Reply::status(status, json!({}))
        }
    }

    #[tokio::test]
    async fn a_delivery_is_sent_as_given_and_recorded_with_its_answer() {
        let receiver = Arc::new(Receiver::default());
        let bound = Bound::bind(0).await.unwrap();
        let url = format!("{}/hook", bound.base_url());
        let server = bound.serve(Arc::new(SimState::new(Faults::none())), receiver.clone());
        let sender = WebhookSender::new();

        sender.send(Outgoing {
            ticket_id: 42,
            delivery_id: None,
            url: url.clone(),
            headers: vec![("x-token".into(), "t0k3n".into())],
            body: br#"{"ticket_id": "42"}"#.to_vec(),
        });
        sender.send(Outgoing {
            ticket_id: 43,
            delivery_id: Some("d-43".into()),
            url: format!("{url}/elsewhere"),
            headers: Vec::new(),
            body: Vec::new(),
        });
        let started = std::time::Instant::now();
        while sender.deliveries().len() < 2 && started.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let mut deliveries = sender.deliveries();
        deliveries.sort_by_key(|d| d.ticket_id);
        let answered: Vec<_> = deliveries.iter().map(|d| (d.ticket_id, d.status)).collect();
        assert_eq!(answered, [(42, Some(202)), (43, Some(404))]);
        assert_eq!(deliveries[1].delivery_id.as_deref(), Some("d-43"));
        assert!(deliveries[0].sent_at_ms > 0);
        let got = receiver.got.lock().unwrap().clone();
        let (headers, body) = got
            .iter()
            .find(|(_, body)| !body.is_empty())
            .expect("the first delivery arrived");
        assert_eq!(body.as_slice(), br#"{"ticket_id": "42"}"#);
        assert!(headers.contains(&("x-token".to_string(), "t0k3n".to_string())));
        server.shutdown().await;
    }

    #[test]
    fn outside_a_runtime_a_delivery_is_recorded_as_failed_and_its_secret_never_shown() {
        let sender = WebhookSender::new();
        let outgoing = Outgoing {
            ticket_id: 7,
            delivery_id: Some("d-1".into()),
            url: "http://127.0.0.1:9/webhooks/x".into(),
            headers: vec![("x-secret".into(), "hunter2".into())],
            body: b"{}".to_vec(),
        };
        assert!(!format!("{outgoing:?}").contains("hunter2"));
        sender.send(outgoing);
        let deliveries = sender.deliveries();
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0].ticket_id, 7);
        assert_eq!(deliveries[0].delivery_id.as_deref(), Some("d-1"));
        assert_eq!(deliveries[0].status, None);
        assert!(deliveries[0].error.as_ref().unwrap().contains("runtime"));
    }
}
