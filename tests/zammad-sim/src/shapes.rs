//! Zammad's JSON shapes: a ticket with association ids (`attributes_with_association_ids`) or
//! with names too (`attributes_with_association_names`, `expand=true`), articles, users, groups,
//! priorities, states, and the `assets` map (`{"Ticket": {"1": {...}}, "User": {...}}`) of the
//! older search answer, `full=true` and `all=true`.

use serde_json::{json, Map, Value};

use crate::{
    stamp::format_ms,
    store::{ArticleRec, Group, Priority, Role, State, Store, TicketRec, User, API_USER_ID},
};

impl Store {
    /// A ticket with ids only (the plain answer), custom attributes as top-level keys.
    pub(crate) fn ticket_json(&self, t: &TicketRec) -> Value {
        let article_ids = self.article_ids(t.id);
        let recs = self.article_recs(t.id);
        let last_customer = recs
            .iter()
            .filter(|a| a.sender_id == 2)
            .map(|a| a.created_at)
            .max();
        let last_agent = recs
            .iter()
            .filter(|a| a.sender_id == 1 && !a.internal && a.type_id != 10)
            .map(|a| a.created_at)
            .max();
        let stamp = |ms: Option<i64>| ms.map_or(Value::Null, |m| format_ms(m).into());
        // Custom attributes are columns: every ticket has each of them, null when unset.
        let mut m = Map::new();
        for k in &self.attribute_names {
            m.insert(k.clone(), Value::Null);
        }
        for (k, v) in &t.attributes {
            m.insert(k.clone(), v.clone());
        }
        let fixed = json!({
            "id": t.id,
            "group_id": t.group_id,
            "priority_id": t.priority_id,
            "state_id": t.state_id,
            "organization_id": null,
            "number": t.number,
            "title": t.title,
            "owner_id": t.owner_id,
            "customer_id": t.customer_id,
            "note": null,
            "first_response_at": null,
            "first_response_escalation_at": null,
            "first_response_in_min": null,
            "first_response_diff_in_min": null,
            "close_at": null,
            "close_escalation_at": null,
            "close_in_min": null,
            "close_diff_in_min": null,
            "update_escalation_at": null,
            "update_in_min": null,
            "update_diff_in_min": null,
            "last_close_at": null,
            "last_contact_at": stamp(last_customer.max(last_agent)),
            "last_contact_agent_at": stamp(last_agent),
            "last_contact_customer_at": stamp(last_customer),
            "last_owner_update_at": null,
            "create_article_type_id": t.create_article_type_id,
            "create_article_sender_id": t.create_article_sender_id,
            "article_count": article_ids.len(),
            "escalation_at": null,
            "pending_time": stamp(t.pending_time),
            "type": null,
            "time_unit": null,
            "preferences": {},
            "updated_by_id": t.updated_by_id,
            "created_by_id": t.created_by_id,
            "created_at": format_ms(t.created_at),
            "updated_at": format_ms(t.updated_at),
            "article_ids": article_ids,
            "ticket_time_accounting_ids": [],
        });
        if let Value::Object(f) = fixed {
            m.extend(f);
        }
        Value::Object(m)
    }

    /// A ticket with names beside the ids (`expand=true`): `group`, `priority` (`2 normal`),
    /// `state`, `owner` (`-` for nobody), `customer`, `created_by`, `updated_by`, ...
    pub(crate) fn ticket_expanded_json(&self, t: &TicketRec) -> Value {
        let mut v = self.ticket_json(t);
        let name = |o: Option<&str>| o.map_or(Value::Null, |s| Value::String(s.to_string()));
        let type_name = t.create_article_type_id.map(|id| {
            crate::store::ARTICLE_TYPES
                .iter()
                .find(|(i, _)| *i == id)
                .map_or("note", |(_, n)| n)
        });
        let sender_name = t.create_article_sender_id.map(|id| {
            crate::store::ARTICLE_SENDERS
                .iter()
                .find(|(i, _)| *i == id)
                .map_or("Agent", |(_, n)| n)
        });
        if let Value::Object(m) = &mut v {
            m.insert(
                "group".into(),
                name(self.group(t.group_id).map(|g| g.name.as_str())),
            );
            m.insert(
                "priority".into(),
                name(self.priority(t.priority_id).map(|p| p.name.as_str())),
            );
            m.insert(
                "state".into(),
                name(self.state(t.state_id).map(|s| s.name.as_str())),
            );
            m.insert("owner".into(), self.user_login(t.owner_id));
            m.insert("customer".into(), self.user_login(t.customer_id));
            m.insert("organization".into(), Value::Null);
            m.insert("created_by".into(), self.user_login(t.created_by_id));
            m.insert("updated_by".into(), self.user_login(t.updated_by_id));
            m.insert("create_article_type".into(), name(type_name));
            m.insert("create_article_sender".into(), name(sender_name));
            m.insert("ticket_time_accounting".into(), json!([]));
            m.insert("referencing_checklists".into(), json!([]));
        }
        v
    }

    /// An article as `GET /ticket_articles/...` answers it (names included).
    pub(crate) fn article_json(&self, a: &ArticleRec) -> Value {
        let view = self.article_view(a);
        json!({
            "id": a.id,
            "ticket_id": a.ticket_id,
            "type_id": a.type_id,
            "sender_id": a.sender_id,
            "from": a.from,
            "to": a.to,
            "cc": a.cc,
            "subject": a.subject,
            "reply_to": null,
            "message_id": null,
            "message_id_md5": null,
            "in_reply_to": null,
            "content_type": a.content_type,
            "references": null,
            "body": a.body,
            "internal": a.internal,
            "preferences": {},
            "updated_by_id": a.created_by_id,
            "created_by_id": a.created_by_id,
            "origin_by_id": null,
            "created_at": view.created_at,
            "updated_at": view.created_at,
            "attachments": [],
            "type": view.kind,
            "sender": view.sender,
            "created_by": self.user_login(a.created_by_id),
            "updated_by": self.user_login(a.created_by_id),
            "time_unit": null,
        })
    }

    /// An article as it sits in `assets` (ids only).
    fn article_asset(&self, a: &ArticleRec) -> Value {
        let mut v = self.article_json(a);
        if let Value::Object(m) = &mut v {
            for k in ["type", "sender", "created_by", "updated_by", "time_unit"] {
                m.remove(k);
            }
        }
        v
    }

    /// A user (`/users/me` and assets).
    pub fn user_json(&self, u: &User) -> Value {
        let (role_ids, group_ids): (Vec<u64>, Value) = match u.role {
            Role::Agent => (
                vec![1, 2],
                Value::Object(
                    self.groups
                        .iter()
                        .map(|g| (g.id.to_string(), json!(["full"])))
                        .collect(),
                ),
            ),
            Role::Customer => (vec![3], json!({})),
            Role::Nobody => (vec![], json!({})),
        };
        let stamp = format_ms(self.created_at);
        json!({
            "id": u.id,
            "organization_id": null,
            "login": u.login,
            "firstname": u.firstname,
            "lastname": u.lastname,
            "email": u.email,
            "image": null,
            "image_source": null,
            "web": "",
            "phone": "",
            "fax": "",
            "mobile": "",
            "department": null,
            "street": "",
            "zip": "",
            "city": "",
            "country": "",
            "address": null,
            "vip": false,
            "verified": false,
            "active": u.active,
            "note": "",
            "last_login": if u.id == API_USER_ID { Value::String(stamp.clone()) } else { Value::Null },
            "source": null,
            "login_failed": 0,
            "out_of_office": false,
            "out_of_office_start_at": null,
            "out_of_office_end_at": null,
            "out_of_office_replacement_id": null,
            "preferences": {"locale": "en-us"},
            "updated_by_id": 1,
            "created_by_id": 1,
            "created_at": stamp,
            "updated_at": stamp,
            "role_ids": role_ids,
            "two_factor_preference_ids": [],
            "organization_ids": [],
            "authorization_ids": [],
            "overview_sorting_ids": [],
            "group_ids": group_ids,
        })
    }

    /// A group (`GET /groups`).
    pub fn group_json(&self, g: &Group) -> Value {
        let stamp = format_ms(self.created_at);
        let members: Vec<u64> = self
            .users
            .iter()
            .filter(|u| u.role == Role::Agent)
            .map(|u| u.id)
            .collect();
        json!({
            "id": g.id,
            "signature_id": if g.id == 1 { json!(1) } else { Value::Null },
            "email_address_id": null,
            "name": g.name,
            "name_last": g.name.rsplit("::").next().unwrap_or(&g.name),
            "parent_id": null,
            "assignment_timeout": null,
            "follow_up_possible": "yes",
            "reopen_time_in_days": null,
            "follow_up_assignment": true,
            "active": g.active,
            "shared_drafts": true,
            "note": if g.id == 1 { json!("Standard Group/Pool for Tickets.") } else { Value::Null },
            "updated_by_id": 1,
            "created_by_id": 1,
            "created_at": stamp,
            "updated_at": stamp,
            "user_ids": members,
        })
    }

    /// A priority (`GET /ticket_priorities`).
    pub fn priority_json(&self, p: &Priority) -> Value {
        let stamp = format_ms(self.created_at);
        let (icon, color) = match p.id {
            1 => (json!("low-priority"), json!("low-priority")),
            3 => (json!("important"), json!("high-priority")),
            _ => (Value::Null, Value::Null),
        };
        json!({
            "id": p.id,
            "name": p.name,
            "default_create": p.default_create,
            "ui_icon": icon,
            "ui_color": color,
            "note": null,
            "active": p.active,
            "updated_by_id": 1,
            "created_by_id": 1,
            "created_at": stamp,
            "updated_at": stamp,
        })
    }

    /// A state (`GET /ticket_states`).
    pub fn state_json(&self, s: &State) -> Value {
        let stamp = format_ms(self.created_at);
        json!({
            "id": s.id,
            "state_type_id": s.state_type_id,
            "name": s.name,
            "next_state_id": s.next_state_id,
            "ignore_escalation": s.ignore_escalation,
            "default_create": s.default_create,
            "default_follow_up": s.default_follow_up,
            "note": null,
            "active": s.active,
            "updated_by_id": 1,
            "created_by_id": 1,
            "created_at": stamp,
            "updated_at": stamp,
        })
    }

    /// Adds a ticket and what it references (group, owner, customer, creator) to `assets`, as
    /// Zammad's `ticket.assets(assets)` does.
    pub(crate) fn add_ticket_assets(&self, assets: &mut Map<String, Value>, t: &TicketRec) {
        insert_asset(assets, "Ticket", t.id, self.ticket_json(t));
        if let Some(g) = self.group(t.group_id) {
            insert_asset(assets, "Group", g.id, self.group_json(g));
        }
        for uid in [t.owner_id, t.customer_id, t.created_by_id, t.updated_by_id] {
            if let Some(u) = self.user(uid) {
                insert_asset(assets, "User", u.id, self.user_json(u));
            }
        }
    }

    /// The `assets` of a list of tickets.
    pub(crate) fn tickets_assets(&self, tickets: &[TicketRec]) -> Map<String, Value> {
        let mut assets = Map::new();
        for t in tickets {
            self.add_ticket_assets(&mut assets, t);
        }
        assets
    }

    /// `GET /tickets/{id}?all=true`: ticket, articles, assets, tags in one answer (the 2025
    /// `Ticket::AssetsAll` shape).
    pub(crate) fn ticket_all_json(&self, t: &TicketRec) -> Value {
        let mut assets = Map::new();
        self.add_ticket_assets(&mut assets, t);
        let articles = self.article_recs(t.id);
        for a in &articles {
            insert_asset(&mut assets, "TicketArticle", a.id, self.article_asset(a));
            if let Some(u) = self.user(a.created_by_id) {
                insert_asset(&mut assets, "User", u.id, self.user_json(u));
            }
        }
        json!({
            "ticket_id": t.id,
            "ticket_article_ids": articles.iter().map(|a| a.id).collect::<Vec<_>>(),
            "assets": assets,
            "links": [],
            "tags": self.tags(t.id),
            "mentions": [],
            "time_accountings": [],
            "form_meta": {"filter": {}, "dependencies": {}},
        })
    }

    /// `GET /tickets/{id}?full=true` (`Ticket.full`): `{"id": 1, "assets": {...}}`.
    pub(crate) fn ticket_full_json(&self, t: &TicketRec) -> Value {
        let mut assets = Map::new();
        self.add_ticket_assets(&mut assets, t);
        json!({"id": t.id, "assets": assets})
    }
}

/// `assets[model][id] = value` (ids as string keys, as Zammad's JSON has them).
pub(crate) fn insert_asset(assets: &mut Map<String, Value>, model: &str, id: u64, value: Value) {
    let entry = assets
        .entry(model.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        m.entry(id.to_string()).or_insert(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        stamp::Now,
        store::{NewArticle, NewTicket, DEFAULT_AGENT_LOGIN},
    };

    fn one() -> (Store, u64) {
        let mut s = Store::new(DEFAULT_AGENT_LOGIN, Now::at(0));
        let mut attributes = Map::new();
        attributes.insert("otai_queue".into(), Value::Null);
        let id = s
            .insert_ticket(
                NewTicket {
                    title: "Card lost".into(),
                    customer: Some("c@example.com".into()),
                    attributes,
                    articles: vec![NewArticle {
                        body: "lost".into(),
                        ..NewArticle::default()
                    }],
                    ..NewTicket::default()
                },
                Now::at(1_500),
            )
            .unwrap();
        (s, id)
    }

    #[test]
    fn plain_tickets_carry_ids_and_expanded_ones_names() {
        let (s, id) = one();
        let t = &s.tickets[&id];
        let plain = s.ticket_json(t);
        assert_eq!(plain["group_id"], 1);
        assert_eq!(plain["article_ids"], json!([1]));
        assert_eq!(plain["article_count"], 1);
        assert_eq!(plain["created_at"], "1970-01-01T00:00:01.500Z");
        assert!(plain.get("group").is_none());
        assert!(plain.as_object().unwrap().contains_key("otai_queue"));
        let x = s.ticket_expanded_json(t);
        assert_eq!(x["group"], "Users");
        assert_eq!(x["priority"], "2 normal");
        assert_eq!(x["state"], "new");
        assert_eq!(x["owner"], "-");
        assert_eq!(x["customer"], "c@example.com");
        assert_eq!(x["create_article_type"], "web");
        assert_eq!(x["create_article_sender"], "Customer");
    }

    #[test]
    fn assets_are_keyed_by_model_and_string_id() {
        let (s, id) = one();
        let all = s.ticket_all_json(&s.tickets[&id]);
        assert_eq!(all["ticket_id"], id);
        assert_eq!(all["ticket_article_ids"], json!([1]));
        assert_eq!(
            all["assets"]["Ticket"][id.to_string()]["title"],
            "Card lost"
        );
        assert_eq!(all["assets"]["TicketArticle"]["1"]["body"], "lost");
        assert_eq!(all["assets"]["Group"]["1"]["name"], "Users");
        assert!(all["assets"]["User"]["1"].is_object());
    }

    #[test]
    fn reference_lists_look_like_zammads() {
        let s = Store::new(DEFAULT_AGENT_LOGIN, Now::at(0));
        let p = s.priority_json(s.priority(3).unwrap());
        assert_eq!(
            (p["name"].as_str(), p["ui_color"].as_str()),
            (Some("3 high"), Some("high-priority"))
        );
        let st = s.state_json(s.state(7).unwrap());
        assert_eq!(st["next_state_id"], 4);
        let me = s.user_json(s.user(API_USER_ID).unwrap());
        assert_eq!(me["login"], DEFAULT_AGENT_LOGIN);
        assert_eq!(me["group_ids"]["1"], json!(["full"]));
    }
}
