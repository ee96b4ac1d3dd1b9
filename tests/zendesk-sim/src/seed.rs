//! Seed data: tickets, groups and ticket fields from a JSON or JSONL file (or built in code).
//!
//! Accepted files:
//! - JSON array of tickets;
//! - JSON object `{"groups": [...], "tickets": [...], "ticket_fields": [...]}` (all optional);
//! - JSONL: one ticket object per line (blank lines and lines starting with `#` skipped).
//!
//! A ticket: `id` (required, u64, may exceed 2^32), `subject` (may be missing → `null`),
//! `description` (or `body`), `status` (any string, default `new`; `deleted` seeds a deleted
//! ticket), `priority`, `type`, `group` (a name) or `group_id`, `tags` (list or space-separated
//! string), `requester` (e-mail or id) or `requester_id`, `assignee_id`, `external_id`,
//! `custom_fields` (`[{"id", "value"}]`), `via` (channel), `created_at` / `updated_at`
//! (RFC 3339 or `YYYY-MM-DD`; default: now).
//!
//! A group: a name string, or `{"id"?, "name", "deleted"?}`. Names used by tickets but not
//! listed become groups. Generated ids start at 360000000001.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::{
    error::SimError,
    store::{id_of, normalize_tags, now, parse_time, Group, Store, Ticket, User},
};

/// First generated group id.
const FIRST_GROUP_ID: u64 = 360_000_000_001;
/// First generated requester id.
const FIRST_USER_ID: u64 = 377_900_000_001;

/// Parsed seed data, ready to load into a [`Store`].
#[derive(Debug, Clone, Default)]
pub struct SeedData {
    /// Ticket objects as given.
    pub tickets: Vec<Value>,
    /// Group specs as given (names or objects).
    pub groups: Vec<Value>,
    /// Ticket fields (Zendesk JSON); empty = the default set.
    pub ticket_fields: Vec<Value>,
}

impl SeedData {
    /// Reads a seed file (JSON or JSONL, see the module docs).
    pub fn from_file(path: &std::path::Path) -> Result<SeedData, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::SeedIo {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            SimError::Seed { where_, message } => SimError::Seed {
                where_: format!(" in {}{where_}", path.display()),
                message,
            },
            e => e,
        })
    }

    /// Parses seed text (JSON or JSONL).
    pub fn parse(text: &str) -> Result<SeedData, SimError> {
        let err = |where_: String, message: String| SimError::Seed { where_, message };
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            return match v {
                Value::Array(tickets) => Ok(SeedData {
                    tickets,
                    ..Default::default()
                }),
                // A one-line JSONL file is a single ticket object.
                Value::Object(o)
                    if !["tickets", "groups", "ticket_fields"]
                        .iter()
                        .any(|k| o.contains_key(*k)) =>
                {
                    Ok(SeedData {
                        tickets: vec![Value::Object(o)],
                        ..Default::default()
                    })
                }
                Value::Object(mut o) => {
                    let mut list = |k: &str| match o.remove(k) {
                        Some(Value::Array(a)) => Ok(a),
                        None | Some(Value::Null) => Ok(Vec::new()),
                        Some(_) => Err(err(String::new(), format!("`{k}` must be a list"))),
                    };
                    Ok(SeedData {
                        tickets: list("tickets")?,
                        groups: list("groups")?,
                        ticket_fields: list("ticket_fields")?,
                    })
                }
                _ => Err(err(
                    String::new(),
                    "expected a list of tickets or an object".into(),
                )),
            };
        }
        let mut tickets = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let v: Value = serde_json::from_str(line)
                .map_err(|e| err(format!(" (line {})", n + 1), e.to_string()))?;
            tickets.push(v);
        }
        Ok(SeedData {
            tickets,
            ..Default::default()
        })
    }

    /// Adds groups by name.
    pub fn with_groups<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.groups
            .extend(names.iter().map(|n| Value::String(n.as_ref().to_string())));
        self
    }

    /// Loads the data into an empty store with `api_user` as the first user.
    pub fn load(&self, store: &mut Store, api_user: &User) -> Result<(), SimError> {
        store.users.push(api_user.clone());
        let mut next_group = FIRST_GROUP_ID;
        for g in &self.groups {
            let (id, name, deleted) = match g {
                Value::String(name) => (None, name.clone(), false),
                Value::Object(o) => (
                    o.get("id").and_then(id_of),
                    o.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    o.get("deleted").and_then(Value::as_bool).unwrap_or(false),
                ),
                _ => continue,
            };
            if name.is_empty() || store.groups.iter().any(|x| x.name == name) {
                continue;
            }
            let id = id.unwrap_or_else(|| {
                while store.groups.iter().any(|x| x.id == next_group) {
                    next_group += 1;
                }
                next_group
            });
            store.groups.push(Group { id, name, deleted });
        }
        store.ticket_fields = if self.ticket_fields.is_empty() {
            default_ticket_fields(&store.base_url)
        } else {
            self.ticket_fields.clone()
        };

        self.load_tickets(store, api_user.id)
    }

    /// Adds the tickets (and the groups and requesters they name) to a store, loaded or running;
    /// tickets without a requester belong to `api_user_id`.
    pub fn load_tickets(&self, store: &mut Store, api_user_id: u64) -> Result<(), SimError> {
        let err = |i: usize, message: String| SimError::Seed {
            where_: format!(" (ticket #{})", i + 1),
            message,
        };
        let mut next_group = FIRST_GROUP_ID;
        let mut next_user = store
            .users
            .iter()
            .map(|u| u.id + 1)
            .max()
            .unwrap_or(FIRST_USER_ID)
            .max(FIRST_USER_ID);
        let mut users_by_email: BTreeMap<String, u64> = store
            .users
            .iter()
            .filter(|u| u.id != api_user_id)
            .map(|u| (u.email.clone(), u.id))
            .collect();
        let now = now();
        for (i, raw) in self.tickets.iter().enumerate() {
            let o = raw
                .as_object()
                .ok_or_else(|| err(i, "a ticket must be an object".into()))?;
            let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
            let id = o
                .get("id")
                .and_then(id_of)
                .filter(|id| *id > 0)
                .ok_or_else(|| err(i, "`id` must be a positive integer".into()))?;
            let group_id = match (o.get("group_id").and_then(id_of), s("group")) {
                (Some(gid), _) => {
                    if !store.groups.iter().any(|g| g.id == gid) {
                        store.groups.push(Group {
                            id: gid,
                            name: format!("Group {gid}"),
                            deleted: false,
                        });
                    }
                    Some(gid)
                }
                (None, Some(name)) => Some(match store.group_by_name(&name) {
                    Some(g) => g.id,
                    None => {
                        while store.groups.iter().any(|x| x.id == next_group) {
                            next_group += 1;
                        }
                        store.groups.push(Group {
                            id: next_group,
                            name,
                            deleted: false,
                        });
                        next_group
                    }
                }),
                (None, None) => None,
            };
            let requester_id = match (o.get("requester_id").and_then(id_of), o.get("requester")) {
                (Some(rid), _) => rid,
                (None, Some(Value::Number(n))) => n.as_u64().unwrap_or(api_user_id),
                (None, Some(Value::String(email))) => {
                    *users_by_email.entry(email.clone()).or_insert_with(|| {
                        let uid = next_user;
                        next_user += 1;
                        store.users.push(User {
                            id: uid,
                            name: email.split('@').next().unwrap_or(email).to_string(),
                            email: email.clone(),
                            role: "end-user".into(),
                        });
                        uid
                    })
                }
                _ => api_user_id,
            };
            let tags = match o.get("tags") {
                Some(Value::Array(a)) => normalize_tags(a.iter().filter_map(Value::as_str)),
                Some(Value::String(s)) => normalize_tags([s.as_str()]),
                _ => Vec::new(),
            };
            let time = |k: &str| -> Result<Option<i64>, SimError> {
                match s(k) {
                    None => Ok(None),
                    Some(v) => parse_time(&v)
                        .map(Some)
                        .ok_or_else(|| err(i, format!("`{k}` is not a time: {v}"))),
                }
            };
            let created_at = time("created_at")?.unwrap_or(now);
            let updated_at = time("updated_at")?.unwrap_or(created_at).max(created_at);
            let status = s("status").unwrap_or_else(|| "new".into());
            let custom_fields = match o.get("custom_fields") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|f| {
                        Some((
                            f.get("id").and_then(id_of)?,
                            f.get("value").cloned().unwrap_or(Value::Null),
                        ))
                    })
                    .collect(),
                _ => BTreeMap::new(),
            };
            store.insert_ticket(Ticket {
                id,
                subject: s("subject"),
                description: s("description").or_else(|| s("body")).unwrap_or_default(),
                deleted: status == "deleted",
                status,
                priority: s("priority"),
                ticket_type: s("type"),
                group_id,
                assignee_id: o.get("assignee_id").and_then(id_of),
                requester_id,
                organization_id: o.get("organization_id").and_then(id_of),
                external_id: s("external_id"),
                tags,
                custom_fields,
                created_at,
                updated_at,
                generated_timestamp: updated_at,
                revision: 0,
                via_channel: s("via").unwrap_or_else(|| "web".into()),
            });
        }
        Ok(())
    }
}

/// System fields plus one drop-down (`Category`) and one text field.
pub fn default_ticket_fields(base: &str) -> Vec<Value> {
    let field = |id: u64, ty: &str, title: &str, pos: u32, removable: bool| {
        json!({
            "url": format!("{base}/api/v2/ticket_fields/{id}.json"),
            "id": id,
            "type": ty,
            "title": title,
            "raw_title": title,
            "description": "",
            "raw_description": "",
            "position": pos,
            "active": true,
            "required": false,
            "collapsed_for_agents": false,
            "regexp_for_validation": null,
            "title_in_portal": title,
            "raw_title_in_portal": title,
            "visible_in_portal": false,
            "editable_in_portal": false,
            "required_in_portal": false,
            "tag": null,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "removable": removable,
            "agent_description": null
        })
    };
    let mut fields = vec![
        field(360_000_000_101, "subject", "Subject", 1, false),
        field(360_000_000_102, "description", "Description", 2, false),
        field(360_000_000_103, "status", "Status", 3, false),
        field(360_000_000_104, "tickettype", "Type", 4, false),
        field(360_000_000_105, "priority", "Priority", 5, false),
        field(360_000_000_106, "group", "Group", 6, false),
        field(360_000_000_107, "assignee", "Assignee", 7, false),
        field(360_000_000_201, "tagger", "Category", 8, true),
        field(360_000_000_202, "text", "AI note", 9, true),
    ];
    fields[7]["custom_field_options"] = json!([
        {"id": 360_000_000_301u64, "name": "Billing", "raw_name": "Billing", "value": "category_billing", "position": 0, "default": false},
        {"id": 360_000_000_302u64, "name": "Technical", "raw_name": "Technical", "value": "category_technical", "position": 1, "default": false},
        {"id": 360_000_000_303u64, "name": "Other", "raw_name": "Other", "value": "category_other", "position": 2, "default": false}
    ]);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_with_big_ids_names_and_missing_subject() {
        let text = "{\"id\": 9007199254740993, \"group\": \"Billing\", \"status\": \"weird\", \"tags\": \"A b\"}\n\n# c\n{\"id\": 2, \"subject\": \"s\", \"requester\": \"x@y.z\", \"group\": \"billing\"}\n";
        let seed = SeedData::parse(text).unwrap();
        let mut store = Store::new("http://x");
        let user = User {
            id: 1,
            name: "a".into(),
            email: "a@b".into(),
            role: "admin".into(),
        };
        seed.load(&mut store, &user).unwrap();
        let t = store.ticket(9_007_199_254_740_993).unwrap();
        assert_eq!(t.subject, None);
        assert_eq!(t.status, "weird");
        assert_eq!(t.tags, vec!["a", "b"]);
        assert_eq!(store.groups().len(), 1, "names match case-insensitively");
        assert_eq!(store.ticket(2).unwrap().group_id, t.group_id);
        assert_ne!(store.ticket(2).unwrap().requester_id, 1);
    }

    #[test]
    fn a_single_line_jsonl_is_one_ticket() {
        let seed = SeedData::parse("{\"id\": 7, \"status\": \"open\"}\n").unwrap();
        assert_eq!(seed.tickets.len(), 1);
        let seed = SeedData::parse("{\"groups\": [\"A\"]}").unwrap();
        assert_eq!((seed.tickets.len(), seed.groups.len()), (0, 1));
    }

    #[test]
    fn a_ticket_without_id_names_its_position() {
        let e = SeedData::parse("[{\"subject\": \"x\"}]")
            .unwrap()
            .load(
                &mut Store::new("x"),
                &User {
                    id: 1,
                    name: "a".into(),
                    email: "a".into(),
                    role: "admin".into(),
                },
            )
            .unwrap_err();
        assert!(e.to_string().contains("ticket #1"), "{e}");
    }
}
