//! TicketGet's JSON: the keys of `Kernel::System::Ticket::TicketGet` and of an article's
//! `ArticleGet`, typed as OTOBO's JSON::XS encodes them: values read from the database are
//! strings (`"TicketID": "7"`, `"QueueID": "2"`), computed ones numbers (`Age`, `UntilTime`,
//! `TimeUnit`); `ServiceID`/`SLAID` are `""` when unset.

use serde_json::{json, Map, Value};

use crate::{
    stamp::format_time,
    store::{name_in, ArticleRec, Store, TicketRec, ARTICLE_TYPES, LOCKS, PRIORITIES, TYPES},
};

/// Which article model the instance has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleModel {
    /// OTRS 6, Znuny, OTOBO: `CommunicationChannel(ID)` + `IsVisibleForCustomer`.
    #[default]
    CommunicationChannel,
    /// OTRS ≤ 5: `ArticleType(ID)` (`note-internal`, `email-external`, ...).
    ArticleType,
}

fn s(v: impl ToString) -> Value {
    Value::String(v.to_string())
}

/// A ticket of a TicketGet answer, without articles; `DynamicField` (every ticket dynamic
/// field, by name, `Value` null when unset) when `dynamic_fields`.
pub fn ticket_json(store: &Store, t: &TicketRec, dynamic_fields: bool, now: i64) -> Value {
    let (state, state_type) = Store::state(t.state_id);
    let mut o = json!({
        "TicketID": s(t.id),
        "TicketNumber": t.number,
        "Title": t.title,
        "QueueID": s(t.queue_id),
        "Queue": store.queue_name(t.queue_id),
        "StateID": s(t.state_id),
        "State": state,
        "StateType": state_type,
        "PriorityID": s(t.priority_id),
        "Priority": name_in(PRIORITIES, t.priority_id).unwrap_or(""),
        "LockID": s(t.lock_id),
        "Lock": name_in(LOCKS, t.lock_id).unwrap_or(""),
        "TypeID": s(t.type_id),
        "Type": name_in(TYPES, t.type_id).unwrap_or(""),
        "OwnerID": s(t.owner_id),
        "Owner": store.user_login(t.owner_id),
        "ResponsibleID": s(t.responsible_id),
        "Responsible": store.user_login(t.responsible_id),
        "CustomerID": t.customer_id,
        "CustomerUserID": t.customer_user,
        "GroupID": "1",
        "ServiceID": "",
        "SLAID": "",
        "ArchiveFlag": "n",
        "Created": format_time(t.created),
        "CreateBy": s(t.create_by),
        "Changed": format_time(t.changed),
        "ChangeBy": s(t.change_by),
        "Age": (now - t.created).max(0),
        "UntilTime": (t.pending_until - now).max(0),
        "RealTillTimeNotUsed": s(t.pending_until),
        "UnlockTimeout": "0",
        "EscalationResponseTime": "0",
        "EscalationUpdateTime": "0",
        "EscalationSolutionTime": "0",
        "EscalationTime": "0",
        "TimeUnit": 0,
    });
    if dynamic_fields && !store.fields.is_empty() {
        let mut names: Vec<&str> = store.fields.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        let list: Vec<Value> = names
            .into_iter()
            .map(|n| json!({"Name": n, "Value": t.dynamic.get(n).cloned().unwrap_or(Value::Null)}))
            .collect();
        o["DynamicField"] = Value::Array(list);
    }
    o
}

/// An article of a TicketGet answer.
pub fn article_json(a: &ArticleRec, model: ArticleModel) -> Value {
    let mut o = json!({
        "ArticleID": s(a.id),
        "TicketID": s(a.ticket_id),
        "ArticleNumber": s(a.number),
        "SenderTypeID": s(a.sender_type_id()),
        "SenderType": a.content.sender_type,
        "From": a.content.from,
        "ReplyTo": "",
        "To": a.content.to,
        "Cc": "",
        "Bcc": "",
        "Subject": a.content.subject,
        "MessageID": "",
        "InReplyTo": "",
        "References": "",
        "ContentType": a.content_type(),
        "MimeType": a.content.mime_type,
        "Charset": a.content.charset,
        "ContentCharset": a.content.charset,
        "Body": a.content.body,
        "CreateBy": s(a.create_by),
        "CreateTime": format_time(a.created),
        "ChangeBy": s(a.create_by),
        "ChangeTime": format_time(a.created),
        "IncomingTime": s(a.created),
        "TimeUnit": 0,
    });
    let extra: Map<String, Value> = match model {
        ArticleModel::CommunicationChannel => [
            ("CommunicationChannelID".to_string(), s(a.channel_id())),
            (
                "IsVisibleForCustomer".to_string(),
                s(if a.content.visible { 1 } else { 0 }),
            ),
        ]
        .into_iter()
        .collect(),
        ArticleModel::ArticleType => {
            let ty = a.article_type();
            let id = ARTICLE_TYPES
                .iter()
                .position(|x| x.0 == ty)
                .map(|i| i + 1)
                .unwrap_or(9);
            [
                ("ArticleType".to_string(), s(ty)),
                ("ArticleTypeID".to_string(), s(id)),
            ]
            .into_iter()
            .collect()
        }
    };
    if let Value::Object(m) = &mut o {
        m.extend(extra);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FieldDef, FieldKind, NewArticle, NewTicket};

    #[test]
    fn ids_are_strings_and_dynamic_fields_are_listed_by_name_with_nulls() {
        let mut s = Store::new("otai-agent");
        s.declare_field(FieldDef {
            name: "Zeta".into(),
            kind: FieldKind::Text,
            possible_values: None,
        });
        let id = s
            .insert_ticket(
                NewTicket {
                    title: "T".into(),
                    dynamic: [("OTAITags".to_string(), json!(["a"]))].into(),
                    articles: vec![NewArticle::default()],
                    ..NewTicket::default()
                },
                1000,
            )
            .unwrap();
        let t = ticket_json(&s, &s.tickets[&id], true, 1060);
        assert_eq!(
            (t["TicketID"].clone(), t["QueueID"].clone()),
            (json!("1"), json!("2"))
        );
        assert_eq!(
            (t["Queue"].clone(), t["Age"].clone()),
            (json!("Raw"), json!(60))
        );
        assert_eq!(
            t["DynamicField"],
            json!([{"Name": "OTAITags", "Value": ["a"]}, {"Name": "Zeta", "Value": null}])
        );
        assert!(ticket_json(&s, &s.tickets[&id], false, 0)
            .get("DynamicField")
            .is_none());
        let a = article_json(s.article_recs(id)[0], ArticleModel::CommunicationChannel);
        assert_eq!(
            (
                a["CommunicationChannelID"].clone(),
                a["IsVisibleForCustomer"].clone()
            ),
            (json!("1"), json!("1"))
        );
        assert!(a.get("ArticleType").is_none());
        let a = article_json(s.article_recs(id)[0], ArticleModel::ArticleType);
        assert_eq!(
            (a["ArticleType"].clone(), a["ArticleTypeID"].clone()),
            (json!("email-external"), json!("1"))
        );
        assert!(a.get("CommunicationChannelID").is_none());
    }
}
