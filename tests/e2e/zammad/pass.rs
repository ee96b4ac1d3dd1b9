//! A pass over the demo help desk (the 200 tickets of `data/demo/helpdesk.json`, the same as the
//! Zendesk demo): every new ticket routed once, with the API calls it took per ticket; the same
//! with Elasticsearch off and the older search answer shape.

use std::path::Path;

use otai_zammad_sim::{SearchBackend, SearchShape, Simulator};

use super::desk::{all_ids, count, Check, Desk, Fate};

fn demo_seed() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/demo/helpdesk.json")
}

async fn demo_pass(backend: SearchBackend, shape: SearchShape) {
    let builder = Simulator::builder()
        .seed_file(demo_seed())
        .search_backend(backend)
        .search_shape(shape);
    let mut desk = Desk::start(builder, 3).await;
    let ids = all_ids(&desk.sim);
    let check = Check::before(&desk.sim, ids.clone());
    let inbox = ids.len() - check.routed_by_hand.len();

    let report = desk.pass().await;
    assert!(report.failure.is_none(), "{report}");
    let stats = desk.sim.stats();
    let fates = check.run(&desk.sim);
    let written = count(&fates, Fate::Written);
    println!(
        "{backend:?}/{shape:?}: {} tickets ({inbox} in the inbox), written {written}, routed by hand {}, \
         untouched {}; {} API requests = {:.2} per written ticket",
        ids.len(),
        count(&fates, Fate::Routed),
        count(&fates, Fate::Untouched),
        stats.requests,
        stats.requests as f64 / written.max(1) as f64
    );
    for (route, n) in &stats.by_route {
        println!("  {n:>5}  {route}");
    }
    assert_eq!(count(&fates, Fate::MarkedFailed), 0, "{fates:?}");
    assert!(
        written >= inbox * 9 / 10,
        "most inbox tickets are written: {written} of {inbox}"
    );
    // Nothing was read twice in the search, and no ticket got more than one PUT.
    let puts = stats
        .by_route
        .get("PUT /api/v1/tickets/{id}")
        .copied()
        .unwrap_or(0);
    assert_eq!(puts as usize, written, "one PUT per written ticket");

    // A second pass finds nothing left: otai's tags keep its tickets out of the search.
    let again = desk.pass().await;
    assert_eq!(again.summary.fetched, 0, "{again}");
    desk.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_help_desk_is_routed_in_one_pass_each_ticket_once() {
    demo_pass(SearchBackend::Elasticsearch, SearchShape::Array).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_elasticsearch_and_with_the_older_search_shape_it_routes_the_same() {
    demo_pass(SearchBackend::Sql, SearchShape::Legacy).await;
}
