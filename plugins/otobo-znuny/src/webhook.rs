//! Deliveries of a GenericInterface invoker for `otai serve`: the shared secret checked, the
//! ticket named.
//!
//! The system pushes ticket events to otai through its web service's **Requester**: an invoker
//! (OTOBO's `Ticket::TicketCreate` / `Ticket::TicketUpdate`, `Generic::PassThrough`, or Znuny's
//! `Ticket::Generic`) on events such as TicketCreate or ArticleCreate, sent by the HTTP::REST
//! transport to `otai serve`'s URL. Nothing in such a request is signed; the transport can add
//! credentials of two kinds, and either is accepted, each compared in constant time with the
//! service's `webhook_secret` param before the body is read at all:
//! - a custom header (the transport's additional headers): by default
//!   `X-Otai-Webhook-Secret: <secret>`, the header's name being the `webhook_header` param
//!   (compared without regard to case);
//! - HTTP Basic auth (the transport's Authentication: BasicAuth): `Authorization: Basic ...`
//!   whose password is the secret. The user name is free unless `webhook_user` is set, in which
//!   case it must match too; a wrong user and a wrong password get the same answer.
//!
//! When the header is present it decides, whatever else the request carries. Both ways carry
//! the same secret, so accepting either is no weaker than accepting one.
//!
//! Conservative choices where the docs leave room (`helpdesk-apis.md`, section 3.8):
//! - nothing dates a delivery and no invoker sends a delivery id, so nothing is refused as
//!   stale and the delivery id is left empty; a delivery sent again (the RequestRetry error
//!   handler) only makes otai look at the ticket again;
//! - the ticket id must be where one of the invokers puts it, and a body naming two different
//!   tickets is refused rather than guessed at.
//!
//! Body shapes that name a ticket, all by its numeric **TicketID**, never its ticket number:
//! - `{"TicketID": ...}` at the top: OTOBO's ticket invokers (beside `TicketNumber`, `Ticket`,
//!   `Article`) and `Generic::PassThrough` (the event data as it is);
//! - `{"Event": {"TicketID": ..., ...}, "Ticket": {"TicketID": ..., ...}}`: Znuny's
//!   `Ticket::Generic` (the event data and the full ticket);
//! - `{"ticket_id": ...}`: a mapping of the admin's own (e.g. an XSLT outbound mapping).
//!
//! Ids come as strings or numbers (Perl's JSON writes either). The Znuny shape is in
//! `helpdesk-apis.md` (3.8); the OTOBO and PassThrough shapes were read in OTOBO's invoker sources
//! (`Kernel/GenericInterface/Invoker/Ticket/Common.pm`, `.../Generic/PassThrough.pm`) and are
//! not in those notes. A ticket number alone is refused with a hint: it is not a TicketID.
//!
//! The invoker's controller mapping must use POST (or PUT/PATCH): otai reads the JSON body only,
//! never a query string, and a GET request carries no body. otai does not use the push model's
//! answer (Znuny applying `OTRS_*` keys from it): it reads the ticket and writes back through the
//! operations, as a polling pass does.

use base64::Engine as _;
use otai_plugin_sdk::{
    ids::numeric_id, webhook::secrets_equal, Error, ErrorKind, Params, Secret, WebhookEvent,
    WebhookRequest,
};
use serde_json::{Map, Value};

/// The header carrying the shared secret unless `webhook_header` names another.
pub const DEFAULT_SECRET_HEADER: &str = "x-otai-webhook-secret";
/// The header carrying Basic credentials.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// How deliveries authenticate: the `webhook_secret`, `webhook_header` and `webhook_user`
/// params.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookAuth {
    /// The shared secret (header value or Basic password); `None`: deliveries are refused.
    pub secret: Option<Secret>,
    /// The header carrying it, lower-case.
    pub header: String,
    /// The Basic user name required, if any.
    pub user: Option<String>,
}

impl Default for WebhookAuth {
    fn default() -> Self {
        WebhookAuth {
            secret: None,
            header: DEFAULT_SECRET_HEADER.to_string(),
            user: None,
        }
    }
}

impl WebhookAuth {
    /// Reads the three params (a header name or a user without a secret is a mistake and
    /// refused).
    pub fn read(p: &mut Params) -> Result<WebhookAuth, Error> {
        let secret = p.secret("webhook_secret")?;
        let header = p.string("webhook_header")?;
        let user = p.string("webhook_user")?;
        if let Some(name) = &header {
            if !is_header_name(name) {
                return Err(p.error(
                    "`webhook_header` must be an HTTP header name (letters, digits and `-`, \
                     e.g. X-Otai-Webhook-Secret)",
                ));
            }
            if name.eq_ignore_ascii_case(AUTHORIZATION_HEADER) {
                return Err(p.error(
                    "`webhook_header` cannot be Authorization: for Basic auth leave \
                     `webhook_header` out and give the invoker's transport BasicAuth with \
                     `webhook_secret` as its password",
                ));
            }
        }
        if user.as_deref().is_some_and(|u| u.contains(':')) {
            return Err(p.error(
                "`webhook_user` cannot contain `:` (HTTP Basic separates the user name from \
                 the password with it)",
            ));
        }
        let lonely = [
            ("webhook_header", header.is_some()),
            ("webhook_user", user.is_some()),
        ];
        if let Some((key, _)) = lonely.iter().find(|(_, set)| *set && secret.is_none()) {
            return Err(p.error(format!(
                "`{key}` is set but `webhook_secret` is missing: set the secret the invoker \
                 sends (header value or Basic password)"
            )));
        }
        Ok(WebhookAuth {
            secret,
            header: header.map_or_else(
                || DEFAULT_SECRET_HEADER.to_string(),
                |h| h.to_ascii_lowercase(),
            ),
            user,
        })
    }
}

/// An RFC 9110 field name: one or more token characters.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn auth_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Auth, message)
}

/// Verifies `request` with `auth` and names its ticket.
pub fn verify(auth: &WebhookAuth, request: &WebhookRequest) -> Result<WebhookEvent, Error> {
    let Some(secret) = &auth.secret else {
        return Err(Error::new(
            ErrorKind::Config,
            "no `webhook_secret` is configured for this OTOBO/Znuny service, so the \
             invoker's deliveries cannot be verified: choose a long random secret, set it as \
             `webhook_secret`, and have the invoker's HTTP::REST transport send it in an \
             additional header (`webhook_header`, default X-Otai-Webhook-Secret) or as the \
             BasicAuth password",
        ));
    };
    let secret = secret.expose().as_bytes();
    if let Some(given) = request.header(&auth.header) {
        if !secrets_equal(given.trim().as_bytes(), secret) {
            return Err(auth_error(format!(
                "the delivery's `{}` header does not carry the configured `webhook_secret`",
                auth.header
            )));
        }
    } else if let Some(credentials) = request.header(AUTHORIZATION_HEADER) {
        check_basic(auth, secret, credentials)?;
    } else {
        return Err(auth_error(format!(
            "the delivery has neither a `{}` header nor HTTP Basic `{AUTHORIZATION_HEADER}`: \
             give the invoker's transport the header or BasicAuth with `webhook_secret`",
            auth.header
        )));
    }
    Ok(WebhookEvent {
        ticket_ids: ticket_ids(&request.body)?,
        delivery_id: None,
    })
}

/// `Basic base64(user:password)`: the password must be the secret, the user `webhook_user`
/// if set.
fn check_basic(auth: &WebhookAuth, secret: &[u8], credentials: &str) -> Result<(), Error> {
    let credentials = credentials.trim();
    let encoded = credentials
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, encoded)| encoded.trim())
        .ok_or_else(|| {
            auth_error(format!(
                "the delivery's `{AUTHORIZATION_HEADER}` is not HTTP Basic (otai accepts Basic \
                 credentials or the `{}` header)",
                auth.header
            ))
        })?;
    let (decoded, colon) = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|d| d.iter().position(|&b| b == b':').map(|colon| (d, colon)))
        .ok_or_else(|| {
            auth_error(format!(
                "the delivery's `{AUTHORIZATION_HEADER}` is not valid Basic credentials \
                 (base64 of user:password)"
            ))
        })?;
    let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
    // Both compared, always, so the answer does not tell which one was wrong.
    let password_ok = secrets_equal(password, secret);
    let user_ok = auth
        .user
        .as_ref()
        .is_none_or(|expected| secrets_equal(user, expected.as_bytes()));
    if password_ok && user_ok {
        Ok(())
    } else {
        let expected = if auth.user.is_some() {
            "`webhook_user` and `webhook_secret`"
        } else {
            "`webhook_secret` as the password"
        };
        Err(auth_error(format!(
            "the delivery's Basic credentials do not match the configured {expected}"
        )))
    }
}

/// The ticket a (verified) body names.
fn ticket_ids(body: &[u8]) -> Result<Vec<String>, Error> {
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::Validation,
            format!(
                "the delivery's body {why}; otai reads the TicketID an invoker sends \
                 (`TicketID`, `Event.TicketID` or `Ticket.TicketID`) or `ticket_id`"
            ),
        )
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid(
            "is empty (the invoker's controller mapping must use POST: a GET carries no body)",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid("is not JSON"))?;
    let Some(object) = value.as_object() else {
        return Err(invalid("is not a JSON object"));
    };
    let nested = |key: &str| object.get(key).and_then(Value::as_object);
    let mut found: Vec<(&str, &Value)> = Vec::new();
    for (name, id) in [
        ("TicketID", object.get("TicketID")),
        (
            "Event.TicketID",
            nested("Event").and_then(|e| e.get("TicketID")),
        ),
        (
            "Ticket.TicketID",
            nested("Ticket").and_then(|t| t.get("TicketID")),
        ),
        ("ticket_id", object.get("ticket_id")),
    ] {
        if let Some(id) = id {
            found.push((name, id));
        }
    }
    if found.is_empty() {
        return Err(if names_a_number_only(object, nested("Ticket")) {
            invalid("names its ticket by `TicketNumber` only, which is not the TicketID")
        } else {
            invalid("names no ticket")
        });
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
            &format!("ticket id in the delivery's `{key}`"),
            " (the TicketID, not the ticket number)",
        )?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > 1 {
        return Err(invalid(&format!(
            "names different tickets ({})",
            ids.join(", ")
        )));
    }
    Ok(ids)
}

fn names_a_number_only(object: &Map<String, Value>, ticket: Option<&Map<String, Value>>) -> bool {
    object.contains_key("TicketNumber") || ticket.is_some_and(|t| t.contains_key("TicketNumber"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &str = "gi-7e3b9c2d41f0a8";

    fn auth() -> WebhookAuth {
        WebhookAuth {
            secret: Some(Secret::new(SECRET)),
            ..WebhookAuth::default()
        }
    }

    fn basic(user: &str, password: &str) -> String {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}")
    }

    fn delivery(headers: &[(&str, &str)], body: &str) -> WebhookRequest {
        WebhookRequest {
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .chain([("content-type".into(), "application/json".into())])
                .collect(),
            body: body.as_bytes().to_vec(),
            received_at: 1_796_205_600,
        }
    }

    fn with_header(body: &str) -> WebhookRequest {
        delivery(&[(DEFAULT_SECRET_HEADER, SECRET)], body)
    }

    fn assert_secret_free(err: &Error) {
        assert!(!err.message.contains(SECRET), "{}", err.message);
        assert!(!err.message.contains("7e3b9c2d"), "{}", err.message);
    }

    fn read(params: Value) -> Result<WebhookAuth, Error> {
        let mut p = Params::from_value("otai_otobo_znuny", params).unwrap();
        let auth = WebhookAuth::read(&mut p)?;
        p.finish()?;
        Ok(auth)
    }

    /// What OTOBO's `Ticket::TicketCreate` invoker sends, shortened.
    const OTOBO_INVOKER: &str = r#"{
        "TicketID": "1042", "TicketNumber": "2026120210000017",
        "Ticket": {"Title": "Printer on fire", "Queue": "Raw", "State": "new"},
        "Article": {"Subject": "Printer on fire", "Body": "Help", "From": "kim@example.com"}
    }"#;

    /// What Znuny's `Ticket::Generic` invoker sends, shortened.
    const ZNUNY_GENERIC: &str = r#"{
        "Event": {"Event": "TicketCreate", "TicketID": "1042"},
        "Ticket": {"TicketID": "1042", "TicketNumber": "2026120210000017",
                   "Title": "Printer on fire", "Article": [{"ArticleID": "7"}]}
    }"#;

    #[test]
    fn each_invoker_shape_names_its_ticket_by_ticket_id() {
        for body in [
            OTOBO_INVOKER,
            ZNUNY_GENERIC,
            r#"{"Event": "TicketCreate", "TicketID": 1042}"#,
            r#"{"Event": {"TicketID": 1042}}"#,
            r#"{"Ticket": {"TicketID": 1042}}"#,
            r#"{"ticket_id": "1042"}"#,
            r#"{"ticket_id": 1042, "TicketID": "1042"}"#,
        ] {
            let event = verify(&auth(), &with_header(body)).unwrap();
            assert_eq!(event.ticket_ids, ["1042"], "{body}");
            assert_eq!(event.delivery_id, None);
        }
    }

    #[test]
    fn basic_credentials_with_the_secret_as_password_verify() {
        for user in ["otobo", "", "any user"] {
            let request = delivery(&[("authorization", &basic(user, SECRET))], ZNUNY_GENERIC);
            let event = verify(&auth(), &request).unwrap();
            assert_eq!(event.ticket_ids, ["1042"], "{user:?}");
        }
        let lower = delivery(
            &[(
                "authorization",
                &basic("otobo", SECRET).replace("Basic", "basic"),
            )],
            ZNUNY_GENERIC,
        );
        assert!(verify(&auth(), &lower).is_ok());
    }

    #[test]
    fn a_configured_user_must_match_and_a_wrong_one_reads_like_a_wrong_password() {
        let strict = WebhookAuth {
            user: Some("otobo-events".into()),
            ..auth()
        };
        let right = delivery(
            &[("authorization", &basic("otobo-events", SECRET))],
            OTOBO_INVOKER,
        );
        assert!(verify(&strict, &right).is_ok());
        let wrong_user = delivery(
            &[("authorization", &basic("intruder", SECRET))],
            OTOBO_INVOKER,
        );
        let wrong_password = delivery(
            &[("authorization", &basic("otobo-events", "guess"))],
            OTOBO_INVOKER,
        );
        let a = verify(&strict, &wrong_user).unwrap_err();
        let b = verify(&strict, &wrong_password).unwrap_err();
        assert_eq!((a.kind, b.kind), (ErrorKind::Auth, ErrorKind::Auth));
        assert_eq!(a.message, b.message);
        assert!(a.message.contains("`webhook_user`"), "{}", a.message);
        assert!(!a.message.contains("intruder") && !b.message.contains("guess"));
        assert_secret_free(&a);
    }

    #[test]
    fn a_wrong_secret_is_refused_before_the_body_is_read() {
        let header = delivery(&[(DEFAULT_SECRET_HEADER, "gi-7e3b9c2d41f0a9")], "not json");
        let err = verify(&auth(), &header).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth, "{}", err.message);
        assert!(err.message.contains("does not carry"), "{}", err.message);
        assert_secret_free(&err);

        let password = delivery(&[("authorization", &basic("otobo", "gi-7e3b"))], "not json");
        let err = verify(&auth(), &password).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth, "{}", err.message);
        assert!(err.message.contains("do not match"), "{}", err.message);
        assert_secret_free(&err);
    }

    #[test]
    fn the_header_decides_when_both_are_sent() {
        let request = delivery(
            &[
                (DEFAULT_SECRET_HEADER, "wrong"),
                ("authorization", &basic("otobo", SECRET)),
            ],
            OTOBO_INVOKER,
        );
        assert_eq!(verify(&auth(), &request).unwrap_err().kind, ErrorKind::Auth);
        let custom = WebhookAuth {
            header: "x-otobo-token".into(),
            ..auth()
        };
        let request = delivery(&[("x-otobo-token", SECRET)], OTOBO_INVOKER);
        assert!(verify(&custom, &request).is_ok());
        let default_name = verify(&custom, &with_header(OTOBO_INVOKER)).unwrap_err();
        assert!(
            default_name.message.contains("x-otobo-token"),
            "{}",
            default_name.message
        );
    }

    #[test]
    fn missing_or_malformed_credentials_are_refused_and_named() {
        let err = verify(&auth(), &delivery(&[], OTOBO_INVOKER)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(
            err.message.contains(DEFAULT_SECRET_HEADER) && err.message.contains("Basic"),
            "{}",
            err.message
        );
        for (value, why) in [
            (format!("Bearer {SECRET}"), "is not HTTP Basic"),
            (SECRET.to_string(), "is not HTTP Basic"),
            ("Basic".to_string(), "is not HTTP Basic"),
            (
                "Basic !!!not-base64".to_string(),
                "not valid Basic credentials",
            ),
            (
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(SECRET)
                ),
                "not valid Basic credentials",
            ),
        ] {
            let request = delivery(&[("authorization", &value)], OTOBO_INVOKER);
            let err = verify(&auth(), &request).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Auth, "{value}");
            assert!(err.message.contains(why), "{value}: {}", err.message);
            assert_secret_free(&err);
        }
    }

    #[test]
    fn unreadable_bodies_are_validation_errors_each_named() {
        for (body, why) in [
            ("", "is empty"),
            (" \n", "is empty"),
            ("TicketID=1042", "is not JSON"),
            ("[1042]", "is not a JSON object"),
            ("{}", "names no ticket"),
            (
                r#"{"Event": {"Event": "CustomerUserAdd"}}"#,
                "names no ticket",
            ),
            (
                r#"{"TicketNumber": "2026120210000017"}"#,
                "by `TicketNumber` only",
            ),
            (
                r#"{"Ticket": {"TicketNumber": "2026120210000017"}}"#,
                "by `TicketNumber` only",
            ),
            (r#"{"TicketID": null}"#, "`TicketID` as something other"),
            (r#"{"TicketID": ["1042"]}"#, "`TicketID` as something other"),
            (
                r#"{"Event": {"TicketID": -4}}"#,
                "`Event.TicketID` as something other",
            ),
            (r#"{"TicketID": "T-1042"}"#, "not the ticket number"),
            (
                r#"{"Ticket": {"TicketID": "1042"}, "Event": {"TicketID": "1043"}}"#,
                "names different tickets (1043, 1042)",
            ),
        ] {
            let err = verify(&auth(), &with_header(body)).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Validation, "{body:?}: {}", err.message);
            assert!(err.message.contains(why), "{body:?}: {}", err.message);
            assert_secret_free(&err);
        }
    }

    #[test]
    fn without_a_configured_secret_nothing_is_accepted() {
        let unconfigured = WebhookAuth::default();
        for request in [
            with_header(OTOBO_INVOKER),
            delivery(&[("authorization", &basic("otobo", SECRET))], OTOBO_INVOKER),
            WebhookRequest::default(),
        ] {
            let err = verify(&unconfigured, &request).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Config);
            assert!(err.message.contains("webhook_secret"), "{}", err.message);
        }
        // The host's probe (an empty delivery) with a secret: it verifies.
        let err = verify(&auth(), &WebhookRequest::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
    }

    #[test]
    fn the_params_read_and_their_errors_show_no_secret() {
        assert_eq!(read(json!({})).unwrap(), WebhookAuth::default());
        let a = read(
            json!({"webhook_secret": SECRET, "webhook_header": "X-Otobo-Token",
                            "webhook_user": "otobo-events"}),
        )
        .unwrap();
        assert_eq!(a.header, "x-otobo-token");
        assert_eq!(a.user.as_deref(), Some("otobo-events"));
        assert!(!format!("{a:?}").contains(SECRET));
        for (params, why) in [
            (
                json!({"webhook_header": "X-A"}),
                "`webhook_header` is set but `webhook_secret`",
            ),
            (
                json!({"webhook_user": "otobo"}),
                "`webhook_user` is set but `webhook_secret`",
            ),
            (
                json!({"webhook_secret": SECRET, "webhook_header": "X A"}),
                "must be an HTTP header name",
            ),
            (
                json!({"webhook_secret": SECRET, "webhook_header": "Authorization"}),
                "cannot be Authorization",
            ),
            (
                json!({"webhook_secret": SECRET, "webhook_user": "a:b"}),
                "cannot contain `:`",
            ),
            (json!({"webhook_secret": "with space"}), "contains spaces"),
        ] {
            let err = read(params.clone()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Config);
            assert!(err.message.contains(why), "{params}: {}", err.message);
            assert_secret_free(&err);
            assert!(!err.message.contains("with space"), "{}", err.message);
        }
    }
}
