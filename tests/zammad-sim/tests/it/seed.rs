//! Seeds: the demo help desk, and the blocking form.

use crate::common::DEMO;
use otai_zammad_sim::Simulator;

#[tokio::test]
async fn the_demo_help_desk_loads_200_tickets_with_their_groups() {
    let sim = Simulator::builder().seed_file(DEMO).start().await.unwrap();
    let tickets = sim.tickets();
    assert_eq!(tickets.len(), 200);
    assert_eq!(tickets[0].id, 9000000001);
    assert!(tickets
        .iter()
        .all(|t| t.state == "new" && t.priority == "2 normal"));
    assert!(tickets.iter().all(|t| t.article_count == 1));
    let count = |g: &str| tickets.iter().filter(|t| t.group == g).count();
    assert_eq!(count("Users"), 118, "no group -> Users");
    assert_eq!(count("Inbox"), 74);
    let t2 = sim.ticket(9000000002).unwrap();
    assert_eq!(t2.group, "Top-ups");
    assert_eq!(t2.title, "How can I top up automatically");
    assert_eq!(t2.created_at, "2025-06-02T08:08:21.000Z");
    let a = &sim.articles(9000000002)[0];
    assert_eq!(
        (a.sender.as_str(), a.content_type.as_str(), a.body.as_str()),
        ("Customer", "text/plain", "How can I top up automatically?")
    );
    assert_eq!(a.from.as_deref(), Some("customer09@example.com"));
    let groups = crate::common::get(&sim, "/api/v1/groups").await.body;
    let names: Vec<_> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names[..3], ["Users", "Inbox", "Unclassified"]);
    assert_eq!(names.len(), 11);
    sim.shutdown().await;
}

#[test]
fn a_blocking_simulator_runs_on_its_own_thread() {
    let sim = Simulator::builder()
        .tickets(vec![serde_json::json!({"title": "x", "body": "y"})])
        .start_blocking()
        .unwrap();
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(sim.ticket(1).unwrap().title, "x");
    assert!(sim.agent_edit(1, "t"));
    assert_eq!(sim.tags(1), ["t"]);
    let bad = Simulator::builder()
        .seed_file("/no/such/file.json")
        .start_blocking();
    let Err(e) = bad else {
        panic!("a missing seed file must fail")
    };
    assert!(e.to_string().contains("/no/such/file.json"), "{e}");
}
