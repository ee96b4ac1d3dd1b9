//! Ticket selectors (`condition`), as Zammad's `Selector::Sql` applies them: a flat hash
//! `{"ticket.state_id": {"operator": "is", "value": ["1"]}}` (migrated to an AND block) or the
//! block form `{"operator": "AND", "conditions": [{"name": ..., "operator": ..., "value": ...}]}`.
//!
//! Zammad's quirks kept: a condition without a usable value (no `value`, an empty array, an
//! empty `contains`) is an `InvalidCondition`, which makes Zammad drop the WHOLE selector (the
//! search then filters nothing); an unknown operator or table is a 500. Names: `ticket.<column>`
//! (ids, title, number, stamps, `tags`, custom attributes), `ticket_state.name`,
//! `customer.<login|email|firstname|lastname>`, `owner.<...>`, `article.<body|subject|from|to|
//! type_id|sender_id|internal>`, `organization.*` (always empty: no organisations here).

use serde_json::{Map, Value};

use crate::{
    error::ApiError,
    store::{Store, TicketRec, API_USER_ID},
};

/// A parsed selector.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `AND`, `OR` or `NOT` over the parts (`NOT` negates their AND).
    Block(String, Vec<Cond>),
    /// One condition.
    Leaf(Leaf),
}

/// One condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    table: String,
    attribute: String,
    operator: String,
    value: Value,
    pre_condition: Option<String>,
    range: Option<String>,
}

const OPERATORS: &[&str] = &[
    "after (absolute)",
    "after (relative)",
    "before (absolute)",
    "before (relative)",
    "contains all not",
    "contains all",
    "contains not",
    "contains one not",
    "contains one",
    "contains",
    "does not match regex",
    "ends with one of",
    "ends with",
    "from (relative)",
    "has changed",
    "has reached warning",
    "has reached",
    "is any of",
    "is in working time",
    "is greater than",
    "is less than",
    "is none of",
    "is not in working time",
    "is not",
    "is set",
    "is",
    "matches regex",
    "not set",
    "starts with one of",
    "starts with",
    "till (relative)",
    "today",
    "within last (relative)",
    "within next (relative)",
];

const TABLES: &[&str] = &[
    "ticket",
    "customer",
    "organization",
    "owner",
    "article",
    "ticket_state",
];

/// Parses a `condition` parameter. `Ok(None)`: nothing to filter (absent, empty, or dropped as
/// Zammad drops a selector with an invalid condition).
pub fn parse(v: &Value) -> Result<Option<Cond>, ApiError> {
    let obj = match v {
        Value::Object(o) if !o.is_empty() => o,
        _ => return Ok(None),
    };
    let block = if obj.contains_key("conditions") {
        parse_block(obj)?
    } else {
        let mut parts = Vec::new();
        for (name, spec) in obj {
            let mut m = spec.as_object().cloned().unwrap_or_default();
            m.insert("name".into(), Value::String(name.clone()));
            parts.push(m);
        }
        let mut leaves = Vec::new();
        for m in parts {
            match parse_leaf(&m)? {
                Parsed::Leaf(l) => leaves.push(Cond::Leaf(l)),
                Parsed::Skip => {}
                Parsed::Invalid => return Ok(None),
            }
        }
        Some(Cond::Block("AND".into(), leaves))
    };
    Ok(block)
}

enum Parsed {
    Leaf(Leaf),
    /// A name without a table (`return if !attribute_name`): ignored.
    Skip,
    /// `InvalidCondition`: the whole selector is dropped.
    Invalid,
}

fn parse_block(obj: &Map<String, Value>) -> Result<Option<Cond>, ApiError> {
    let op = obj
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("AND")
        .to_ascii_uppercase();
    let mut parts = Vec::new();
    let list = match obj.get("conditions") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(o)) => o.values().cloned().collect(),
        _ => Vec::new(),
    };
    for item in list {
        let Value::Object(m) = item else { continue };
        if m.contains_key("conditions") {
            match parse_block(&m)? {
                Some(c) => parts.push(c),
                None => return Ok(None),
            }
        } else {
            match parse_leaf(&m)? {
                Parsed::Leaf(l) => parts.push(Cond::Leaf(l)),
                Parsed::Skip => {}
                Parsed::Invalid => return Ok(None),
            }
        }
    }
    Ok(Some(Cond::Block(op, parts)))
}

fn parse_leaf(m: &Map<String, Value>) -> Result<Parsed, ApiError> {
    let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        return Ok(Parsed::Invalid);
    }
    let mut split = name.splitn(2, '.');
    let table = split.next().unwrap_or_default().to_string();
    let Some(attribute) = split.next().map(str::to_string) else {
        return Ok(Parsed::Skip);
    };
    if !TABLES.contains(&table.as_str()) {
        return Err(ApiError::new(
            500,
            format!("invalid selector {table}, {attribute}"),
        ));
    }
    let operator = m
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !OPERATORS.contains(&operator) {
        return Err(ApiError::new(
            500,
            format!("Invalid condition operator '{operator}' for '{name}'",),
        ));
    }
    let pre_condition = m
        .get("pre_condition")
        .and_then(Value::as_str)
        .map(str::to_string);
    let value = m.get("value").cloned();
    let needs_value = !matches!(
        operator,
        "has changed" | "today" | "is set" | "not set" | "has reached" | "has reached warning"
    );
    let blank = match &value {
        None => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(v) if operator.starts_with("contains") => crate::store::is_blank(v),
        _ => false,
    };
    if needs_value && blank {
        match pre_condition.as_deref() {
            None | Some("") | Some("specific") => return Ok(Parsed::Invalid),
            _ => {}
        }
    }
    Ok(Parsed::Leaf(Leaf {
        table,
        attribute,
        operator: operator.to_string(),
        value: value.unwrap_or(Value::Null),
        pre_condition,
        range: m.get("range").and_then(Value::as_str).map(str::to_string),
    }))
}

/// Whether ticket `t` satisfies `c` at `now_ms`.
pub(crate) fn matches(c: &Cond, store: &Store, t: &TicketRec, now_ms: i64) -> bool {
    match c {
        Cond::Block(op, parts) => {
            if parts.is_empty() {
                return true;
            }
            match op.as_str() {
                "OR" => parts.iter().any(|p| matches(p, store, t, now_ms)),
                "NOT" => !parts.iter().all(|p| matches(p, store, t, now_ms)),
                _ => parts.iter().all(|p| matches(p, store, t, now_ms)),
            }
        }
        Cond::Leaf(l) => {
            let rows = values(store, t, &l.table, &l.attribute);
            // An INNER JOIN on articles: no article, no match.
            if l.table == "article" && rows.is_empty() {
                return false;
            }
            if rows.is_empty() {
                return leaf(l, &Value::Null, store, t, now_ms);
            }
            rows.iter().any(|v| leaf(l, v, store, t, now_ms))
        }
    }
}

/// The values of `table.attribute` for the ticket (one row; one per article for `article`).
fn values(store: &Store, t: &TicketRec, table: &str, attribute: &str) -> Vec<Value> {
    let user = |id: u64| -> Vec<Value> {
        let Some(u) = store.user(id) else {
            return vec![Value::Null];
        };
        vec![match attribute {
            "id" => u.id.into(),
            "login" => u.login.clone().into(),
            "email" => u.email.clone().into(),
            "firstname" => u.firstname.clone().into(),
            "lastname" => u.lastname.clone().into(),
            "active" => u.active.into(),
            _ => Value::Null,
        }]
    };
    match table {
        "ticket" => vec![ticket_value(store, t, attribute)],
        "ticket_state" => {
            let s = store.state(t.state_id);
            vec![match (attribute, s) {
                ("name", Some(s)) => s.name.clone().into(),
                ("id", Some(s)) => s.id.into(),
                ("state_type_id", Some(s)) => s.state_type_id.into(),
                _ => Value::Null,
            }]
        }
        "customer" => user(t.customer_id),
        "owner" => user(t.owner_id),
        "organization" => vec![Value::Null],
        "article" => store
            .article_recs(t.id)
            .into_iter()
            .map(|a| match attribute {
                "body" => a.body.clone().into(),
                "subject" => a.subject.clone().map_or(Value::Null, Value::String),
                "from" => a.from.clone().map_or(Value::Null, Value::String),
                "to" => a.to.clone().map_or(Value::Null, Value::String),
                "cc" => a.cc.clone().map_or(Value::Null, Value::String),
                "type_id" => a.type_id.into(),
                "sender_id" => a.sender_id.into(),
                "internal" => a.internal.into(),
                "created_at" => crate::stamp::format_ms(a.created_at).into(),
                "id" => a.id.into(),
                _ => Value::Null,
            })
            .collect(),
        _ => vec![Value::Null],
    }
}

/// A ticket column (or custom attribute) as a JSON value; stamps as Zammad's strings.
pub(crate) fn ticket_value(store: &Store, t: &TicketRec, attribute: &str) -> Value {
    use crate::stamp::format_ms;
    match attribute {
        "id" => t.id.into(),
        "number" => t.number.clone().into(),
        "title" => t.title.clone().into(),
        "group_id" => t.group_id.into(),
        "priority_id" => t.priority_id.into(),
        "state_id" => t.state_id.into(),
        "owner_id" => t.owner_id.into(),
        "customer_id" => t.customer_id.into(),
        "organization_id" => Value::Null,
        "created_by_id" => t.created_by_id.into(),
        "updated_by_id" => t.updated_by_id.into(),
        "created_at" => format_ms(t.created_at).into(),
        "updated_at" => format_ms(t.updated_at).into(),
        "pending_time" => t.pending_time.map_or(Value::Null, |p| format_ms(p).into()),
        "article_count" => store.article_ids(t.id).len().into(),
        "tags" => Value::Array(store.tags(t.id).into_iter().map(Value::String).collect()),
        other => t.attributes.get(other).cloned().unwrap_or(Value::Null),
    }
}

/// A value as SQL compares it: text.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        other => Some(other.to_string()),
    }
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn same(a: &str, b: &str) -> bool {
    // Postgres casts the bound text to the column's type: '1' = 1, 'true' = true.
    a == b
        || matches!(
            (a, b),
            ("true", "t") | ("t", "true") | ("true", "1") | ("false", "0") | ("false", "f")
        )
}

fn leaf(l: &Leaf, v: &Value, store: &Store, t: &TicketRec, now_ms: i64) -> bool {
    let is_user_ref = regex_user_ref(&l.attribute);
    let op = l.operator.as_str();
    if l.table == "ticket" && l.attribute == "tags" {
        return tags_leaf(l, store, t);
    }
    // pre_conditions of `is` / `is not`
    if op == "is" || op == "is not" {
        let hit = match l.pre_condition.as_deref() {
            Some("not_set") => v.is_null() || (is_user_ref && text(v).as_deref() == Some("1")),
            Some("current_user.id") => text(v) == Some(API_USER_ID.to_string()),
            Some("current_user.organization_id") => false,
            _ => {
                let wanted = list(&l.value);
                if l.value.is_null() {
                    v.is_null()
                } else {
                    let blank_ok = wanted.iter().any(|w| w.as_str() == Some(""));
                    match text(v) {
                        None => blank_ok,
                        Some(s) => wanted.iter().filter_map(text).any(|w| same(&s, &w)),
                    }
                }
            }
        };
        if op == "is" {
            return hit;
        }
        // `is not`: NULL counts as "not" unless "" was among the values.
        let wanted = list(&l.value);
        if v.is_null() && l.pre_condition.is_none() && wanted.iter().any(|w| w.as_str() == Some(""))
        {
            return false;
        }
        return !hit;
    }
    let s = text(v).unwrap_or_default().to_lowercase();
    let vals: Vec<String> = list(&l.value)
        .iter()
        .filter_map(text)
        .map(|x| x.to_lowercase())
        .collect();
    let first = vals.first().cloned().unwrap_or_default();
    let num = |x: &str| x.parse::<f64>().ok();
    let when = || text(v).and_then(|x| crate::stamp::parse_ms(&x));
    let span = || -> i64 {
        let n = first.parse::<i64>().unwrap_or(0);
        let unit: i64 = match l.range.as_deref().unwrap_or("day") {
            "minute" => 60_000,
            "hour" => 3_600_000,
            "week" => 7 * 86_400_000,
            "month" => 30 * 86_400_000,
            "year" => 365 * 86_400_000,
            _ => 86_400_000,
        };
        n * unit
    };
    match op {
        "is any of" => !v.is_null() && vals.iter().any(|w| same(&s, w)),
        "is none of" => v.is_null() || !vals.iter().any(|w| same(&s, w)),
        "contains" => !v.is_null() && s.contains(&first),
        "contains not" => v.is_null() || !s.contains(&first),
        "starts with" => !v.is_null() && s.starts_with(&first),
        "starts with one of" => !v.is_null() && vals.iter().any(|w| s.starts_with(w)),
        "ends with" => !v.is_null() && s.ends_with(&first),
        "ends with one of" => !v.is_null() && vals.iter().any(|w| s.ends_with(w)),
        "is set" => !crate::store::is_blank(v),
        "not set" => crate::store::is_blank(v),
        "is greater than" => matches!((num(&s), num(&first)), (Some(a), Some(b)) if a > b),
        "is less than" => matches!((num(&s), num(&first)), (Some(a), Some(b)) if a < b),
        "before (absolute)" => {
            matches!((when(), crate::stamp::parse_ms(&first)), (Some(a), Some(b)) if a < b)
        }
        "after (absolute)" => {
            matches!((when(), crate::stamp::parse_ms(&first)), (Some(a), Some(b)) if a > b)
        }
        "within last (relative)" => when().is_some_and(|a| a >= now_ms - span() && a <= now_ms),
        "within next (relative)" => when().is_some_and(|a| a <= now_ms + span() && a >= now_ms),
        "before (relative)" => when().is_some_and(|a| a < now_ms - span()),
        "after (relative)" => when().is_some_and(|a| a > now_ms + span()),
        "till (relative)" => when().is_some_and(|a| a < now_ms + span()),
        "from (relative)" => when().is_some_and(|a| a > now_ms - span()),
        "today" => {
            when().is_some_and(|a| a.div_euclid(86_400_000) == now_ms.div_euclid(86_400_000))
        }
        // Regexes, working times, "has changed" / "has reached": nothing matches in a search.
        _ => {
            let _ = (store, t);
            false
        }
    }
}

fn regex_user_ref(attribute: &str) -> bool {
    [
        "created_by_id",
        "updated_by_id",
        "owner_id",
        "customer_id",
        "user_id",
    ]
    .iter()
    .any(|p| attribute.starts_with(p))
}

/// `ticket.tags` takes a comma-separated string (or a list).
fn tags_leaf(l: &Leaf, store: &Store, t: &TicketRec) -> bool {
    let wanted: Vec<String> = match &l.value {
        Value::String(s) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        other => list(other).iter().filter_map(text).collect(),
    };
    let have = store.tags(t.id);
    let present = wanted.iter().filter(|w| have.contains(w)).count();
    match l.operator.as_str() {
        "contains all" => present == wanted.len(),
        "contains one" | "is" | "is any of" => present > 0,
        "contains all not" | "is not" | "is none of" => present == 0,
        "contains one not" => present < wanted.len(),
        "is set" => !have.is_empty(),
        "not set" => have.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        stamp::Now,
        store::{NewArticle, NewTicket, DEFAULT_AGENT_LOGIN},
    };
    use serde_json::json;

    fn store() -> Store {
        let mut s = Store::new(DEFAULT_AGENT_LOGIN, Now::at(0));
        for (title, state, tags) in [
            ("Card lost", "new", vec!["vip"]),
            ("Refund please", "open", vec![]),
            ("Old thing", "closed", vec!["vip", "otai"]),
        ] {
            s.insert_ticket(
                NewTicket {
                    title: title.into(),
                    state: Some(state.into()),
                    tags: tags.into_iter().map(String::from).collect(),
                    customer: Some("c@example.com".into()),
                    articles: vec![NewArticle {
                        body: format!("{title} body"),
                        ..NewArticle::default()
                    }],
                    ..NewTicket::default()
                },
                Now::at(1_000),
            )
            .unwrap();
        }
        s
    }

    fn ids(s: &Store, c: &Value) -> Vec<u64> {
        let c = parse(c).unwrap();
        s.tickets
            .values()
            .filter(|t| c.as_ref().is_none_or(|c| matches(c, s, t, 10_000)))
            .map(|t| t.id)
            .collect()
    }

    #[test]
    fn flat_and_block_forms_filter_alike() {
        let s = store();
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.state_id": {"operator": "is", "value": ["1"]}})
            ),
            [1]
        );
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.state_id": {"operator": "is", "value": 2}})
            ),
            [2]
        );
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.state_id": {"operator": "is not", "value": ["1", "2"]}})
            ),
            [3]
        );
        assert_eq!(
            ids(
                &s,
                &json!({"operator": "OR", "conditions": [
                {"name": "ticket.state_id", "operator": "is", "value": ["1"]},
                {"name": "ticket_state.name", "operator": "is", "value": "closed"}]})
            ),
            [1, 3]
        );
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.title": {"operator": "contains", "value": "card"},
                             "customer.email": {"operator": "is", "value": "c@example.com"}})
            ),
            [1]
        );
        assert_eq!(
            ids(
                &s,
                &json!({"article.body": {"operator": "contains", "value": "REFUND"}})
            ),
            [2]
        );
    }

    #[test]
    fn tags_owner_and_pre_conditions() {
        let s = store();
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.tags": {"operator": "contains all", "value": "vip, otai"}})
            ),
            [3]
        );
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.tags": {"operator": "contains one", "value": "vip"}})
            ),
            [1, 3]
        );
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.tags": {"operator": "contains all not", "value": "otai"}})
            ),
            [1, 2]
        );
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.owner_id": {"operator": "is", "pre_condition": "not_set"}})
            ),
            [1, 2, 3]
        );
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.owner_id": {"operator": "is", "pre_condition": "current_user.id"}})
            ),
            Vec::<u64>::new()
        );
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.created_at": {"operator": "within last (relative)", "value": "1", "range": "day"}})
            ),
            [1, 2, 3]
        );
    }

    #[test]
    fn an_invalid_condition_drops_the_selector_and_a_bad_operator_is_a_500() {
        let s = store();
        assert_eq!(
            parse(&json!({"ticket.state_id": {"operator": "is", "value": []}})).unwrap(),
            None
        );
        assert_eq!(
            parse(&json!({"ticket.state_id": {"operator": "is"}})).unwrap(),
            None
        );
        assert_eq!(parse(&json!({})).unwrap(), None);
        assert_eq!(
            ids(
                &s,
                &json!({"ticket.state_id": {"operator": "is", "value": []}})
            ),
            [1, 2, 3]
        );
        assert_eq!(
            parse(&json!({"ticket.state_id": {"operator": "equals", "value": 1}}))
                .unwrap_err()
                .status,
            500
        );
        assert_eq!(
            parse(&json!({"group.name": {"operator": "is", "value": "Users"}}))
                .unwrap_err()
                .status,
            500
        );
        // A name without a table is ignored.
        assert_eq!(
            ids(&s, &json!({"state_id": {"operator": "is", "value": [1]}})),
            [1, 2, 3]
        );
    }
}
