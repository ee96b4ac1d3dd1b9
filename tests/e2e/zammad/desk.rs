//! The simulated Zammad for the end-to-end tests, the pipeline over it, and the invariant checker.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use otai_zammad_sim::{SimBuilder, SimHandle, Simulator};
use serde_json::{json, Value};

pub use crate::desks::{count, Fate, Fates};
use crate::{desks::Run, support};

pub const PROCESSED: &str = "otai_processed";
pub const FAILED: &str = "otai_failed";
pub const ROUTED: &str = "otai_routed";
/// The line otai's notes end with (the adapter's resumption marker).
pub const MARKER: &str = "[otai] tags:";
/// The tag the simulated agent adds.
pub const AGENT_TAG: &str = "sim_agent_edit";

/// Zammad's default group: where new tickets land, otai's inbox.
pub const INBOX: &str = "Users";
/// The demo help desk's own inbox group, also an inbox queue.
pub const DEMO_INBOX: &str = "Inbox";

/// Customer requests, one per seeded ticket.
pub const TEXTS: &[&str] = support::DRILL_TEXTS;

/// How many tickets an agent already routed (in `Billing`).
pub const ROUTED_BY_HAND: usize = 2;

/// The groups: the demo model's queues, the fallback, `Billing` (routed by hand) and the inbox.
pub fn groups() -> Vec<&'static str> {
    let mut g: Vec<&str> = support::BANKING_GROUPS
        .iter()
        .copied()
        .filter(|g| *g != "Inbox")
        .collect();
    g.push(INBOX);
    g
}

/// The standard seed: one ticket per text in the inbox (every fifth with a customer tag `vip`,
/// one as HTML e-mail), and tickets an agent already put into `Billing`.
pub fn standard_tickets() -> Vec<Value> {
    let mut tickets: Vec<Value> = TEXTS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let mut t = json!({"title": format!("Request {i}"), "body": text, "state": "new",
                               "group": INBOX, "priority": "2 normal"});
            if i % 5 == 0 {
                t["tags"] = json!(["vip"]);
            }
            if i == 3 {
                t["body"] = json!(format!("<div><p>{text}</p><p>Thanks!</p></div>"));
                t["content_type"] = json!("text/html");
            }
            t
        })
        .collect();
    for _ in 0..ROUTED_BY_HAND {
        tickets.push(
            json!({"title": "Invoice", "body": "Please send me last month's invoice",
                            "state": "new", "group": "Billing", "priority": "2 normal"}),
        );
    }
    tickets
}

/// A simulator with the groups and `tickets`.
pub fn sim_builder(tickets: Vec<Value>) -> SimBuilder {
    Simulator::builder().groups(&groups()).tickets(tickets)
}

/// The demo model; these tests fail (never skip) without it.
pub fn model_dir() -> PathBuf {
    support::demo_model("the Zammad end-to-end tests need")
}

/// A config with the simulator at `base_url` and one pipeline `drill`.
pub fn config_yaml(base_url: &str, max_attempts: u32, state_file: Option<&Path>) -> String {
    let state_file = state_file.map_or("null".to_string(), |p| p.display().to_string());
    format!(
        r#"
ticket_systems:
  zammad:
    use: otai_zammad:ZammadTicketsystemService
    call_timeout: 120
    params:
      base_url: {base_url}
      http_token: sim-token
      timeout: 5
      max_retry_wait: 2
pipelines:
  drill:
    ticket_system: zammad
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
        Desk::new(sim, Run::start(support::ZAMMAD, "zammad", &yaml))
    }
}

/// The invariant checker over the simulator's state (module docs of [`super`]).
pub struct Check {
    /// Seeded tags per ticket id.
    pub seeded: BTreeMap<u64, Vec<String>>,
    /// Tickets an agent routed before otai ran.
    pub routed_by_hand: BTreeSet<u64>,
}

impl Check {
    /// The checker for the tickets the simulator has now, with their seeded tags as they are
    /// before otai runs.
    pub fn before(sim: &SimHandle, ids: impl IntoIterator<Item = u64>) -> Check {
        let mut seeded = BTreeMap::new();
        let mut routed_by_hand = BTreeSet::new();
        for id in ids {
            let t = sim.ticket(id).expect("seeded ticket");
            if t.group != INBOX && t.group != DEMO_INBOX {
                routed_by_hand.insert(id);
            }
            seeded.insert(id, t.tags.clone());
        }
        Check {
            seeded,
            routed_by_hand,
        }
    }

    /// Every ticket's fate; panics naming the ticket and what is wrong.
    pub fn run(&self, sim: &SimHandle) -> Fates {
        self.seeded
            .iter()
            .map(|(id, seeded)| (*id, self.ticket(sim, *id, seeded)))
            .collect()
    }

    fn ticket(&self, sim: &SimHandle, id: u64, seeded: &[String]) -> Fate {
        let t = sim.ticket(id).expect("the ticket exists");
        let tags = &t.tags;
        let unique: BTreeSet<String> = tags.iter().map(|t| t.to_lowercase()).collect();
        assert_eq!(
            unique.len(),
            tags.len(),
            "ticket {id}: duplicate tags {tags:?}"
        );
        for s in seeded {
            assert!(
                tags.contains(s),
                "ticket {id}: seeded tag {s} lost: {tags:?}"
            );
        }
        let notes: Vec<_> = sim
            .articles(id)
            .into_iter()
            .filter(|a| a.body.contains(MARKER))
            .collect();
        assert!(
            notes.len() <= 1,
            "ticket {id}: {} otai notes (at most one): {:?}",
            notes.len(),
            notes.iter().map(|n| &n.body).collect::<Vec<_>>()
        );
        let has = |tag: &str| tags.iter().any(|t| t == tag);
        let kinds = [has(PROCESSED), has(FAILED), has(ROUTED)];
        assert!(
            kinds.iter().filter(|k| **k).count() <= 1,
            "ticket {id}: more than one of otai's outcome tags: {tags:?}"
        );
        if let Some(note) = notes.first() {
            assert!(
                note.internal,
                "ticket {id}: otai's note is visible to the customer"
            );
            assert_eq!(note.kind, "note", "ticket {id}: {note:?}");
            let line = note
                .body
                .lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix(MARKER))
                .unwrap();
            for promised in line.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                assert!(
                    has(promised),
                    "ticket {id}: the note promises tag {promised}, the ticket has {tags:?} \
                     (a write left half done)"
                );
            }
        }
        if has(ROUTED) {
            assert!(
                self.routed_by_hand.contains(&id),
                "ticket {id}: {ROUTED} on an inbox ticket"
            );
            assert!(
                notes.is_empty(),
                "ticket {id}: a note on a ticket routed by hand"
            );
            assert!(
                sim.writes(id)
                    .iter()
                    .all(|w| !w.changes.iter().any(|c| c.field == "group")),
                "ticket {id}: the agent's group was changed"
            );
            return Fate::Routed;
        }
        if has(PROCESSED) {
            assert!(
                !self.routed_by_hand.contains(&id),
                "ticket {id}: otai routed an agent's ticket"
            );
            assert_eq!(notes.len(), 1, "ticket {id}: processed without its note");
            assert!(
                t.group != INBOX && t.group != DEMO_INBOX,
                "ticket {id}: processed but still in the inbox"
            );
            return Fate::Written;
        }
        if has(FAILED) {
            assert_eq!(notes.len(), 1, "ticket {id}: failed without its note");
            assert!(
                sim.writes(id)
                    .iter()
                    .all(|w| !w.changes.iter().any(|c| c.field == "group")),
                "ticket {id}: tagged failed but routed"
            );
            return Fate::MarkedFailed;
        }
        assert!(
            notes.is_empty(),
            "ticket {id}: a note without otai's tags: {tags:?}"
        );
        Fate::Untouched
    }
}

/// Ids of every ticket the simulator holds.
pub fn all_ids(sim: &SimHandle) -> Vec<u64> {
    sim.tickets().iter().map(|t| t.id).collect()
}

/// The standard seed ends written (one per text) and routed (the agent's).
pub fn assert_all_done(fates: &Fates) {
    assert_eq!(count(fates, Fate::Written), TEXTS.len(), "{fates:?}");
    assert_eq!(count(fates, Fate::Routed), ROUTED_BY_HAND, "{fates:?}");
}
