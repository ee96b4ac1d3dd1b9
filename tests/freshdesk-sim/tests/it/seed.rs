//! The demo help desk (Zendesk-shaped) loads; builder seeds and seed errors.

use otai_freshdesk_sim::{SimError, Simulator};

use crate::common::{get, ids, start, DEMO};

#[tokio::test]
async fn the_demo_help_desk_loads_as_200_open_unrouted_tickets() {
    let sim = start(Simulator::builder().seed_file(DEMO)).await;
    let tickets = sim.tickets();
    assert_eq!(tickets.len(), 200);
    // Every demo ticket is Zendesk "new": open, no group, no agent.
    assert!(tickets
        .iter()
        .all(|t| t.status == 2 && t.group_id.is_none() && t.responder_id.is_none()));
    let names: Vec<String> = sim.groups().into_iter().map(|(_, n)| n).collect();
    assert!(names.contains(&"Cards".to_string()));
    assert!(
        names.contains(&"Unclassified".to_string()),
        "the fallback group exists: {names:?}"
    );
    let first = sim.ticket(9_000_000_001).unwrap();
    assert_eq!(first.subject, "Tell me why my transfer failed");
    assert_eq!(first.description_text, "Tell me why my transfer failed!");
    assert_eq!(first.created_at, "2025-06-02T08:05:07Z");
    assert_eq!(first.source, 2, "via web: Portal");
    let page = get(
        &sim,
        "/api/v2/tickets?updated_since=2025-01-01&per_page=100&page=2",
    )
    .await;
    assert_eq!(ids(&page.body).len(), 100);
    assert!(page.header("link").is_none());
    assert!(
        ids(&get(&sim, "/api/v2/tickets").await.body).is_empty(),
        "older than 30 days"
    );
}

#[tokio::test]
async fn bad_seeds_are_errors_with_their_origin() {
    let err = Simulator::builder()
        .tickets(vec![
            serde_json::json!({"subject": "x", "priority": "huge"}),
        ])
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, SimError::Seed { .. }), "{err}");
    assert!(err.to_string().contains("ticket 1"), "{err}");
    let err = Simulator::builder()
        .seed_file("/nonexistent.json")
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, SimError::SeedRead { .. }));
}

#[test]
fn a_blocking_simulator_serves_from_its_own_thread() {
    let sim = Simulator::builder()
        .seed_file(DEMO)
        .start_blocking()
        .unwrap();
    assert_eq!(sim.tickets().len(), 200);
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
}
