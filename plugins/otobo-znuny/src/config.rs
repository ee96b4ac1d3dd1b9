//! The service's params, validated into [`Config`].
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `base_url` | string | - | the web service's URL: `https://host/otobo/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST` (or `.../WebserviceID/3`); with `webservice_name`, the `nph-genericinterface.pl` URL it sits under |
//! | `username` + `password` | strings | - | the agent otai acts as (sent in the request data, never in a header) |
//! | `flavour` | `otobo`, `znuny`, `otrs6` | from the URL (`/otobo/` → otobo, else znuny) | which system: only defaults differ (see below) |
//! | `routes` | object | the shipped GenericTicketConnectorREST | `session`, `search`, `get`, `update`: `"METHOD /path"` with `:TicketID`; `session: none` sends the login with every request |
//! | `tags_field` | string | `OTAITags` | the multiselect dynamic field holding otai's tags (only otai writes it) |
//! | `tags_as` | `list` or `text` | `list` | a multiselect field holds a list; `text` writes a comma-separated text field |
//! | `priorities` | object | `2 low`, `3 normal`, `4 high`, `5 very high` | otai's `low`/`normal`/`high`/`urgent` → priority names |
//! | `search_queues` | list of strings | all queues | the queues new tickets are searched in (your inbox queues) |
//! | `search_limit` | integer | 500 | tickets per search (TicketSearch has a `Limit` and no paging) |
//! | `article_model` | `channel` or `legacy` | `channel` | `legacy`: OTRS ≤ 5 articles (`ArticleType: note-internal`) |
//! | `webhook_secret` | string | - | the secret an invoker of the web service's Requester sends to `otai serve` with each ticket event, in the `webhook_header` header or as the BasicAuth password; a long random token, no spaces; without it, deliveries are refused (see [`crate::webhook`]) |
//! | `webhook_header` | string | `X-Otai-Webhook-Secret` | the name of that header (the HTTP::REST transport's additional headers), compared without regard to case; needs `webhook_secret` |
//! | `webhook_user` | string | any | with BasicAuth, the user name the invoker must send; needs `webhook_secret` |
//! | `timeout`, `verify`, `allow_insecure_http`, `max_attempts`, `max_retry_wait`, `max_response_bytes` | | | as for every otai adapter |
//!
//! Open Ticket AI 1.x's names are accepted so its users' configs move over: `webservice_name`
//! (then `base_url` is the `nph-genericinterface.pl` URL) and `operation_urls` (`TicketSearch`,
//! `TicketGet`, `TicketUpdate` paths, called as Open Ticket AI does: POST, POST, PUT, with the login
//! in each request). Errors name keys, never values.

pub use otai_plugin_sdk::Verify;
use otai_plugin_sdk::{http::HttpSettings, vocabulary::PRIORITIES, Error, Params, Secret};
use serde_json::Value;

use crate::{
    routes::{Route, Routes},
    webhook::WebhookAuth,
    PLUGIN_NAME,
};

/// Which GenericInterface system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// OTOBO (`/otobo/`).
    Otobo,
    /// Znuny (`/otrs/`, or `/znuny/` on some installs).
    Znuny,
    /// ((OTRS)) Community Edition 6 (`/otrs/`).
    Otrs6,
}

impl Flavour {
    /// Its name in the params.
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Otobo => "otobo",
            Flavour::Znuny => "znuny",
            Flavour::Otrs6 => "otrs6",
        }
    }
}

/// How otai's notes are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArticleModel {
    /// OTRS 6, Znuny, OTOBO: `CommunicationChannel: Internal`, `IsVisibleForCustomer: 0`.
    Channel,
    /// OTRS ≤ 5: `ArticleType: note-internal`.
    Legacy,
}

/// How the tags field holds its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagsAs {
    /// A multiselect field: a list of values.
    List,
    /// A text field: `a, b, c`.
    Text,
}

/// Validated params.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The transport's settings; `base_url` is the web service's URL.
    pub http: HttpSettings,
    /// The agent's login.
    pub username: String,
    /// The agent's password.
    pub password: Secret,
    /// Which system.
    pub flavour: Flavour,
    /// The web service's routes.
    pub routes: Routes,
    /// The dynamic field holding otai's tags.
    pub tags_field: String,
    /// Its kind.
    pub tags_as: TagsAs,
    /// otai priority → priority name, for each of the four.
    pub priorities: Vec<(String, String)>,
    /// Queues the search is limited to (none: all).
    pub search_queues: Vec<String>,
    /// Tickets per search.
    pub search_limit: u32,
    /// How notes are written.
    pub article_model: ArticleModel,
    /// How `otai serve`'s deliveries from an invoker authenticate.
    pub webhook: WebhookAuth,
}

/// The priorities otai writes by default (OTOBO's and Znuny's seed names).
pub const DEFAULT_PRIORITIES: [(&str, &str); 4] = [
    ("low", "2 low"),
    ("normal", "3 normal"),
    ("high", "4 high"),
    ("urgent", "5 very high"),
];

impl Config {
    /// Parses and validates the params JSON object.
    pub fn from_json(params_json: &str) -> Result<Config, Error> {
        Self::read(Params::from_json(PLUGIN_NAME, params_json)?)
    }

    /// Validates params already parsed as JSON.
    pub fn from_value(value: Value) -> Result<Config, Error> {
        Self::read(Params::from_value(PLUGIN_NAME, value)?)
    }

    fn read(mut p: Params) -> Result<Config, Error> {
        let root = p.required_base_url("base_url")?;
        let webservice = p.string("webservice_name")?;
        let base_url = match &webservice {
            Some(name) => format!("{root}/Webservice/{name}"),
            None => root.clone(),
        };
        if !base_url.contains("/Webservice/") && !base_url.contains("/WebserviceID/") {
            return Err(p.error(
                "`base_url` must be the web service's URL, e.g. \
                 https://host/otobo/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST \
                 (or give the nph-genericinterface.pl URL and `webservice_name`)",
            ));
        }
        let username = p.required_string("username", "the agent otai acts as")?;
        let password = p
            .password("password")?
            .ok_or_else(|| p.error("missing `password` (the agent's password)"))?;
        let flavour = match p.string("flavour")?.as_deref() {
            None if base_url.contains("/otobo/") => Flavour::Otobo,
            None => Flavour::Znuny,
            Some("otobo") => Flavour::Otobo,
            Some("znuny") => Flavour::Znuny,
            Some("otrs6") | Some("otrs") => Flavour::Otrs6,
            Some(_) => return Err(p.error("`flavour` must be otobo, znuny or otrs6")),
        };
        let routes = read_routes(&mut p)?;
        let tags_field = p.string("tags_field")?.unwrap_or_else(|| "OTAITags".into());
        let tags_as = match p.string("tags_as")?.as_deref() {
            None | Some("list") => TagsAs::List,
            Some("text") => TagsAs::Text,
            Some(_) => return Err(p.error("`tags_as` must be list or text")),
        };
        let priorities = read_priorities(&mut p)?;
        let search_queues = read_strings(&mut p, "search_queues")?;
        let search_limit = p.integer("search_limit", 500, 1, 10_000)? as u32;
        let article_model = match p.string("article_model")?.as_deref() {
            None | Some("channel") => ArticleModel::Channel,
            Some("legacy") => ArticleModel::Legacy,
            Some(_) => return Err(p.error("`article_model` must be channel or legacy")),
        };
        let user_agent = concat!("otai-otobo-znuny/", env!("CARGO_PKG_VERSION"));
        let http = HttpSettings::new(base_url, user_agent).read_params(&mut p)?;
        let webhook = WebhookAuth::read(&mut p)?;
        p.finish()?;
        Ok(Config {
            http,
            username,
            password,
            flavour,
            routes,
            tags_field,
            tags_as,
            priorities,
            search_queues,
            search_limit,
            article_model,
            webhook,
        })
    }
}

/// `routes` (ours) or `operation_urls` (Open Ticket AI's), not both.
fn read_routes(p: &mut Params) -> Result<Routes, Error> {
    if p.has("routes") && p.has("operation_urls") {
        return Err(p.error("`routes` and `operation_urls` are both set; give one"));
    }
    if let Some(mut legacy) = p.object("operation_urls")? {
        // Open Ticket AI's client: POST search, POST get, PUT update, the login in every request.
        let mut routes = Routes::open_ticket_ai();
        for (key, route) in [
            ("TicketSearch", &mut routes.search),
            ("TicketGet", &mut routes.get),
            ("TicketUpdate", &mut routes.update),
        ] {
            if let Some(path) = legacy.string(key)? {
                let path = format!("/{}", path.trim_start_matches('/'));
                *route = Route::parse(&format!("{} {path}", route.method.as_str()))
                    .map_err(|e| legacy.error(format!("`{key}`: {e}")))?;
            }
        }
        legacy.finish()?;
        return Ok(routes);
    }
    let mut routes = Routes::shipped();
    let Some(mut given) = p.object("routes")? else {
        return Ok(routes);
    };
    for (key, slot) in [
        ("search", &mut routes.search),
        ("get", &mut routes.get),
        ("update", &mut routes.update),
    ] {
        if let Some(text) = given.string(key)? {
            *slot = Route::parse(&text).map_err(|e| given.error(format!("`{key}`: {e}")))?;
        }
    }
    match given.take("session") {
        None => {}
        Some(Value::String(text)) if text.trim().eq_ignore_ascii_case("none") => {
            routes.session = None
        }
        Some(Value::String(text)) => {
            routes.session =
                Some(Route::parse(&text).map_err(|e| given.error(format!("`session`: {e}")))?)
        }
        Some(_) => return Err(given.error(
            "`session` must be \"METHOD /path\", or \"none\" to send the login with every request",
        )),
    }
    given.finish()?;
    Ok(routes)
}

fn read_priorities(p: &mut Params) -> Result<Vec<(String, String)>, Error> {
    let mut chosen: Vec<(String, String)> = DEFAULT_PRIORITIES
        .iter()
        .map(|(o, n)| (o.to_string(), n.to_string()))
        .collect();
    let Some(mut map) = p.object("priorities")? else {
        return Ok(chosen);
    };
    for otai in PRIORITIES {
        if let Some(name) = map.string(otai)? {
            if let Some(slot) = chosen.iter_mut().find(|(o, _)| o == otai) {
                slot.1 = name;
            }
        }
    }
    map.finish()?;
    Ok(chosen)
}

fn read_strings(p: &mut Params, key: &str) -> Result<Vec<String>, Error> {
    match p.take(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                _ => Err(p.error(format!("`{key}` must be a list of non-empty strings"))),
            })
            .collect(),
        Some(_) => Err(p.error(format!("`{key}` must be a list of queue names"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::routes::Method;

    const WS: &str = "https://otobo.example.com/otobo/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST";

    fn err(params: Value) -> String {
        Config::from_value(params).unwrap_err().message
    }

    #[test]
    fn the_issue_config_reads_with_the_shipped_routes() {
        let c = Config::from_value(json!({
            "base_url": WS, "username": "otai-agent", "password": "s3cret",
            "flavour": "otobo", "timeout": 10, "verify": true
        }))
        .unwrap();
        assert_eq!(c.flavour, Flavour::Otobo);
        assert_eq!(c.routes, Routes::shipped());
        assert_eq!(c.routes.search.method, Method::Get);
        assert_eq!(c.tags_field, "OTAITags");
        assert_eq!(
            c.priorities[3],
            ("urgent".to_string(), "5 very high".to_string())
        );
        assert_eq!(c.search_limit, 500);
        assert_eq!(c.webhook, WebhookAuth::default());
    }

    #[test]
    fn the_webhook_params_are_known_and_their_errors_name_keys_only() {
        let c = Config::from_value(json!({
            "base_url": WS, "username": "u", "password": "pw",
            "webhook_secret": "gi-s3cret", "webhook_header": "X-Otobo-Token",
            "webhook_user": "otobo-events"
        }))
        .unwrap();
        assert_eq!(c.webhook.secret, Some(Secret::new("gi-s3cret")));
        assert_eq!(c.webhook.header, "x-otobo-token");
        assert_eq!(c.webhook.user.as_deref(), Some("otobo-events"));
        assert!(!format!("{c:?}").contains("gi-s3cret"));
        let typo = err(json!({"base_url": WS, "username": "u", "password": "pw",
                              "webhook_password": "gi-s3cret"}));
        let (unknown, known) = typo.split_once("known params:").unwrap();
        assert!(unknown.contains("`webhook_password`"), "{typo}");
        for key in ["webhook_secret", "webhook_header", "webhook_user"] {
            assert!(known.split(',').any(|k| k.trim() == key), "{key}: {typo}");
        }
        assert!(!typo.contains("gi-s3cret"), "{typo}");
    }

    #[test]
    fn open_ticket_ai_names_move_over() {
        let c = Config::from_value(json!({
            "base_url": "https://znuny.example.com/otrs/nph-genericinterface.pl",
            "webservice_name": "OpenTicketAI",
            "username": "open_ticket_ai", "password": "pw",
            "operation_urls": {"TicketSearch": "ticket-search", "TicketGet": "ticket-get",
                               "TicketUpdate": "ticket-update"}
        }))
        .unwrap();
        assert_eq!(
            c.http.base_url,
            "https://znuny.example.com/otrs/nph-genericinterface.pl/Webservice/OpenTicketAI"
        );
        assert_eq!(c.flavour, Flavour::Znuny);
        assert!(
            c.routes.session.is_none(),
            "the login travels in every request"
        );
        assert_eq!(
            c.routes.search,
            Route::parse("POST /ticket-search").unwrap()
        );
        assert_eq!(c.routes.update, Route::parse("PUT /ticket-update").unwrap());
    }

    #[test]
    fn routes_and_errors_name_keys_never_values() {
        let c = Config::from_value(json!({
            "base_url": WS, "username": "u", "password": "pw",
            "routes": {"search": "POST /Ticket/Search", "session": "none"}
        }))
        .unwrap();
        assert_eq!(
            c.routes.search,
            Route::parse("POST /Ticket/Search").unwrap()
        );
        assert!(c.routes.session.is_none());
        let bad = err(
            json!({"base_url": WS, "username": "u", "password": "s3cret",
                              "routes": {"search": "FETCH /x"}}),
        );
        assert!(bad.contains("`search`") && !bad.contains("s3cret"), "{bad}");
        let no_ws = err(
            json!({"base_url": "https://h/otobo/nph-genericinterface.pl",
                                "username": "u", "password": "s3cret"}),
        );
        assert!(no_ws.contains("webservice_name"), "{no_ws}");
        let unknown =
            err(json!({"base_url": WS, "username": "u", "password": "s3cret", "pasword": 1}));
        assert!(
            unknown.contains("`pasword`") && !unknown.contains("s3cret"),
            "{unknown}"
        );
    }
}
