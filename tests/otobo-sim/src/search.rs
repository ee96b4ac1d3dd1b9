//! TicketSearch as the GenericInterface runs it (`Operation/Ticket/TicketSearch.pm` over
//! `Kernel/System/Ticket/TicketSearch.pm`): filters ANDed, the values of one filter ORed, `*` as
//! the wildcard of text filters (case-insensitive, as MySQL compares), `Limit` (default: the
//! web service's SearchLimit, 500) and **no offset**; sorted by `SortBy` (default `Age`, the
//! creation time) and `OrderBy` (default `Down`), ties by ticket id in the same direction. An
//! unknown queue, state, state type, priority, lock or type name, an unknown `SortBy` or
//! `OrderBy`, or a time that does not parse makes the search find nothing, as the real one
//! returns early. `StateType` values are state type names (the `Open`/`Closed` shorthand does not
//! reach the ticket search through the GenericInterface, which passes a list): `Open` matches
//! type `open` only.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::{
    params::{count, list, scalar, scalar_with_data, truthy},
    routes::Flavour,
    stamp::parse_time,
    store::{id_in, is_empty_value, Store, TicketRec, LOCKS, PRIORITIES, STATES, TYPES},
};

/// `SortBy` values the search knows (besides `DynamicField_<Name>`).
pub const SORT_KEYS: &[&str] = &[
    "Age",
    "Created",
    "Changed",
    "Ticket",
    "TicketNumber",
    "Title",
    "Queue",
    "Priority",
    "State",
    "Lock",
    "Type",
    "Owner",
    "Responsible",
    "CustomerID",
    "PendingTime",
];

/// Whether `text` matches an SQL-ish pattern: `*` and `%` are wildcards; case-insensitive.
pub fn like(pattern: &str, text: &str) -> bool {
    otai_sim_kit::glob(
        &pattern.to_lowercase().replace('%', "*"),
        &text.to_lowercase(),
    )
}

/// The ids TicketSearch answers, in order (empty: `{}`).
pub fn search(
    store: &Store,
    data: &Map<String, Value>,
    flavour: Flavour,
    default_limit: usize,
    now: i64,
) -> Vec<u64> {
    let Some(filters) = Filters::read(store, data, flavour, now) else {
        return Vec::new();
    };
    let Some(order) = sort_order(data) else {
        return Vec::new();
    };
    let mut found: Vec<&TicketRec> = store
        .tickets
        .values()
        .filter(|t| filters.matches(store, t))
        .collect();
    found.sort_by(|a, b| {
        for (key, down) in &order {
            let o = compare(store, key, a, b);
            let o = if *down { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        let o = a.id.cmp(&b.id);
        if order.first().is_none_or(|(_, down)| *down) {
            o.reverse()
        } else {
            o
        }
    });
    let limit = count(data.get("Limit")).unwrap_or(default_limit.max(1));
    found.into_iter().take(limit).map(|t| t.id).collect()
}

/// `(key, descending)` pairs; `None` for an unknown key or order.
fn sort_order(data: &Map<String, Value>) -> Option<Vec<(String, bool)>> {
    let mut keys = list(data.get("SortBy"));
    if keys.is_empty() {
        keys.push("Age".into());
    }
    let orders = list(data.get("OrderBy"));
    keys.into_iter()
        .enumerate()
        .map(|(i, k)| {
            let known = SORT_KEYS.contains(&k.as_str()) || k.starts_with("DynamicField_");
            let down = match orders.get(i).map(String::as_str).unwrap_or("Down") {
                "Down" => true,
                "Up" => false,
                _ => return None,
            };
            known.then_some((k, down))
        })
        .collect()
}

fn compare(store: &Store, key: &str, a: &TicketRec, b: &TicketRec) -> Ordering {
    match key {
        "Age" | "Created" => a.created.cmp(&b.created),
        "Changed" => a.changed.cmp(&b.changed),
        "Ticket" | "TicketNumber" => a.number.cmp(&b.number),
        "Title" => a.title.cmp(&b.title),
        "Queue" => store
            .queue_name(a.queue_id)
            .cmp(store.queue_name(b.queue_id)),
        "Priority" => a.priority_id.cmp(&b.priority_id),
        "State" => a.state_id.cmp(&b.state_id),
        "Lock" => a.lock_id.cmp(&b.lock_id),
        "Type" => a.type_id.cmp(&b.type_id),
        "Owner" => a.owner_id.cmp(&b.owner_id),
        "Responsible" => a.responsible_id.cmp(&b.responsible_id),
        "CustomerID" => a.customer_id.cmp(&b.customer_id),
        "PendingTime" => a.pending_until.cmp(&b.pending_until),
        k => {
            let name = k.trim_start_matches("DynamicField_");
            let v = |t: &TicketRec| field_texts(t.dynamic.get(name)).join(",");
            v(a).cmp(&v(b))
        }
    }
}

/// A JSON scalar as text (strings without quotes).
fn text_of(v: &Value) -> String {
    scalar(Some(v)).unwrap_or_else(|| v.to_string())
}

/// A stored value as its texts (one for text fields, each item for multiselect).
fn field_texts(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(text_of).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(other) => vec![other.to_string()],
    }
}

/// A time window on one stamp: newer than or equal to `from`, older than or equal to `to`.
#[derive(Debug, Default)]
struct Window {
    from: Option<i64>,
    to: Option<i64>,
}

impl Window {
    /// `<prefix>NewerDate|OlderDate|NewerMinutes|OlderMinutes`; `None`: a time that does not
    /// parse.
    fn read(data: &Map<String, Value>, prefix: &str, now: i64) -> Option<Self> {
        let date = |k: &str| match scalar_with_data(data.get(&format!("{prefix}{k}"))) {
            None => Some(None),
            Some(s) => parse_time(&s).map(Some),
        };
        let minutes = |k: &str| match scalar_with_data(data.get(&format!("{prefix}{k}"))) {
            None => Some(None),
            Some(s) => s.trim().parse::<i64>().ok().map(|m| Some(now - m * 60)),
        };
        let newer = [date("NewerDate")?, minutes("NewerMinutes")?];
        let older = [date("OlderDate")?, minutes("OlderMinutes")?];
        Some(Window {
            from: newer.into_iter().flatten().max(),
            to: older.into_iter().flatten().min(),
        })
    }

    fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    fn holds(&self, t: i64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|o| t <= o)
    }
}

/// One dynamic field's operators.
#[derive(Debug)]
struct FieldFilter {
    name: String,
    ops: Map<String, Value>,
}

impl FieldFilter {
    fn matches(&self, v: Option<&Value>) -> bool {
        let texts = field_texts(v);
        let empty = v.is_none_or(is_empty_value);
        self.ops.iter().all(|(op, want)| {
            let wants = list(Some(want));
            let any = |f: &dyn Fn(&str, &str) -> bool| {
                wants.iter().any(|w| texts.iter().any(|t| f(w, t)))
            };
            let num_cmp = |w: &str, t: &str| match (w.parse::<f64>(), t.parse::<f64>()) {
                (Ok(w), Ok(t)) => t.partial_cmp(&w),
                _ => Some(t.cmp(w)),
            };
            match op.as_str() {
                "Empty" => truthy(Some(want)) == empty,
                "Equals" => any(&|w, t| w == t),
                "Like" => any(&|w, t| like(w, t)),
                "GreaterThan" => any(&|w, t| num_cmp(w, t) == Some(Ordering::Greater)),
                "GreaterThanEquals" => any(&|w, t| num_cmp(w, t) != Some(Ordering::Less)),
                "SmallerThan" => any(&|w, t| num_cmp(w, t) == Some(Ordering::Less)),
                "SmallerThanEquals" => any(&|w, t| num_cmp(w, t) != Some(Ordering::Greater)),
                // Unknown operators are not searched for.
                _ => true,
            }
        })
    }
}

/// The filters of one search, names resolved to ids.
#[derive(Debug, Default)]
struct Filters {
    ids: Option<Vec<u64>>,
    numbers: Vec<String>,
    titles: Vec<String>,
    queues: Option<Vec<u64>>,
    states: Option<Vec<u64>>,
    state_types: Option<Vec<String>>,
    priorities: Option<Vec<u64>>,
    locks: Option<Vec<u64>>,
    types: Option<Vec<u64>>,
    owners: Option<Vec<u64>>,
    responsibles: Option<Vec<u64>>,
    customer_users: Vec<String>,
    customer_ids: Vec<String>,
    created: Window,
    changed: Window,
    article_created: Window,
    fields: Vec<FieldFilter>,
}

/// Ids from a list of names (`None` if any is unknown) merged with a list of ids.
fn resolve(
    names: Vec<String>,
    ids: Vec<String>,
    lookup: impl Fn(&str) -> Option<u64>,
) -> Option<Option<Vec<u64>>> {
    if names.is_empty() && ids.is_empty() {
        return Some(None);
    }
    let mut out = Vec::new();
    for n in names {
        out.push(lookup(&n)?);
    }
    out.extend(ids.iter().filter_map(|i| i.trim().parse::<u64>().ok()));
    Some(Some(out))
}

impl Filters {
    /// `None`: the search finds nothing (an unknown name, a bad time).
    fn read(store: &Store, data: &Map<String, Value>, flavour: Flavour, now: i64) -> Option<Self> {
        let l = |k: &str| list(data.get(k));
        let state_id = |n: &str| STATES.iter().find(|s| s.1 == n).map(|s| s.0);
        let mut f = Filters {
            numbers: l("TicketNumber"),
            titles: l("Title"),
            customer_users: l("CustomerUserLogin"),
            customer_ids: l("CustomerID"),
            ..Filters::default()
        };
        let ids = l("TicketID");
        if !ids.is_empty() {
            f.ids = Some(ids.iter().filter_map(|i| i.trim().parse().ok()).collect());
        }
        f.queues = resolve(l("Queues"), l("QueueIDs"), |n| store.queue_id(n))?;
        f.states = resolve(l("States"), l("StateIDs"), state_id)?;
        f.priorities = resolve(l("Priorities"), l("PriorityIDs"), |n| id_in(PRIORITIES, n))?;
        f.locks = resolve(l("Locks"), l("LockIDs"), |n| id_in(LOCKS, n))?;
        f.types = resolve(l("Types"), l("TypeIDs"), |n| id_in(TYPES, n))?;
        f.owners = resolve(Vec::new(), l("OwnerIDs"), |_| None)?;
        f.responsibles = resolve(Vec::new(), l("ResponsibleIDs"), |_| None)?;
        let mut types: Vec<String> = Vec::new();
        for t in l("StateType") {
            let t = STATES
                .iter()
                .find(|s| s.3.eq_ignore_ascii_case(&t))
                .map(|s| s.3.to_string())?;
            types.push(t);
        }
        for id in l("StateTypeIDs") {
            let t = STATES
                .iter()
                .find(|s| s.2.to_string() == id.trim())
                .map(|s| s.3.to_string())?;
            types.push(t);
        }
        if !types.is_empty() {
            f.state_types = Some(types);
        }
        f.created = Window::read(data, "TicketCreateTime", now)?;
        f.changed = Window::read(data, "TicketChangeTime", now)?;
        let last = Window::read(data, "TicketLastChangeTime", now)?;
        f.changed.from = f.changed.from.max(last.from);
        f.changed.to = match (f.changed.to, last.to) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        f.article_created = Window::read(data, "ArticleCreateTime", now)?;
        f.fields = field_filters(store, data, flavour);
        Some(f)
    }

    fn matches(&self, store: &Store, t: &TicketRec) -> bool {
        let within = |set: &Option<Vec<u64>>, v: u64| set.as_ref().is_none_or(|s| s.contains(&v));
        let any_like =
            |pats: &[String], v: &str| pats.is_empty() || pats.iter().any(|p| like(p, v));
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        within(&self.ids, t.id)
            && any_like(&self.numbers, &t.number)
            && any_like(&self.titles, &t.title)
            && within(&self.queues, t.queue_id)
            && within(&self.states, t.state_id)
            && self
                .state_types
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|x| x == Store::state(t.state_id).1))
            && within(&self.priorities, t.priority_id)
            && within(&self.locks, t.lock_id)
            && within(&self.types, t.type_id)
            && within(&self.owners, t.owner_id)
            && within(&self.responsibles, t.responsible_id)
            && any_like(&self.customer_users, &opt(&t.customer_user))
            && any_like(&self.customer_ids, &opt(&t.customer_id))
            && self.created.holds(t.created)
            && self.changed.holds(t.changed)
            && (self.article_created.is_open()
                || store
                    .article_recs(t.id)
                    .iter()
                    .any(|a| self.article_created.holds(a.created)))
            && self
                .fields
                .iter()
                .all(|ff| ff.matches(t.dynamic.get(&ff.name)))
    }
}

/// `DynamicField_<Name>: {ops}`, or (OTOBO, Znuny) `DynamicField: {Name, ops}` or a list of
/// them, which then replaces the `DynamicField_` keys; declared fields only, hashes only.
fn field_filters(store: &Store, data: &Map<String, Value>, flavour: Flavour) -> Vec<FieldFilter> {
    let mut raw: Vec<(String, Value)> = Vec::new();
    let listed = match data.get("DynamicField") {
        Some(v) if flavour != Flavour::Otrs6 && truthy(Some(v)) => Some(v),
        _ => None,
    };
    match listed {
        Some(Value::Object(o)) => {
            if let Some(n) = o.get("Name").and_then(Value::as_str) {
                raw.push((n.to_string(), Value::Object(o.clone())));
            }
        }
        Some(Value::Array(items)) => {
            for i in items {
                if let Some(n) = i.get("Name").and_then(Value::as_str) {
                    raw.push((n.to_string(), i.clone()));
                }
            }
        }
        Some(_) => return Vec::new(),
        None => {
            for (k, v) in data {
                if let Some(n) = k.strip_prefix("DynamicField_") {
                    let valid =
                        !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
                    if valid {
                        raw.push((n.to_string(), v.clone()));
                    }
                }
            }
        }
    }
    raw.into_iter()
        .filter(|(n, _)| store.field(n).is_some())
        .filter_map(|(name, v)| match v {
            Value::Object(mut ops) if !ops.is_empty() => {
                ops.remove("Name");
                Some(FieldFilter { name, ops })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FieldDef, FieldKind, NewTicket};
    use serde_json::json;

    fn desk() -> Store {
        let mut s = Store::new("otai-agent");
        s.declare_field(FieldDef {
            name: "OTAITags".into(),
            kind: FieldKind::Multiselect,
            possible_values: None,
        });
        let t = |title: &str, queue: &str, state: &str, created: i64, tags: Value| NewTicket {
            title: title.into(),
            queue: Some(queue.into()),
            state: Some(state.into()),
            created: Some(created),
            dynamic: if tags.is_null() {
                Default::default()
            } else {
                [("OTAITags".to_string(), tags)].into()
            },
            ..NewTicket::default()
        };
        s.insert_ticket(t("Card lost", "Raw", "new", 100, Value::Null), 0)
            .unwrap();
        s.insert_ticket(
            t("Refund", "Billing", "open", 300, json!(["otai_processed"])),
            0,
        )
        .unwrap();
        s.insert_ticket(
            t(
                "Card stolen",
                "Raw",
                "closed successful",
                200,
                json!(["vip"]),
            ),
            0,
        )
        .unwrap();
        s
    }

    fn run(s: &Store, v: Value) -> Vec<u64> {
        search(s, v.as_object().unwrap(), Flavour::Otobo, 500, 1000)
    }

    #[test]
    fn default_order_is_newest_first_and_limit_cuts() {
        let s = desk();
        assert_eq!(run(&s, json!({})), [2, 3, 1]);
        assert_eq!(
            run(&s, json!({"SortBy": "Age", "OrderBy": "Up", "Limit": "2"})),
            [1, 3]
        );
        assert_eq!(
            run(&s, json!({"SortBy": "Title", "OrderBy": "Up"})),
            [1, 3, 2]
        );
        assert!(run(&s, json!({"SortBy": "Nonsense"})).is_empty());
        assert!(run(&s, json!({"OrderBy": "Sideways"})).is_empty());
    }

    #[test]
    fn filters_and_unknown_names() {
        let s = desk();
        assert_eq!(run(&s, json!({"Queues": ["Raw"], "States": "new"})), [1]);
        assert_eq!(
            run(
                &s,
                json!({"QueueIDs": ["2"], "SortBy": "Age", "OrderBy": "Up"})
            ),
            [1, 3]
        );
        assert!(run(&s, json!({"Queues": ["Nope"]})).is_empty());
        assert_eq!(
            run(&s, json!({"StateType": ["new", "open"], "OrderBy": "Up"})),
            [1, 2]
        );
        assert_eq!(
            run(&s, json!({"StateType": "Open"})),
            [2],
            "the type open only"
        );
        assert_eq!(run(&s, json!({"StateType": "Closed"})), [3]);
        assert_eq!(run(&s, json!({"Title": "card*", "OrderBy": "Up"})), [1, 3]);
        assert_eq!(run(&s, json!({"Title": "refund"})), [2]);
        assert_eq!(
            run(
                &s,
                json!({"TicketCreateTimeNewerDate": "1970-01-01 00:03:00"})
            ),
            [2, 3]
        );
        assert!(run(&s, json!({"TicketCreateTimeNewerDate": "someday"})).is_empty());
    }

    #[test]
    fn dynamic_field_operators() {
        let s = desk();
        assert_eq!(run(&s, json!({"DynamicField_OTAITags": {"Empty": 1}})), [1]);
        assert_eq!(
            run(&s, json!({"DynamicField_OTAITags": {"Empty": 0}})),
            [2, 3]
        );
        assert_eq!(
            run(&s, json!({"DynamicField_OTAITags": {"Equals": "vip"}})),
            [3]
        );
        assert_eq!(
            run(&s, json!({"DynamicField_OTAITags": {"Like": "otai*"}})),
            [2]
        );
        assert_eq!(
            run(
                &s,
                json!({"DynamicField": [{"Name": "OTAITags", "Equals": ["vip", "x"]}]})
            ),
            [3]
        );
        let otrs = search(
            &s,
            json!({"DynamicField": {"Name": "OTAITags", "Equals": "vip"}})
                .as_object()
                .unwrap(),
            Flavour::Otrs6,
            500,
            0,
        );
        assert_eq!(otrs, [2, 3, 1], "OTRS 6 ignores the DynamicField form");
        assert_eq!(
            run(&s, json!({"DynamicField_Unknown": {"Empty": 1}})).len(),
            3
        );
    }
}
