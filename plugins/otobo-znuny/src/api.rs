//! The GenericInterface's JSON, read leniently: numbers may come as strings, a single item may
//! come as an object instead of a list, dynamic fields are `[{Name, Value}]`.

use serde_json::{Map, Value};

/// A ticket as TicketGet answers it.
#[derive(Debug, Clone, Default)]
pub struct GiTicket {
    /// `TicketID`.
    pub id: u64,
    /// `TicketNumber`.
    pub number: Option<String>,
    /// `Title`.
    pub title: String,
    /// `Queue` and `QueueID`.
    pub queue: Option<String>,
    /// Queue id.
    pub queue_id: Option<u64>,
    /// `Priority` (`3 normal`).
    pub priority: Option<String>,
    /// `State` (`new`).
    pub state: String,
    /// `StateType` (`new`, `open`, `closed`, `pending reminder`, `merged`, `removed`, ...).
    pub state_type: Option<String>,
    /// `Created`, `YYYY-MM-DD HH:MM:SS`.
    pub created: Option<String>,
    /// `Changed`, `YYYY-MM-DD HH:MM:SS`: what otai compares before writing.
    pub changed: Option<String>,
    /// `CustomerUserID`.
    pub customer_user: Option<String>,
    /// Dynamic fields by name.
    pub dynamic_fields: Map<String, Value>,
    /// Articles, in the order asked for.
    pub articles: Vec<GiArticle>,
    /// The ticket's own JSON.
    pub raw: Value,
}

/// An article.
#[derive(Debug, Clone, Default)]
pub struct GiArticle {
    /// `ArticleID`.
    pub id: u64,
    /// `Subject`.
    pub subject: String,
    /// `Body` (plain text: an HTML body comes as an attachment).
    pub body: String,
    /// `SenderType`: `agent`, `customer`, `system`.
    pub sender_type: String,
    /// `IsVisibleForCustomer` (OTRS 6+), or an `ArticleType` without `-internal` (OTRS ≤ 5).
    pub visible_for_customer: bool,
    /// `CreateBy`: the user who wrote it.
    pub created_by: Option<u64>,
    /// `CreateTime` (or `IncomingTime` as unix seconds), `YYYY-MM-DD HH:MM:SS`.
    pub create_time: Option<String>,
}

/// `{"Ticket": [...]}` (or a single object) as tickets; `{}` as none.
pub fn tickets(value: &Value) -> Result<Vec<GiTicket>, String> {
    let items = match value.get("Ticket") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        Some(_) => return Err("`Ticket` is neither a list nor an object".into()),
    };
    items.iter().map(ticket).collect()
}

fn ticket(raw: &Value) -> Result<GiTicket, String> {
    let id = number(raw.get("TicketID")).ok_or("a ticket without a TicketID")?;
    let mut dynamic_fields = Map::new();
    for df in list(raw.get("DynamicField")) {
        if let Some(name) = df.get("Name").and_then(Value::as_str) {
            dynamic_fields.insert(
                name.to_string(),
                df.get("Value").cloned().unwrap_or(Value::Null),
            );
        }
    }
    let articles = list(raw.get("Article")).iter().map(article).collect();
    Ok(GiTicket {
        id,
        number: text(raw.get("TicketNumber")),
        title: text(raw.get("Title")).unwrap_or_default(),
        queue: text(raw.get("Queue")),
        queue_id: number(raw.get("QueueID")),
        priority: text(raw.get("Priority")),
        state: text(raw.get("State")).unwrap_or_default(),
        state_type: text(raw.get("StateType")),
        created: text(raw.get("Created")),
        changed: text(raw.get("Changed")),
        customer_user: text(raw.get("CustomerUserID")),
        dynamic_fields,
        articles,
        raw: raw.clone(),
    })
}

fn article(raw: &Value) -> GiArticle {
    let visible = match raw.get("IsVisibleForCustomer") {
        Some(v) => number(Some(v)) == Some(1) || v.as_bool() == Some(true),
        // OTRS ≤ 5: the article type says it.
        None => text(raw.get("ArticleType")).is_none_or(|t| !t.contains("internal")),
    };
    GiArticle {
        id: number(raw.get("ArticleID")).unwrap_or_default(),
        subject: text(raw.get("Subject")).unwrap_or_default(),
        body: text(raw.get("Body")).unwrap_or_default(),
        sender_type: text(raw.get("SenderType")).unwrap_or_default(),
        visible_for_customer: visible,
        created_by: number(raw.get("CreateBy")),
        create_time: text(raw.get("CreateTime")),
    }
}

/// `{"TicketID": ["1", "2"]}` (or one id, or `{}`) as ids.
pub fn ticket_ids(value: &Value) -> Vec<u64> {
    list(value.get("TicketID"))
        .iter()
        .filter_map(|v| number(Some(v)))
        .collect()
}

/// The values of a list, an object as a one-item list, nothing for anything else.
fn list(value: Option<&Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items.clone(),
        Some(v @ (Value::Object(_) | Value::String(_) | Value::Number(_))) => vec![v.clone()],
        _ => Vec::new(),
    }
}

fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A dynamic field value as a list of strings (multiselect), or a comma-separated text split.
pub fn values(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(|v| text(Some(v))).collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ticket_get_reads_with_strings_single_objects_and_dynamic_fields() {
        let answer = json!({"Ticket": [{
            "TicketID": "7", "TicketNumber": "2026120110000071", "Title": "Karte gesperrt",
            "Queue": "Raw", "QueueID": "2", "Priority": "3 normal", "State": "new", "StateType": "new",
            "Created": "2026-12-01 10:00:00", "Changed": "2026-12-01 10:00:05",
            "DynamicField": [{"Name": "OTAITags", "Value": ["vip"]}, {"Name": "Topic", "Value": "cards"}],
            "Article": {"ArticleID": "21", "Subject": "Hallo", "Body": "Meine Karte", "SenderType": "customer",
                        "IsVisibleForCustomer": "1", "CreateBy": "1", "CreateTime": "2026-12-01 10:00:00"}
        }]});
        let t = &tickets(&answer).unwrap()[0];
        assert_eq!((t.id, t.queue_id), (7, Some(2)));
        assert_eq!(t.title, "Karte gesperrt");
        assert_eq!(t.state_type.as_deref(), Some("new"));
        assert_eq!(values(t.dynamic_fields.get("OTAITags")), ["vip"]);
        assert_eq!(t.articles.len(), 1);
        assert!(t.articles[0].visible_for_customer);
        assert!(tickets(&json!({})).unwrap().is_empty());
    }

    #[test]
    fn search_ids_and_legacy_articles() {
        assert_eq!(ticket_ids(&json!({"TicketID": ["3", 4]})), [3, 4]);
        assert_eq!(ticket_ids(&json!({"TicketID": "9"})), [9]);
        assert!(ticket_ids(&json!({})).is_empty());
        let a = article(&json!({"ArticleID": 1, "ArticleType": "note-internal"}));
        assert!(!a.visible_for_customer);
        assert_eq!(values(Some(&json!("a, b,,c"))), ["a", "b", "c"]);
    }
}
