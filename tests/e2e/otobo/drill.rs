//! The fault drill against OTOBO: the standard seed on a bad day, then [`Check`]. TicketUpdate is
//! not transactional, so the scenarios that matter most stop a write midway: between its setters,
//! and between otai's note and its fields.

use std::process::Stdio;

use otai_otobo_sim::{Fault, FaultRule, Faults, Flavour, Latency, SimHandle};

use super::desk::{
    assert_all_done, config_yaml, count, otai_notes, sim_builder, standard_tickets, tags, Check,
    Desk, Fate, PROCESSED, TEXTS,
};
use crate::{
    desks::{error, kill_when, otai_once, runs_until_quiet},
    support,
};

/// TicketGet and TicketUpdate (`/Ticket/:TicketID`), TicketSearch (`/Ticket`), by path glob.
const ONE_TICKET: &str = "*/Ticket/*";
const SEARCH: &str = "*/Ticket";

/// Tickets with otai's note but without its processed tag: a write left between its halves.
fn half_done(sim: &SimHandle) -> usize {
    sim.tickets()
        .iter()
        .filter(|t| {
            !otai_notes(sim, t.id).is_empty() && !tags(sim, t.id).iter().any(|x| x == PROCESSED)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_5xx_drops_and_broken_bodies_lose_nothing_and_never_write_twice() {
    bad_day(Flavour::Otobo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_5xx_drops_and_broken_bodies_on_znuny() {
    bad_day(Flavour::Znuny).await;
}

async fn bad_day(flavour: Flavour) {
    let faults = Faults {
        seed: 12,
        rules: vec![
            FaultRule::always(error(502))
                .method("GET")
                .path(SEARCH)
                .next(1),
            FaultRule::always(error(500))
                .method("GET")
                .path(ONE_TICKET)
                .probability(0.2),
            FaultRule::always(Fault::Truncate)
                .method("GET")
                .path(ONE_TICKET)
                .probability(0.05),
            FaultRule::always(error(503))
                .method("PATCH")
                .path(ONE_TICKET)
                .probability(0.15),
            FaultRule::always(Fault::Drop)
                .method("PATCH")
                .path(ONE_TICKET)
                .next(2),
            FaultRule::always(Fault::Malformed)
                .method("PATCH")
                .path(ONE_TICKET)
                .next(1),
        ],
        ..Faults::none()
    };
    let builder = sim_builder(standard_tickets())
        .flavour(flavour)
        .faults(faults);
    let mut desk = Desk::start(builder, 6).await;
    let check = Check::before(&desk.sim);
    assert!(desk.passes_until_quiet(20).await, "the passes settle");
    let fates = check.run(&desk.sim);
    println!("{fates:?}");
    assert_eq!(count(&fates, Fate::Untouched), 0, "{fates:?}");
    assert_eq!(
        count(&fates, Fate::Written) + count(&fates, Fate::MarkedFailed),
        TEXTS.len()
    );
    assert!(desk.sim.stats().faults_injected > 5);
    desk.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_an_update_stopped_between_its_setters_is_finished_not_taken_for_an_agents_routing() {
    stopped_between_setters(Flavour::Otobo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_an_update_stopped_between_its_setters_on_znuny() {
    stopped_between_setters(Flavour::Znuny).await;
}

async fn stopped_between_setters(flavour: Flavour) {
    // Every update that sets a queue stops right after the queue setter: queue changed, no
    // priority, no tags (updates without a queue, such as otai's notes, go through). The next
    // pass sees tickets outside the inbox without otai's tags.
    let faults = Faults {
        rules: vec![FaultRule::always(Fault::StopMidWrite {
            after: Some("queue".into()),
        })
        .method("PATCH")
        .path(ONE_TICKET)],
        ..Faults::none()
    };
    let builder = sim_builder(standard_tickets())
        .flavour(flavour)
        .faults(faults);
    let mut desk = Desk::start(builder, 3).await;
    assert!(
        desk.sim.base_url().contains(flavour.script_path()),
        "{}",
        desk.sim.base_url()
    );
    let check = Check::before(&desk.sim);
    let first = desk.pass().await;
    assert_eq!(first.summary.written, 0, "{first}");
    assert_eq!(
        half_done(&desk.sim),
        TEXTS.len(),
        "every write stopped after its queue"
    );
    desk.sim.set_faults(Faults::none());
    assert!(desk.passes_until_quiet(5).await);
    assert_all_done(&check.run(&desk.sim));
    for t in desk.sim.tickets() {
        assert!(
            otai_notes(&desk.sim, t.id).len() <= 1,
            "ticket {}: a second note",
            t.id
        );
    }
    desk.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_agent_edits_after_otais_read_are_conflicts_then_written() {
    let reads = standard_tickets().len() as u32;
    let faults = Faults {
        rules: vec![FaultRule::always(Fault::AgentEditAfterRead { tag: None })
            .method("GET")
            .path(ONE_TICKET)
            .next(1)],
        ..Faults::none()
    };
    let mut desk = Desk::start(sim_builder(standard_tickets()).faults(faults), 3).await;
    let check = Check::before(&desk.sim);
    let first = desk.pass().await;
    assert_eq!(first.summary.written, 0, "{first}");
    assert!(first.summary.conflicts as u32 >= reads - 2, "{first}");
    assert!(desk.passes_until_quiet(5).await);
    assert_all_done(&check.run(&desk.sim));
    desk.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_killed_between_the_note_and_the_fields_and_restarted() {
    // Every TicketUpdate takes 300 ms; otai is killed (SIGKILL) once a note is written and its
    // fields are not, twice, then restarted until a run finds nothing.
    let faults = Faults {
        seed: 6,
        latency: Latency {
            fixed_ms: 5,
            jitter_ms: 5,
        },
        rules: vec![FaultRule::always(Fault::Delay { ms: 300 })
            .method("PATCH")
            .path(ONE_TICKET)],
        ..Faults::none()
    };
    let sim = sim_builder(standard_tickets())
        .faults(faults)
        .start()
        .await
        .unwrap();
    let check = Check::before(&sim);
    let plugins = support::plugins_dir(&[support::OTOBO]);
    let cwd = tempfile::tempdir().unwrap();
    let config = cwd.path().join("otobo.yml");
    let state = cwd.path().join("state/drill.json");
    std::fs::write(&config, config_yaml(&sim.base_url(), 3, Some(&state))).unwrap();

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
    assert_all_done(&check.run(&sim));
    sim.shutdown().await;
}
