//! The pure part of a pass: a ticket, its prediction and the pipeline's field rules in, a
//! [`Decision`] (per-field outcome and the one [`TicketUpdate`] that writes all of it) out.
//!
//! No I/O, no clock: everything here is unit-tested with hand-made predictions.

use std::fmt;

use serde_json::Value;

use super::note;
use crate::{
    classifier::{LabelScore, Prediction},
    config::{FieldAction, FieldRule, PipelineConfig},
    ticket::{CustomField, Note, Queue, Ticket, TicketUpdate},
};

/// One value written to the help desk.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Queue(String),
    Priority(String),
    Tag(String),
    CustomField { id: String, value: Value },
}

impl fmt::Display for Write {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Write::Queue(name) => write!(f, "set queue \"{name}\""),
            Write::Priority(p) => write!(f, "set priority {p}"),
            Write::Tag(tag) => write!(f, "add tag {tag}"),
            Write::CustomField { id, value } => write!(f, "set custom field {id} = {value}"),
        }
    }
}

/// Why a field ended up written (or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The best label reached the threshold.
    Confident,
    /// Below the threshold: the configured fallback.
    Fallback,
    /// Below the threshold and no fallback: left unchanged.
    BelowThreshold,
    /// `action: none`: only reported in the note.
    ReportOnly,
    /// The model gave no prediction for the field (a model without that head).
    Missing,
}

/// What happened to one field of one ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldOutcome {
    pub field: String,
    /// The most likely label, if the model predicted the field.
    pub best: Option<LabelScore>,
    pub runner_up: Option<LabelScore>,
    pub threshold: f32,
    pub basis: Basis,
    /// What is written for this field; `None` leaves the ticket's value unchanged.
    pub write: Option<Write>,
}

impl FieldOutcome {
    /// The action as a short phrase for logs, dry-run output and the note.
    pub fn action_text(&self) -> String {
        match (&self.write, self.basis) {
            (Some(w), Basis::Fallback) => format!(
                "below the {} threshold, fallback: {w}",
                note::percent(self.threshold)
            ),
            (Some(w), _) => w.to_string(),
            (None, Basis::BelowThreshold) => format!(
                "below the {} threshold, left unchanged",
                note::percent(self.threshold)
            ),
            (None, Basis::Missing) => "the model has no such field, left unchanged".into(),
            (None, _) => "not written (report only)".into(),
        }
    }
}

/// Everything decided for one ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub ticket_id: String,
    pub outcomes: Vec<FieldOutcome>,
    /// The one write: every field, the processed tag and the note together, guarded by the
    /// ticket's `updated_at`, so the ticket is either fully written and marked, or untouched.
    pub update: TicketUpdate,
}

/// Decides one field from its prediction.
pub fn decide_field(rule: &FieldRule, prediction: &Prediction) -> FieldOutcome {
    let top = prediction
        .field(&rule.field)
        .map(|p| p.top.as_slice())
        .unwrap_or(&[]);
    let best = top.first().cloned();
    let runner_up = top.get(1).cloned();
    let (basis, value) = match &best {
        None => (Basis::Missing, None),
        Some(_) if rule.action == FieldAction::None => (Basis::ReportOnly, None),
        Some(best) if best.probability >= rule.threshold => {
            (Basis::Confident, Some(rule.value_for(&best.label)))
        }
        Some(_) => match &rule.fallback {
            Some(fallback) => (Basis::Fallback, Some(fallback.clone())),
            None => (Basis::BelowThreshold, None),
        },
    };
    let write = value.and_then(|value| to_write(&rule.action, value));
    FieldOutcome {
        field: rule.field.clone(),
        best,
        runner_up,
        threshold: rule.threshold,
        basis,
        write,
    }
}

/// A configured value as a write; values were type-checked when the configuration was loaded
/// (and labels mapped to themselves by [`super::check_against_model`]), so a mismatch here means
/// a value that slipped past both and is dropped rather than written wrongly.
fn to_write(action: &FieldAction, value: Value) -> Option<Write> {
    match (action, value) {
        (FieldAction::Queue, Value::String(name)) => Some(Write::Queue(name)),
        (FieldAction::Priority, Value::String(p)) => Some(Write::Priority(p)),
        (FieldAction::Tag { .. }, Value::String(tag)) => Some(Write::Tag(tag)),
        (FieldAction::CustomField { id }, value) => Some(Write::CustomField {
            id: id.clone(),
            value,
        }),
        _ => None,
    }
}

/// Decides every field of one ticket and builds its single write.
pub fn decide(
    pipeline: &PipelineConfig,
    model_name: &str,
    ticket: &Ticket,
    prediction: &Prediction,
) -> Decision {
    let outcomes: Vec<FieldOutcome> = pipeline
        .fields
        .iter()
        .map(|rule| decide_field(rule, prediction))
        .collect();
    let mut update = TicketUpdate {
        if_unchanged_since: ticket.updated_at.clone(),
        ..TicketUpdate::default()
    };
    for write in outcomes.iter().filter_map(|o| o.write.clone()) {
        match write {
            Write::Queue(name) => {
                update.queue = Some(Queue {
                    id: None,
                    name: Some(name),
                })
            }
            Write::Priority(p) => update.priority = Some(p),
            Write::Tag(tag) => push_unique(&mut update.add_tags, tag),
            Write::CustomField { id, value } => {
                update.custom_fields.push(CustomField { id, value })
            }
        }
    }
    push_unique(&mut update.add_tags, pipeline.processed_tag.clone());
    if pipeline.note {
        update.note = Some(Note {
            body: note::prediction_note(model_name, &outcomes, &pipeline.processed_tag),
            html: false,
            public: false,
        });
    }
    Decision {
        ticket_id: ticket.id.clone(),
        outcomes,
        update,
    }
}

fn push_unique(tags: &mut Vec<String>, tag: String) {
    if !tags.contains(&tag) {
        tags.push(tag);
    }
}

/// Whether an agent already routed the ticket by hand, with the queue as shown to people.
///
/// The rule: a ticket that is in a queue counts as routed unless that queue is one of
/// `inbox_queues` (matched against the queue's id, or its name ignoring case). A ticket in no
/// queue is never routed. With `skip_routed: false` nothing counts as routed.
pub fn routed_by_hand(pipeline: &PipelineConfig, ticket: &Ticket) -> Option<String> {
    if !pipeline.skip_routed {
        return None;
    }
    if !in_queue_outside(&pipeline.inbox_queues, ticket) {
        return None;
    }
    let queue = ticket.queue.as_ref()?;
    Some(match (&queue.name, &queue.id) {
        (Some(name), _) => format!("\"{name}\""),
        (None, Some(id)) => format!("id {id}"),
        (None, None) => unreachable!("checked above"),
    })
}

/// Whether the ticket is in a queue (with an id or a name) that is not one of `inbox_queues`
/// (matched against the queue's id, or its name ignoring case).
pub(crate) fn in_queue_outside(inbox_queues: &[String], ticket: &Ticket) -> bool {
    let Some(queue) = &ticket.queue else {
        return false;
    };
    if queue.id.is_none() && queue.name.is_none() {
        return false;
    }
    !inbox_queues.iter().any(|inbox| {
        queue.id.as_deref() == Some(inbox.as_str())
            || queue
                .name
                .as_deref()
                .is_some_and(|name| name.eq_ignore_ascii_case(inbox))
    })
}

/// The write that marks a ticket routed by hand: only the routed tag (no note, no field), guarded
/// like every write, so that the fetch leaves the ticket out from then on. Without it, tickets
/// that stay `new` in their group would be fetched again every pass and, once there are
/// `fetch.limit` of them, keep the unrouted tickets behind them from ever being fetched.
pub fn routed_update(pipeline: &PipelineConfig, ticket: &Ticket) -> TicketUpdate {
    TicketUpdate {
        add_tags: vec![pipeline.routed_tag.clone()],
        if_unchanged_since: ticket.updated_at.clone(),
        ..TicketUpdate::default()
    }
}

/// The write that marks a ticket as failed: the failed tag and (if notes are on) a note saying
/// why, guarded like every write so an agent's concurrent change wins.
pub fn failed_update(
    pipeline: &PipelineConfig,
    ticket: &Ticket,
    attempts: u32,
    reason: &str,
) -> TicketUpdate {
    TicketUpdate {
        add_tags: vec![pipeline.failed_tag.clone()],
        note: pipeline.note.then(|| Note {
            body: note::failed_note(attempts, reason, &pipeline.failed_tag),
            html: false,
            public: false,
        }),
        if_unchanged_since: ticket.updated_at.clone(),
        ..TicketUpdate::default()
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, path::PathBuf, time::Duration};

    use serde_json::json;

    use super::*;
    use crate::{
        classifier::FieldPrediction,
        config::pipeline::{FetchConfig, RetryConfig},
    };

    fn score(label: &str, probability: f32) -> LabelScore {
        LabelScore {
            label: label.into(),
            probability,
        }
    }

    fn prediction(fields: &[(&str, &[(&str, f32)])]) -> Prediction {
        Prediction {
            fields: fields
                .iter()
                .map(|(field, top)| FieldPrediction {
                    field: field.to_string(),
                    top: top.iter().map(|(l, p)| score(l, *p)).collect(),
                })
                .collect(),
        }
    }

    fn rule(field: &str, action: FieldAction) -> FieldRule {
        FieldRule {
            field: field.into(),
            threshold: 0.8,
            action,
            map: BTreeMap::new(),
            fallback: None,
            descriptions: None,
            languages: Vec::new(),
        }
    }

    fn pipeline(fields: Vec<FieldRule>) -> PipelineConfig {
        PipelineConfig {
            name: "p".into(),
            ticket_system: "zendesk".into(),
            model: PathBuf::from("models/banking77"),
            interval: Duration::from_secs(60),
            fetch: FetchConfig {
                statuses: vec!["new".into()],
                queue: None,
                tags: vec![],
                without_tags: vec![],
                query: None,
                limit: 100,
            },
            skip_routed: true,
            inbox_queues: vec!["Inbox".into(), "900".into()],
            processed_tag: "otai_processed".into(),
            failed_tag: "otai_failed".into(),
            routed_tag: "otai_routed".into(),
            note: true,
            write_batch: 100,
            max_tokens: None,
            retry: RetryConfig {
                max_attempts: 3,
                backoff: Duration::from_secs(60),
            },
            state_file: None,
            audit_log: None,
            fields,
        }
    }

    fn ticket() -> Ticket {
        Ticket {
            id: "42".into(),
            updated_at: Some("2024-05-01T10:00:00Z".into()),
            tags: vec!["vip".into()],
            ..Ticket::default()
        }
    }

    #[test]
    fn confident_label_is_mapped() {
        let mut queue = rule("queue", FieldAction::Queue);
        queue.map.insert("cards".into(), json!("Cards Team"));
        let p = prediction(&[("queue", &[("cards", 0.93), ("transfers", 0.04)])]);

        let outcome = decide_field(&queue, &p);

        assert_eq!(outcome.basis, Basis::Confident);
        assert_eq!(outcome.write, Some(Write::Queue("Cards Team".into())));
        assert_eq!(outcome.runner_up, Some(score("transfers", 0.04)));
    }

    #[test]
    fn unmapped_label_maps_to_itself() {
        let p = prediction(&[("priority", &[("urgent", 0.9)])]);
        let outcome = decide_field(&rule("priority", FieldAction::Priority), &p);
        assert_eq!(outcome.write, Some(Write::Priority("urgent".into())));
    }

    #[test]
    fn threshold_is_inclusive() {
        let p = prediction(&[("priority", &[("high", 0.8)])]);
        let outcome = decide_field(&rule("priority", FieldAction::Priority), &p);
        assert_eq!(outcome.basis, Basis::Confident);
    }

    #[test]
    fn below_threshold_uses_the_fallback() {
        let mut priority = rule("priority", FieldAction::Priority);
        priority.fallback = Some(json!("normal"));
        let p = prediction(&[("priority", &[("urgent", 0.79), ("high", 0.2)])]);

        let outcome = decide_field(&priority, &p);

        assert_eq!(outcome.basis, Basis::Fallback);
        assert_eq!(outcome.write, Some(Write::Priority("normal".into())));
        assert_eq!(
            outcome.action_text(),
            "below the 80% threshold, fallback: set priority normal"
        );
    }

    #[test]
    fn below_threshold_without_fallback_leaves_the_field() {
        let p = prediction(&[("queue", &[("cards", 0.5)])]);
        let outcome = decide_field(&rule("queue", FieldAction::Queue), &p);
        assert_eq!(outcome.basis, Basis::BelowThreshold);
        assert_eq!(outcome.write, None);
        assert_eq!(
            outcome.action_text(),
            "below the 80% threshold, left unchanged"
        );
    }

    #[test]
    fn tags_use_the_default_format_and_are_made_valid() {
        let tag = rule(
            "intent",
            FieldAction::Tag {
                format: "otai_{field}__{label}".into(),
            },
        );
        let p = prediction(&[("intent", &[("Reverted Card Payment?", 0.95)])]);
        let outcome = decide_field(&tag, &p);
        assert_eq!(
            outcome.write,
            Some(Write::Tag("otai_intent__reverted_card_payment_".into()))
        );
    }

    #[test]
    fn custom_field_gets_the_mapped_json_value() {
        let mut field = rule(
            "category",
            FieldAction::CustomField {
                id: "360001".into(),
            },
        );
        field.map.insert("billing".into(), json!(7));
        let p = prediction(&[("category", &[("billing", 0.99)])]);
        assert_eq!(
            decide_field(&field, &p).write,
            Some(Write::CustomField {
                id: "360001".into(),
                value: json!(7)
            })
        );
    }

    #[test]
    fn report_only_and_missing_fields_write_nothing() {
        let p = prediction(&[("intent", &[("lost_or_stolen_card", 0.99)])]);
        let report = decide_field(&rule("intent", FieldAction::None), &p);
        assert_eq!(
            (report.basis, report.write.clone()),
            (Basis::ReportOnly, None)
        );
        let missing = decide_field(&rule("queue", FieldAction::Queue), &p);
        assert_eq!((missing.basis, missing.write), (Basis::Missing, None));
    }

    #[test]
    fn one_update_carries_every_field_the_processed_tag_and_the_note() {
        let mut priority = rule("priority", FieldAction::Priority);
        priority.fallback = Some(json!("normal"));
        let config = pipeline(vec![
            rule("queue", FieldAction::Queue),
            priority,
            rule(
                "intent",
                FieldAction::Tag {
                    format: "otai_{field}__{label}".into(),
                },
            ),
        ]);
        let p = prediction(&[
            (
                "intent",
                &[("lost_or_stolen_card", 0.91), ("compromised_card", 0.05)],
            ),
            ("queue", &[("cards", 0.97), ("disputes", 0.01)]),
            ("priority", &[("urgent", 0.6), ("high", 0.3)]),
        ]);

        let decision = decide(&config, "banking77", &ticket(), &p);

        let update = &decision.update;
        assert_eq!(decision.ticket_id, "42");
        assert_eq!(
            update.queue.as_ref().unwrap().name.as_deref(),
            Some("cards")
        );
        assert_eq!(update.priority.as_deref(), Some("normal"));
        assert_eq!(
            update.add_tags,
            ["otai_intent__lost_or_stolen_card", "otai_processed"]
        );
        assert_eq!(
            update.if_unchanged_since.as_deref(),
            Some("2024-05-01T10:00:00Z")
        );
        let note = update.note.as_ref().unwrap();
        assert!(!note.public, "notes are internal");
        assert!(note.body.contains("queue: cards (97%"), "{}", note.body);
    }

    #[test]
    fn without_notes_the_update_has_none() {
        let mut config = pipeline(vec![rule("queue", FieldAction::Queue)]);
        config.note = false;
        let p = prediction(&[("queue", &[("cards", 0.97)])]);
        assert_eq!(decide(&config, "m", &ticket(), &p).update.note, None);
    }

    #[test]
    fn low_confidence_everywhere_still_marks_the_ticket_processed() {
        let config = pipeline(vec![rule("queue", FieldAction::Queue)]);
        let p = prediction(&[("queue", &[("cards", 0.3)])]);
        let update = decide(&config, "m", &ticket(), &p).update;
        assert_eq!(update.queue, None);
        assert_eq!(update.add_tags, ["otai_processed"]);
    }

    #[test]
    fn routed_rule_uses_inbox_queues_by_name_or_id() {
        let config = pipeline(vec![]);
        let mut t = ticket();
        assert_eq!(routed_by_hand(&config, &t), None, "no queue: not routed");
        t.queue = Some(Queue {
            id: Some("1".into()),
            name: Some("inbox".into()),
        });
        assert_eq!(routed_by_hand(&config, &t), None, "inbox by name, any case");
        t.queue = Some(Queue {
            id: Some("900".into()),
            name: None,
        });
        assert_eq!(routed_by_hand(&config, &t), None, "inbox by id");
        t.queue = Some(Queue {
            id: Some("5".into()),
            name: Some("Billing".into()),
        });
        assert_eq!(routed_by_hand(&config, &t).as_deref(), Some("\"Billing\""));
        t.queue = Some(Queue {
            id: Some("5".into()),
            name: None,
        });
        assert_eq!(routed_by_hand(&config, &t).as_deref(), Some("id 5"));
        let mut all = config.clone();
        all.skip_routed = false;
        assert_eq!(routed_by_hand(&all, &t), None);
    }

    #[test]
    fn routed_update_adds_only_the_routed_tag() {
        let config = pipeline(vec![rule("queue", FieldAction::Queue)]);
        let update = routed_update(&config, &ticket());
        assert_eq!(
            update,
            TicketUpdate {
                add_tags: vec!["otai_routed".into()],
                if_unchanged_since: Some("2024-05-01T10:00:00Z".into()),
                ..TicketUpdate::default()
            },
            "no queue, priority, field or note: only the tag, guarded by updated_at"
        );
    }

    #[test]
    fn failed_update_adds_the_failed_tag_and_the_reason() {
        let config = pipeline(vec![]);
        let update = failed_update(&config, &ticket(), 3, "unknown group \"cards\"");
        assert_eq!(update.add_tags, ["otai_failed"]);
        assert_eq!(update.queue, None);
        let body = update.note.unwrap().body;
        assert!(body.contains("3 attempts"), "{body}");
        assert!(body.contains("unknown group \"cards\""), "{body}");
    }
}
