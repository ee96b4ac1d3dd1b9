//! Pass and run tests against an in-memory help desk and a scripted classifier; the real plugin
//! and model are exercised end to end in `tests/e2e/pipeline.rs`.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::json;

use super::*;
use crate::{
    classifier::{FieldPrediction, LabelScore},
    config::{Config, PipelineConfig},
    ticket::{
        BatchOutcome, BatchUpdate, ErrorKind, Note, Queue, SearchQuery, Ticket, TicketResult,
        TicketSystem, TicketSystemError, TicketUpdate,
    },
};

/// A help desk in memory: finds by excluded tags, oldest first, at most `limit` (as Zendesk's
/// search does), applies updates, fails on request.
#[derive(Debug, Default)]
struct FakeDesk {
    tickets: Mutex<Vec<Ticket>>,
    /// Errors to answer for a ticket's next writes, in order.
    failures: Mutex<HashMap<String, VecDeque<ErrorKind>>>,
    /// Every `update_tickets` call as the ids it carried.
    calls: Mutex<Vec<Vec<BatchUpdate>>>,
    /// Answer every `update_tickets` call with this whole-batch error.
    batch_error: Mutex<Option<ErrorKind>>,
    /// Return every found ticket twice (as a search whose pages overlap may).
    fetch_twice: Mutex<bool>,
    /// Answer the outcomes of each `update_tickets` call in reverse order.
    reverse_outcomes: Mutex<bool>,
    /// Search a snapshot of the tickets taken when this was set, as a search index that lags the
    /// writes does (reads and writes see the live tickets).
    lagging_index: Mutex<Option<Vec<Ticket>>>,
    /// A classification write (one carrying the processed tag) of this ticket fails the whole call
    /// as a panic inside the plugin would.
    poison: Mutex<Option<String>>,
    /// `update_tickets` never answers (the process is killed while the call is in flight).
    hang: Mutex<bool>,
}

impl FakeDesk {
    fn with(tickets: Vec<Ticket>) -> Arc<FakeDesk> {
        Arc::new(FakeDesk {
            tickets: Mutex::new(tickets),
            ..FakeDesk::default()
        })
    }

    fn fail(&self, id: &str, kinds: &[ErrorKind]) {
        self.failures
            .lock()
            .unwrap()
            .insert(id.into(), kinds.iter().copied().collect());
    }

    fn ticket(&self, id: &str) -> Ticket {
        self.tickets
            .lock()
            .unwrap()
            .iter()
            .find(|t| t.id == id)
            .unwrap()
            .clone()
    }

    fn calls(&self) -> Vec<Vec<BatchUpdate>> {
        self.calls.lock().unwrap().clone()
    }

    fn apply(&self, item: &BatchUpdate) -> TicketResult<()> {
        if let Some(kind) = self
            .failures
            .lock()
            .unwrap()
            .get_mut(&item.id)
            .and_then(VecDeque::pop_front)
        {
            return Err(TicketSystemError::new(
                "fake",
                kind,
                format!("{kind} on purpose"),
            ));
        }
        let mut tickets = self.tickets.lock().unwrap();
        let t = tickets.iter_mut().find(|t| t.id == item.id).unwrap();
        let u = &item.update;
        if u.if_unchanged_since.is_some() && u.if_unchanged_since != t.updated_at {
            return Err(TicketSystemError::new(
                "fake",
                ErrorKind::Conflict,
                "changed",
            ));
        }
        if let Some(q) = &u.queue {
            t.queue = Some(q.clone());
        }
        if let Some(p) = &u.priority {
            t.priority = Some(p.clone());
        }
        t.tags.extend(u.add_tags.iter().cloned());
        t.updated_at = Some(format!("{}+", t.updated_at.clone().unwrap_or_default()));
        Ok(())
    }
}

impl TicketSystem for FakeDesk {
    fn name(&self) -> &str {
        "fake"
    }
    fn find_tickets(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Vec<Ticket>>> {
        let index = self.lagging_index.lock().unwrap().clone();
        let mut found: Vec<Ticket> = index
            .unwrap_or_else(|| self.tickets.lock().unwrap().clone())
            .iter()
            .filter(|t| !t.tags.iter().any(|tag| query.tags_none.contains(tag)))
            .take(query.limit.map_or(usize::MAX, |l| l as usize))
            .cloned()
            .collect();
        if *self.fetch_twice.lock().unwrap() {
            found.extend(found.clone());
        }
        Box::pin(async move { Ok(found) })
    }
    fn find_first_ticket(&self, _: SearchQuery) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        Box::pin(async { Ok(None) })
    }
    fn get_ticket(&self, id: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        let found = self
            .tickets
            .lock()
            .unwrap()
            .iter()
            .find(|t| t.id == id)
            .cloned();
        Box::pin(async move { Ok(found) })
    }
    fn update_ticket(&self, _: &str, _: TicketUpdate) -> BoxFuture<'_, TicketResult<Ticket>> {
        unimplemented!("the pipeline writes through update_tickets")
    }
    fn add_note(&self, _: &str, _: Note) -> BoxFuture<'_, TicketResult<()>> {
        unimplemented!()
    }
    fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>> {
        unimplemented!()
    }
    fn update_tickets(
        &self,
        updates: Vec<BatchUpdate>,
    ) -> BoxFuture<'_, TicketResult<Vec<BatchOutcome>>> {
        self.calls.lock().unwrap().push(updates.clone());
        if *self.hang.lock().unwrap() {
            return Box::pin(std::future::pending());
        }
        let poison = self.poison.lock().unwrap().clone();
        let poisoned = updates.iter().any(|u| {
            Some(&u.id) == poison.as_ref()
                && u.update.add_tags.iter().any(|t| t == "otai_processed")
        });
        let batch_error = if poisoned {
            Some(ErrorKind::Panicked)
        } else {
            *self.batch_error.lock().unwrap()
        };
        let result = match batch_error {
            Some(kind) => Err(TicketSystemError::new(
                "fake",
                kind,
                "the whole batch failed",
            )),
            None => {
                let mut outcomes: Vec<BatchOutcome> = updates
                    .iter()
                    .map(|item| BatchOutcome {
                        id: item.id.clone(),
                        result: self.apply(item),
                    })
                    .collect();
                if *self.reverse_outcomes.lock().unwrap() {
                    outcomes.reverse();
                }
                Ok(outcomes)
            }
        };
        Box::pin(async move { result })
    }
}

/// Predicts from the ticket body: `"<queue> <priority> <probability>"`.
#[derive(Debug)]
struct Scripted;

impl Classify for Scripted {
    fn classify<'a>(
        &'a self,
        tickets: &'a [TicketText],
    ) -> BoxFuture<'a, Result<Vec<Prediction>, ClassifierError>> {
        let out = tickets
            .iter()
            .map(|t| {
                let words: Vec<&str> = t.body.split_whitespace().collect();
                let p: f32 = words[2].parse().unwrap();
                let field = |name: &str, label: &str| FieldPrediction {
                    field: name.into(),
                    top: vec![
                        LabelScore {
                            label: label.into(),
                            probability: p,
                        },
                        LabelScore {
                            label: "other".into(),
                            probability: 1.0 - p,
                        },
                    ],
                };
                Prediction {
                    fields: vec![field("queue", words[0]), field("priority", words[1])],
                }
            })
            .collect();
        Box::pin(async move { Ok(out) })
    }
}

fn ticket(id: &str, body: &str) -> Ticket {
    Ticket {
        id: id.into(),
        subject: format!("Ticket {id}"),
        body: body.into(),
        status: "new".into(),
        updated_at: Some("2024-05-01T10:00:00Z".into()),
        ..Ticket::default()
    }
}

const CONFIG: &str = r#"
ticket_systems:
  fake:
    use: fake:Fake
pipelines:
  main:
    ticket_system: fake
    inbox_queues: [Inbox]
    write_batch: 2
    retry: {max_attempts: 2, backoff: 0}
    fields:
      queue: {action: queue, map: {cards: Cards}}
      priority: {action: priority, fallback: normal}
"#;

fn pipeline_config(text: &str) -> PipelineConfig {
    let config = Config::parse(text, Path::new("t.yml"), &|_| Ok(None)).unwrap();
    config.pipelines["main"].clone()
}

fn pipeline(desk: &Arc<FakeDesk>) -> Pipeline {
    Pipeline::new(pipeline_config(CONFIG), desk.clone(), Arc::new(Scripted))
}

#[tokio::test]
async fn a_pass_writes_every_field_and_the_processed_tag_in_one_update_per_ticket() {
    let desk = FakeDesk::with(vec![
        ticket("1", "cards urgent 0.95"),
        ticket("2", "transfers high 0.5"),
    ]);
    let mut p = pipeline(&desk);

    let report = p.pass(false, &Stop::never()).await;

    assert!(report.failure.is_none(), "{report}");
    assert_eq!(report.summary.written, 2);
    let calls = desk.calls();
    assert_eq!(calls.len(), 1, "two tickets fit one batch of 2");
    let first = &calls[0][0];
    assert_eq!(first.id, "1");
    assert_eq!(first.current_tags, Some(vec![]));
    assert_eq!(
        first.update.if_unchanged_since.as_deref(),
        Some("2024-05-01T10:00:00Z")
    );
    assert_eq!(
        first.update.queue.as_ref().unwrap().name.as_deref(),
        Some("Cards")
    );
    assert_eq!(first.update.priority.as_deref(), Some("urgent"));
    assert_eq!(first.update.add_tags, ["otai_processed"]);
    assert!(first.update.note.as_ref().is_some_and(|n| !n.public));
    let second = &calls[0][1].update;
    assert_eq!(second.queue, None, "below the threshold, no fallback");
    assert_eq!(second.priority.as_deref(), Some("normal"), "fallback");
    assert!(desk
        .ticket("2")
        .tags
        .contains(&"otai_processed".to_string()));

    // Processed tickets are not fetched again.
    let again = p.pass(false, &Stop::never()).await;
    assert_eq!(again.summary.fetched, 0);
}

/// What a [`PassProgress`] watcher was told, in order.
#[derive(Debug, Default)]
struct Recorded(Mutex<Vec<String>>);

impl PassProgress for Recorded {
    fn fetched(&self, tickets: usize) {
        self.0.lock().unwrap().push(format!("fetched {tickets}"));
    }
    fn classified(&self, done: usize, of: usize) {
        self.0
            .lock()
            .unwrap()
            .push(format!("classified {done}/{of}"));
    }
    fn written(&self, tickets: usize) {
        self.0.lock().unwrap().push(format!("written {tickets}"));
    }
}

#[tokio::test]
async fn a_watched_pass_reports_its_progress_and_the_report_carries_subjects() {
    let desk = FakeDesk::with(
        (1..=20)
            .map(|i| ticket(&i.to_string(), "cards low 0.9"))
            .collect(),
    );
    let mut config = pipeline_config(CONFIG);
    config.write_batch = 10;
    config.fetch.limit = 20;
    let mut p = Pipeline::new(config, desk.clone(), Arc::new(Scripted));
    let recorded = Arc::new(Recorded::default());
    p.watch_progress(recorded.clone());

    let report = p.pass(false, &Stop::never()).await;

    assert_eq!(report.summary.written, 20, "{report}");
    assert_eq!(
        *recorded.0.lock().unwrap(),
        [
            "fetched 20",
            "classified 0/20",
            &format!("classified {PROGRESS_CHUNK}/20"),
            "classified 20/20",
            "written 10",
            "written 10"
        ]
    );
    assert_eq!(report.subjects.len(), 20);
    assert_eq!(report.subjects["7"], desk.ticket("7").subject);
}

#[tokio::test]
async fn dry_run_decides_and_writes_nothing() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    let mut p = pipeline(&desk);

    let report = p.pass(true, &Stop::never()).await;

    assert!(desk.calls().is_empty());
    assert_eq!(report.summary.not_sent, 1);
    let TicketReport::Decided { decision, result } = &report.tickets[0] else {
        panic!("{:?}", report.tickets)
    };
    assert_eq!(*result, WriteResult::DryRun);
    assert_eq!(decision.outcomes[0].action_text(), "set queue \"Cards\"");
}

#[tokio::test]
async fn writes_go_out_in_batches_of_write_batch() {
    let desk = FakeDesk::with(
        (1..=5)
            .map(|i| ticket(&i.to_string(), "cards low 0.9"))
            .collect(),
    );
    let mut p = pipeline(&desk);

    p.pass(false, &Stop::never()).await;

    let sizes: Vec<usize> = desk.calls().iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
}

#[tokio::test]
async fn one_failing_ticket_does_not_stop_the_others_and_is_tagged_failed_after_its_attempts() {
    let desk = FakeDesk::with(vec![
        ticket("1", "cards urgent 0.95"),
        ticket("2", "cards urgent 0.95"),
        ticket("3", "cards urgent 0.95"),
    ]);
    desk.fail("2", &[ErrorKind::Validation, ErrorKind::Transport]);
    let mut p = pipeline(&desk);

    let first = p.pass(false, &Stop::never()).await;
    assert_eq!((first.summary.written, first.summary.failed), (2, 1));
    assert!(
        first.failure.is_none(),
        "a ticket's failure is not the pass's"
    );

    let second = p.pass(false, &Stop::never()).await;
    assert_eq!(second.summary.fetched, 1, "only ticket 2 is left");
    assert_eq!(second.summary.failed, 1);
    assert!(matches!(
        second.tickets[0],
        TicketReport::Decided {
            result: WriteResult::Failed {
                attempts: 2,
                gave_up: true,
                ..
            },
            ..
        }
    ));

    let third = p.pass(false, &Stop::never()).await;
    assert_eq!(
        third.summary.classified, 0,
        "a ticket given up on is not classified again"
    );
    assert_eq!(third.summary.marked_failed, 1);
    let marked = desk.ticket("2");
    assert_eq!(marked.tags, ["otai_failed"]);
    assert_eq!(marked.queue, None, "the failed mark writes nothing else");
    let last = desk.calls().last().unwrap()[0].update.clone();
    assert!(last.note.unwrap().body.contains("transport error"));

    let fourth = p.pass(false, &Stop::never()).await;
    assert_eq!(
        fourth.summary.fetched, 0,
        "failed tickets are not fetched again"
    );
}

#[tokio::test]
async fn a_ticket_fetched_twice_is_decided_and_written_once() {
    let desk = FakeDesk::with(vec![
        ticket("1", "cards urgent 0.95"),
        ticket("2", "cards urgent 0.95"),
    ]);
    *desk.fetch_twice.lock().unwrap() = true;
    // One batch holds everything: without deduplication ticket 1 went out twice in it, its
    // second write conflicted, and outcomes matched by id credited that conflict to both.
    let text = CONFIG.replace("write_batch: 2", "write_batch: 10");
    let mut p = Pipeline::new(pipeline_config(&text), desk.clone(), Arc::new(Scripted));

    let report = p.pass(false, &Stop::never()).await;

    assert!(report.failure.is_none(), "{report}");
    assert_eq!(report.summary.fetched, 2, "{report}");
    assert_eq!(
        (report.summary.written, report.summary.conflicts),
        (2, 0),
        "{report}"
    );
    let ids: Vec<&str> = report.tickets.iter().map(TicketReport::id).collect();
    assert_eq!(ids, ["1", "2"]);
    let sent: Vec<String> = desk.calls().concat().into_iter().map(|u| u.id).collect();
    assert_eq!(sent, ["1", "2"], "each ticket written once");
}

#[tokio::test]
async fn outcomes_are_paired_by_position_and_a_mismatched_id_is_an_invalid_response() {
    let desk = FakeDesk::with(vec![
        ticket("1", "cards urgent 0.95"),
        ticket("2", "cards urgent 0.95"),
        ticket("3", "cards urgent 0.95"),
    ]);
    *desk.reverse_outcomes.lock().unwrap() = true;
    let text = CONFIG.replace("write_batch: 2", "write_batch: 10");
    let mut p = Pipeline::new(pipeline_config(&text), desk.clone(), Arc::new(Scripted));

    let report = p.pass(false, &Stop::never()).await;

    // Answered 3, 2, 1: only the middle one is where it belongs.
    assert_eq!((report.summary.written, report.summary.failed), (1, 2));
    for (i, entry) in report.tickets.iter().enumerate() {
        let TicketReport::Decided { decision, result } = entry else {
            panic!("{entry:?}")
        };
        if decision.ticket_id == "2" {
            assert_eq!(*result, WriteResult::Written);
        } else {
            let WriteResult::Failed { error, .. } = result else {
                panic!("ticket {i}: {result:?}")
            };
            assert!(error.contains("invalid_response error"), "{error}");
        }
    }
}

#[tokio::test]
async fn a_failed_write_waits_for_its_backoff() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    desk.fail("1", &[ErrorKind::Transport]);
    let mut text = CONFIG.replace("backoff: 0", "backoff: 60");
    text = text.replace("max_attempts: 2", "max_attempts: 3");
    let mut p = Pipeline::new(pipeline_config(&text), desk.clone(), Arc::new(Scripted));

    p.pass(false, &Stop::never()).await;
    let waiting = p.pass(false, &Stop::never()).await;
    assert_eq!(waiting.summary.waiting, 1);
    assert_eq!(waiting.summary.classified, 0);
    assert!(desk.calls().len() == 1, "no write while backing off");
    // When the wait is over is RetryBook's business (tested in retry.rs with explicit instants).
}

#[tokio::test]
async fn a_conflict_is_decided_again_next_pass_without_using_an_attempt() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    desk.fail("1", &[ErrorKind::Conflict, ErrorKind::Conflict]);
    let mut p = pipeline(&desk);

    for _ in 0..2 {
        let report = p.pass(false, &Stop::never()).await;
        assert_eq!(report.summary.conflicts, 1);
    }
    let report = p.pass(false, &Stop::never()).await;
    assert_eq!(
        report.summary.written, 1,
        "two conflicts did not use up 2 attempts"
    );
}

#[tokio::test]
async fn a_timeout_is_not_resent_but_decided_from_the_next_fetch() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    desk.fail("1", &[ErrorKind::Timeout]);
    let mut p = pipeline(&desk);

    let first = p.pass(false, &Stop::never()).await;
    assert_eq!(first.summary.unknown, 1);
    let second = p.pass(false, &Stop::never()).await;
    assert_eq!(
        second.summary.classified, 1,
        "fetched and classified afresh"
    );
    assert_eq!(second.summary.written, 1);
}

fn routed(id: &str, body: &str) -> Ticket {
    let mut t = ticket(id, body);
    t.queue = Some(Queue {
        id: Some("5".into()),
        name: Some("Billing".into()),
    });
    t.tags = vec!["vip".into()];
    t
}

#[tokio::test]
async fn tickets_routed_by_hand_get_only_the_routed_tag_and_are_not_fetched_again() {
    let mut inbox = ticket("2", "cards urgent 0.95");
    inbox.queue = Some(Queue {
        id: Some("9".into()),
        name: Some("Inbox".into()),
    });
    let desk = FakeDesk::with(vec![routed("1", "cards urgent 0.95"), inbox]);
    let mut p = pipeline(&desk);

    let report = p.pass(false, &Stop::never()).await;

    let s = report.summary;
    assert_eq!(
        (
            s.fetched,
            s.routed,
            s.routed_tagged,
            s.classified,
            s.written
        ),
        (2, 1, 1, 1, 1),
        "the routed ticket is counted in routed, never in written"
    );
    assert_eq!(
        report.tickets[0],
        TicketReport::Routed {
            id: "1".into(),
            queue: "\"Billing\"".into(),
            tag: "otai_routed".into(),
            result: WriteResult::Written,
        }
    );
    let calls = desk.calls();
    assert_eq!(calls.len(), 1, "one batch for both writes");
    let ids: Vec<&str> = calls[0].iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["1", "2"]);
    assert_eq!(
        calls[0][0],
        BatchUpdate {
            id: "1".into(),
            update: TicketUpdate {
                add_tags: vec!["otai_routed".into()],
                if_unchanged_since: Some("2024-05-01T10:00:00Z".into()),
                ..TicketUpdate::default()
            },
            current_tags: Some(vec!["vip".into()]),
        },
        "only the tag: no queue, priority, field or note"
    );
    let left = desk.ticket("1");
    assert_eq!(left.tags, ["vip", "otai_routed"]);
    assert_eq!(left.queue.unwrap().name.as_deref(), Some("Billing"));
    assert_eq!(left.priority, None);

    let again = p.pass(false, &Stop::never()).await;
    assert_eq!(
        again.summary.fetched, 0,
        "routed tickets are not fetched again"
    );
}

#[tokio::test]
async fn routed_tickets_no_longer_starve_the_unrouted_ones_behind_them() {
    // Oldest first: 7 routed tickets that stay `new`, then 4 unrouted ones; 3 fetched per pass.
    let mut tickets: Vec<Ticket> = (1..=7)
        .map(|i| routed(&format!("r{i}"), "cards urgent 0.95"))
        .collect();
    tickets.extend((1..=4).map(|i| ticket(&format!("u{i}"), "cards urgent 0.95")));
    let desk = FakeDesk::with(tickets);
    let text = CONFIG.replace("write_batch: 2", "write_batch: 2\n    fetch: {limit: 3}");
    let mut p = Pipeline::new(pipeline_config(&text), desk.clone(), Arc::new(Scripted));

    let first = p.pass(false, &Stop::never()).await;
    assert_eq!(
        (
            first.summary.fetched,
            first.summary.routed,
            first.summary.classified
        ),
        (3, 3, 0),
        "the first pass sees only routed tickets"
    );
    // Passes until one finds nothing left (bounded: a starving desk would never get there).
    let mut passes_with_tickets = 1;
    while p.pass(false, &Stop::never()).await.summary.fetched > 0 {
        passes_with_tickets += 1;
        assert!(
            passes_with_tickets < 10,
            "the fetch keeps returning tickets"
        );
    }

    // 11 tickets, 3 a pass, each fetched once: 4 passes.
    assert_eq!(passes_with_tickets, 4, "every ticket was fetched once");
    for i in 1..=4 {
        let t = desk.ticket(&format!("u{i}"));
        assert_eq!(
            t.tags,
            ["otai_processed"],
            "u{i} was classified and written"
        );
        assert_eq!(t.queue.unwrap().name.as_deref(), Some("Cards"));
    }
    for i in 1..=7 {
        let t = desk.ticket(&format!("r{i}"));
        assert_eq!(t.tags, ["vip", "otai_routed"]);
        assert_eq!(t.queue.unwrap().name.as_deref(), Some("Billing"));
    }
    let processed: usize = desk
        .calls()
        .iter()
        .flatten()
        .filter(|u| u.update.add_tags.contains(&"otai_processed".to_string()))
        .count();
    assert_eq!(
        processed, 4,
        "each unrouted ticket was written exactly once"
    );
}

#[tokio::test]
async fn a_failed_or_conflicting_routed_tag_is_tried_again_without_using_attempts() {
    let desk = FakeDesk::with(vec![routed("1", "cards urgent 0.95")]);
    // max_attempts is 2: three failures would have marked a classified ticket failed.
    desk.fail(
        "1",
        &[
            ErrorKind::Validation,
            ErrorKind::Conflict,
            ErrorKind::Transport,
        ],
    );
    let mut p = pipeline(&desk);

    let mut results = Vec::new();
    for _ in 0..3 {
        let report = p.pass(false, &Stop::never()).await;
        assert_eq!(
            (report.summary.routed, report.summary.to_mark_failed),
            (1, 0),
            "{report}"
        );
        assert_eq!(report.summary.written, 0);
        let TicketReport::Routed { result, .. } = &report.tickets[0] else {
            panic!("{:?}", report.tickets)
        };
        results.push(result.clone());
    }
    assert!(matches!(
        results[0],
        WriteResult::Failed {
            attempts: 0,
            gave_up: false,
            ..
        }
    ));
    assert_eq!(results[1], WriteResult::Conflict);
    assert!(matches!(results[2], WriteResult::Failed { .. }));

    let fourth = p.pass(false, &Stop::never()).await;
    assert_eq!(fourth.summary.routed_tagged, 1, "{fourth}");
    assert_eq!(
        desk.ticket("1").tags,
        ["vip", "otai_routed"],
        "never tagged failed"
    );
    for call in desk.calls() {
        assert_eq!(call[0].update.add_tags, ["otai_routed"]);
        assert_eq!(call[0].update.note, None);
    }
}

#[tokio::test]
async fn dry_run_reports_the_routed_tag_without_writing_it() {
    let desk = FakeDesk::with(vec![routed("1", "cards urgent 0.95")]);
    let mut p = pipeline(&desk);

    let report = p.pass(true, &Stop::never()).await;

    assert!(desk.calls().is_empty());
    assert_eq!(
        (report.summary.routed, report.summary.routed_tagged),
        (1, 0)
    );
    assert!(matches!(
        &report.tickets[0],
        TicketReport::Routed { result: WriteResult::DryRun, tag, .. } if tag == "otai_routed"
    ));
}

#[tokio::test]
async fn a_failed_batch_call_fails_the_pass_without_using_attempts() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    *desk.batch_error.lock().unwrap() = Some(ErrorKind::Auth);
    let mut p = pipeline(&desk);

    for _ in 0..3 {
        let report = p.pass(false, &Stop::never()).await;
        assert!(matches!(report.failure, Some(pass::PassFailure::Write(_))));
        assert_eq!(report.summary.not_sent, 1);
    }
    *desk.batch_error.lock().unwrap() = None;
    let report = p.pass(false, &Stop::never()).await;
    assert_eq!(
        report.summary.written, 1,
        "never marked failed for the desk's problem"
    );
}

#[tokio::test]
async fn stopping_sends_no_further_batch() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    let mut p = pipeline(&desk);
    let (handle, stop) = run::stop_pair();
    handle.stop();

    let report = p.pass(false, &stop).await;

    assert!(desk.calls().is_empty());
    assert_eq!(report.summary.classified, 0);
}

#[tokio::test]
async fn run_polls_every_interval_until_shutdown() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    let p = Pipeline::new(
        pipeline_config(&CONFIG.replace("write_batch: 2", "write_batch: 2\n    interval: 0.001")),
        desk.clone(),
        Arc::new(Scripted),
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PassReport>();
    let options = RunOptions {
        once: false,
        max_passes: DEFAULT_MAX_PASSES,
        dry_run: true,
        grace: Duration::from_secs(5),
    };
    // Shut down once three passes were reported: no clock in the assertion.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let counter = tokio::spawn(async move {
        let mut passes = 0;
        let mut stop_tx = Some(stop_tx);
        while let Some(report) = rx.recv().await {
            assert!(report.dry_run);
            passes += 1;
            if passes == 3 {
                stop_tx.take().unwrap().send(()).unwrap();
            }
        }
        passes
    });

    let outcome = run(vec![p], options, async { stop_rx.await.unwrap() }, tx).await;

    assert_eq!(outcome, RunOutcome::default());
    assert_eq!(counter.await.unwrap(), 3, "no pass starts after shutdown");
    assert!(desk.calls().is_empty(), "dry run");
}

#[tokio::test]
async fn run_once_counts_failed_passes() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    *desk.batch_error.lock().unwrap() = Some(ErrorKind::Transport);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let options = RunOptions {
        once: true,
        max_passes: DEFAULT_MAX_PASSES,
        dry_run: false,
        grace: Duration::from_secs(5),
    };

    let outcome = run(vec![pipeline(&desk)], options, std::future::pending(), tx).await;

    assert_eq!(outcome.failed_passes, 1);
}

#[tokio::test]
async fn the_audit_log_has_a_line_per_write_with_what_was_written_and_its_outcome() {
    let desk = FakeDesk::with(vec![
        ticket("1", "cards urgent 0.95"),
        ticket("2", "transfers high 0.5"),
    ]);
    desk.fail("2", &[ErrorKind::Validation]);
    let mut p = pipeline(&desk);

    let report = p.pass(false, &Stop::never()).await;
    let dry = p.pass(true, &Stop::never()).await;
    let lines = audit::entries(&report, "models/banking77", "2026-12-01T10:00:00Z");

    assert!(
        audit::entries(&dry, "m", "t").is_empty(),
        "a dry run writes nothing to log"
    );
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    assert_eq!(first["ticket"], "1");
    assert_eq!(first["action"], "classify");
    assert_eq!(first["outcome"], "written");
    assert_eq!(first["model"], "models/banking77");
    assert_eq!(first["written"]["queue"], "Cards");
    assert_eq!(first["written"]["priority"], "urgent");
    assert_eq!(first["fields"][0]["label"], "cards");
    assert_eq!(first["fields"][0]["confidence"], 0.95);
    assert_eq!(lines[1]["outcome"], "failed");
    assert!(
        lines[1]["error"].as_str().unwrap().contains("on purpose"),
        "{}",
        lines[1]
    );
    let text = lines.iter().map(|l| l.to_string()).collect::<String>();
    assert!(
        !text.contains("Ticket 1"),
        "no ticket text in the audit log: {text}"
    );
}

#[tokio::test]
async fn a_batch_write_that_panics_every_pass_uses_up_its_attempts_and_ends_tagged_failed() {
    let desk = FakeDesk::with(vec![ticket("7", "cards urgent 0.95")]);
    *desk.poison.lock().unwrap() = Some("7".into());
    let mut p = pipeline(&desk);

    let first = p.pass(false, &Stop::never()).await;
    let second = p.pass(false, &Stop::never()).await;
    let third = p.pass(false, &Stop::never()).await;

    assert_eq!(first.summary.unknown, 1, "{first}");
    assert!(matches!(
        &first.tickets[0],
        TicketReport::Decided {
            result: WriteResult::Unknown { .. },
            ..
        }
    ));
    assert_eq!(second.summary.unknown, 1, "{second}");
    assert_eq!(
        third.summary.marked_failed, 1,
        "after max_attempts (2): {third}"
    );
    assert!(desk.ticket("7").tags.contains(&"otai_failed".to_string()));
}

#[tokio::test]
async fn a_whole_call_failure_that_did_nothing_gives_the_attempts_back() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    *desk.batch_error.lock().unwrap() = Some(ErrorKind::RateLimited);
    let mut p = pipeline(&desk);

    for _ in 0..3 {
        let report = p.pass(false, &Stop::never()).await;
        assert_eq!(report.summary.not_sent, 1, "{report}");
    }
    *desk.batch_error.lock().unwrap() = None;
    let report = p.pass(false, &Stop::never()).await;

    assert_eq!(
        report.summary.written, 1,
        "not tagged failed: the outage was nobody's attempt"
    );
}

#[tokio::test]
async fn a_write_killed_in_flight_counts_across_restarts_and_the_ticket_ends_tagged_failed() {
    let dir = tempfile::TempDir::new().unwrap();
    let state = dir.path().join("main.json");
    let config = CONFIG.replace(
        "write_batch: 2",
        &format!("write_batch: 2\n    state_file: {}", state.display()),
    );
    let desk = FakeDesk::with(vec![ticket("9", "cards urgent 0.95")]);
    *desk.hang.lock().unwrap() = true;

    // Two runs, each killed while its write is in flight: nothing after the call runs.
    for run in 1..=2u32 {
        let mut p =
            Pipeline::open(pipeline_config(&config), desk.clone(), Arc::new(Scripted)).unwrap();
        let killed =
            tokio::time::timeout(Duration::from_millis(200), p.pass(false, &Stop::never())).await;
        assert!(killed.is_err(), "the pass was still waiting for its write");
        let records = state::load(&state).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].attempts, run,
            "counted before the write went out"
        );
        assert_eq!(records[0].last_error, retry::INTERRUPTED);
    }
    *desk.hang.lock().unwrap() = false;
    let mut p = Pipeline::open(pipeline_config(&config), desk.clone(), Arc::new(Scripted)).unwrap();

    let third = p.pass(false, &Stop::never()).await;

    assert_eq!(third.summary.marked_failed, 1, "{third}");
    let tags = desk.ticket("9").tags;
    assert!(tags.contains(&"otai_failed".to_string()), "{tags:?}");
    assert!(!tags.contains(&"otai_processed".to_string()), "{tags:?}");
}

#[tokio::test]
async fn tickets_backing_off_do_not_take_the_fetch_slots_of_new_ones() {
    // Oldest first: ticket 1 fails and backs off for an hour; the limit is one ticket per pass.
    let desk = FakeDesk::with(vec![
        ticket("1", "cards urgent 0.95"),
        ticket("2", "cards urgent 0.95"),
        ticket("3", "cards urgent 0.95"),
    ]);
    desk.fail("1", &[ErrorKind::Validation]);
    let config = CONFIG
        .replace("backoff: 0", "backoff: 3600")
        .replace("write_batch: 2", "write_batch: 2\n    fetch: {limit: 1}");
    let mut p = Pipeline::new(pipeline_config(&config), desk.clone(), Arc::new(Scripted));

    let first = p.pass(false, &Stop::never()).await;
    let second = p.pass(false, &Stop::never()).await;
    let third = p.pass(false, &Stop::never()).await;

    assert_eq!(first.summary.failed, 1, "{first}");
    assert_eq!(
        (second.summary.waiting, second.summary.written),
        (1, 1),
        "{second}"
    );
    assert_eq!(
        (third.summary.waiting, third.summary.written),
        (1, 1),
        "{third}"
    );
    assert!(desk
        .ticket("3")
        .tags
        .contains(&"otai_processed".to_string()));
}

/// Panics on every call, as a bug in a classifier or adapter wrapper would.
#[derive(Debug)]
struct Panicking;

impl Classify for Panicking {
    fn classify<'a>(
        &'a self,
        _: &'a [TicketText],
    ) -> BoxFuture<'a, Result<Vec<Prediction>, ClassifierError>> {
        panic!("a bug in the classifier")
    }
}

#[tokio::test]
async fn a_pipeline_task_that_panics_is_counted_so_otai_can_exit_non_zero() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    let panicking = Pipeline::new(pipeline_config(CONFIG), desk.clone(), Arc::new(Panicking));
    let healthy = Pipeline::new(
        pipeline_config(CONFIG),
        FakeDesk::with(vec![ticket("2", "cards urgent 0.95")]),
        Arc::new(Scripted),
    );
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let options = RunOptions {
        once: false,
        max_passes: DEFAULT_MAX_PASSES,
        dry_run: true,
        grace: Duration::from_secs(5),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = stop_tx.send(());
    });

    let outcome = run(
        vec![panicking, healthy],
        options,
        async { stop_rx.await.unwrap() },
        tx,
    )
    .await;

    assert_eq!(outcome.panicked, 1, "{outcome:?}");
    assert_eq!(outcome.abandoned, 0);
}

/// `n` tickets the scripted classifier routes to Cards with confidence.
fn backlog(n: usize) -> Vec<Ticket> {
    (1..=n)
        .map(|i| ticket(&i.to_string(), "cards urgent 0.95"))
        .collect()
}

/// Runs `options` over `desk` with fetch.limit `limit`; returns the reports of every pass.
async fn run_collecting(desk: &Arc<FakeDesk>, limit: u64, options: RunOptions) -> Vec<PassReport> {
    let config = CONFIG.replace(
        "write_batch: 2",
        &format!("write_batch: 100\n    fetch: {{limit: {limit}}}"),
    );
    let p = Pipeline::new(pipeline_config(&config), desk.clone(), Arc::new(Scripted));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = run(vec![p], options, std::future::pending(), tx).await;
    assert_eq!(outcome, RunOutcome::default());
    let mut reports = Vec::new();
    while let Ok(report) = rx.try_recv() {
        reports.push(report);
    }
    reports
}

fn once(max_passes: u32, dry_run: bool) -> RunOptions {
    RunOptions {
        once: true,
        max_passes,
        dry_run,
        grace: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn run_once_passes_until_nothing_new_is_left_writing_each_ticket_once() {
    let desk = FakeDesk::with(backlog(150));

    let reports = run_collecting(&desk, 100, once(DEFAULT_MAX_PASSES, false)).await;

    let fetched: Vec<usize> = reports.iter().map(|r| r.summary.fetched).collect();
    assert_eq!(
        fetched,
        [100, 50],
        "a full pass, then the rest; no third pass"
    );
    assert_eq!(
        reports.iter().map(|r| r.summary.written).sum::<usize>(),
        150
    );
    let mut written: Vec<String> = desk
        .calls()
        .iter()
        .flatten()
        .map(|item| item.id.clone())
        .collect();
    written.sort();
    written.dedup();
    assert_eq!(written.len(), 150, "every ticket written");
    assert_eq!(
        desk.calls().iter().map(Vec::len).sum::<usize>(),
        150,
        "each once"
    );
}

#[tokio::test]
async fn a_service_routes_a_backlog_at_once_instead_of_one_batch_per_interval() {
    let desk = FakeDesk::with(backlog(250));
    let config = CONFIG.replace(
        "write_batch: 2",
        "write_batch: 100\n    interval: 3600\n    fetch: {limit: 100}",
    );
    let p = Pipeline::new(pipeline_config(&config), desk.clone(), Arc::new(Scripted));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PassReport>();
    let options = RunOptions {
        once: false,
        max_passes: DEFAULT_MAX_PASSES,
        dry_run: false,
        grace: Duration::from_secs(5),
    };
    // Shut down once the passes that found work are in: an hour's interval would come long after.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let counter = tokio::spawn(async move {
        let (mut written, mut stop_tx) = (0, Some(stop_tx));
        while let Some(report) = rx.recv().await {
            written += report.summary.written;
            if written == 250 {
                stop_tx.take().unwrap().send(()).unwrap();
            }
        }
        written
    });

    let outcome = run(vec![p], options, async { stop_rx.await.unwrap() }, tx).await;

    assert_eq!(outcome, RunOutcome::default());
    assert_eq!(
        counter.await.unwrap(),
        250,
        "three passes back to back, not one an hour"
    );
}

#[tokio::test]
async fn run_once_stops_at_max_passes() {
    let desk = FakeDesk::with(backlog(250));

    let reports = run_collecting(&desk, 50, once(3, false)).await;

    assert_eq!(reports.len(), 3);
    assert_eq!(
        reports.iter().map(|r| r.summary.written).sum::<usize>(),
        150
    );
    assert!(
        reports[2].left_more(50),
        "the last pass says more are waiting"
    );
}

#[tokio::test]
async fn run_once_as_a_dry_run_makes_one_pass() {
    let desk = FakeDesk::with(backlog(150));

    let reports = run_collecting(&desk, 100, once(DEFAULT_MAX_PASSES, true)).await;

    assert_eq!(
        reports.len(),
        1,
        "a second dry pass would fetch the same tickets"
    );
    assert!(desk.calls().is_empty());
}

#[tokio::test]
async fn run_once_stops_when_a_full_fetch_moves_nothing() {
    let desk = FakeDesk::with(backlog(3));
    for id in ["1", "2", "3"] {
        desk.fail(id, &[ErrorKind::Transport; 4]);
    }

    let reports = run_collecting(&desk, 3, once(DEFAULT_MAX_PASSES, false)).await;

    assert_eq!(
        reports.len(),
        1,
        "the failed tickets would fill the next fetch again"
    );
    assert_eq!(reports[0].summary.failed, 3);
}

#[tokio::test]
async fn a_ticket_the_lagging_search_index_returns_again_is_not_written_twice() {
    let desk = FakeDesk::with(backlog(2));
    *desk.lagging_index.lock().unwrap() = Some(backlog(2));
    let mut p = pipeline(&desk);

    let first = p.pass(false, &Stop::never()).await;
    let second = p.pass(false, &Stop::never()).await;

    assert_eq!(first.summary.written, 2);
    assert_eq!(
        second.summary.fetched, 2,
        "the index still shows both unwritten"
    );
    assert_eq!(second.summary.echoes, 2);
    assert_eq!(second.summary.classified, 0);
    assert_eq!(desk.calls().len(), 1, "no second write");
    assert!(matches!(&second.tickets[0], TicketReport::Echo { id } if id == "1"));
    assert!(!second.left_more(2), "echoes are no progress");
    assert!(
        second
            .to_string()
            .contains("written moments ago (search index lag) 2"),
        "{second}"
    );
}

fn banking_labels() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([
        (
            "queue".to_string(),
            vec!["cards".to_string(), "transfers".to_string()],
        ),
        (
            "priority".to_string(),
            vec!["urgent".to_string(), "medium".to_string()],
        ),
    ])
}

#[test]
fn check_against_model_names_unknown_fields_labels_and_invalid_values() {
    let text = r#"
ticket_systems: {fake: {use: "fake:Fake"}}
pipelines:
  main:
    ticket_system: fake
    fields:
      queue: {action: queue, map: {cardz: Cards}}
      priority: {action: priority}
      sentiment: {action: tag}
"#;
    let problems: Vec<String> = check_against_model(&pipeline_config(text), &banking_labels())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "pipelines.main.fields.queue.map.cardz: `cardz` is not a label of field `queue`"
        ),
        "{problems:#?}"
    );
    assert!(
        problems[1].starts_with("pipelines.main.fields.priority.map: the model's label(s) medium"),
        "{problems:#?}"
    );
    assert!(problems[2].contains("pipelines.main.fields.sentiment: the model models/banking77 has no field `sentiment`; its fields: priority, queue"), "{problems:#?}");
}

#[test]
fn check_against_model_accepts_a_fitting_pipeline() {
    let text = CONFIG.replace(
        "priority: {action: priority, fallback: normal}",
        "priority: {action: priority, fallback: normal, map: {medium: normal}}",
    );
    assert!(check_against_model(&pipeline_config(&text), &banking_labels()).is_empty());
}

#[test]
fn config_defaults() {
    let text = r#"
ticket_systems: {z: {use: "p:S"}}
pipelines:
  main:
    ticket_system: z
    fields: {queue: {action: queue}}
"#;
    let p = pipeline_config(text);
    assert_eq!(p.model, Path::new("models/banking77"));
    assert_eq!(p.interval, Duration::from_secs(60));
    assert_eq!(p.fetch.statuses, ["new"]);
    assert_eq!(p.fetch.limit, 100);
    assert!(p.skip_routed && p.note);
    assert_eq!(
        (
            p.processed_tag.as_str(),
            p.failed_tag.as_str(),
            p.routed_tag.as_str()
        ),
        ("otai_processed", "otai_failed", "otai_routed")
    );
    assert_eq!(p.fields[0].threshold, 0.8);
    assert_eq!(p.fields[0].fallback, None);
    assert_eq!(p.retry.max_attempts, 3);
    assert_eq!(p.max_tokens, None, "the model's own truncation");
    let query = Pipeline::new(p, FakeDesk::with(vec![]), Arc::new(Scripted)).query();
    assert_eq!(
        query.tags_none,
        ["otai_processed", "otai_failed", "otai_routed"]
    );
    assert_eq!(query.statuses, ["new"]);
}

fn problems(text: &str) -> Vec<String> {
    Config::parse(text, Path::new("t.yml"), &|_| Ok(None))
        .unwrap_err()
        .problems()
}

#[test]
fn config_unknown_keys_name_path_and_line() {
    let text = "ticket_systems: {z: {use: \"p:S\"}}\npipelines:\n  main:\n    ticket_system: z\n    fields:\n      queue:\n        action: queue\n        treshold: 0.5\n";
    let problems = problems(text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("pipelines.main.fields.queue.treshold"),
        "{problems:?}"
    );
    assert!(
        problems[0].contains("unknown field `treshold`"),
        "{problems:?}"
    );
    assert!(problems[0].contains("line 8"), "{problems:?}");
}

#[test]
fn config_lists_every_invalid_value_with_its_key_path() {
    let text = r#"
ticket_systems: {z: {use: "p:S"}}
pipelines:
  main:
    ticket_system: zendesk
    interval: 0
    processed_tag: "two words"
    routed_tag: otai_failed
    max_tokens: 2000
    retry: {max_attempts: 0}
    fields:
      queue: {action: queue, threshold: 1.5}
      priority: {action: priority, fallback: medium}
      intent: {action: label}
      category: {action: custom_field}
      other: {action: priority}
"#;
    let problems = problems(text);
    let expected = [
        "pipelines.main.ticket_system: no ticket system named `zendesk`",
        "pipelines.main.interval:",
        "pipelines.main.processed_tag:",
        "pipelines.main.routed_tag: must differ from processed_tag and failed_tag",
        "pipelines.main.max_tokens: must be between 3 and 512",
        "pipelines.main.retry.max_attempts:",
        "pipelines.main.fields.category.field_id:",
        "pipelines.main.fields.intent.action: unknown action `label`",
        "pipelines.main.fields.other.action: field `priority` already writes the priority",
        "pipelines.main.fields.priority.fallback: a priority is one of low, normal, high, urgent",
        "pipelines.main.fields.queue.threshold:",
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for e in expected {
        assert!(
            problems.iter().any(|p| p.contains(e)),
            "missing {e}: {problems:#?}"
        );
    }
}

#[test]
fn config_custom_field_and_tag_options() {
    let text = r#"
ticket_systems: {z: {use: "p:S"}}
pipelines:
  main:
    ticket_system: z
    fields:
      category: {action: custom_field, field_id: "360001", map: {billing: 7}, fallback: null}
      intent: {action: tag, tag_format: "intent__{label}", threshold: 0.5}
"#;
    let p = pipeline_config(text);
    assert_eq!(
        p.fields[0].action,
        FieldAction::CustomField {
            id: "360001".into()
        }
    );
    assert_eq!(p.fields[0].map["billing"], json!(7));
    assert_eq!(
        p.fields[1].value_for("lost card"),
        json!("intent__lost_card")
    );
}

#[test]
fn config_routed_tag_is_checked_like_the_other_tags() {
    let base = "ticket_systems: {z: {use: \"p:S\"}}\npipelines:\n  main:\n    ticket_system: z\n    fields: {queue: {action: queue}}\n";
    let bad = problems(&format!("{base}    routed_tag: \"to do\"\n"));
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].contains("pipelines.main.routed_tag: a tag is one word"),
        "{bad:?}"
    );
    let same = problems(&format!("{base}    routed_tag: otai_processed\n"));
    assert!(
        same[0].contains("pipelines.main.routed_tag: must differ"),
        "{same:?}"
    );
    let p = pipeline_config(&format!("{base}    routed_tag: triaged_by_hand\n"));
    let query = Pipeline::new(p, FakeDesk::with(vec![]), Arc::new(Scripted)).query();
    assert!(query.tags_none.contains(&"triaged_by_hand".to_string()));
}

fn with_state_file(path: &Path) -> String {
    CONFIG.replace(
        "write_batch: 2",
        &format!(
            "write_batch: 2\n    state_file: {:?}",
            path.to_str().unwrap()
        ),
    )
}

#[tokio::test]
async fn a_restart_keeps_the_attempts_and_eventually_tags_the_ticket_failed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/main.json");
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    desk.fail("1", &[ErrorKind::Validation, ErrorKind::Validation]);
    let config = pipeline_config(&with_state_file(&path));
    // Every run a new process: a new Pipeline from the same state file.
    let run = || Pipeline::open(config.clone(), desk.clone(), Arc::new(Scripted)).unwrap();

    let first = run().pass(false, &Stop::never()).await;
    assert!(
        matches!(
            first.tickets[0],
            TicketReport::Decided {
                result: WriteResult::Failed {
                    attempts: 1,
                    gave_up: false,
                    ..
                },
                ..
            }
        ),
        "{:?}",
        first.tickets
    );
    assert!(path.is_file(), "saved after the pass that changed it");
    let second = run().pass(false, &Stop::never()).await;
    assert!(
        matches!(
            second.tickets[0],
            TicketReport::Decided {
                result: WriteResult::Failed {
                    attempts: 2,
                    gave_up: true,
                    ..
                },
                ..
            }
        ),
        "the attempt of the first run was remembered: {:?}",
        second.tickets
    );
    let third = run().pass(false, &Stop::never()).await;
    assert_eq!(
        (third.summary.classified, third.summary.marked_failed),
        (0, 1),
        "{third}"
    );
    assert_eq!(desk.ticket("1").tags, ["otai_failed"]);
    assert!(third.failure.is_none(), "{third}");
    assert_eq!(
        state::load(&path).unwrap(),
        [],
        "a ticket tagged failed is forgotten"
    );
    let files: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["main.json"], "no temporary file is left behind");
}

#[tokio::test]
async fn without_a_state_file_a_restart_starts_the_attempts_over() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    desk.fail("1", &[ErrorKind::Validation, ErrorKind::Validation]);
    let config =
        pipeline_config(&CONFIG.replace("write_batch: 2", "write_batch: 2\n    state_file: null"));
    assert_eq!(config.state_file, None);

    for _ in 0..2 {
        let mut p = Pipeline::open(config.clone(), desk.clone(), Arc::new(Scripted)).unwrap();
        let report = p.pass(false, &Stop::never()).await;
        assert!(matches!(
            report.tickets[0],
            TicketReport::Decided {
                result: WriteResult::Failed { attempts: 1, .. },
                ..
            }
        ));
    }
}

#[tokio::test]
async fn a_dry_run_never_writes_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.json");
    let day_ago = std::time::SystemTime::now() - Duration::from_secs(48 * 3600);
    let stale = retry::Record {
        id: "9".into(),
        attempts: 1,
        next_try: day_ago,
        last_seen: day_ago,
        last_error: "x".into(),
    };
    state::save(&path, "main", &[stale]).unwrap();
    let before = std::fs::read(&path).unwrap();
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    desk.fail("1", &[ErrorKind::Validation]);
    let config = pipeline_config(&with_state_file(&path));

    // Loading dropped the stale record: a change, but a dry run does not save it.
    let mut p = Pipeline::open(config.clone(), desk.clone(), Arc::new(Scripted)).unwrap();
    p.pass(true, &Stop::never()).await;
    assert_eq!(std::fs::read(&path).unwrap(), before, "untouched");

    let mut p = Pipeline::open(config, desk.clone(), Arc::new(Scripted)).unwrap();
    p.pass(false, &Stop::never()).await;
    let ids: Vec<String> = state::load(&path)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["1"], "a real pass saves: the stale record is gone");
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_does_not_forget_stale_retry_records() {
    let desk = FakeDesk::with(vec![ticket("1", "cards urgent 0.95")]);
    desk.fail("1", &[ErrorKind::Validation, ErrorKind::Validation]);
    let mut p = pipeline(&desk);
    let first = p.pass(false, &Stop::never()).await;
    assert_eq!(first.summary.failed, 1);

    // Long enough for the record to count as stale; a dry run must leave it all the same.
    tokio::time::advance(retry::FORGET_AFTER + Duration::from_secs(1)).await;
    p.pass(true, &Stop::never()).await;

    let real = p.pass(false, &Stop::never()).await;
    assert!(
        matches!(
            real.tickets[0],
            TicketReport::Decided {
                result: WriteResult::Failed {
                    attempts: 2,
                    gave_up: true,
                    ..
                },
                ..
            }
        ),
        "the first attempt was still on record: {:?}",
        real.tickets
    );
}

#[tokio::test]
async fn a_corrupt_state_file_stops_the_pipeline_from_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.json");
    std::fs::write(&path, "{\"version\": 1, \"tick").unwrap();
    let config = pipeline_config(&with_state_file(&path));

    let error = Pipeline::open(config, FakeDesk::with(vec![]), Arc::new(Scripted)).unwrap_err();

    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "the retry state file {} is not valid",
            path.display()
        )),
        "{message}"
    );
    assert!(message.contains("delete it to start over"), "{message}");
}

#[tokio::test]
async fn a_state_file_that_cannot_be_saved_fails_the_pass_after_its_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("main.json");
    // A folder where the temporary file would go: the save fails, the load (no file) does not.
    std::fs::create_dir(state::temp_path(&path)).unwrap();
    let desk = FakeDesk::with(vec![
        ticket("1", "cards urgent 0.95"),
        ticket("2", "cards urgent 0.95"),
    ]);
    desk.fail("1", &[ErrorKind::Validation]);
    let mut p = Pipeline::open(
        pipeline_config(&with_state_file(&path)),
        desk.clone(),
        Arc::new(Scripted),
    )
    .unwrap();

    let report = p.pass(false, &Stop::never()).await;

    assert_eq!(report.summary.written, 1, "the writes went out");
    let failure = report.failure.as_ref().map(ToString::to_string);
    assert!(
        failure
            .as_deref()
            .is_some_and(|f| f.starts_with("cannot write the retry state file")),
        "{failure:?}"
    );
}

#[test]
fn config_state_file_default_null_empty_and_path() {
    let base = "ticket_systems: {z: {use: \"p:S\"}}\npipelines:\n  main:\n    ticket_system: z\n    fields: {queue: {action: queue}}\n";
    assert_eq!(
        pipeline_config(base).state_file.as_deref(),
        Some(Path::new(".otai/state/main.json"))
    );
    for off in ["null", "\"\"", "~"] {
        let p = pipeline_config(&format!("{base}    state_file: {off}\n"));
        assert_eq!(p.state_file, None, "{off}");
    }
    let p = pipeline_config(&format!("{base}    state_file: /var/lib/otai/main.json\n"));
    assert_eq!(
        p.state_file.as_deref(),
        Some(Path::new("/var/lib/otai/main.json"))
    );
    let bad = problems(&format!("{base}    state_file: /var/lib/otai/\n"));
    assert!(
        bad[0].contains("pipelines.main.state_file: must name a file"),
        "{bad:?}"
    );
    assert_eq!(
        crate::config::pipeline::default_state_file("eu/de desk"),
        Path::new(".otai/state/eu_de_desk.json")
    );
}

#[tokio::test]
async fn shadow_passes_write_nothing_and_record_each_ticket_once() {
    let desk = FakeDesk::with(vec![
        ticket("1", "cards urgent 0.95"),
        ticket("2", "transfers high 0.5"),
    ]);
    let mut p = pipeline(&desk);
    let config = pipeline_config(CONFIG);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("shadow").join("main.jsonl");
    let mut recorder = shadow::ShadowRecorder::open(&file).unwrap();

    let first = p.pass(true, &Stop::never()).await;
    let second = p.pass(true, &Stop::never()).await;

    assert_eq!(recorder.record(&config, &first).unwrap(), 2);
    assert_eq!(
        second.summary.fetched, 2,
        "nothing is tagged, so fetched again"
    );
    assert_eq!(recorder.record(&config, &second).unwrap(), 0);
    // A later run skips what the file already has.
    let mut later = shadow::ShadowRecorder::open(&file).unwrap();
    assert_eq!(later.record(&config, &second).unwrap(), 0);
    assert!(desk.calls().is_empty(), "shadow mode writes nothing");
    assert!(desk.ticket("1").tags.is_empty());
    let records = shadow::read_records(&file).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (records[0].pipeline.as_str(), records[0].ticket.as_str()),
        ("main", "1")
    );
    let q = &records[0].fields[0];
    assert_eq!(q.field, "queue");
    assert_eq!(q.predicted.as_ref().unwrap().label, "cards");
    assert_eq!(q.runner_up.as_ref().unwrap().label, "other");
    assert_eq!(q.would_write, Some(json!("Cards")));
    assert_eq!(q.basis, "confident");
    let q2 = &records[1].fields[0];
    assert_eq!(
        (q2.basis.as_str(), &q2.would_write),
        ("below_threshold", &None)
    );
    assert_eq!(q2.predicted_value, Some(json!("transfers")));
    let p2 = &records[1].fields[1];
    assert_eq!(
        (p2.basis.as_str(), &p2.would_write),
        ("fallback", &Some(json!("normal")))
    );
}

#[tokio::test]
async fn evaluate_shadow_compares_with_what_agents_did() {
    let desk = FakeDesk::with(vec![
        ticket("1", "cards urgent 0.95"),
        ticket("2", "transfers high 0.5"),
        ticket("3", "cards low 0.9"),
        ticket("4", "cards low 0.9"),
    ]);
    let mut p = pipeline(&desk);
    let config = Config::parse(CONFIG, Path::new("t.yml"), &|_| Ok(None)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("main.jsonl");
    let report = p.pass(true, &Stop::never()).await;
    shadow::ShadowRecorder::open(&file)
        .unwrap()
        .record(&config.pipelines["main"], &report)
        .unwrap();
    // Agents: 1 as predicted; 2 to Billing with normal priority, solved; 3 still in the inbox; 4 deleted.
    {
        let mut tickets = desk.tickets.lock().unwrap();
        let queue = |name: &str| {
            Some(Queue {
                id: None,
                name: Some(name.into()),
            })
        };
        tickets[0].queue = queue("Cards");
        tickets[0].priority = Some("urgent".into());
        tickets[1].queue = queue("Billing");
        tickets[1].priority = Some("normal".into());
        tickets[1].status = "solved".into();
        tickets[2].queue = queue("inbox");
        tickets.remove(3);
    }

    let records = shadow::read_records(&file).unwrap();
    let (cmp, scored) = shadow::compare_with(records, &config.pipelines, desk.clone(), 2).await;

    assert_eq!(
        (
            cmp.records,
            cmp.compared,
            cmp.unhandled,
            cmp.gone,
            cmp.failed
        ),
        (4, 2, 1, 1, 0)
    );
    let corrections: Vec<(String, usize, usize, usize)> = cmp
        .corrections
        .fields()
        .into_iter()
        .map(|(f, c)| (f, c.written, c.kept, c.corrected))
        .collect();
    assert_eq!(
        corrections,
        [
            ("priority".to_string(), 2, 2, 0),
            ("queue".to_string(), 1, 1, 0)
        ],
        "ticket 2's queue was below its threshold: not written, not a correction"
    );
    let fields: Vec<&str> = scored.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["queue", "priority"]);
    let queue: Vec<(&str, &str)> = scored[0]
        .1
        .iter()
        .map(|s| (s.truth.as_str(), s.predicted.as_str()))
        .collect();
    assert_eq!(queue, [("Cards", "Cards"), ("Billing", "transfers")]);
    let e = crate::classifier::evaluate::evaluate_field("queue", &scored[0].1, 0.95);
    assert_eq!(e.accuracy, 0.5);
    assert_eq!(e.suggested.unwrap().threshold, 0.6);
    let header = shadow::comparison_header(&file, "fake", &cmp);
    assert!(
        header.contains("2 handled by agents") && header.contains("1 gone"),
        "{header}"
    );
}
