//! The simulated Freshdesk for the end-to-end tests, the pipeline over it, and the invariant
//! checker.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use otai_freshdesk_sim::{Conversation, Plan, SimBuilder, SimHandle, Simulator, API_AGENT_ID};
use serde_json::{json, Value};

pub use crate::desks::{count, Fate, Fates};
use crate::{desks::Run, support};

pub const PROCESSED: &str = "otai_processed";
pub const FAILED: &str = "otai_failed";
/// The line otai's notes end with (the plan of the write).
pub const MARKER: &str = "[otai] plan:";
/// A tag customers' tickets carry before otai sees them: it must survive otai's tag merge.
pub const CUSTOMER_TAG: &str = "web_form";

/// Customer requests, one per seeded ticket.
pub const TEXTS: &[&str] = support::DRILL_TEXTS;

/// How many tickets an agent already routed (into `Billing`): not otai's `new`.
pub const ROUTED_BY_HAND: usize = 2;

/// The standard seed: one new ticket (Open, no group, no agent) per text, with a customer's tag,
/// and tickets an agent already put into Billing.
pub fn standard_tickets() -> Vec<Value> {
    let mut tickets: Vec<Value> = TEXTS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"subject": format!("Request {i}"), "description": text, "status": 2,
                   "priority": 1, "tags": [CUSTOMER_TAG],
                   "requester": format!("customer{i}@example.com")})
        })
        .collect();
    for _ in 0..ROUTED_BY_HAND {
        tickets.push(
            json!({"subject": "Invoice", "description": "Please send me last month's invoice",
                            "status": 2, "priority": 2, "group": "Billing"}),
        );
    }
    tickets
}

/// A simulator with the demo model's groups and `tickets`, on `plan`.
pub fn sim_builder(tickets: Vec<Value>, plan: Plan) -> SimBuilder {
    Simulator::builder()
        .groups(support::BANKING_GROUPS)
        .tickets(tickets)
        .plan(plan)
}

/// The demo model; these tests fail (never skip) without it.
pub fn model_dir() -> PathBuf {
    support::demo_model("the Freshdesk end-to-end tests need")
}

/// A config with the simulator at `base_url`, the adapter's `params` (YAML lines, indented six
/// spaces) and one pipeline `drill`.
pub fn config_yaml(
    base_url: &str,
    max_attempts: u32,
    state_file: Option<&Path>,
    params: &str,
) -> String {
    let state_file = state_file.map_or("null".to_string(), |p| p.display().to_string());
    format!(
        r#"
ticket_systems:
  freshdesk:
    use: otai_freshdesk:FreshdeskTicketsystemService
    call_timeout: 300
    params:
      base_url: {base_url}
      api_key: sim-api-key
      timeout: 5
{params}
pipelines:
  drill:
    ticket_system: freshdesk
    model: {model}
    interval: 1
    inbox_queues: []
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
    /// The simulator from `builder` and pipeline `drill` over it, with the adapter's `params`.
    pub async fn start(builder: SimBuilder, max_attempts: u32, params: &str) -> Desk {
        let sim = builder.start().await.expect("the simulator starts");
        let yaml = config_yaml(&sim.base_url(), max_attempts, None, params);
        Desk::new(sim, Run::start(support::FRESHDESK, "freshdesk", &yaml))
    }
}

/// otai's notes on a ticket: private notes of the API agent with a plan.
pub fn otai_notes(sim: &SimHandle, id: u64) -> Vec<Conversation> {
    sim.conversations(id)
        .into_iter()
        .filter(|c| c.user_id == API_AGENT_ID && c.body_text.contains(MARKER))
        .collect()
}

/// The plan recorded in a note.
pub fn plan_of(note: &Conversation) -> Value {
    let line = note
        .body_text
        .lines()
        .rev()
        .find_map(|l| {
            l.split_once(MARKER)
                .map(|(_, plan)| plan.trim().to_string())
        })
        .expect("a plan line");
    serde_json::from_str(&line).expect("the plan is JSON")
}

/// Tickets with otai's note but without its processed or failed tag: a write between its halves.
pub fn half_done(sim: &SimHandle) -> usize {
    sim.tickets()
        .iter()
        .filter(|t| {
            !otai_notes(sim, t.id).is_empty()
                && !t.tags.iter().any(|x| x == PROCESSED || x == FAILED)
        })
        .count()
}

/// The invariant checker (module docs of [`super`]).
pub struct Check {
    /// Tickets an agent routed before otai ran, with their group.
    pub routed_by_hand: BTreeMap<u64, Option<u64>>,
    /// Every ticket checked, with its tags before otai ran.
    pub tags_before: BTreeMap<u64, Vec<String>>,
    /// Every ticket checked.
    pub ids: BTreeSet<u64>,
}

impl Check {
    /// The checker for the tickets the simulator holds now.
    pub fn before(sim: &SimHandle) -> Check {
        let mut check = Check {
            routed_by_hand: BTreeMap::new(),
            tags_before: BTreeMap::new(),
            ids: BTreeSet::new(),
        };
        for t in sim.tickets() {
            if t.group_id.is_some() {
                check.routed_by_hand.insert(t.id, t.group_id);
            }
            check.tags_before.insert(t.id, t.tags.clone());
            check.ids.insert(t.id);
        }
        check
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
        let unique: BTreeSet<String> = t.tags.iter().map(|s| s.to_lowercase()).collect();
        assert_eq!(
            unique.len(),
            t.tags.len(),
            "ticket {id}: duplicate tags {:?}",
            t.tags
        );
        let has = |tag: &str| t.tags.iter().any(|x| x.eq_ignore_ascii_case(tag));
        for kept in &self.tags_before[&id] {
            assert!(
                has(kept),
                "ticket {id}: the tag {kept} was dropped: {:?}",
                t.tags
            );
        }
        let notes = otai_notes(sim, id);
        for note in &notes {
            assert!(note.private, "ticket {id}: otai's note is public");
        }
        let classified: Vec<&Conversation> = notes
            .iter()
            .filter(|n| {
                plan_of(n)["add_tags"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|t| t == PROCESSED))
            })
            .collect();
        assert!(
            classified.len() <= 1,
            "ticket {id}: {} classification notes",
            classified.len()
        );
        if let Some(group) = self.routed_by_hand.get(&id) {
            assert!(
                notes.is_empty(),
                "ticket {id}: a note on a ticket an agent routed"
            );
            assert_eq!(
                &t.group_id, group,
                "ticket {id}: the agent's group was changed"
            );
            return Fate::Untouched;
        }
        if has(PROCESSED) {
            let note = classified
                .first()
                .unwrap_or_else(|| panic!("ticket {id}: processed without its note"));
            let plan = plan_of(note);
            for promised in plan["add_tags"].as_array().unwrap() {
                assert!(
                    has(promised.as_str().unwrap()),
                    "ticket {id}: the plan promises {promised}, the ticket has {:?}",
                    t.tags
                );
            }
            if let Some(group) = plan["group_id"].as_u64() {
                assert_eq!(
                    t.group_id,
                    Some(group),
                    "ticket {id}: the plan's group is not the ticket's"
                );
            }
            if let Some(priority) = plan["priority"].as_u64() {
                assert_eq!(
                    u64::from(t.priority),
                    priority,
                    "ticket {id}: the plan's priority"
                );
            }
            return Fate::Written;
        }
        if has(FAILED) {
            assert!(!notes.is_empty(), "ticket {id}: failed without its note");
            return Fate::MarkedFailed;
        }
        assert!(
            notes.is_empty(),
            "ticket {id}: otai's note without its write (left half done): {:?}",
            t.tags
        );
        Fate::Untouched
    }
}

/// The standard seed ends written (one per text), the agents' tickets untouched.
pub fn assert_all_done(fates: &Fates) {
    assert_eq!(count(fates, Fate::Written), TEXTS.len(), "{fates:?}");
    assert_eq!(count(fates, Fate::Untouched), ROUTED_BY_HAND, "{fates:?}");
}
