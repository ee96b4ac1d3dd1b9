//! The simulator's webhook: a POST to otai for every ticket a customer writes in, as the web
//! service's Requester sends it: an invoker on the TicketCreate event, the HTTP::REST transport
//! with a POST controller mapping to otai's URL.
//!
//! Nothing in such a request is signed; the transport adds credentials of one of two kinds,
//! chosen by the target ([`WebhookAuth`]), both carrying the secret shared with otai's
//! `webhook_secret`: an additional header (otai's `webhook_header`, by default
//! `X-Otai-Webhook-Secret`), or BasicAuth with the secret as the password (otai's `webhook_user`
//! as the user, if set). The body is the invoker's data, by flavour:
//! - OTOBO, its `Ticket::TicketCreate` invoker: `{"TicketID", "TicketNumber", "Ticket": {...},
//!   "Article": {...}}`, the ticket as TicketGet shows it (dynamic fields included) and its
//!   first article;
//! - Znuny, its `Ticket::Generic` invoker: `{"Event": {"Event": "TicketCreate", "TicketID"},
//!   "Ticket": {..., "Article": [...]}}`. OTRS 6 ships no ticket invoker; the simulator sends
//!   the shape of Znuny, its successor.
//!
//! Ids are strings, as Perl's JSON writes values read from the database. No invoker sends a
//! delivery id. One attempt per delivery (the RequestRetry error handler is not simulated); each
//! is recorded with the answer's status ([`otai_sim_kit::WebhookSender`]).

use std::sync::Mutex;

use base64::Engine as _;
use otai_sim_kit::{Outgoing, WebhookDelivery, WebhookSender};
use serde_json::{json, Value};

use crate::{
    routes::Flavour,
    shapes::{article_json, ticket_json, ArticleModel},
    store::Store,
};

/// The header carrying the secret unless the target names another (otai's default).
pub const DEFAULT_SECRET_HEADER: &str = "x-otai-webhook-secret";

/// How the transport authenticates a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAuth {
    /// The secret as the value of this additional header (lower case).
    Header(String),
    /// BasicAuth: this user, the secret as the password.
    Basic {
        /// The user name (otai's `webhook_user`, if it checks one).
        user: String,
    },
}

impl Default for WebhookAuth {
    fn default() -> Self {
        WebhookAuth::Header(DEFAULT_SECRET_HEADER.into())
    }
}

/// Where the simulator sends its webhooks, the secret and how it is carried.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// otai's webhook URL, e.g. `http://127.0.0.1:8411/webhooks/otobo`.
    pub url: String,
    /// The shared secret (otai's `webhook_secret`).
    pub secret: String,
    /// Header or BasicAuth.
    pub auth: WebhookAuth,
}

impl WebhookTarget {
    /// `url` with `secret` in [`DEFAULT_SECRET_HEADER`].
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> WebhookTarget {
        WebhookTarget {
            url: url.into(),
            secret: secret.into(),
            auth: WebhookAuth::default(),
        }
    }

    /// The secret in another header.
    pub fn with_header(mut self, name: &str) -> WebhookTarget {
        self.auth = WebhookAuth::Header(name.to_ascii_lowercase());
        self
    }

    /// BasicAuth as `user`, the secret as the password, instead of a header.
    pub fn with_basic(mut self, user: &str) -> WebhookTarget {
        self.auth = WebhookAuth::Basic { user: user.into() };
        self
    }
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// The headers the transport sends: the JSON content type and the secret as `auth` carries it.
pub fn transport_headers(auth: &WebhookAuth, secret: &str) -> Vec<(String, String)> {
    let credentials = match auth {
        WebhookAuth::Header(name) => (name.to_ascii_lowercase(), secret.to_string()),
        WebhookAuth::Basic { user } => {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
            ("authorization".to_string(), format!("Basic {encoded}"))
        }
    };
    vec![
        (
            "content-type".into(),
            "application/json; charset=UTF-8".into(),
        ),
        credentials,
    ]
}

/// The invoker's data for the TicketCreate event of ticket `id` as it stands in `store`; none
/// for an unknown ticket.
pub(crate) fn invoker_body(
    store: &Store,
    id: u64,
    flavour: Flavour,
    model: ArticleModel,
    now: i64,
) -> Option<Value> {
    let t = store.tickets.get(&id)?;
    let mut ticket = ticket_json(store, t, true, now);
    let articles: Vec<Value> = store
        .article_recs(id)
        .into_iter()
        .map(|a| article_json(a, model))
        .collect();
    let ticket_id = id.to_string();
    Some(match flavour {
        Flavour::Otobo => json!({
            "TicketID": ticket_id,
            "TicketNumber": t.number,
            "Ticket": ticket,
            "Article": articles.first().cloned().unwrap_or(Value::Null),
        }),
        Flavour::Znuny | Flavour::Otrs6 => {
            ticket["Article"] = Value::Array(articles);
            json!({
                "Event": {"Event": "TicketCreate", "TicketID": ticket_id},
                "Ticket": ticket,
            })
        }
    })
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

    /// Sends the invoker's delivery for each new ticket of `ids`, in the background.
    pub(crate) fn tickets_created(
        &self,
        store: &Store,
        ids: &[u64],
        flavour: Flavour,
        model: ArticleModel,
        now: i64,
    ) {
        let Some(target) = self.target.lock().unwrap().clone() else {
            return;
        };
        for &id in ids {
            let Some(body) = invoker_body(store, id, flavour, model, now) else {
                continue;
            };
            self.sender.send(Outgoing {
                ticket_id: id,
                delivery_id: None,
                url: target.url.clone(),
                headers: transport_headers(&target.auth, &target.secret),
                body: serde_json::to_vec(&body).expect("JSON values serialise"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{api::apply_seed, seed::SeedData};

    #[test]
    fn basic_auth_carries_the_secret_as_the_password() {
        // Computed independently: python3 -c "import base64;
        // print(base64.b64encode(b'otobo-events:gi-s3cret').decode())"
        let headers = transport_headers(
            &WebhookAuth::Basic {
                user: "otobo-events".into(),
            },
            "gi-s3cret",
        );
        assert!(
            headers.contains(&(
                "authorization".into(),
                "Basic b3RvYm8tZXZlbnRzOmdpLXMzY3JldA==".into()
            )),
            "{headers:?}"
        );
        let headers = transport_headers(&WebhookAuth::default(), "gi-s3cret");
        assert!(headers.contains(&(DEFAULT_SECRET_HEADER.into(), "gi-s3cret".into())));
        let target = WebhookTarget::new("u", "gi-s3cret").with_header("X-Otobo-Token");
        assert_eq!(target.auth, WebhookAuth::Header("x-otobo-token".into()));
        assert!(!format!("{target:?}").contains("gi-s3cret"));
    }

    #[test]
    fn each_flavour_names_the_ticket_by_its_ticket_id_where_its_invoker_puts_it() {
        let mut store = Store::new("otai-agent");
        let seed = SeedData::from_tickets(&[json!({"Title": "Card lost", "Body": "I lost it",
                                                   "Queue": "Raw"})])
        .unwrap();
        let id = apply_seed(&mut store, seed, 1_000)
            .unwrap()
            .into_iter()
            .next()
            .unwrap();
        let model = ArticleModel::CommunicationChannel;

        let otobo = invoker_body(&store, id, Flavour::Otobo, model, 1_000).unwrap();
        assert_eq!(otobo["TicketID"], id.to_string());
        assert_eq!(otobo["Ticket"]["Title"], "Card lost");
        assert_eq!(otobo["Ticket"]["Queue"], "Raw");
        assert_eq!(otobo["Article"]["Body"], "I lost it");
        assert!(otobo["TicketNumber"].is_string());

        let znuny = invoker_body(&store, id, Flavour::Znuny, model, 1_000).unwrap();
        assert_eq!(znuny["Event"]["Event"], "TicketCreate");
        assert_eq!(znuny["Event"]["TicketID"], id.to_string());
        assert_eq!(znuny["Ticket"]["TicketID"], id.to_string());
        assert_eq!(znuny["Ticket"]["Article"][0]["Body"], "I lost it");
        assert!(znuny.get("TicketID").is_none());

        assert!(invoker_body(&store, id + 1, Flavour::Otobo, model, 1_000).is_none());
    }
}
