//! The simulator's webhook: a signed POST to otai for every ticket a customer writes in, as a
//! Zammad trigger "ticket is created -> webhook" sends it with the webhook's default payload
//! (no custom payload) and an HMAC SHA1 signature token.
//!
//! What Zammad sends, and so what this sends:
//! - the body: `{"ticket": {...}, "article": {...}}`, the ticket with its attributes and
//!   association names, the associations (`group`, `owner`, `customer`, `organization`,
//!   `created_by`, `updated_by`, `priority`, `state`) as nested objects, and the article the
//!   trigger fired on (on creation, the ticket's first), its `created_by` / `updated_by` nested
//!   likewise;
//! - `x-hub-signature: sha1=<hex>`, the HMAC-SHA1 of the body under the signature token;
//! - `x-zammad-delivery`, a random UUID per delivery, and `x-zammad-trigger`, the trigger's
//!   name; `user-agent: Zammad User Agent`; `content-type: application/json; charset=utf-8`.
//!
//! One attempt per delivery (Zammad retries a failed one; the simulator does not); each is
//! recorded with the answer's status ([`otai_sim_kit::WebhookSender`]).

use std::sync::Mutex;

use hmac::{KeyInit, Mac};
use otai_sim_kit::{Outgoing, WebhookDelivery, WebhookSender};
use serde_json::Value;

use crate::store::Store;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-hub-signature";
/// The delivery id header.
pub const DELIVERY_HEADER: &str = "x-zammad-delivery";
/// The trigger's name, sent in `x-zammad-trigger`.
pub const TRIGGER_NAME: &str = "otai: ticket created";

/// Where the simulator sends its webhooks, and the signature token.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// otai's webhook URL, e.g. `http://127.0.0.1:8411/webhooks/zammad`.
    pub url: String,
    /// The webhook's HMAC SHA1 signature token (otai's `webhook_secret`).
    pub secret: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// `sha1=<hex HMAC-SHA1 of body under secret>`, the value of [`SIGNATURE_HEADER`].
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha1={hex}")
}

/// The headers Zammad would send with `body` signed by `secret` as delivery `delivery_id`.
pub fn signed_headers(secret: &str, body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    vec![
        (
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        ),
        ("user-agent".into(), "Zammad User Agent".into()),
        ("x-zammad-trigger".into(), TRIGGER_NAME.into()),
        (DELIVERY_HEADER.into(), delivery_id.into()),
        (SIGNATURE_HEADER.into(), signature(secret, body)),
    ]
}

/// A new delivery id: a random (version 4) UUID, as Zammad's `SecureRandom.uuid`.
pub fn delivery_id(rng: &mut fastrand::Rng) -> String {
    let mut b: [u8; 16] = std::array::from_fn(|_| rng.u8(..));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The default payload for ticket `id` as it stands in `store`; none for an unknown ticket.
pub(crate) fn default_payload(store: &Store, id: u64) -> Option<Value> {
    let t = store.tickets.get(&id)?;
    let user = |id: u64| store.user(id).map_or(Value::Null, |u| store.user_json(u));
    let mut ticket = store.ticket_expanded_json(t);
    if let Value::Object(m) = &mut ticket {
        m.insert(
            "group".into(),
            store
                .group(t.group_id)
                .map_or(Value::Null, |g| store.group_json(g)),
        );
        m.insert(
            "priority".into(),
            store
                .priority(t.priority_id)
                .map_or(Value::Null, |p| store.priority_json(p)),
        );
        m.insert(
            "state".into(),
            store
                .state(t.state_id)
                .map_or(Value::Null, |s| store.state_json(s)),
        );
        m.insert("owner".into(), user(t.owner_id));
        m.insert("customer".into(), user(t.customer_id));
        m.insert("created_by".into(), user(t.created_by_id));
        m.insert("updated_by".into(), user(t.updated_by_id));
    }
    let article = store.article_recs(id).first().map_or(Value::Null, |a| {
        let mut v = store.article_json(a);
        if let Value::Object(m) = &mut v {
            m.insert("created_by".into(), user(a.created_by_id));
            m.insert("updated_by".into(), user(a.created_by_id));
        }
        v
    });
    Some(serde_json::json!({ "ticket": ticket, "article": article }))
}

/// The emitter: a target (or none), the delivery ids' RNG and the kit's sender.
#[derive(Debug)]
pub(crate) struct Webhooks {
    target: Mutex<Option<WebhookTarget>>,
    rng: Mutex<fastrand::Rng>,
    sender: WebhookSender,
}

impl Webhooks {
    /// No target yet; sends on the current tokio runtime.
    pub(crate) fn new() -> Webhooks {
        Webhooks {
            target: Mutex::new(None),
            rng: Mutex::new(fastrand::Rng::new()),
            sender: WebhookSender::new(),
        }
    }

    pub(crate) fn set_target(&self, target: Option<WebhookTarget>) {
        *self.target.lock().unwrap() = target;
    }

    pub(crate) fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.sender.deliveries()
    }

    /// Sends the trigger's delivery for each new ticket of `ids`, in the background.
    pub(crate) fn tickets_created(&self, store: &Store, ids: &[u64]) {
        let Some(target) = self.target.lock().unwrap().clone() else {
            return;
        };
        for &id in ids {
            let Some(payload) = default_payload(store, id) else {
                continue;
            };
            let body = serde_json::to_vec(&payload).expect("JSON values serialise");
            let delivery = delivery_id(&mut self.rng.lock().unwrap());
            self.sender.send(Outgoing {
                ticket_id: id,
                headers: signed_headers(&target.secret, &body, &delivery),
                delivery_id: Some(delivery),
                url: target.url.clone(),
                body,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        stamp::Now,
        store::{NewArticle, NewTicket, DEFAULT_AGENT_LOGIN},
    };

    #[test]
    fn the_signature_is_hex_hmac_sha1_of_the_body() {
        // Computed independently: python3 -c "import hmac,hashlib;
        // print(hmac.new(b'zammad token', b'{\"ticket\":{\"id\":1}}', hashlib.sha1).hexdigest())"
        let headers = signed_headers("zammad token", br#"{"ticket":{"id":1}}"#, "d");
        let signature = &headers
            .iter()
            .find(|(n, _)| n == SIGNATURE_HEADER)
            .unwrap()
            .1;
        assert_eq!(signature, "sha1=590e4d481653547df84cf1209e49c80e8dfeb00c");
    }

    #[test]
    fn delivery_ids_are_version_4_uuids_and_differ() {
        let mut rng = fastrand::Rng::with_seed(7);
        let (a, b) = (delivery_id(&mut rng), delivery_id(&mut rng));
        assert_ne!(a, b);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert_eq!(&a[14..15], "4", "{a}");
        assert!("89ab".contains(&a[19..20]), "{a}");
    }

    #[test]
    fn the_default_payload_nests_the_ticket_associations_and_its_article() {
        let mut store = Store::new(DEFAULT_AGENT_LOGIN, Now::at(0));
        let id = store
            .insert_ticket(
                NewTicket {
                    title: "Card lost".into(),
                    articles: vec![NewArticle {
                        body: "I lost my card".into(),
                        ..NewArticle::default()
                    }],
                    ..NewTicket::default()
                },
                Now::at(0),
            )
            .unwrap();
        let payload = default_payload(&store, id).unwrap();
        assert_eq!(payload["ticket"]["id"], id);
        assert_eq!(payload["ticket"]["title"], "Card lost");
        assert_eq!(payload["ticket"]["group"]["name"], "Users");
        assert_eq!(payload["ticket"]["state"]["name"], "new");
        assert!(
            payload["ticket"]["customer"]["login"].is_string(),
            "{payload}"
        );
        assert_eq!(payload["article"]["ticket_id"], id);
        assert_eq!(payload["article"]["body"], "I lost my card");
        assert!(default_payload(&store, id + 1).is_none());
    }
}
