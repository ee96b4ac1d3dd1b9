//! Finding every new ticket through the real plugin: a backlog larger than the search returns
//! (split by creation date), and tickets too new for the search's index (found by the list).

use std::{collections::BTreeSet, path::Path, sync::Arc};

use otai::{config::Config, plugins::PluginRegistry, ticket::TicketSystem};
use otai_freshdesk_sim::{Plan, SimHandle, Simulator};
use otai_plugin_sdk::SearchQuery;
use serde_json::{json, Value};

use crate::support;

fn system(sim: &SimHandle) -> (Arc<dyn TicketSystem>, tempfile::TempDir) {
    let yaml = format!(
        "ticket_systems:\n  freshdesk:\n    use: otai_freshdesk:FreshdeskTicketsystemService\n    \
         params:\n      base_url: {}\n      api_key: sim-api-key\npipelines: {{}}\n",
        sim.base_url()
    );
    let config = Config::parse(&yaml, Path::new("find.yml"), &|_| Ok(None)).unwrap();
    let plugins = support::plugins_dir(&[support::FRESHDESK]);
    let registry = PluginRegistry::load(plugins.path());
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    (
        registry.ticket_system(&config, "freshdesk").unwrap(),
        plugins,
    )
}

fn new_tickets() -> SearchQuery {
    SearchQuery {
        statuses: vec!["new".into()],
        tags_none: vec!["otai_processed".into()],
        ..SearchQuery::default()
    }
}

/// `n` unassigned tickets created over the days from `first_day` (of June 2026), months before
/// the list's 30-day window.
fn old_tickets(n: usize, first_day: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let at = format!("2026-06-{:02}T{:02}:00:00Z", first_day + i % 6, i % 24);
            json!({"subject": format!("Old {i}"), "description": "Where is my card?", "status": 2,
                   "priority": 1, "created_at": at, "updated_at": at})
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_past_the_search_cap_is_found_whole_and_once() {
    // 450 old new tickets (more than the 300 a search returns) and 5 routed ones.
    let mut tickets = old_tickets(450, 1);
    for i in 0..5 {
        tickets.push(
            json!({"subject": format!("Routed {i}"), "description": "x", "status": 2,
                            "group": "Cards", "created_at": "2026-06-02T10:00:00Z",
                            "updated_at": "2026-06-02T10:00:00Z"}),
        );
    }
    let sim = Simulator::builder()
        .groups(&["Cards"])
        .tickets(tickets)
        .plan(Plan::Unlimited)
        .start()
        .await
        .unwrap();
    let (system, _plugins) = system(&sim);
    let found = system.find_tickets(new_tickets()).await.unwrap();
    let ids: BTreeSet<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(found.len(), 450, "every old new ticket");
    assert_eq!(ids.len(), 450, "each once");
    assert!(found
        .iter()
        .all(|t| t.subject.starts_with("Old ") && t.body == "Where is my card?"));
    let searches = sim
        .stats()
        .by_route
        .get("GET /api/v2/search/tickets")
        .copied()
        .unwrap_or(0);
    println!("{:?}", sim.stats().by_route);
    assert!(
        searches > 10,
        "past 300 results the sweep splits by creation date: {searches} searches"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_newer_than_the_search_index_are_found_by_the_list() {
    // Freshdesk indexes changes minutes late (here 10 minutes): the search does not see new
    // tickets yet, the list does.
    let sim = Simulator::builder()
        .index_lag(std::time::Duration::from_secs(600))
        .plan(Plan::Unlimited)
        .start()
        .await
        .unwrap();
    let (system, _plugins) = system(&sim);
    assert!(system.find_tickets(new_tickets()).await.unwrap().is_empty());
    let added = sim
        .add_tickets(vec![json!({"subject": "Fresh", "description": "My card was stolen", "status": 2, "priority": 1})])
        .unwrap();
    let search = reqwest::Client::new()
        .get(format!("{}/api/v2/search/tickets", sim.base_url()))
        .basic_auth("sim-api-key", Some("X"))
        .query(&[("query", "\"status:2\"")])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(search["total"], 0, "not indexed yet: {search}");
    let found = system.find_tickets(new_tickets()).await.unwrap();
    assert_eq!(
        found.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        [added[0].to_string()]
    );
    sim.shutdown().await;
}
