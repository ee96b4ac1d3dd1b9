//! Zammad's JSON, read leniently: ids may come as numbers or strings, unknown keys are kept
//! (custom object attributes are top-level keys of a ticket), and both search answer shapes
//! (a plain array of tickets in newer versions, `{tickets, tickets_count, assets}` in older ones)
//! read into one list.

use serde::Deserialize;
use serde_json::{Map, Value};

/// A ticket as `GET /tickets/{id}`, the list and search answer it, with or without `expand`.
#[derive(Debug, Clone, Deserialize)]
pub struct ZTicket {
    /// The ticket id.
    #[serde(deserialize_with = "id")]
    pub id: u64,
    /// The ticket number shown to people (`31001`).
    #[serde(default, deserialize_with = "opt_text")]
    pub number: Option<String>,
    /// The subject.
    #[serde(default, deserialize_with = "opt_text")]
    pub title: Option<String>,
    /// Group id.
    #[serde(default, deserialize_with = "opt_id")]
    pub group_id: Option<u64>,
    /// Priority id.
    #[serde(default, deserialize_with = "opt_id")]
    pub priority_id: Option<u64>,
    /// State id.
    #[serde(default, deserialize_with = "opt_id")]
    pub state_id: Option<u64>,
    /// Owner (1 = nobody).
    #[serde(default, deserialize_with = "opt_id")]
    pub owner_id: Option<u64>,
    /// Customer.
    #[serde(default, deserialize_with = "opt_id")]
    pub customer_id: Option<u64>,
    /// ISO-8601 with milliseconds.
    #[serde(default, deserialize_with = "opt_text")]
    pub created_at: Option<String>,
    /// ISO-8601 with milliseconds: what otai compares before writing.
    #[serde(default, deserialize_with = "opt_text")]
    pub updated_at: Option<String>,
    /// Every other key: names resolved by `expand` (`group`, `state`, ...), custom attributes.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl ZTicket {
    /// A name `expand=true` resolved (`group`, `state`, `priority`), if the answer had it.
    pub fn expanded(&self, key: &str) -> Option<&str> {
        self.rest.get(key).and_then(Value::as_str)
    }
}

/// An article (a message or note on a ticket).
#[derive(Debug, Clone, Deserialize)]
pub struct ZArticle {
    /// The article id.
    #[serde(deserialize_with = "id")]
    pub id: u64,
    /// Its ticket.
    #[serde(default, deserialize_with = "opt_id")]
    pub ticket_id: Option<u64>,
    /// The text (HTML when `content_type` says so).
    #[serde(default, deserialize_with = "opt_text")]
    pub body: Option<String>,
    /// `text/plain` or `text/html`.
    #[serde(default, deserialize_with = "opt_text")]
    pub content_type: Option<String>,
    /// Internal (agents only).
    #[serde(default)]
    pub internal: Option<bool>,
    /// Who wrote it, by id.
    #[serde(default, deserialize_with = "opt_id")]
    pub created_by_id: Option<u64>,
    /// ISO-8601.
    #[serde(default, deserialize_with = "opt_text")]
    pub created_at: Option<String>,
}

/// A group, priority or state: the lists otai maps names through.
#[derive(Debug, Clone, Deserialize)]
pub struct ZNamed {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: u64,
    /// Its name (`Users`, `2 normal`, `new`).
    #[serde(default, deserialize_with = "opt_text")]
    pub name: Option<String>,
    /// Inactive entries cannot be set.
    #[serde(default)]
    pub active: Option<bool>,
    /// A state's type (`new`, `open`, `closed`, `merged`, `pending reminder`, ...), by id.
    #[serde(default, deserialize_with = "opt_id")]
    pub state_type_id: Option<u64>,
}

/// The user the credentials belong to (`GET /users/me`).
#[derive(Debug, Clone, Deserialize)]
pub struct ZUser {
    /// Its id: otai's notes are the articles this user created.
    #[serde(deserialize_with = "id")]
    pub id: u64,
    /// Login.
    #[serde(default, deserialize_with = "opt_text")]
    pub login: Option<String>,
    /// E-mail.
    #[serde(default, deserialize_with = "opt_text")]
    pub email: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "opt_text")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "opt_text")]
    pub lastname: Option<String>,
}

/// `GET /tickets/{id}?all=true`: the ticket, its articles and its tags in one answer.
#[derive(Debug, Clone)]
pub struct TicketAll {
    /// The ticket.
    pub ticket: ZTicket,
    /// Its articles, oldest first.
    pub articles: Vec<ZArticle>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Group names among the assets (id, name).
    pub groups: Vec<(u64, String)>,
}

impl TicketAll {
    /// Reads the `all=true` shape: `{ticket_id, ticket_article_ids, assets: {Ticket: {id: ...},
    /// TicketArticle: {id: ...}}, tags}`.
    pub fn parse(id: u64, value: Value) -> Result<TicketAll, String> {
        let assets = value.get("assets").ok_or("no `assets` in the answer")?;
        let ticket = assets
            .pointer(&format!("/Ticket/{id}"))
            .cloned()
            .ok_or_else(|| format!("ticket {id} is missing from `assets.Ticket`"))?;
        let ticket: ZTicket =
            serde_json::from_value(ticket).map_err(|e| format!("`assets.Ticket.{id}`: {e}"))?;
        let mut articles: Vec<ZArticle> = Vec::new();
        if let Some(map) = assets.get("TicketArticle").and_then(Value::as_object) {
            for (key, raw) in map {
                let article: ZArticle = serde_json::from_value(raw.clone())
                    .map_err(|e| format!("`assets.TicketArticle.{key}`: {e}"))?;
                if article.ticket_id.is_none_or(|t| t == id) {
                    articles.push(article);
                }
            }
        }
        // Ids grow with creation: the first message has the smallest.
        articles.sort_by_key(|a| a.id);
        let tags = strings(value.get("tags"));
        let groups = assets
            .get("Group")
            .and_then(Value::as_object)
            .map(|map| {
                map.values()
                    .filter_map(|g| {
                        let named: ZNamed = serde_json::from_value(g.clone()).ok()?;
                        Some((named.id, named.name?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(TicketAll {
            ticket,
            articles,
            tags,
            groups,
        })
    }
}

/// A search answer in either shape, as tickets in the answer's order.
pub fn search_tickets(value: Value) -> Result<Vec<ZTicket>, String> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, t)| serde_json::from_value(t).map_err(|e| format!("item {i}: {e}")))
            .collect(),
        Value::Object(map) => {
            // Older versions: ids in order, the records among the assets.
            let ids = match map.get("tickets") {
                Some(Value::Array(ids)) => ids.clone(),
                _ => return Err("neither an array nor `{tickets: [...]}`".to_string()),
            };
            let assets = map.get("assets").and_then(|a| a.get("Ticket"));
            ids.iter()
                .map(|id| {
                    let key = match id {
                        Value::Number(n) => n.to_string(),
                        Value::String(s) => s.clone(),
                        other => return Err(format!("a ticket id {other} in `tickets`")),
                    };
                    let raw = assets
                        .and_then(|a| a.get(&key))
                        .cloned()
                        .ok_or_else(|| format!("ticket {key} is missing from `assets.Ticket`"))?;
                    serde_json::from_value(raw).map_err(|e| format!("`assets.Ticket.{key}`: {e}"))
                })
                .collect()
        }
        _ => Err("neither an array nor an object".to_string()),
    }
}

/// The strings of a JSON array (others skipped); nothing for anything else.
pub fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    opt_id(d)?.ok_or_else(|| serde::de::Error::custom("missing id"))
}

fn opt_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn opt_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn both_search_shapes_read_into_the_same_tickets() {
        let newer = json!([
            {"id": 7, "title": "Card blocked", "group_id": 1, "state_id": 1, "group": "Users",
             "updated_at": "2026-11-30T10:00:00.123Z", "custom_topic": "cards"},
            {"id": "8", "title": "Refund", "group_id": "2", "state_id": 1}
        ]);
        let older = json!({
            "tickets": [7, 8],
            "tickets_count": 2,
            "assets": {"Ticket": {
                "8": {"id": 8, "title": "Refund", "group_id": 2, "state_id": 1},
                "7": {"id": 7, "title": "Card blocked", "group_id": 1, "state_id": 1,
                      "updated_at": "2026-11-30T10:00:00.123Z", "custom_topic": "cards"}
            }}
        });
        for shape in [newer, older] {
            let tickets = search_tickets(shape).unwrap();
            let ids: Vec<u64> = tickets.iter().map(|t| t.id).collect();
            assert_eq!(ids, [7, 8]);
            assert_eq!(tickets[0].title.as_deref(), Some("Card blocked"));
            assert_eq!(tickets[1].group_id, Some(2));
            assert_eq!(tickets[0].rest["custom_topic"], "cards");
        }
        assert!(search_tickets(json!({"tickets": [9], "assets": {}}))
            .unwrap_err()
            .contains("ticket 9"));
        assert!(search_tickets(json!("nope")).is_err());
    }

    #[test]
    fn all_true_gives_the_ticket_its_articles_oldest_first_and_tags() {
        let all = TicketAll::parse(
            7,
            json!({
                "ticket_id": 7,
                "ticket_article_ids": [12, 10],
                "tags": ["vip", "de"],
                "assets": {
                    "Ticket": {"7": {"id": 7, "title": "Karte gesperrt", "state_id": 1}},
                    "TicketArticle": {
                        "12": {"id": 12, "ticket_id": 7, "body": "note", "internal": true},
                        "10": {"id": 10, "ticket_id": 7, "body": "<p>Hallo</p>", "content_type": "text/html"}
                    },
                    "User": {"3": {"id": 3}}
                }
            }),
        )
        .unwrap();
        assert_eq!(all.ticket.title.as_deref(), Some("Karte gesperrt"));
        assert_eq!(
            all.articles.iter().map(|a| a.id).collect::<Vec<_>>(),
            [10, 12]
        );
        assert_eq!(all.tags, ["vip", "de"]);
        assert!(TicketAll::parse(8, json!({"assets": {"Ticket": {}}}))
            .unwrap_err()
            .contains("ticket 8"));
    }
}
