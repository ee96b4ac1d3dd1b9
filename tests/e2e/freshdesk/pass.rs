//! A pass over the demo help desk (the 200 tickets of `data/demo/helpdesk.json`, all unassigned
//! and older than Freshdesk's 30-day list window): every ticket routed once, with the API calls
//! it took by route, with and without bulk jobs.

use std::{path::Path, time::Instant};

use otai_freshdesk_sim::{Plan, Simulator};

use super::desk::{count, Check, Desk, Fate};

async fn demo_pass(params: &str) -> (u64, usize) {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/demo/helpdesk.json");
    let builder = Simulator::builder().seed_file(seed).plan(Plan::Unlimited);
    let mut desk = Desk::start(builder, 3, params).await;
    let check = Check::before(&desk.sim);
    let total = check.ids.len();

    let started = Instant::now();
    let report = desk.pass().await;
    let took = started.elapsed();
    assert!(report.failure.is_none(), "{report}");
    let stats = desk.sim.stats();
    let fates = check.run(&desk.sim);
    let written = count(&fates, Fate::Written);
    let credits: u64 = desk.sim.requests().iter().map(|r| r.cost).sum();
    println!(
        "params [{}]: {total} tickets, written {written}, failed {}, untouched {}; {} API requests \
         = {:.2} per written ticket, {credits} credits; {:.1} s without a rate limit",
        params.trim(),
        count(&fates, Fate::MarkedFailed),
        count(&fates, Fate::Untouched),
        stats.requests,
        stats.requests as f64 / written.max(1) as f64,
        took.as_secs_f64()
    );
    for (route, n) in &stats.by_route {
        println!("  {n:>5}  {route}");
    }
    assert_eq!(written, total, "every demo ticket is written: {fates:?}");

    // A second pass finds nothing left to write, for a few credits.
    let before = desk.sim.stats().requests;
    let again = desk.pass().await;
    assert_eq!(again.summary.written, 0, "{again}");
    println!(
        "second pass: {} requests",
        desk.sim.stats().requests - before
    );
    desk.sim.shutdown().await;
    (stats.requests, written)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_help_desk_is_routed_in_one_pass_each_ticket_once() {
    let (bulk, written) = demo_pass("").await;
    let (single, _) = demo_pass("      bulk_update: false\n").await;
    println!(
        "bulk jobs: {bulk} requests, one PUT each: {single} ({:.2} vs {:.2} per ticket)",
        bulk as f64 / written as f64,
        single as f64 / written as f64
    );
    assert!(bulk < single, "bulk jobs save requests: {bulk} vs {single}");
}
