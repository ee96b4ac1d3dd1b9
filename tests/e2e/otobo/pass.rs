//! A pass over the demo help desk (the 200 tickets of `data/demo/helpdesk.json`): every new
//! ticket routed once, with the API calls it took per ticket by operation, beside Open Ticket
//! AI's one search, one get per ticket and four writes per ticket; for the otobo and znuny
//! flavours (`/otobo/` and `/otrs/` web service URLs).

use std::path::Path;

use otai_otobo_sim::{Flavour, Simulator};

use super::desk::{count, Check, Desk, Fate, TAGS};

async fn demo_pass(flavour: Flavour) {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/demo/helpdesk.json");
    let builder = Simulator::builder()
        .flavour(flavour)
        .multiselect_field(TAGS)
        .seed_file(seed);
    let mut desk = Desk::start(builder, 3).await;
    let check = Check::before(&desk.sim);
    let total = check.ids.len();

    let report = desk.pass().await;
    assert!(report.failure.is_none(), "{report}");
    let stats = desk.sim.stats();
    let fates = check.run(&desk.sim);
    let written = count(&fates, Fate::Written);
    println!(
        "{flavour:?}: {total} tickets, written {written}, routed by hand {}, untouched {}; \
         {} API requests = {:.2} per written ticket (Open Ticket AI: 1 search + {total} gets + \
         {} writes = {:.2})",
        count(&fates, Fate::Routed),
        count(&fates, Fate::Untouched),
        stats.requests,
        stats.requests as f64 / written.max(1) as f64,
        4 * written,
        (1 + total + 4 * written) as f64 / written.max(1) as f64,
    );
    for (operation, n) in &stats.by_operation {
        println!("  {n:>5}  {operation}");
    }
    assert_eq!(count(&fates, Fate::MarkedFailed), 0, "{fates:?}");
    assert!(
        written >= total * 9 / 10,
        "most tickets are written: {written} of {total}"
    );
    let updates = stats.by_operation.get("TicketUpdate").copied().unwrap_or(0) as usize;
    let routed = count(&fates, Fate::Routed);
    assert_eq!(
        updates,
        2 * written + routed,
        "note + fields per written ticket, one per routed"
    );

    // A second pass finds nothing left to write.
    let again = desk.pass().await;
    assert_eq!(again.summary.written + again.summary.routed, 0, "{again}");
    desk.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_help_desk_on_otobo_is_routed_in_one_pass_each_ticket_once() {
    demo_pass(Flavour::Otobo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_help_desk_on_znuny_is_routed_the_same() {
    demo_pass(Flavour::Znuny).await;
}
