//! TicketUpdate as `Operation/Ticket/TicketUpdate.pm` runs it: every check first (`Run`:
//! request, ticket, `_CheckTicket`, `_CheckArticle`, `_CheckDynamicField`, attachments), nothing
//! written if one fails; then `_TicketUpdate`, **not transactional**: the setters one by one
//! (title, queue, lock, type, state, customer user, priority, owner, responsible; each only when
//! the value differs from the ticket's), then the article, then each dynamic field. A step that
//! fails ends the operation with what ran before it applied; the simulator makes steps fail with
//! the `stop_mid_write` fault ([`Stop`]).

use serde_json::{Map, Value};

use crate::{
    error::{Failure, OpError, Refusal},
    params::{scalar, scalar_with_data, truthy},
    shapes::ArticleModel,
    stamp::format_time,
    store::{
        id_in, name_in, FieldSet, NewArticle, Store, WriteRecord, ARTICLE_TYPES, CHANNELS, LOCKS,
        PRIORITIES, SENDER_TYPES, STATES, TYPES,
    },
};

const OP: &str = "TicketUpdate";

/// The step names of a TicketUpdate, in the order `_TicketUpdate` runs them (the names a
/// `stop_mid_write` fault's `after` takes; `dynamic_field:<Name>` names one field's step).
pub const STEPS: &[&str] = &[
    "title",
    "queue",
    "lock",
    "type",
    "state",
    "customer_user",
    "priority",
    "owner",
    "responsible",
    "article",
    "dynamic_field",
];

fn invalid(message: &str) -> Refusal {
    OpError::new(OP, "InvalidParameter", message).into()
}

fn missing(message: &str) -> Refusal {
    OpError::new(OP, "MissingParameter", message).into()
}

/// The checks before authentication: `EmptyRequest`, then `MissingParameter` for the ticket,
/// the login and the password.
pub fn precheck(data: &Map<String, Value>) -> Result<(), Refusal> {
    if data.is_empty() {
        return Err(OpError::new(OP, "EmptyRequest", "The request data is invalid!").into());
    }
    if !truthy(data.get("TicketID")) && !truthy(data.get("TicketNumber")) {
        return Err(missing("TicketID or TicketNumber is required!"));
    }
    let login = truthy(data.get("UserLogin")) || truthy(data.get("CustomerUserLogin"));
    if !login && !truthy(data.get("SessionID")) {
        return Err(missing(
            "UserLogin, CustomerUserLogin or SessionID is required!",
        ));
    }
    if login && !truthy(data.get("Password")) {
        return Err(missing("Password or SessionID is required!"));
    }
    Ok(())
}

/// The ticket a TicketUpdate or a `conflict` fault targets: `TicketNumber` if given, else
/// `TicketID`.
pub fn target(store: &Store, data: &Map<String, Value>) -> Option<u64> {
    if let Some(n) = scalar_with_data(data.get("TicketNumber")) {
        return store.tickets.values().find(|t| t.number == n).map(|t| t.id);
    }
    let id: u64 = scalar_with_data(data.get("TicketID"))?
        .trim()
        .parse()
        .ok()?;
    store.tickets.contains_key(&id).then_some(id)
}

/// What a checked TicketUpdate will do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The ticket.
    pub ticket_id: u64,
    /// `TicketID` as the request gave it (the answer echoes it).
    pub echo_id: Value,
    title: Option<String>,
    queue_id: Option<u64>,
    lock_id: Option<u64>,
    type_id: Option<u64>,
    state_id: Option<u64>,
    pending: Option<i64>,
    customer_user: Option<String>,
    priority_id: Option<u64>,
    owner_id: Option<u64>,
    responsible_id: Option<u64>,
    article: Option<NewArticle>,
    fields: Vec<(String, Value)>,
}

/// A hash parameter's scalar values, trimmed (the operation strips leading and trailing
/// spaces).
fn trimmed(o: &Map<String, Value>, key: &str) -> Option<String> {
    scalar(o.get(key)).map(|s| s.trim().to_string())
}

/// `Name` or `NameID` of a hash against a list: `Ok(None)` when neither is set (or both are
/// false), `Err` when the one given is unknown.
fn lookup(
    o: &Map<String, Value>,
    key: &str,
    by_name: impl Fn(&str) -> Option<u64>,
    by_id: impl Fn(u64) -> bool,
) -> Result<Option<u64>, ()> {
    if let Some(name) = trimmed(o, key).filter(|s| !s.is_empty() && s != "0") {
        return by_name(&name).map(Some).ok_or(());
    }
    match trimmed(o, &format!("{key}ID")).filter(|s| !s.is_empty() && s != "0") {
        None => Ok(None),
        Some(id) => id
            .parse::<u64>()
            .ok()
            .filter(|i| by_id(*i))
            .map(Some)
            .ok_or(()),
    }
}

/// Checks a TicketUpdate for `ticket_id` (authenticated and found) and plans it.
pub fn plan(
    store: &Store,
    data: &Map<String, Value>,
    ticket_id: u64,
    model: ArticleModel,
    now: i64,
) -> Result<Plan, Refusal> {
    for key in ["Ticket", "Article"] {
        if data
            .get(key)
            .is_some_and(|v| !matches!(v, Value::Object(o) if !o.is_empty()))
        {
            return Err(invalid(&format!("{key} parameter is not valid!")));
        }
    }
    for key in ["DynamicField", "Attachment"] {
        let ok = |v: &Value| match v {
            Value::Object(o) => !o.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => false,
        };
        if data.get(key).is_some_and(|v| !ok(v)) {
            return Err(missing(&format!(
                "{key} parameter is missing or not valid!"
            )));
        }
    }
    let mut p = Plan {
        ticket_id,
        // `$TicketID`: the looked-up id when a TicketNumber was given, else the request's value.
        echo_id: match scalar_with_data(data.get("TicketNumber")) {
            Some(_) => Value::String(ticket_id.to_string()),
            None => data.get("TicketID").cloned().unwrap_or(Value::Null),
        },
        title: None,
        queue_id: None,
        lock_id: None,
        type_id: None,
        state_id: None,
        pending: None,
        customer_user: None,
        priority_id: None,
        owner_id: None,
        responsible_id: None,
        article: None,
        fields: Vec::new(),
    };
    if let Some(Value::Object(t)) = data.get("Ticket") {
        check_ticket(store, t, &mut p, now)?;
    }
    if let Some(Value::Object(a)) = data.get("Article") {
        p.article = Some(check_article(a, model)?);
    }
    let items: Vec<&Value> = match data.get("DynamicField") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    for item in items {
        let Value::Object(f) = item else {
            // Returned without ReturnError: the provider answers it as a failed operation.
            return Err(Failure::Operation(
                "TicketUpdate: Ticket->DynamicField parameter is invalid!".into(),
            )
            .into());
        };
        if f.is_empty() {
            return Err(Failure::Operation(
                "TicketUpdate: Ticket->DynamicField parameter is invalid!".into(),
            )
            .into());
        }
        for needed in ["Name", "Value"] {
            let present = matches!(
                f.get(needed),
                Some(Value::String(_) | Value::Number(_) | Value::Array(_))
            );
            if !present {
                return Err(missing(&format!(
                    "DynamicField->{needed} parameter is missing!"
                )));
            }
        }
        let name = trimmed(f, "Name").unwrap_or_default();
        let Some(def) = store.field(&name) else {
            return Err(invalid("DynamicField->Name parameter is invalid!"));
        };
        let value = match &f["Value"] {
            Value::String(s) => Value::String(s.trim().to_string()),
            v => v.clone(),
        };
        if !def.accepts(&value) {
            return Err(invalid("DynamicField->Value parameter is invalid!"));
        }
        p.fields.push((name, def.normalise(&value)));
    }
    match data.get("Attachment") {
        Some(_) if p.article.is_none() => {
            return Err(missing("To create an attachment an article is needed!"))
        }
        Some(v) => {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                for needed in ["Content", "ContentType", "Filename"] {
                    if scalar_with_data(item.get(needed)).is_none() {
                        return Err(missing(&format!(
                            "Attachment->{needed} parameter is missing!"
                        )));
                    }
                }
            }
        }
        None => {}
    }
    Ok(p)
}

fn check_ticket(
    store: &Store,
    t: &Map<String, Value>,
    p: &mut Plan,
    now: i64,
) -> Result<(), Refusal> {
    if let Some(c) = trimmed(t, "CustomerUser").filter(|s| !s.is_empty()) {
        p.customer_user = Some(c);
    }
    p.title = trimmed(t, "Title").filter(|s| !s.is_empty());
    let ids = |list: &'static [&'static str]| move |i: u64| name_in(list, i).is_some();
    p.queue_id = lookup(
        t,
        "Queue",
        |n| store.queue_id(n),
        |i| store.queues.iter().any(|q| q.0 == i),
    )
    .map_err(|_| invalid("Ticket->QueueID or Ticket->Queue parameter is invalid!"))?;
    p.lock_id = lookup(t, "Lock", |n| id_in(LOCKS, n), ids(LOCKS))
        .map_err(|_| invalid("Ticket->LockID or Ticket->Lock parameter is invalid!"))?;
    p.type_id = lookup(t, "Type", |n| id_in(TYPES, n), ids(TYPES))
        .map_err(|_| invalid("Ticket->TypeID or Ticket->Type parameter is invalid!"))?;
    // The simulated help desk has no services or SLAs: any given is invalid.
    if lookup(t, "Service", |_| None, |_| false).is_err() {
        return Err(invalid(
            "Ticket->ServiceID or Ticket->Service parameter is invalid!",
        ));
    }
    if lookup(t, "SLA", |_| None, |_| false).is_err() {
        return Err(invalid(
            "Ticket->SLAID or Ticket->SLA parameter is invalid!",
        ));
    }
    let state_by_name = |n: &str| STATES.iter().find(|s| s.1 == n).map(|s| s.0);
    p.state_id = lookup(t, "State", state_by_name, |i| {
        STATES.iter().any(|s| s.0 == i)
    })
    .map_err(|_| invalid("Ticket->StateID or Ticket->State parameter is invalid!"))?;
    p.priority_id = lookup(t, "Priority", |n| id_in(PRIORITIES, n), ids(PRIORITIES))
        .map_err(|_| invalid("Ticket->PriorityID or Ticket->Priority parameter is invalid!"))?;
    let user_ok = |i: u64| store.users.iter().any(|u| u.0 == i);
    p.owner_id = lookup(t, "Owner", |n| store.user_id(n), user_ok)
        .map_err(|_| invalid("Ticket->OwnerID or Ticket->Owner parameter is invalid!"))?;
    p.responsible_id = lookup(t, "Responsible", |n| store.user_id(n), user_ok).map_err(|_| {
        invalid("Ticket->ResponsibleID or Ticket->Responsible parameter is invalid!")
    })?;
    if let Some(pt) = t.get("PendingTime").filter(|v| truthy(Some(v))) {
        p.pending = Some(
            pending_time(pt, now)
                .ok_or_else(|| invalid("Ticket->PendingTime parameter is invalid!"))?,
        );
    }
    Ok(())
}

/// `{Year, Month, Day, Hour, Minute}` or `{Diff: minutes}` as unix seconds.
fn pending_time(v: &Value, now: i64) -> Option<i64> {
    let o = v.as_object()?;
    let n = |k: &str| scalar(o.get(k))?.trim().parse::<i64>().ok();
    if let Some(diff) = n("Diff") {
        return Some(now + diff * 60);
    }
    let text = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:00",
        n("Year")?,
        n("Month")?,
        n("Day")?,
        n("Hour")?,
        n("Minute")?
    );
    crate::stamp::parse_time(&text)
}

fn check_article(a: &Map<String, Value>, model: ArticleModel) -> Result<NewArticle, Refusal> {
    for needed in ["Subject", "Body"] {
        if !truthy(a.get(needed)) {
            return Err(missing(&format!("Article->{needed} parameter is missing!")));
        }
    }
    let (channel, visible, article_type) = match model {
        ArticleModel::CommunicationChannel => {
            let channel = lookup(a, "CommunicationChannel", |n| id_in(CHANNELS, n), |i| {
                name_in(CHANNELS, i).is_some()
            })
            .map_err(|_| {
                invalid("Article->CommunicationChannel or Article->CommunicationChannelID parameter is invalid or not supported!")
            })?
            .unwrap_or(3);
            let visible = a
                .get("IsVisibleForCustomer")
                .is_none_or(|v| truthy(Some(v)));
            (
                name_in(CHANNELS, channel).unwrap_or("Internal"),
                visible,
                None,
            )
        }
        ArticleModel::ArticleType => {
            let names: Vec<&str> = ARTICLE_TYPES.iter().map(|t| t.0).collect();
            let id = lookup(
                a,
                "ArticleType",
                |n| id_in(&names, n),
                |i| name_in(&names, i).is_some(),
            )
            .map_err(|_| {
                invalid("Article->ArticleTypeID or Article->ArticleType parameter is invalid!")
            })?
            .unwrap_or(9);
            let (name, channel, visible) = ARTICLE_TYPES[id as usize - 1];
            (channel, visible, Some(name.to_string()))
        }
    };
    let sender = lookup(
        a,
        "SenderType",
        |n| id_in(SENDER_TYPES, n),
        |i| name_in(SENDER_TYPES, i).is_some(),
    )
    .map_err(|_| invalid("Article->SenderTypeID or Ticket->SenderType parameter is invalid!"))?
    .unwrap_or(1);
    let content_type = trimmed(a, "ContentType").filter(|s| !s.is_empty());
    let mime = trimmed(a, "MimeType").filter(|s| !s.is_empty());
    let charset = trimmed(a, "Charset").filter(|s| !s.is_empty());
    let (mime_type, charset) = match (content_type, mime, charset) {
        (None, None, None) => {
            return Err(missing(
                "Article->ContentType or Ticket->MimeType and Article->Charset parameters are required!",
            ))
        }
        (None, Some(_), None) => return Err(missing("Article->Charset is required!")),
        (None, None, Some(_)) => return Err(missing("Article->MimeType is required!")),
        (None, Some(m), Some(c)) => (m, c),
        (Some(ct), _, _) => {
            let mime = ct.split(';').next().unwrap_or("").trim().to_string();
            let ok = mime.split_once('/').is_some_and(|(a, b)| {
                !a.is_empty() && !b.is_empty() && !mime.contains(char::is_whitespace)
            });
            if !ok {
                return Err(invalid("Article->ContentType is invalid!"));
            }
            let charset = ct
                .split(';')
                .skip(1)
                .find_map(|p| p.trim().strip_prefix("charset="))
                .map(|c| c.trim_matches(['"', '\'']).to_string())
                .unwrap_or_default();
            (mime, charset)
        }
    };
    Ok(NewArticle {
        channel: channel.to_string(),
        sender_type: name_in(SENDER_TYPES, sender).unwrap_or("agent").to_string(),
        visible,
        article_type,
        from: trimmed(a, "From").unwrap_or_default(),
        to: String::new(),
        subject: trimmed(a, "Subject").unwrap_or_default(),
        body: trimmed(a, "Body").unwrap_or_default(),
        mime_type,
        charset,
        created: None,
    })
}

/// Where a `stop_mid_write` fault stops a TicketUpdate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop<'a> {
    /// Run every step.
    Never,
    /// Run the steps up to and including this one (`None`: none).
    After(Option<&'a str>),
}

/// The last (step, field) position a stop lets run; `None`: none. (A plain step the write does not
/// have stops nothing: see the caller.) An unknown name stops before the first step.
fn stop_position(after: Option<&str>, steps: &[Step]) -> Option<(usize, usize)> {
    let after = after?;
    let df = STEPS.len() - 1;
    if let Some(field) = after.strip_prefix("dynamic_field:") {
        let i = steps
            .iter()
            .filter_map(|s| match s {
                Step::Field(n, _) => Some(n),
                _ => None,
            })
            .position(|n| n == field);
        return Some(match i {
            Some(i) => (df, i),
            None => (df - 1, usize::MAX),
        });
    }
    match STEPS.iter().position(|s| *s == after) {
        Some(i) if i == df => Some((df, 0)),
        Some(i) => Some((i, usize::MAX)),
        None => {
            tracing::warn!(
                after,
                "Unknown TicketUpdate step in a stop_mid_write fault; stopping before the first step."
            );
            None
        }
    }
}

/// One step that will run.
enum Step {
    Title(String),
    Queue(u64),
    Lock(u64),
    Type(u64),
    State(u64),
    CustomerUser(String),
    Priority(u64),
    Owner(u64),
    Responsible(u64),
    Article(NewArticle),
    Field(String, Value),
}

impl Step {
    fn name(&self) -> &'static str {
        match self {
            Step::Title(_) => "title",
            Step::Queue(_) => "queue",
            Step::Lock(_) => "lock",
            Step::Type(_) => "type",
            Step::State(_) => "state",
            Step::CustomerUser(_) => "customer_user",
            Step::Priority(_) => "priority",
            Step::Owner(_) => "owner",
            Step::Responsible(_) => "responsible",
            Step::Article(_) => "article",
            Step::Field(..) => "dynamic_field",
        }
    }

    /// What the operation answers when this step fails.
    fn failure(&self) -> String {
        let setter = |what: &str| {
            format!("Ticket {what} could not be updated, please contact system administrator!")
        };
        match self {
            // `_TicketUpdate` returns `Errormessage` for the title: the provider's default shows.
            Step::Title(_) => "OperationObject returned an error, cancelling Request".into(),
            Step::CustomerUser(_) => setter("customer user"),
            Step::Article(_) => {
                "Article could not be created, please contact the system administrator".into()
            }
            Step::Field(name, _) => format!(
                "Dynamic Field {name} could not be set, please contact the system administrator"
            ),
            other => setter(other.name()),
        }
    }
}

/// What a TicketUpdate did.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The write as recorded.
    pub record: WriteRecord,
    /// The article created.
    pub article_id: Option<u64>,
    /// The answer's error, when a step failed (what ran before it stays).
    pub error: Option<Refusal>,
}

/// Runs a checked TicketUpdate as user `user_id` at unix second `now`, stopping as `stop` says.
pub fn apply(store: &mut Store, plan: Plan, user_id: u64, now: i64, stop: Stop<'_>) -> Outcome {
    let cur = store.tickets[&plan.ticket_id].clone();
    let mut steps = Vec::new();
    let differs = |new: Option<u64>, old: u64| new.filter(|n| *n != old);
    if let Some(t) = plan.title.filter(|t| *t != cur.title) {
        steps.push(Step::Title(t));
    }
    steps.extend(differs(plan.queue_id, cur.queue_id).map(Step::Queue));
    steps.extend(differs(plan.lock_id, cur.lock_id).map(Step::Lock));
    steps.extend(differs(plan.type_id, cur.type_id).map(Step::Type));
    steps.extend(differs(plan.state_id, cur.state_id).map(Step::State));
    if let Some(c) = plan
        .customer_user
        .filter(|c| Some(c) != cur.customer_user.as_ref())
    {
        steps.push(Step::CustomerUser(c));
    }
    steps.extend(differs(plan.priority_id, cur.priority_id).map(Step::Priority));
    steps.extend(differs(plan.owner_id, cur.owner_id).map(Step::Owner));
    steps.extend(differs(plan.responsible_id, cur.responsible_id).map(Step::Responsible));
    steps.extend(plan.article.map(Step::Article));
    steps.extend(plan.fields.into_iter().map(|(n, v)| Step::Field(n, v)));

    let limit = match stop {
        Stop::Never => None,
        // A write without the named setter is not stopped: the fault means "between this setter
        // and the next", e.g. an update that moves the queue and fails before its priority.
        Stop::After(Some(after))
            if !after.starts_with("dynamic_field")
                && STEPS.contains(&after)
                && !steps.iter().any(|s| s.name() == after) =>
        {
            None
        }
        Stop::After(after) => Some(stop_position(after, &steps)),
    };
    let mut record = WriteRecord {
        seq: 0,
        ticket_id: plan.ticket_id,
        operation: OP.into(),
        by: "api".into(),
        setters: Vec::new(),
        article_id: None,
        dynamic_fields: Vec::new(),
        completed: true,
        at: format_time(now),
        at_unix: now,
    };
    let mut error = None;
    let mut field_index = 0;
    for step in steps {
        let position = (
            STEPS.iter().position(|s| *s == step.name()).unwrap_or(0),
            if matches!(step, Step::Field(..)) {
                field_index
            } else {
                0
            },
        );
        if matches!(step, Step::Field(..)) {
            field_index += 1;
        }
        let name = step.name();
        if limit.is_some_and(|l| Some(position) > l) {
            tracing::info!(
                ticket = plan.ticket_id,
                step = step.name(),
                "TicketUpdate stopped before this step (stop_mid_write fault)."
            );
            error = Some(Failure::Operation(step.failure()).into());
            break;
        }
        let t = store.tickets.get_mut(&plan.ticket_id).expect("checked");
        match &step {
            Step::Title(v) => t.title = v.clone(),
            Step::Queue(v) => t.queue_id = *v,
            Step::Lock(v) => t.lock_id = *v,
            Step::Type(v) => t.type_id = *v,
            Step::State(v) => {
                let ty = Store::state(*v).1;
                if ty.starts_with("pending") {
                    match plan.pending {
                        Some(at) => t.pending_until = at,
                        None => {
                            error = Some(
                                OpError {
                                    code: "TicketUpdate.MissingParameter".into(),
                                    message:
                                        "Can't set a ticket on a pending state without pendig time!"
                                            .into(),
                                }
                                .into(),
                            );
                            break;
                        }
                    }
                } else if ty.starts_with("close") {
                    t.lock_id = 1;
                }
                t.state_id = *v;
            }
            Step::CustomerUser(v) => {
                t.customer_user = Some(v.clone());
                t.customer_id = Some(v.clone());
            }
            Step::Priority(v) => t.priority_id = *v,
            Step::Owner(v) => t.owner_id = *v,
            Step::Responsible(v) => t.responsible_id = *v,
            Step::Article(_) | Step::Field(..) => {}
        }
        t.changed = now;
        t.change_by = user_id;
        match step {
            Step::Article(a) => {
                let id = store
                    .insert_article(plan.ticket_id, a, user_id, now)
                    .expect("checked names");
                record.article_id = Some(id);
            }
            Step::Field(name, value) => {
                if value.is_null() {
                    t.dynamic.remove(&name);
                } else {
                    t.dynamic.insert(name.clone(), value.clone());
                }
                record.dynamic_fields.push(FieldSet { name, value });
            }
            _ => {}
        }
        record.setters.push(name.to_string());
    }
    if limit.is_some() && error.is_none() {
        // The fault fired after the last step: the write is whole, the answer still a failure.
        error = Some(
            Failure::Operation("OperationObject returned an error, cancelling Request".into())
                .into(),
        );
    }
    record.completed = error.is_none();
    let article_id = record.article_id;
    let record = store.record(record);
    Outcome {
        record,
        article_id,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FieldDef, FieldKind, NewTicket, API_USER_ID};
    use serde_json::json;

    fn desk() -> Store {
        let mut s = Store::new("otai-agent");
        s.ensure_queue("Cards");
        s.declare_field(FieldDef {
            name: "OTAITags".into(),
            kind: FieldKind::Multiselect,
            possible_values: None,
        });
        s.declare_field(FieldDef {
            name: "Color".into(),
            kind: FieldKind::Text,
            possible_values: Some(vec!["red".into()]),
        });
        s.insert_ticket(
            NewTicket {
                title: "Card lost".into(),
                created: Some(100),
                ..NewTicket::default()
            },
            100,
        )
        .unwrap();
        s
    }

    fn data(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn note() -> Value {
        json!({"Subject": "otai", "Body": "classified", "ContentType": "text/plain; charset=utf8",
               "IsVisibleForCustomer": 0})
    }

    fn full() -> Map<String, Value> {
        data(json!({"TicketID": "1",
            "Ticket": {"Queue": "Cards", "Priority": "4 high", "State": "open"},
            "Article": note(),
            "DynamicField": [{"Name": "OTAITags", "Value": ["otai_processed", "queue_cards"]}]}))
    }

    #[test]
    fn setters_run_in_the_real_order_and_only_when_the_value_differs() {
        let mut s = desk();
        let p = plan(&s, &full(), 1, ArticleModel::CommunicationChannel, 200).unwrap();
        let out = apply(&mut s, p, API_USER_ID, 200, Stop::Never);
        assert_eq!(out.error, None);
        assert_eq!(
            out.record.setters,
            ["queue", "state", "priority", "article", "dynamic_field"]
        );
        let t = s.ticket(1).unwrap();
        assert_eq!((t.queue.as_str(), t.priority.as_str()), ("Cards", "4 high"));
        assert_eq!(
            t.dynamic_fields["OTAITags"],
            json!(["otai_processed", "queue_cards"])
        );
        assert_eq!(t.changed, format_time(200));
        let a = &s.articles(1)[0];
        assert!(!a.is_visible_for_customer);
        assert_eq!(
            (a.communication_channel.as_str(), a.sender_type.as_str()),
            ("Internal", "agent")
        );
        assert_eq!(a.created_by, "otai-agent");
        let again = plan(
            &s,
            &data(json!({"TicketID": "1", "Ticket": {"Queue": "Cards"}})),
            1,
            ArticleModel::CommunicationChannel,
            300,
        )
        .unwrap();
        let out = apply(&mut s, again, API_USER_ID, 300, Stop::Never);
        assert!(out.record.setters.is_empty());
        assert_eq!(
            s.ticket(1).unwrap().changed,
            format_time(200),
            "nothing ran: Changed stays"
        );
    }

    #[test]
    fn a_bad_value_anywhere_refuses_the_whole_update() {
        let s = desk();
        let check =
            |v: Value| plan(&s, &data(v), 1, ArticleModel::CommunicationChannel, 0).unwrap_err();
        let e = check(json!({"TicketID": "1", "Ticket": {"Queue": "Nope"}}));
        assert_eq!(
            e,
            invalid("Ticket->QueueID or Ticket->Queue parameter is invalid!")
        );
        let e = check(json!({"TicketID": "1", "Ticket": {"Priority": "urgent"}}));
        assert!(matches!(e, Refusal::Op(o) if o.code == "TicketUpdate.InvalidParameter"));
        let e =
            check(json!({"TicketID": "1", "DynamicField": {"Name": "Color", "Value": "green"}}));
        assert_eq!(e, invalid("DynamicField->Value parameter is invalid!"));
        let e = check(json!({"TicketID": "1", "DynamicField": {"Name": "Nope", "Value": "x"}}));
        assert_eq!(e, invalid("DynamicField->Name parameter is invalid!"));
        let e = check(json!({"TicketID": "1", "DynamicField": [1]}));
        assert!(
            matches!(e, Refusal::Failed(Failure::Operation(_))),
            "a 500, as the real one"
        );
        let e = check(json!({"TicketID": "1", "Article": {"Subject": "s", "Body": "b"}}));
        assert_eq!(e, missing("Article->ContentType or Ticket->MimeType and Article->Charset parameters are required!"));
        let e = check(json!({"TicketID": "1", "Article": {"Body": "b"}}));
        assert_eq!(e, missing("Article->Subject parameter is missing!"));
        let e = check(json!({"TicketID": "1", "Ticket": "Raw"}));
        assert_eq!(e, invalid("Ticket parameter is not valid!"));
        assert_eq!(
            precheck(&data(json!({"TicketID": "1"}))).unwrap_err(),
            missing("UserLogin, CustomerUserLogin or SessionID is required!")
        );
        assert_eq!(
            precheck(&data(json!({"TicketID": "1", "UserLogin": "a"}))).unwrap_err(),
            missing("Password or SessionID is required!")
        );
    }

    #[test]
    fn a_stop_after_queue_leaves_the_queue_changed_and_no_article() {
        let mut s = desk();
        let p = plan(&s, &full(), 1, ArticleModel::CommunicationChannel, 200).unwrap();
        let out = apply(&mut s, p, API_USER_ID, 200, Stop::After(Some("queue")));
        assert_eq!(
            out.error,
            Some(
                Failure::Operation(
                    "Ticket state could not be updated, please contact system administrator!"
                        .into()
                )
                .into()
            )
        );
        assert_eq!(out.record.setters, ["queue"]);
        assert!(!out.record.completed);
        let t = s.ticket(1).unwrap();
        assert_eq!((t.queue.as_str(), t.state.as_str()), ("Cards", "new"));
        assert!(s.articles(1).is_empty());
        let p = plan(&s, &full(), 1, ArticleModel::CommunicationChannel, 300).unwrap();
        let out = apply(&mut s, p, API_USER_ID, 300, Stop::After(Some("article")));
        assert_eq!(out.record.setters, ["state", "priority", "article"]);
        assert!(s.ticket(1).unwrap().dynamic_fields.is_empty());
        let p = plan(&s, &full(), 1, ArticleModel::CommunicationChannel, 400).unwrap();
        let out = apply(&mut s, p, API_USER_ID, 400, Stop::After(None));
        assert!(out.record.setters.is_empty());
        assert!(
            matches!(out.error, Some(Refusal::Failed(Failure::Operation(m))) if m.contains("Article could not be created"))
        );
    }

    #[test]
    fn a_pending_state_without_a_time_stops_midway_with_an_error_answer() {
        let mut s = desk();
        let d = data(
            json!({"TicketID": "1", "Ticket": {"Queue": "Cards", "State": "pending reminder"}}),
        );
        let p = plan(&s, &d, 1, ArticleModel::CommunicationChannel, 200).unwrap();
        let out = apply(&mut s, p, API_USER_ID, 200, Stop::Never);
        assert!(
            matches!(&out.error, Some(Refusal::Op(e)) if e.code == "TicketUpdate.MissingParameter")
        );
        assert_eq!(out.record.setters, ["queue"]);
        let d = data(
            json!({"TicketID": "1", "Ticket": {"State": "pending reminder", "PendingTime": {"Diff": 60}}}),
        );
        let p = plan(&s, &d, 1, ArticleModel::CommunicationChannel, 200).unwrap();
        assert_eq!(apply(&mut s, p, API_USER_ID, 200, Stop::Never).error, None);
        assert_eq!(s.tickets[&1].pending_until, 200 + 3600);
    }

    #[test]
    fn the_otrs5_model_takes_an_article_type() {
        let mut s = desk();
        let d = data(
            json!({"TicketID": "1", "Article": {"Subject": "s", "Body": "b",
            "MimeType": "text/plain", "Charset": "utf-8"}}),
        );
        let p = plan(&s, &d, 1, ArticleModel::ArticleType, 0).unwrap();
        apply(&mut s, p, API_USER_ID, 0, Stop::Never);
        let a = &s.articles(1)[0];
        assert_eq!(
            (a.article_type.as_str(), a.is_visible_for_customer),
            ("note-internal", false)
        );
        let d = data(
            json!({"TicketID": "1", "Article": {"Subject": "s", "Body": "b",
            "ContentType": "text/plain", "ArticleType": "memo"}}),
        );
        assert!(plan(&s, &d, 1, ArticleModel::ArticleType, 0).is_err());
    }
}
