//! The simulated OTOBO for the end-to-end tests, the pipeline over it, and the invariant checker.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use otai_otobo_sim::{Article, SimBuilder, SimHandle, Simulator};
use serde_json::{json, Value};

pub use crate::desks::{count, Fate, Fates};
use crate::{desks::Run, support};

pub const PROCESSED: &str = "otai_processed";
pub const FAILED: &str = "otai_failed";
pub const ROUTED: &str = "otai_routed";
/// The line otai's notes end with (the adapter's plan of the write).
pub const MARKER: &str = "[otai] plan:";
/// The dynamic field holding otai's tags.
pub const TAGS: &str = "OTAITags";
/// Where new tickets land on a default install: otai's inbox.
pub const INBOX: &str = "Raw";
/// The demo help desk's own inbox queue.
pub const DEMO_INBOX: &str = "Inbox";

/// Customer requests, one per seeded ticket.
pub const TEXTS: &[&str] = support::DRILL_TEXTS;

/// How many tickets an agent already routed (into `Billing`).
pub const ROUTED_BY_HAND: usize = 2;

/// The queues: the demo model's, the fallback, `Billing` (routed by hand).
pub fn queues() -> Vec<&'static str> {
    support::BANKING_GROUPS
        .iter()
        .copied()
        .filter(|g| *g != "Inbox")
        .collect()
}

/// The standard seed: one new ticket per text in Raw, and tickets an agent already put into
/// Billing.
pub fn standard_tickets() -> Vec<Value> {
    let mut tickets: Vec<Value> = TEXTS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"Title": format!("Request {i}"), "Body": text, "Queue": INBOX, "State": "new",
                   "Priority": "3 normal", "CustomerUser": format!("customer{i}@example.com")})
        })
        .collect();
    for _ in 0..ROUTED_BY_HAND {
        tickets.push(
            json!({"Title": "Invoice", "Body": "Please send me last month's invoice",
                            "Queue": "Billing", "State": "new", "Priority": "3 normal"}),
        );
    }
    tickets
}

/// A simulator with the queues, otai's tags field and `tickets`.
pub fn sim_builder(tickets: Vec<Value>) -> SimBuilder {
    Simulator::builder()
        .queues(&queues())
        .multiselect_field(TAGS)
        .tickets(tickets)
}

/// The demo model; these tests fail (never skip) without it.
pub fn model_dir() -> PathBuf {
    support::demo_model("the OTOBO end-to-end tests need")
}

/// A config with the simulator's web service at `base_url` and one pipeline `drill`.
pub fn config_yaml(base_url: &str, max_attempts: u32, state_file: Option<&Path>) -> String {
    let state_file = state_file.map_or("null".to_string(), |p| p.display().to_string());
    format!(
        r#"
ticket_systems:
  otobo:
    use: otai_otobo_znuny:OTOBOZnunyTicketSystemService
    call_timeout: 120
    params:
      base_url: {base_url}
      username: otai-agent
      password: secret
      timeout: 5
pipelines:
  drill:
    ticket_system: otobo
    model: {model}
    interval: 1
    inbox_queues: ["{INBOX}", "{DEMO_INBOX}"]
    fetch:
      statuses: [new]
      limit: 500
    retry: {{max_attempts: {max_attempts}, backoff: 0}}
    state_file: {state_file}
{fields}"#,
        model = model_dir().display(),
        fields = support::BANKING_FIELDS_YAML,
    )
}

/// The simulator and the pipeline over it.
pub type Desk = crate::desks::Desk<SimHandle>;

impl Desk {
    /// The simulator from `builder` and pipeline `drill` over it.
    pub async fn start(builder: SimBuilder, max_attempts: u32) -> Desk {
        let sim = builder.start().await.expect("the simulator starts");
        let yaml = config_yaml(&sim.base_url(), max_attempts, None);
        Desk::new(sim, Run::start(support::OTOBO, "otobo", &yaml))
    }
}

/// otai's notes on a ticket: internal agent articles with a plan.
pub fn otai_notes(sim: &SimHandle, id: u64) -> Vec<Article> {
    sim.articles(id)
        .into_iter()
        .filter(|a| a.body.contains(MARKER))
        .collect()
}

/// The values of the tags field.
pub fn tags(sim: &SimHandle, id: u64) -> Vec<String> {
    let t = sim.ticket(id).expect("the ticket exists");
    match t.dynamic_fields.get(TAGS) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The plan recorded in a note.
fn plan_of(note: &Article) -> Value {
    let line = note
        .body
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(MARKER))
        .expect("a plan line");
    serde_json::from_str(line.trim()).expect("the plan is JSON")
}

/// The invariant checker (module docs of [`super`]).
pub struct Check {
    /// Tickets an agent routed before otai ran, with their queue.
    pub routed_by_hand: BTreeMap<u64, String>,
    /// Every ticket checked.
    pub ids: BTreeSet<u64>,
}

impl Check {
    /// The checker for the tickets the simulator holds now.
    pub fn before(sim: &SimHandle) -> Check {
        let mut routed_by_hand = BTreeMap::new();
        let mut ids = BTreeSet::new();
        for t in sim.tickets() {
            if t.queue != INBOX && t.queue != DEMO_INBOX {
                routed_by_hand.insert(t.id, t.queue.clone());
            }
            ids.insert(t.id);
        }
        Check {
            routed_by_hand,
            ids,
        }
    }

    /// Every ticket's fate; panics naming the ticket and what is wrong.
    pub fn run(&self, sim: &SimHandle) -> Fates {
        self.ids
            .iter()
            .map(|id| (*id, self.ticket(sim, *id)))
            .collect()
    }

    fn ticket(&self, sim: &SimHandle, id: u64) -> Fate {
        let t = sim.ticket(id).expect("the ticket exists");
        let tags = tags(sim, id);
        let unique: BTreeSet<&String> = tags.iter().collect();
        assert_eq!(
            unique.len(),
            tags.len(),
            "ticket {id}: duplicate tags {tags:?}"
        );
        let has = |tag: &str| tags.iter().any(|t| t == tag);
        let notes = otai_notes(sim, id);
        for note in &notes {
            assert!(
                !note.is_visible_for_customer,
                "ticket {id}: otai's note is visible to the customer"
            );
            assert_eq!(note.sender_type, "agent", "ticket {id}: {note:?}");
        }
        let classified: Vec<&Article> = notes
            .iter()
            .filter(|n| {
                plan_of(n)["tags"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|t| t == PROCESSED))
            })
            .collect();
        assert!(
            classified.len() <= 1,
            "ticket {id}: {} classification notes",
            classified.len()
        );
        if has(ROUTED) {
            let queue = self
                .routed_by_hand
                .get(&id)
                .unwrap_or_else(|| panic!("ticket {id}: {ROUTED} on an inbox ticket"));
            assert!(
                notes.is_empty(),
                "ticket {id}: a note on a ticket routed by hand"
            );
            assert_eq!(
                &t.queue, queue,
                "ticket {id}: the agent's queue was changed"
            );
            return Fate::Routed;
        }
        if has(PROCESSED) {
            let note = classified
                .first()
                .unwrap_or_else(|| panic!("ticket {id}: processed without its note"));
            let plan = plan_of(note);
            for promised in plan["tags"].as_array().unwrap() {
                assert!(
                    has(promised.as_str().unwrap()),
                    "ticket {id}: the plan promises {promised}, the ticket has {tags:?}"
                );
            }
            if let Some(queue) = plan["queue"].as_str() {
                assert_eq!(
                    t.queue, queue,
                    "ticket {id}: the plan's queue is not the ticket's"
                );
            }
            if let Some(priority) = plan["priority"].as_str() {
                assert_eq!(
                    t.priority, priority,
                    "ticket {id}: the plan's priority is not the ticket's"
                );
            }
            assert!(
                !self.routed_by_hand.contains_key(&id),
                "ticket {id}: otai routed an agent's ticket"
            );
            return Fate::Written;
        }
        if has(FAILED) {
            assert!(!notes.is_empty(), "ticket {id}: failed without its note");
            return Fate::MarkedFailed;
        }
        // No outcome tag: a note here is a write left half done.
        assert!(
            notes.is_empty(),
            "ticket {id}: otai's note without its tags (a write left half done): {tags:?}"
        );
        Fate::Untouched
    }
}

/// The standard seed ends written (one per text) and routed (the agent's).
pub fn assert_all_done(fates: &Fates) {
    assert_eq!(count(fates, Fate::Written), TEXTS.len(), "{fates:?}");
    assert_eq!(count(fates, Fate::Routed), ROUTED_BY_HAND, "{fates:?}");
}
