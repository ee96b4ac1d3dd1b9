//! Ticket properties as `PUT /tickets/{id}` and `bulk_update` take them: every field checked
//! first ([`Changes::validate`], all errors reported together, as Freshdesk lists them), then
//! applied at once ([`Changes::apply`]): a 400 changes nothing. `tags` replaces the whole list
//! (the docs do not say; (unverified)); `custom_fields` merge into the ticket's.

use serde_json::{json, Map, Value};

use crate::{error::FieldError, store::Store, store::Ticket};

/// The keys `PUT /tickets/{id}` accepts (others: 400 `invalid_field`).
pub const UPDATE_KEYS: &[&str] = &[
    "subject",
    "description",
    "status",
    "priority",
    "source",
    "type",
    "group_id",
    "responder_id",
    "requester_id",
    "company_id",
    "tags",
    "custom_fields",
    "due_by",
    "fr_due_by",
];

/// The keys of a bulk_update's `properties`.
pub const BULK_KEYS: &[&str] = &[
    "status",
    "priority",
    "source",
    "type",
    "group_id",
    "responder_id",
    "requester_id",
    "tags",
    "custom_fields",
    "due_by",
    "fr_due_by",
];

/// Validated properties; `None`: not sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    subject: Option<String>,
    description: Option<String>,
    status: Option<u8>,
    priority: Option<u8>,
    source: Option<u8>,
    type_: Option<Option<String>>,
    group_id: Option<Option<u64>>,
    responder_id: Option<Option<u64>>,
    requester_id: Option<u64>,
    company_id: Option<Option<u64>>,
    tags: Option<Vec<String>>,
    custom_fields: Option<Map<String, Value>>,
    due_by: Option<i64>,
    fr_due_by: Option<i64>,
    /// What was sent, for the write log.
    pub sent: Value,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "Integer",
        Value::Number(_) => "Float",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "key/value pair",
    }
}

fn mismatch(field: &str, v: &Value, want: &str) -> FieldError {
    FieldError::new(
        field,
        format!(
            "Value set is of type {}.It should be a/an {want}",
            type_name(v)
        ),
        "datatype_mismatch",
    )
}

fn one_of(field: &str, values: &str) -> FieldError {
    FieldError::new(
        field,
        format!("It should be one of these values: '{values}'"),
        "invalid_value",
    )
}

fn int(field: &str, v: &Value, errors: &mut Vec<FieldError>) -> Option<u64> {
    match v.as_u64() {
        Some(n) => Some(n),
        None => {
            errors.push(mismatch(field, v, "Integer"));
            None
        }
    }
}

/// An integer that must be one of `allowed` (a status, priority or source code).
fn code(field: &str, v: &Value, allowed: &[u64], errors: &mut Vec<FieldError>) -> Option<u8> {
    let n = int(field, v, errors)?;
    if allowed.contains(&n) {
        return Some(n as u8);
    }
    let listed: Vec<String> = allowed.iter().map(u64::to_string).collect();
    errors.push(one_of(field, &listed.join(",")));
    None
}

fn nullable_int(field: &str, v: &Value, errors: &mut Vec<FieldError>) -> Option<Option<u64>> {
    if v.is_null() {
        return Some(None);
    }
    int(field, v, errors).map(Some)
}

fn string(field: &str, v: &Value, errors: &mut Vec<FieldError>) -> Option<String> {
    match v.as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            errors.push(mismatch(field, v, "String"));
            None
        }
    }
}

impl Changes {
    /// Checks `body` (an object with `allowed` keys) against the help desk; every error found.
    pub fn validate(
        store: &Store,
        body: &Map<String, Value>,
        allowed: &[&str],
    ) -> Result<Changes, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut c = Changes {
            sent: Value::Object(body.clone()),
            ..Changes::default()
        };
        for (k, v) in body {
            if !allowed.contains(&k.as_str()) {
                errors.push(FieldError::new(
                    k,
                    "Unexpected/invalid field in request",
                    "invalid_field",
                ));
                continue;
            }
            let e = &mut errors;
            match k.as_str() {
                "subject" => c.subject = string(k, v, e),
                "description" => c.description = string(k, v, e),
                "status" => c.status = code(k, v, &[2, 3, 4, 5], e),
                "priority" => c.priority = code(k, v, &[1, 2, 3, 4], e),
                "source" => c.source = code(k, v, &[1, 2, 3, 7, 8, 9, 10], e),
                "type" => {
                    c.type_ = match v {
                        Value::Null => Some(None),
                        Value::String(s) if store.types.contains(s) => Some(Some(s.clone())),
                        Value::String(_) => {
                            e.push(one_of(k, &store.types.join(",")));
                            None
                        }
                        other => {
                            e.push(mismatch(k, other, "String"));
                            None
                        }
                    }
                }
                "group_id" => {
                    c.group_id = nullable_int(k, v, e).and_then(|g| match g {
                        Some(id) if store.group(id).is_none() => {
                            e.push(FieldError::new(
                                k,
                                "There is no group matching the given group_id",
                                "invalid_value",
                            ));
                            None
                        }
                        g => Some(g),
                    })
                }
                "responder_id" => {
                    c.responder_id = nullable_int(k, v, e).and_then(|a| match a {
                        Some(id) if !store.agents.contains_key(&id) => {
                            e.push(FieldError::new(
                                k,
                                "There is no agent matching the given responder_id",
                                "invalid_value",
                            ));
                            None
                        }
                        a => Some(a),
                    })
                }
                "requester_id" => {
                    c.requester_id = int(k, v, e).and_then(|r| {
                        let ok = store.person(r).is_some();
                        if !ok {
                            e.push(FieldError::new(
                                k,
                                "There is no contact matching the given requester_id",
                                "invalid_value",
                            ));
                        }
                        ok.then_some(r)
                    })
                }
                "company_id" => c.company_id = nullable_int(k, v, e),
                "tags" => {
                    c.tags = match v.as_array() {
                        Some(list) if list.iter().all(Value::is_string) => Some(
                            list.iter()
                                .filter_map(|t| t.as_str().map(str::to_string))
                                .collect(),
                        ),
                        _ => {
                            e.push(mismatch(k, v, "Array"));
                            None
                        }
                    }
                }
                "custom_fields" => {
                    c.custom_fields = match v.as_object() {
                        Some(fields) => {
                            let mut ok = true;
                            for name in fields.keys() {
                                if !store.custom_fields.contains(name) {
                                    ok = false;
                                    e.push(FieldError::new(
                                        name,
                                        "Unexpected/invalid field in request",
                                        "invalid_field",
                                    ));
                                }
                            }
                            ok.then(|| fields.clone())
                        }
                        None => {
                            e.push(mismatch(k, v, "key/value pair"));
                            None
                        }
                    }
                }
                "due_by" | "fr_due_by" => {
                    let t = v.as_str().and_then(crate::stamp::parse_secs);
                    if t.is_none() {
                        e.push(FieldError::new(
                            k,
                            "It should be in the 'valid date time' format",
                            "invalid_value",
                        ));
                    }
                    if k == "due_by" {
                        c.due_by = t;
                    } else {
                        c.fr_due_by = t;
                    }
                }
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(c)
        } else {
            Err(errors)
        }
    }

    /// Whether nothing would change a ticket's fields.
    pub fn is_empty(&self) -> bool {
        self.sent.as_object().is_none_or(Map::is_empty)
    }

    /// Applies the changes to `t` (the caller stamps it).
    pub fn apply(&self, t: &mut Ticket) {
        if let Some(s) = &self.subject {
            t.subject = s.clone();
        }
        if let Some(d) = &self.description {
            t.description = crate::store::to_html(d);
            t.description_text = crate::store::strip_html(&t.description);
        }
        if let Some(s) = self.status {
            t.status = s;
        }
        if let Some(p) = self.priority {
            t.priority = p;
        }
        if let Some(s) = self.source {
            t.source = s;
        }
        if let Some(ty) = &self.type_ {
            t.type_ = ty.clone();
        }
        if let Some(g) = self.group_id {
            t.group_id = g;
        }
        if let Some(a) = self.responder_id {
            t.responder_id = a;
        }
        if let Some(r) = self.requester_id {
            t.requester_id = Some(r);
        }
        if let Some(c) = self.company_id {
            t.company_id = c;
        }
        if let Some(tags) = &self.tags {
            t.tags = tags.clone();
        }
        if let Some(fields) = &self.custom_fields {
            for (k, v) in fields {
                t.custom_fields.insert(k.clone(), v.clone());
            }
        }
        if let Some(d) = self.due_by {
            t.due_by = crate::stamp::format_secs(d);
        }
        if let Some(d) = self.fr_due_by {
            t.fr_due_by = crate::stamp::format_secs(d);
        }
    }
}

/// The write log's record of a reply added by a bulk job.
pub fn reply_record(body: &str) -> Value {
    json!({ "reply": body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewTicket;

    fn store() -> (Store, u64) {
        let mut s = Store::new();
        s.ensure_group("Cards");
        s.declare_field("cf_category");
        let id = s
            .insert_ticket(
                NewTicket {
                    subject: "x".into(),
                    status: 2,
                    priority: 1,
                    tags: vec!["a".into()],
                    ..NewTicket::default()
                },
                0,
                0,
            )
            .unwrap();
        (s, id)
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_error_is_reported_with_field_and_code() {
        let (s, _) = store();
        let errs = Changes::validate(
            &s,
            &obj(
                json!({"group_id": 9, "priority": "high", "status": 9, "colour": 1,
                         "custom_fields": {"cf_nope": 1}}),
            ),
            UPDATE_KEYS,
        )
        .unwrap_err();
        let got: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert!(got.contains(&("group_id", "invalid_value")), "{got:?}");
        assert!(got.contains(&("priority", "datatype_mismatch")));
        assert!(got.contains(&("status", "invalid_value")));
        assert!(got.contains(&("colour", "invalid_field")));
        assert!(got.contains(&("cf_nope", "invalid_field")));
    }

    #[test]
    fn tags_replace_and_custom_fields_merge() {
        let (mut s, id) = store();
        let c = Changes::validate(
            &s,
            &obj(
                json!({"tags": ["b"], "custom_fields": {"cf_category": "cards"},
                         "group_id": 2001, "responder_id": 1001, "type": "Question"}),
            ),
            UPDATE_KEYS,
        )
        .unwrap();
        let t = s.tickets.get_mut(&id).unwrap();
        c.apply(t);
        assert_eq!(t.tags, ["b"]);
        assert_eq!(t.custom_fields["cf_category"], "cards");
        assert_eq!(t.group_id, Some(2001));
        assert_eq!(t.type_.as_deref(), Some("Question"));
        assert!(Changes::validate(&s, &obj(json!({"subject": "x"})), BULK_KEYS).is_err());
    }
}
