//! The fault drill against Freshdesk: the standard seed on a bad day, then [`Check`]. Fields and
//! notes are separate requests with nothing atomic between them, so the scenarios that matter most
//! stop a write between the two: a kill, a bulk job that stops midway.

use std::{process::Stdio, time::Duration};

use otai_freshdesk_sim::{Fault, FaultRule, Faults, Latency, Plan, DEFAULT_AGENT_TAG};
use serde_json::{json, Value};

use super::desk::{
    assert_all_done, config_yaml, count, half_done, otai_notes, sim_builder, standard_tickets,
    Check, Desk, Fate, TEXTS,
};
use crate::{
    desks::{error, kill_when, otai_once, runs_until_quiet},
    support,
};

/// The list (`GET /api/v2/tickets`), one ticket and its conversations, notes, bulk jobs.
const LIST: &str = "/api/v2/tickets";
const ONE_TICKET: &str = "/api/v2/tickets/*";
const NOTES: &str = "/api/v2/tickets/*/notes";
const BULK: &str = "/api/v2/tickets/bulk_update";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_5xx_drops_and_broken_bodies_lose_nothing_and_never_write_twice() {
    let faults = Faults {
        seed: 21,
        rules: vec![
            FaultRule::always(error(502))
                .method("GET")
                .path(LIST)
                .next(1),
            FaultRule::always(error(500))
                .method("GET")
                .path(ONE_TICKET)
                .probability(0.2),
            FaultRule::always(Fault::Truncate)
                .method("GET")
                .path(LIST)
                .probability(0.1),
            FaultRule::always(error(503))
                .method("PUT")
                .path(ONE_TICKET)
                .probability(0.15),
            FaultRule::always(Fault::Drop)
                .method("PUT")
                .path(ONE_TICKET)
                .next(2),
            FaultRule::always(Fault::Drop)
                .method("POST")
                .path(NOTES)
                .next(1),
            FaultRule::always(Fault::Malformed)
                .method("POST")
                .path(NOTES)
                .next(1),
        ],
        ..Faults::none()
    };
    let mut desk = Desk::start(
        sim_builder(standard_tickets(), Plan::Unlimited).faults(faults),
        6,
        "",
    )
    .await;
    let check = Check::before(&desk.sim);
    assert!(desk.passes_until_quiet(20).await, "the passes settle");
    let fates = check.run(&desk.sim);
    println!("{fates:?}");
    assert_eq!(
        count(&fates, Fate::Written) + count(&fates, Fate::MarkedFailed),
        TEXTS.len(),
        "{fates:?}"
    );
    assert!(desk.sim.stats().faults_injected > 5);
    desk.sim.shutdown().await;
}

/// Six tickets with one request and four with another: their decisions are shared, so their
/// fields go as bulk jobs.
fn alike_tickets() -> Vec<Value> {
    (0..10)
        .map(|i| {
            let text = if i < 6 { TEXTS[0] } else { TEXTS[1] };
            json!({"subject": format!("Request {i}"), "description": text, "status": 2, "priority": 1})
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_a_bulk_job_stopped_midway_is_finished_from_the_notes() {
    // Every bulk job stops after its second ticket (Freshdesk's jobs are not transactional).
    let faults = Faults {
        rules: vec![FaultRule::always(Fault::StopMidWrite {
            after: Some("2".into()),
        })
        .method("POST")
        .path(BULK)],
        ..Faults::none()
    };
    let builder = sim_builder(alike_tickets(), Plan::Unlimited).faults(faults);
    let mut desk = Desk::start(builder, 3, "").await;
    let check = Check::before(&desk.sim);
    let failed = desk.pass().await.summary.failed;
    let jobs = desk.sim.jobs();
    assert!(!jobs.is_empty(), "identical decisions went as bulk jobs");
    let stopped: usize = jobs
        .iter()
        .map(|j| j.ticket_ids.len() - j.applied.len())
        .sum();
    assert!(stopped > 0, "{jobs:?}");
    assert_eq!(
        failed, stopped,
        "the tickets the jobs did not reach failed this pass"
    );
    assert_eq!(half_done(&desk.sim), stopped, "noted, fields not written");

    desk.sim.set_faults(Faults::none());
    assert!(desk.passes_until_quiet(5).await);
    let fates = check.run(&desk.sim);
    assert_eq!(count(&fates, Fate::Written), 10, "{fates:?}");
    for id in &check.ids {
        assert_eq!(otai_notes(&desk.sim, *id).len(), 1, "ticket {id}: one note");
    }
    desk.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_agent_edits_after_otais_read_are_conflicts_then_written_keeping_the_agents_tags() {
    let faults = Faults {
        rules: vec![FaultRule::always(Fault::AgentEditAfterRead { tag: None })
            .method("GET")
            .path(LIST)
            .next(1)],
        ..Faults::none()
    };
    let mut desk = Desk::start(
        sim_builder(standard_tickets(), Plan::Unlimited).faults(faults),
        3,
        "",
    )
    .await;
    let check = Check::before(&desk.sim);
    let first = desk.pass().await;
    assert_eq!(first.summary.written, 0, "{first}");
    assert_eq!(first.summary.conflicts, TEXTS.len(), "{first}");
    assert!(desk.passes_until_quiet(5).await);
    assert_all_done(&check.run(&desk.sim));
    for id in &check.ids {
        let t = desk.sim.ticket(*id).unwrap();
        if t.group_id.is_none() || otai_notes(&desk.sim, *id).len() == 1 {
            assert!(
                t.tags.iter().any(|x| x == DEFAULT_AGENT_TAG),
                "ticket {id}: {:?}",
                t.tags
            );
        }
    }
    desk.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_killed_between_the_note_and_the_fields_and_restarted() {
    // Fields take 400 ms (one PUT or a bulk job); otai is killed (SIGKILL) once a note is written
    // and its fields are not, twice, then restarted until a run finds nothing.
    let faults = Faults {
        seed: 6,
        latency: Latency {
            fixed_ms: 5,
            jitter_ms: 5,
        },
        rules: vec![
            FaultRule::always(Fault::Delay { ms: 400 })
                .method("PUT")
                .path(ONE_TICKET),
            FaultRule::always(Fault::Delay { ms: 400 })
                .method("POST")
                .path(BULK),
        ],
        ..Faults::none()
    };
    let sim = sim_builder(standard_tickets(), Plan::Unlimited)
        .faults(faults)
        .start()
        .await
        .unwrap();
    let check = Check::before(&sim);
    let plugins = support::plugins_dir(&[support::FRESHDESK]);
    let cwd = tempfile::tempdir().unwrap();
    let config = cwd.path().join("freshdesk.yml");
    let state = cwd.path().join("state/drill.json");
    std::fs::write(&config, config_yaml(&sim.base_url(), 3, Some(&state), "")).unwrap();

    for run in 1..=2 {
        let child = otai_once(cwd.path(), &config, plugins.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start otai");
        kill_when(child, run, || half_done(&sim) >= 1).await;
        println!(
            "run {run} killed with {} ticket(s) between the note and the fields",
            half_done(&sim)
        );
    }

    sim.set_faults(Faults::none());
    let quiet = runs_until_quiet(cwd.path(), &config, plugins.path(), 3..=6).await;
    assert!(quiet, "the restarted runs settle");
    let fates = check.run(&sim);
    assert_all_done(&fates);
    for id in &check.ids {
        assert!(
            otai_notes(&sim, *id).len() <= 1,
            "ticket {id}: a second note"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_the_rate_budget_holds_in_every_minute_while_another_integration_spends() {
    // A small account: 20 credits a minute (Ticket Update 6, Tickets List 8); otai may spend
    // half. Another integration has just spent most of this minute's credits.
    let plan = Plan::Custom {
        total: 20,
        create: 10,
        update: 6,
        list: 8,
    };
    let tickets: Vec<Value> = standard_tickets().into_iter().take(4).collect();
    let sim = sim_builder(tickets, plan).start().await.unwrap();
    sim.consume(16);
    let params = "      rate_limit: 20\n      rate_budget: \"50%\"\n      max_retry_wait: 70\n";
    let yaml = config_yaml(&sim.base_url(), 3, None, params);
    let mut desk = Desk::new(
        sim,
        crate::desks::Run::start(support::FRESHDESK, "freshdesk", &yaml),
    );
    let check = Check::before(&desk.sim);
    let started = std::time::Instant::now();
    assert!(desk.passes_until_quiet(3).await);
    let took = started.elapsed();
    let fates = check.run(&desk.sim);
    assert_eq!(count(&fates, Fate::Written), 4, "{fates:?}");
    let most = desk.sim.max_credits_in_window(Duration::from_secs(60));
    let spent: u64 = desk.sim.requests().iter().map(|r| r.cost).sum();
    println!(
        "{spent} credits in {:.0} s; at most {most} in any 60 s; 429s: {}",
        took.as_secs_f64(),
        desk.sim.stats().rate_limited
    );
    assert!(
        most <= 10,
        "otai's half of 20 credits a minute: {most} in one window"
    );
    assert_eq!(
        desk.sim.stats().rate_limited,
        0,
        "otai slowed down before Freshdesk said 429"
    );
    assert!(
        spent > 10,
        "the scenario needs more than one minute's budget: {spent}"
    );
    desk.sim.shutdown().await;
}
