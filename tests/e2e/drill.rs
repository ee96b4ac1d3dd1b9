//! The fault drill: the routing pipeline against the Zendesk simulator (`otai-zendesk-sim`) on a
//! bad day at Zendesk, proving that nothing is lost or mangled.
//!
//! Every scenario runs the real `libotai_zendesk.so` through the real loader and the real
//! BANKING77 model, against a simulator on 127.0.0.1 with seeded faults, for a bounded number of
//! passes (never a wall-clock bound), then hands the simulator's record to [`Check`], the shared
//! invariant checker. For EVERY seeded ticket it demands one of:
//! - **written once**: exactly one otai write, carrying group, priority, tags, the processed tag
//!   and the internal note together (atomic), guarded by `updated_at`; exactly one otai note;
//! - **tagged failed**: exactly one otai write, the failed tag with its note naming the bounded
//!   attempts, nothing else (no group, no priority);
//! - **routed**: (routed-by-hand tickets only) exactly one otai write adding only the routed tag;
//! - **untouched and reported**: no otai write at all, and the pass reports say so (a non-written
//!   outcome for the ticket, or a pass that failed as a whole).
//!
//! And always: no partial write (a tag without its group, a note without its processed tag), no
//! duplicate tags or notes, the seeded tags kept, every tag a simulated agent added kept, and no
//! pass report claiming a write that the simulator did not record.
//!
//! Scenarios: 429 bursts, a spent rate budget, 5xx on reads and writes, 409 conflicts from a
//! concurrent agent, agent edits in the same second as otai's read (one-second `updated_at`), failed bulk-job items, otai killed mid-pass (SIGKILL) and restarted, timeouts,
//! malformed and truncated bodies, stalled jobs, dropped connections, and bad input (empty and
//! huge bodies, HTML, emoji, no subject, unknown statuses, ids beyond 32 and 53 bits).
//!
//! Timing: the adapter polls a job for the first time after 1 s, so each pass with a write takes
//! about a second; the simulator's job delays are a few milliseconds, retry backoffs are 0.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use otai::{
    classifier::{Classifier, ClassifierOptions},
    config::Config,
    pipeline::{pass::PassFailure, PassReport, Pipeline, Stop, TicketReport, WriteResult},
    plugins::PluginRegistry,
};
use otai_zendesk_sim::{
    Fault, FaultRule, Faults, JobFaults, Latency, OAuthClient, SimBuilder, SimHandle, Simulator,
    WriteRecord, API_USER_ID, DEFAULT_EMAIL, DEFAULT_TOKEN,
};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::{
    desks::{kill_when, otai_once, runs_until_quiet},
    support,
};

const PROCESSED: &str = "otai_processed";
const FAILED: &str = "otai_failed";
const ROUTED: &str = "otai_routed";
const CLASSIFIED_NOTE: &str = "otai classified this ticket (model banking77):";
/// The tag the simulated agent adds in the conflict scenario.
const AGENT_TAG: &str = "agent_was_here";

/// BANKING77-style requests: what the unrouted seeded tickets say.
const TEXTS: &[&str] = support::DRILL_TEXTS;

/// The demo model's queues mapped to group names, plus the fallback, an inbox and a group that
/// means "routed by hand".
const GROUPS: &[&str] = &[
    "Cards",
    "Card payments",
    "Disputes",
    "Transfers",
    "Top-ups",
    "Cash and ATM",
    "Exchange",
    "Account security",
    "Unclassified",
    "Billing",
];
const INBOX_ID: u64 = 360_000_000_900;

/// Ids of the standard seed: ten unrouted tickets, two routed by hand (in Billing).
fn unrouted_ids() -> Vec<u64> {
    (0..TEXTS.len() as u64).map(|i| 1001 + i).collect()
}
const ROUTED_IDS: [u64; 2] = [2001, 2002];

/// The demo model; the drill needs it and fails (never skips) without it.
fn model_dir() -> PathBuf {
    support::demo_model("the fault drill needs")
}

/// The standard seed: ten unrouted tickets (one in the inbox group, two with a customer tag),
/// two routed by hand.
fn standard_tickets() -> Vec<Value> {
    let mut tickets: Vec<Value> = unrouted_ids()
        .into_iter()
        .zip(TEXTS)
        .enumerate()
        .map(|(i, (id, text))| {
            let mut t = json!({
                "id": id, "subject": format!("Request {i}"), "description": text,
                "status": "new", "requester": format!("customer{i}@example.com"),
            });
            if i % 5 == 0 {
                t["tags"] = json!(["vip"]);
            }
            if i == 3 {
                t["group_id"] = json!(INBOX_ID);
            }
            t
        })
        .collect();
    for id in ROUTED_IDS {
        tickets.push(json!({
            "id": id, "subject": "Invoice", "description": "Please send me last month's invoice",
            "status": "new", "group": "Billing", "requester": "billing@example.com",
        }));
    }
    tickets
}

/// A simulator builder with the drill's groups, short job delays and the given tickets.
fn sim_builder(tickets: Vec<Value>) -> SimBuilder {
    Simulator::builder()
        .groups(GROUPS)
        .group_objects(vec![json!({"id": INBOX_ID, "name": "Inbox"})])
        .tickets(tickets)
        .job_delays(Duration::from_millis(5), Duration::from_millis(5))
}

/// Settings of one drill run.
#[derive(Debug, Clone)]
struct Knobs {
    /// The adapter's per-request timeout (s).
    timeout: f64,
    /// The adapter's job polling budget (s).
    job_timeout: f64,
    /// Longest `Retry-After` the adapter waits for (s).
    max_retry_wait: f64,
    /// Write attempts per ticket before the failed tag.
    max_attempts: u32,
    /// Tickets per pass.
    limit: usize,
    /// Tickets per `update_many` batch.
    write_batch: usize,
    /// `fetch.statuses`, as YAML.
    statuses: &'static str,
    /// The state file (the binary only); `null` keeps attempts in memory.
    state_file: Option<PathBuf>,
    /// Authenticate as the OAuth client [`OAUTH_CLIENT`] instead of with the API token.
    oauth: bool,
}

/// The OAuth client id and secret of the drills that use OAuth.
const OAUTH_CLIENT: (&str, &str) = ("otai-drill", "drill-client-secret");

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            timeout: 10.0,
            job_timeout: 20.0,
            max_retry_wait: 3.0,
            max_attempts: 3,
            limit: 100,
            write_batch: 100,
            statuses: "[new]",
            state_file: None,
            oauth: false,
        }
    }
}

fn config_yaml(base_url: &str, k: &Knobs) -> String {
    let state_file = match &k.state_file {
        Some(p) => p.display().to_string(),
        None => "null".to_string(),
    };
    let auth = if k.oauth {
        format!(
            "oauth: {{client_id: {}, client_secret: {}}}",
            OAUTH_CLIENT.0, OAUTH_CLIENT.1
        )
    } else {
        format!("email: {DEFAULT_EMAIL}\n      api_token: {DEFAULT_TOKEN}")
    };
    format!(
        r#"
ticket_systems:
  zendesk:
    use: otai_zendesk:ZendeskTicketsystemService
    call_timeout: 120
    params:
      base_url: {base_url}
      {auth}
      timeout: {timeout}
      max_retry_wait: {max_retry_wait}
      job_timeout: {job_timeout}
pipelines:
  drill:
    ticket_system: zendesk
    model: {model}
    interval: 1
    inbox_queues: ["Inbox", "{INBOX_ID}"]
    fetch:
      statuses: {statuses}
      limit: {limit}
    write_batch: {write_batch}
    retry: {{max_attempts: {max_attempts}, backoff: 0}}
    state_file: {state_file}
{fields}"#,
        fields = support::BANKING_FIELDS_YAML,
        timeout = k.timeout,
        max_retry_wait = k.max_retry_wait,
        job_timeout = k.job_timeout,
        model = model_dir().display(),
        statuses = k.statuses,
        limit = k.limit,
        write_batch = k.write_batch,
        max_attempts = k.max_attempts,
    )
}

/// One drill: the simulator, the pipeline under test and every pass report so far.
struct Drill {
    sim: SimHandle,
    pipeline: Pipeline,
    reports: Vec<PassReport>,
    knobs: Knobs,
    _plugins: TempDir,
}

impl Drill {
    async fn start(builder: SimBuilder, knobs: Knobs) -> Drill {
        let sim = builder.start().await.expect("the simulator starts");
        let plugins = support::plugins_dir(&[support::ZENDESK]);
        let yaml = config_yaml(sim.base_url(), &knobs);
        let config = Config::parse(&yaml, Path::new("drill.yml"), &|_| Ok(None))
            .expect("the drill configuration loads");
        let p = config.pipelines["drill"].clone();
        let labels = otai::pipeline::model_labels(&p.model, "queue").expect("model labels");
        assert!(otai::pipeline::check_against_model(&p, &labels).is_empty());
        let registry = PluginRegistry::load(plugins.path());
        assert!(registry.failures().is_empty(), "{:?}", registry.failures());
        let system = registry.ticket_system(&config, "zendesk").unwrap();
        let classifier = Classifier::load(&p.model, &ClassifierOptions::default())
            .expect("the demo model loads through ONNX Runtime");
        Drill {
            sim,
            pipeline: Pipeline::new(p, system, Arc::new(classifier)),
            reports: Vec::new(),
            knobs,
            _plugins: plugins,
        }
    }

    /// One pass; its report is kept (and printed: `--nocapture` shows the drill's story).
    async fn pass(&mut self) -> &PassReport {
        let report = self.pipeline.pass(false, &Stop::never()).await;
        println!("pass {}: {report}", self.reports.len() + 1);
        self.reports.push(report);
        self.reports.last().unwrap()
    }

    /// `n` passes.
    async fn passes(&mut self, n: usize) {
        for _ in 0..n {
            self.pass().await;
        }
    }

    /// Passes until one fetches nothing and fails nothing, at most `max`; whether it got there.
    async fn passes_until_quiet(&mut self, max: usize) -> bool {
        for _ in 0..max {
            let r = self.pass().await;
            if r.failure.is_none() && r.summary.fetched == 0 {
                return true;
            }
        }
        false
    }

    /// The standard seed's checker over the reports so far.
    fn check(&self) -> Fates {
        Check::standard(&self.sim, &self.reports, self.knobs.max_attempts).run()
    }

    /// Sums a count over every pass so far.
    fn total(&self, f: impl Fn(&PassReport) -> usize) -> usize {
        self.reports.iter().map(f).sum()
    }

    async fn shutdown(self) {
        self.sim.shutdown().await;
    }
}

/// What otai did to a ticket, as the simulator recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fate {
    /// Classified and written once (group, priority, tags, processed tag, note together).
    Written,
    /// Tagged failed once, with its note.
    MarkedFailed,
    /// Routed by hand: only the routed tag, once.
    Routed,
    /// No otai write; reported.
    Untouched,
}

type Fates = BTreeMap<u64, Fate>;

/// How many tickets met each fate.
fn count(fates: &Fates, fate: Fate) -> usize {
    fates.values().filter(|f| **f == fate).count()
}

/// The invariant checker.
struct Check<'a> {
    sim: &'a SimHandle,
    /// Every seeded ticket: its id, whether it is routed by hand, its seeded tags.
    tickets: Vec<(u64, bool, Vec<String>)>,
    /// Tickets outside the pipeline's query (never fetched, must be untouched).
    outside: BTreeSet<u64>,
    /// The pass reports; empty when the run happened in another process.
    reports: &'a [PassReport],
    max_attempts: u32,
}

impl<'a> Check<'a> {
    fn standard(sim: &'a SimHandle, reports: &'a [PassReport], max_attempts: u32) -> Check<'a> {
        let mut tickets: Vec<(u64, bool, Vec<String>)> = unrouted_ids()
            .into_iter()
            .enumerate()
            .map(|(i, id)| {
                let tags = if i % 5 == 0 {
                    vec!["vip".into()]
                } else {
                    vec![]
                };
                (id, false, tags)
            })
            .collect();
        tickets.extend(ROUTED_IDS.iter().map(|id| (*id, true, vec![])));
        Check {
            sim,
            tickets,
            outside: BTreeSet::new(),
            reports,
            max_attempts,
        }
    }

    /// Checks every ticket and returns each one's fate; panics naming the ticket and what is
    /// wrong, with its whole write history.
    fn run(&self) -> Fates {
        let mut fates = Fates::new();
        for (id, routed, seeded_tags) in &self.tickets {
            let fate = self.ticket(*id, *routed, seeded_tags);
            fates.insert(*id, fate);
        }
        self.reports_tell_the_truth(&fates);
        fates
    }

    fn ticket(&self, id: u64, routed: bool, seeded_tags: &[String]) -> Fate {
        let writes = self.sim.writes(id);
        let history = || {
            writes
                .iter()
                .map(|w| format!("{w:?}"))
                .collect::<Vec<_>>()
                .join("\n  ")
        };
        let ticket = self
            .sim
            .ticket(id)
            .unwrap_or_else(|| panic!("ticket {id} is in the simulator"));
        let (agent, ours): (Vec<&WriteRecord>, Vec<&WriteRecord>) =
            writes.iter().partition(|w| w.endpoint == "agent");
        assert!(
            ours.len() <= 1,
            "ticket {id}: written {} times by otai (at most once):\n  {}",
            ours.len(),
            history()
        );

        // No duplicate tags, the seeded ones and every agent's kept.
        let tags = &ticket.tags;
        let unique: BTreeSet<&String> = tags.iter().collect();
        assert_eq!(
            unique.len(),
            tags.len(),
            "ticket {id}: duplicate tags {tags:?}"
        );
        for t in seeded_tags {
            assert!(
                tags.contains(t),
                "ticket {id}: seeded tag {t} lost: {tags:?}"
            );
        }
        for w in &agent {
            for t in &w.tags_added {
                assert!(
                    tags.contains(t),
                    "ticket {id}: the agent's tag {t} was clobbered: {tags:?}\n  {}",
                    history()
                );
            }
        }

        // otai's notes: internal comments by the API user after the description.
        let notes: Vec<String> = self
            .sim
            .comments(id)
            .iter()
            .skip(1)
            .filter(|c| c.author_id == API_USER_ID)
            .map(|c| {
                assert!(!c.public, "ticket {id}: otai's note is public: {}", c.body);
                c.body.clone()
            })
            .collect();
        let marker = |t: &str| tags.iter().filter(|x| *x == t).count();

        let Some(w) = ours.first() else {
            assert!(
                notes.is_empty(),
                "ticket {id}: notes without a write: {notes:?}"
            );
            for t in [PROCESSED, FAILED, ROUTED] {
                assert_eq!(marker(t), 0, "ticket {id}: tag {t} without a write");
            }
            self.untouched_is_reported(id);
            return Fate::Untouched;
        };
        assert!(
            !self.outside.contains(&id),
            "ticket {id} is outside the query but was written:\n  {}",
            history()
        );
        assert!(
            w.safe_update,
            "ticket {id}: otai's write is not guarded by updated_at: {w:?}"
        );
        let changed = |field: &str| w.changes.iter().find(|c| c.field == field);
        let added = |t: &str| w.tags_added.iter().any(|x| x == t);
        let kinds = [added(PROCESSED), added(FAILED), added(ROUTED)];
        assert_eq!(
            kinds.iter().filter(|k| **k).count(),
            1,
            "ticket {id}: otai's write adds not exactly one of {PROCESSED}, {FAILED}, {ROUTED} (a partial write): {w:?}"
        );
        let note = w.comment.as_ref().map(|c| c.body.clone());
        if added(ROUTED) {
            assert!(
                routed,
                "ticket {id}: {ROUTED} on a ticket not routed by hand"
            );
            assert_eq!(w.tags_added, vec![ROUTED.to_string()], "ticket {id}: {w:?}");
            assert!(
                w.comment.is_none() && w.changes.iter().all(|c| c.field == "tags"),
                "ticket {id}: a routed ticket got more than its tag: {w:?}"
            );
            assert!(notes.is_empty(), "ticket {id}: notes {notes:?}");
            assert_eq!(marker(ROUTED), 1, "ticket {id}: {tags:?}");
            return Fate::Routed;
        }
        assert!(
            !routed,
            "ticket {id} is routed by hand but otai wrote {w:?}"
        );
        assert_eq!(
            notes.len(),
            1,
            "ticket {id}: {} otai notes (exactly one): {notes:?}",
            notes.len()
        );
        assert_eq!(
            note.as_deref(),
            Some(notes[0].as_str()),
            "ticket {id}: the note is not the write's own"
        );
        let comment = w.comment.as_ref().unwrap();
        assert!(!comment.public, "ticket {id}: public note");
        if added(PROCESSED) {
            assert!(
                notes[0].starts_with(CLASSIFIED_NOTE),
                "ticket {id}: {}",
                notes[0]
            );
            let group = changed("group_id").unwrap_or_else(|| {
                panic!("ticket {id}: processed without its group (a partial write): {w:?}")
            });
            assert!(
                changed("priority").is_some(),
                "ticket {id}: processed without its priority (a partial write): {w:?}"
            );
            assert_eq!(
                serde_json::json!(ticket.group_id),
                group.to,
                "ticket {id}: the group otai set is gone"
            );
            for t in &w.tags_added {
                assert!(tags.contains(t), "ticket {id}: otai's tag {t} is gone");
            }
            assert_eq!(marker(PROCESSED), 1, "ticket {id}: {tags:?}");
            assert_eq!(marker(FAILED) + marker(ROUTED), 0, "ticket {id}: {tags:?}");
            Fate::Written
        } else {
            let expected = format!(
                "otai could not write its classification to this ticket after {} attempts",
                self.max_attempts
            );
            assert!(
                notes[0].starts_with(&expected),
                "ticket {id}: failed note: {}",
                notes[0]
            );
            assert_eq!(w.tags_added, vec![FAILED.to_string()], "ticket {id}: {w:?}");
            assert!(
                changed("group_id").is_none() && changed("priority").is_none(),
                "ticket {id}: tagged failed but also routed: {w:?}"
            );
            assert_eq!(marker(FAILED), 1, "ticket {id}: {tags:?}");
            assert_eq!(
                marker(PROCESSED) + marker(ROUTED),
                0,
                "ticket {id}: {tags:?}"
            );
            Fate::MarkedFailed
        }
    }

    /// An untouched ticket inside the query must be reported: a non-written outcome for it in
    /// some pass, or a pass that failed as a whole.
    fn untouched_is_reported(&self, id: u64) {
        if self.reports.is_empty() || self.outside.contains(&id) {
            return;
        }
        let key = id.to_string();
        let outcome = self.reports.iter().rev().find_map(|r| {
            r.tickets
                .iter()
                .find(|t| t.id() == key)
                .map(|t| (result_of(t), r))
        });
        let whole_pass_failed = self
            .reports
            .iter()
            .any(|r| matches!(r.failure, Some(PassFailure::Fetch(_))));
        match outcome {
            Some((Some(WriteResult::Written), _)) => {
                panic!("ticket {id}: reported written, but the simulator recorded no otai write")
            }
            Some(_) => {}
            None => assert!(
                whole_pass_failed,
                "ticket {id}: untouched and never reported (lost)"
            ),
        }
    }

    /// No report claims a write the simulator does not have (of that kind).
    fn reports_tell_the_truth(&self, fates: &Fates) {
        for (n, r) in self.reports.iter().enumerate() {
            for t in &r.tickets {
                if result_of(t) != Some(WriteResult::Written) {
                    continue;
                }
                let Ok(id) = t.id().parse::<u64>() else {
                    panic!(
                        "pass {}: a ticket id that is not a number: {}",
                        n + 1,
                        t.id()
                    )
                };
                let expected = match t {
                    TicketReport::Decided { .. } => Fate::Written,
                    TicketReport::MarkFailed { .. } => Fate::MarkedFailed,
                    TicketReport::Routed { .. } => Fate::Routed,
                    TicketReport::Waiting { .. } | TicketReport::Echo { .. } => continue,
                };
                if let Some(fate) = fates.get(&id) {
                    assert_eq!(
                        *fate,
                        expected,
                        "pass {}: ticket {id} reported written as {expected:?}, but the simulator has {fate:?}",
                        n + 1
                    );
                }
            }
        }
    }
}

fn result_of(t: &TicketReport) -> Option<WriteResult> {
    match t {
        TicketReport::Decided { result, .. }
        | TicketReport::MarkFailed { result, .. }
        | TicketReport::Routed { result, .. } => Some(result.clone()),
        TicketReport::Waiting { .. } | TicketReport::Echo { .. } => None,
    }
}

fn rule(fault: Fault) -> FaultRule {
    FaultRule::always(fault)
}

fn error(status: u16, retry_after: Option<u64>) -> Fault {
    Fault::Error {
        status,
        retry_after,
    }
}

const SEARCH: &str = "/api/v2/search";
const UPDATE_MANY: &str = "/api/v2/tickets/update_many";
const JOB_STATUS: &str = "/api/v2/job_statuses/*";

/// The whole standard seed ends written (10) and routed (2).
fn assert_all_done(fates: &Fates) {
    assert_eq!(count(fates, Fate::Written), TEXTS.len(), "{fates:?}");
    assert_eq!(count(fates, Fate::Routed), ROUTED_IDS.len(), "{fates:?}");
}

// ---------------------------------------------------------------------------------------------
// Rate limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_429_bursts_are_waited_out_within_the_budget() {
    const BUDGET: u32 = 30;
    let faults = Faults {
        seed: 429,
        ..Faults::none()
            .rule(rule(error(429, Some(1))).method("GET").path(SEARCH).next(2))
            .rule(
                rule(error(429, Some(1)))
                    .method("PUT")
                    .path(UPDATE_MANY)
                    .next(1),
            )
    };
    let builder = sim_builder(standard_tickets())
        .rate_limit_per_minute(BUDGET)
        .faults(faults);
    let mut d = Drill::start(
        builder,
        Knobs {
            limit: 6,
            ..Knobs::default()
        },
    )
    .await;

    assert!(d.passes_until_quiet(5).await, "the run settles");

    let fates = d.check();
    assert_all_done(&fates);
    let stats = d.sim.stats();
    assert_eq!(stats.by_status.get(&429), Some(&3), "{stats:?}");
    assert!(
        stats.max_requests_in_60s <= u64::from(BUDGET),
        "accepted requests in a 60 s window: {} > {BUDGET}",
        stats.max_requests_in_60s
    );
    let rate_limited: u64 = d
        .reports
        .iter()
        .filter_map(|r| r.summary.api.map(|a| a.rate_limited))
        .sum();
    assert_eq!(rate_limited, 3, "the reports count the 429 answers");
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_a_spent_rate_budget_ends_the_run_with_a_report_and_nothing_half_written() {
    const BUDGET: u32 = 8;
    let builder = sim_builder(standard_tickets()).rate_limit_per_minute(BUDGET);
    let mut d = Drill::start(
        builder,
        Knobs {
            limit: 4,
            ..Knobs::default()
        },
    )
    .await;

    // About four requests a pass: the budget runs out in the second or third pass; Zendesk then
    // asks to wait most of a minute, longer than max_retry_wait, so calls fail `rate_limited`.
    d.passes(5).await;

    let stats = d.sim.stats();
    assert!(stats.rate_limited > 0, "the budget was spent: {stats:?}");
    assert!(
        stats.max_requests_in_60s <= u64::from(BUDGET),
        "accepted requests in a 60 s window: {} > {BUDGET}",
        stats.max_requests_in_60s
    );
    assert!(
        d.reports.last().unwrap().failure.is_some(),
        "the last pass reports the spent budget: {}",
        d.reports.last().unwrap()
    );
    let fates = d.check();
    assert!(count(&fates, Fate::Written) >= 4, "{fates:?}");
    assert!(count(&fates, Fate::Untouched) > 0, "{fates:?}");

    // The budget comes back (an operator raised it): the rest is written, once.
    d.sim.set_rate_limit_per_minute(0);
    d.passes(3).await;
    let fates = d.check();
    // Tickets whose write was refused with a long Retry-After wait that long before the next try.
    let waiting = d.reports.last().unwrap().summary.waiting;
    assert_eq!(count(&fates, Fate::Untouched), waiting, "{fates:?}");
    assert_eq!(
        count(&fates, Fate::Written) + count(&fates, Fate::Routed) + waiting,
        TEXTS.len() + ROUTED_IDS.len(),
        "{fates:?}"
    );
    d.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Server errors, conflicts, failed job items

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_5xx_on_reads_and_writes() {
    let faults = Faults {
        seed: 500,
        ..Faults::none()
            // Reads: retried by the adapter.
            .rule(rule(error(500, None)).method("GET").path(SEARCH).next(2))
            .rule(
                rule(error(502, None))
                    .method("GET")
                    .path("/api/v2/groups")
                    .next(1),
            )
            .rule(
                rule(error(502, None))
                    .method("GET")
                    .path(JOB_STATUS)
                    .probability(0.3),
            )
            // Writes: a 500 is not retried (the ticket's attempt fails); a 503 is (not processed).
            .rule(
                rule(error(500, None))
                    .method("PUT")
                    .path(UPDATE_MANY)
                    .next(1),
            )
            .rule(
                rule(error(503, Some(0)))
                    .method("PUT")
                    .path(UPDATE_MANY)
                    .next(1),
            )
    };
    let mut d = Drill::start(
        sim_builder(standard_tickets()).faults(faults),
        Knobs::default(),
    )
    .await;

    assert!(d.passes_until_quiet(5).await, "the run settles");

    let first = &d.reports[0];
    assert_eq!(
        first.summary.failed,
        TEXTS.len() + ROUTED_IDS.len(),
        "the 500 on update_many fails every ticket of the batch: {first}"
    );
    assert!(first.failure.is_none(), "{first}");
    let fates = d.check();
    assert_all_done(&fates);
    let stats = d.sim.stats();
    assert!(stats.by_status.get(&500) >= Some(&3), "{stats:?}");
    assert_eq!(stats.by_status.get(&503), Some(&1), "{stats:?}");
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_oauth_tokens_expire_under_passes_and_faults_and_nothing_is_lost_or_sent_twice() {
    let faults = Faults {
        seed: 1,
        ..Faults::none()
            // The token endpoint fails twice and drops once: asking for a token again is harmless.
            .rule(rule(error(503, None)).path("/oauth/tokens").next(2))
            .rule(rule(Fault::Drop).path("/oauth/tokens").next(1))
            // A write refused 500 is one failed attempt, never re-sent blind.
            .rule(
                rule(error(500, None))
                    .method("PUT")
                    .path(UPDATE_MANY)
                    .next(1),
            )
    };
    // One-second tokens and jobs of 1.2 s: every pass outlives a token.
    let builder = sim_builder(standard_tickets())
        .faults(faults)
        .oauth_client(OAuthClient::new(OAUTH_CLIENT.0, OAUTH_CLIENT.1))
        .access_token_lifetime(Duration::from_secs(1))
        .job_delays(Duration::from_millis(600), Duration::from_millis(600));
    let knobs = Knobs {
        oauth: true,
        ..Knobs::default()
    };
    let mut d = Drill::start(builder, knobs).await;

    d.pass().await;
    // Revoked under the next pass: the adapter renews after the 401 and sends the request again.
    d.sim.expire_access_tokens();
    assert!(d.passes_until_quiet(6).await, "the run settles");

    assert!(
        d.reports.iter().all(|r| r.failure.is_none()),
        "no pass failed as a whole"
    );
    let fates = d.check();
    assert_all_done(&fates);
    let oauth = d.sim.oauth_stats();
    println!("drill oauth: {oauth:?}");
    assert!(oauth.tokens_issued >= 3, "{oauth:?}");
    // A 401 after the revocation, or a renewal just before it: timing decides; the 401 path is
    // tested deterministically in the adapter's own tests.
    assert_eq!(oauth.faulted, 3, "{oauth:?}");
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_409_conflicts_from_a_concurrent_agent() {
    let faults = Faults {
        seed: 409,
        ..Faults::none().rule(
            rule(Fault::Conflict {
                tag: Some(AGENT_TAG.into()),
            })
            .method("PUT")
            .path(UPDATE_MANY)
            .next(2),
        )
    };
    // Conflicts are not attempts: two in a row with max_attempts 2 never tag anything failed.
    let mut d = Drill::start(
        sim_builder(standard_tickets()).faults(faults),
        Knobs {
            max_attempts: 2,
            ..Knobs::default()
        },
    )
    .await;

    assert!(d.passes_until_quiet(5).await, "the run settles");

    let all = TEXTS.len() + ROUTED_IDS.len();
    for r in &d.reports[..2] {
        assert_eq!(r.summary.conflicts, all, "{r}");
        assert_eq!(r.summary.written, 0, "{r}");
    }
    assert_eq!(d.reports[2].summary.written, TEXTS.len());
    let fates = d.check();
    assert_all_done(&fates);
    for id in unrouted_ids().into_iter().chain(ROUTED_IDS) {
        let tags = d.sim.ticket(id).unwrap().tags;
        assert!(tags.iter().any(|t| t == AGENT_TAG), "ticket {id}: {tags:?}");
    }
    d.shutdown().await;
}

/// Zendesk's `updated_at` has one-second resolution: an agent who edits a ticket in the same
/// second otai read it leaves the stamp as it was, so a safe update based on that read would
/// pass and overwrite the agent (the full tag set without the agent's tag). The simulator's clock
/// stands still in that second; the agent edits every ticket right after otai's search answered.
/// The adapter reads the tickets again before writing, sees the change behind the unchanged
/// stamp, and writes nothing; a second later everything is written once, the agent's tags kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_agent_edits_in_the_second_otai_read_are_never_overwritten() {
    let mut d = Drill::start(sim_builder(standard_tickets()), Knobs::default()).await;
    let second = 1_900_000_000;
    d.sim.set_clock(Some(second));
    let all: Vec<u64> = unrouted_ids().into_iter().chain(ROUTED_IDS).collect();
    for id in &all {
        // Every ticket last changed in this very second.
        assert!(d.sim.agent_edit(*id, "seen_by_agent"));
    }
    d.sim.set_faults(
        Faults::none().rule(
            rule(Fault::AgentEditAfterRead {
                tag: Some(AGENT_TAG.into()),
            })
            .method("GET")
            .path(SEARCH)
            .next(1),
        ),
    );

    let first = d.pass().await;
    assert_eq!(first.summary.written, 0, "{first}");
    assert_eq!(first.summary.conflicts, all.len(), "{first}");
    d.sim.set_clock(Some(second + 1));
    assert!(d.passes_until_quiet(4).await, "the run settles");

    let fates = d.check();
    assert_all_done(&fates);
    for id in &all {
        let tags = d.sim.ticket(*id).unwrap().tags;
        assert!(
            tags.iter().any(|t| t == AGENT_TAG) && tags.iter().any(|t| t == "seen_by_agent"),
            "ticket {id}: {tags:?}"
        );
    }
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_failed_bulk_job_items_are_retried_then_tagged_failed() {
    let ids = unrouted_ids();
    let (a, b, c) = (ids[1], ids[2], ids[3]);
    let failing = |fail_ids: Vec<u64>, fail_share: f64| Faults {
        seed: 77,
        jobs: JobFaults {
            fail_ids,
            fail_share,
            stall: false,
        },
        ..Faults::none()
    };
    let mut d = Drill::start(
        sim_builder(standard_tickets()).faults(failing(vec![a, b, c], 0.3)),
        Knobs::default(),
    )
    .await;

    // Three passes: a, b and c fail every time and use up their 3 attempts; others fail now and
    // then and are retried.
    d.passes(3).await;
    let fates = d.check();
    for id in [a, b, c] {
        assert_eq!(fates[&id], Fate::Untouched, "ticket {id}");
    }
    // Then only c keeps failing: a and b are tagged failed, c's failed tag cannot be written
    // either, so c stays untouched and is reported every pass.
    d.sim.set_faults(failing(vec![c], 0.0));
    d.passes(3).await;

    let fates = d.check();
    assert_eq!(fates[&a], Fate::MarkedFailed);
    assert_eq!(fates[&b], Fate::MarkedFailed);
    assert_eq!(fates[&c], Fate::Untouched);
    assert_eq!(count(&fates, Fate::Routed), ROUTED_IDS.len(), "{fates:?}");
    assert_eq!(
        count(&fates, Fate::Written) + count(&fates, Fate::MarkedFailed),
        TEXTS.len() - 1,
        "{fates:?}"
    );
    assert!(
        d.total(|r| r.summary.failed) >= 9,
        "a, b, c failed three times each"
    );
    assert!(d.total(|r| r.summary.marked_failed) >= 2);
    let last = d.reports.last().unwrap();
    assert_eq!(
        (
            last.summary.fetched,
            last.summary.to_mark_failed,
            last.summary.failed
        ),
        (1, 1, 1),
        "c, reported: {last}"
    );
    d.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Timeouts, broken bodies, stalled jobs, dropped connections

/// The ids a pass decided or set aside (every ticket it fetched).
fn fetched_ids(r: &PassReport) -> BTreeSet<String> {
    r.tickets.iter().map(|t| t.id().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_timeouts_are_never_blindly_retried() {
    let delay = |path: &str, method: &str| Faults {
        seed: 408,
        ..Faults::none().rule(
            rule(Fault::Delay { ms: 1500 })
                .method(method)
                .path(path)
                .next(1),
        )
    };
    let mut d = Drill::start(
        sim_builder(standard_tickets()).faults(delay(JOB_STATUS, "GET")),
        Knobs {
            timeout: 0.5,
            limit: 6,
            max_attempts: 2,
            ..Knobs::default()
        },
    )
    .await;

    // Pass 1: the job is applied, but polling it times out: unknown.
    let first = d.pass().await;
    assert_eq!(first.summary.unknown, 6, "{first}");
    let first_ids = fetched_ids(first);
    // Pass 2: the update_many itself times out: unknown whether Zendesk got it.
    d.sim.set_faults(delay(UPDATE_MANY, "PUT"));
    let second = d.pass().await;
    assert_eq!(second.summary.unknown, 6, "{second}");
    // Pass 3: the search times out: the pass fails as a whole, and says so.
    d.sim.set_faults(delay(SEARCH, "GET"));
    let third = d.pass().await;
    assert!(
        matches!(third.failure, Some(PassFailure::Fetch(_))),
        "{third}"
    );
    d.sim.set_faults(Faults::none());
    assert!(d.passes_until_quiet(4).await, "the run settles");

    let fates = d.check();
    assert_all_done(&fates);
    // Nothing of pass 1 was sent again: its writes were applied, so no later fetch returned them.
    for r in &d.reports[1..] {
        let again: Vec<_> = fetched_ids(r).intersection(&first_ids).cloned().collect();
        assert!(again.is_empty(), "sent again after a timeout: {again:?}");
    }
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_malformed_and_truncated_bodies() {
    let broken = |fault: Fault, path: &str, method: &str| Faults {
        seed: 400,
        ..Faults::none().rule(rule(fault).method(method).path(path).next(1))
    };
    let mut d = Drill::start(
        sim_builder(standard_tickets()).faults(broken(Fault::Truncate, SEARCH, "GET")),
        Knobs {
            limit: 6,
            ..Knobs::default()
        },
    )
    .await;

    // A truncated search answer: the pass fails as a whole and says so.
    let first = d.pass().await;
    assert!(
        matches!(first.failure, Some(PassFailure::Fetch(_))),
        "{first}"
    );
    // A job status that is not JSON: the job's outcome is unknown (it was applied).
    d.sim
        .set_faults(broken(Fault::Malformed, JOB_STATUS, "GET"));
    let second = d.pass().await;
    assert_eq!(second.summary.unknown, 6, "{second}");
    // The update_many answer cut in half: the job was created (and is applied), so the outcome
    // is unknown, never "failed".
    d.sim
        .set_faults(broken(Fault::Truncate, UPDATE_MANY, "PUT"));
    let third = d.pass().await;
    assert_eq!(third.summary.unknown, 6, "{third}");
    d.sim.set_faults(Faults::none());
    assert!(d.passes_until_quiet(4).await, "the run settles");

    let fates = d.check();
    assert_all_done(&fates);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_stalled_jobs_never_lead_to_a_second_write() {
    let stalled = Faults {
        seed: 1,
        jobs: JobFaults {
            stall: true,
            ..JobFaults::default()
        },
        ..Faults::none()
    };
    let mut d = Drill::start(
        sim_builder(standard_tickets()).faults(stalled),
        Knobs {
            job_timeout: 2.0,
            max_attempts: 2,
            ..Knobs::default()
        },
    )
    .await;

    // Jobs never finish: every write's outcome is unknown; the next pass decides afresh from
    // what it reads (nothing applied), and after two attempts the failed tag is tried, which
    // stalls too.
    d.passes(3).await;
    let all = TEXTS.len() + ROUTED_IDS.len();
    assert_eq!(d.reports[0].summary.unknown, all, "{}", d.reports[0]);
    assert_eq!(d.reports[1].summary.unknown, all, "{}", d.reports[1]);
    assert_eq!(d.reports[2].summary.to_mark_failed, TEXTS.len());
    assert!(d.sim.all_writes().is_empty(), "stalled jobs apply nothing");
    d.check();

    // The jobs wake up, all three queued for the same tickets with the same stamps: the first
    // applied wins each ticket, the others conflict.
    d.sim.set_faults(Faults::none());
    for _ in 0..500 {
        let s = d.sim.stats();
        if s.jobs_completed == s.jobs_submitted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let s = d.sim.stats();
    assert_eq!(s.jobs_completed, s.jobs_submitted, "{s:?}");
    assert!(d.passes_until_quiet(3).await, "the run settles");

    let fates = d.check();
    assert_eq!(
        count(&fates, Fate::Written) + count(&fates, Fate::MarkedFailed),
        TEXTS.len(),
        "{fates:?}"
    );
    assert_eq!(count(&fates, Fate::Routed), ROUTED_IDS.len(), "{fates:?}");
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_dropped_connections() {
    let faults = Faults {
        seed: 0xd20b,
        ..Faults::none()
            .rule(rule(Fault::Drop).method("GET").path(SEARCH).next(1))
            .rule(rule(Fault::Drop).method("GET").path(JOB_STATUS).next(1))
            .rule(rule(Fault::Drop).method("PUT").path(UPDATE_MANY).next(1))
    };
    let mut d = Drill::start(
        sim_builder(standard_tickets()).faults(faults),
        Knobs::default(),
    )
    .await;

    assert!(d.passes_until_quiet(5).await, "the run settles");

    // The dropped update_many is never re-sent blindly: the ticket's attempt fails and the next
    // pass decides from a fresh read.
    let first = &d.reports[0];
    assert_eq!(
        first.summary.failed,
        TEXTS.len() + ROUTED_IDS.len(),
        "{first}"
    );
    let fates = d.check();
    assert_all_done(&fates);
    assert_eq!(d.sim.stats().dropped_connections, 3);
    d.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Killed mid-pass and restarted

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_killed_mid_pass_and_restarted() {
    // Slow enough that a pass is in flight for seconds: three batches of four, each job taking
    // 600 ms, every request 30-50 ms.
    let faults = Faults {
        seed: 9,
        latency: Latency {
            fixed_ms: 30,
            jitter_ms: 20,
        },
        ..Faults::none()
    };
    let sim = sim_builder(standard_tickets())
        .job_delays(Duration::from_millis(300), Duration::from_millis(300))
        .faults(faults)
        .start()
        .await
        .unwrap();
    let plugins = support::plugins_dir(&[support::ZENDESK]);
    let cwd = tempfile::tempdir().unwrap();
    let config = cwd.path().join("drill.yml");
    let knobs = Knobs {
        write_batch: 4,
        state_file: Some(cwd.path().join("state/drill.json")),
        ..Knobs::default()
    };
    std::fs::write(&config, config_yaml(sim.base_url(), &knobs)).unwrap();

    // Run 1 is killed (SIGKILL) once the first update_many reached Zendesk, run 2 once the
    // second did: each time a batch is in flight and the rest of the pass not sent.
    for (run, jobs) in [(1, 1), (2, 2)] {
        let child = otai_once(cwd.path(), &config, plugins.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start otai");
        kill_when(child, run, || sim.stats().jobs_submitted >= jobs).await;
        println!(
            "run {run} killed after {jobs} batch(es); {} writes so far",
            sim.all_writes().len()
        );
    }
    let partial = sim.all_writes().len();
    assert!(partial < TEXTS.len() + ROUTED_IDS.len(), "{partial} writes");

    // Restarted from cron until a run finds nothing left.
    let quiet = runs_until_quiet(cwd.path(), &config, plugins.path(), 3..=6).await;
    assert!(quiet, "the restarted runs settle");

    let fates = Check::standard(&sim, &[], knobs.max_attempts).run();
    assert_all_done(&fates);
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Bad input to otai itself

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_bad_input_is_written_or_reported_never_a_crashed_pass() {
    const ABOVE_2_53: u64 = 9_007_199_254_740_993;
    const DELETED: u64 = 3009;
    // About 3 MB, far beyond any token limit.
    let huge = "My card was stolen yesterday, please block it. ".repeat(64 * 1024);
    assert!(huge.len() > 3_000_000);
    let tickets = vec![
        // Empty body and no subject at all.
        json!({"id": 3001, "description": "", "status": "new"}),
        json!({"id": 3002, "subject": "Stolen card", "description": huge, "status": "new"}),
        json!({"id": 3003, "subject": "<b>Card</b> &amp; fees",
               "description": "<html><body><p>Why was I <b>charged a fee</b> for my transfer?</p>\
                               <script>alert(1)</script></body></html>\u{0}\u{202e}", "status": "new"}),
        json!({"id": 3004, "subject": "💳😱", "description": "My card 💳 was stolen 😱🔥 please help 🙏🏽 👨‍👩‍👧",
               "status": "new"}),
        // A null subject.
        json!({"id": 3005, "subject": null, "description": "How do I activate my card?", "status": "new"}),
        // Statuses otai does not know.
        json!({"id": 3006, "subject": "Archived", "description": "Why was I charged a fee?",
               "status": "archived"}),
        json!({"id": 3007, "subject": "Custom", "description": "My top-up failed",
               "status": "Waiting on Vendor"}),
        // Ids beyond 32 bits, beyond 2^53 (not exact as a double), and u64::MAX.
        json!({"id": ABOVE_2_53, "subject": "Big id", "description": "My transfer has not arrived",
               "status": "new"}),
        json!({"id": u64::MAX, "subject": "Max id",
               "description": "How long does it take for my new card to arrive?", "status": "new"}),
        // Deleted: never found, never written.
        json!({"id": DELETED, "subject": "Gone", "description": "x", "status": "deleted"}),
    ];
    let ids: Vec<u64> = tickets.iter().map(|t| t["id"].as_u64().unwrap()).collect();
    let mut d = Drill::start(
        sim_builder(tickets),
        Knobs {
            // Every status, so the unknown ones are fetched too.
            statuses: "[]",
            ..Knobs::default()
        },
    )
    .await;

    assert!(d.passes_until_quiet(3).await, "the run settles");

    let first = &d.reports[0];
    assert!(first.failure.is_none(), "{first}");
    assert_eq!(first.summary.fetched, ids.len() - 1, "{first}");
    let check = Check {
        sim: &d.sim,
        tickets: ids.iter().map(|id| (*id, false, Vec::new())).collect(),
        outside: BTreeSet::from([DELETED]),
        reports: &d.reports,
        max_attempts: d.knobs.max_attempts,
    };
    let fates = check.run();
    for (id, fate) in &fates {
        let expected = if *id == DELETED {
            Fate::Untouched
        } else {
            Fate::Written
        };
        assert_eq!(*fate, expected, "ticket {id}");
    }
    // The big ids went through exactly (no rounding through a double).
    assert!(d
        .sim
        .ticket(ABOVE_2_53)
        .unwrap()
        .tags
        .iter()
        .any(|t| t == PROCESSED));
    assert!(d
        .sim
        .ticket(u64::MAX)
        .unwrap()
        .tags
        .iter()
        .any(|t| t == PROCESSED));
    assert!(d.sim.ticket(ABOVE_2_53 - 1).is_none());
    d.shutdown().await;
}
