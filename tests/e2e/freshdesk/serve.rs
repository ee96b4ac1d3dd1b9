//! `otai serve` over the Freshdesk simulator: the real binary and `libotai_freshdesk.so`, the
//! simulator's automation-rule webhook (`{"ticket_id": "<id>"}` with the shared secret in a
//! custom header) for each ticket a customer writes in. Polling is an hour away, so whatever is
//! routed was routed by its delivery.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use otai_freshdesk_sim::{Plan, SimHandle, WebhookTarget};
use serde_json::{json, Value};
use tempfile::TempDir;

use super::desk::{config_yaml, count, sim_builder, Check, Fate, CUSTOMER_TAG, PROCESSED, TEXTS};
use crate::{
    serving::{self, inbox_waiting, serve_yaml, Served, WAIT},
    support,
};

/// The secret the Trigger webhook action sends (otai's `webhook_secret`).
const SECRET: &str = "fd-webhook-secret-4c1d8e0b7f2a9d63";

fn request(i: usize) -> Value {
    json!({"subject": format!("Request {i}"), "description": TEXTS[i % TEXTS.len()], "status": 2,
           "priority": 1, "tags": [CUSTOMER_TAG], "requester": format!("customer{i}@example.com")})
}

fn processed(sim: &SimHandle, id: u64) -> bool {
    sim.ticket(id)
        .is_some_and(|t| t.tags.iter().any(|tag| tag == PROCESSED))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshdesk_serve_routes_a_new_ticket_after_its_webhook_and_refuses_a_wrong_secret() {
    let sim = sim_builder(Vec::new(), Plan::Enterprise)
        .start()
        .await
        .expect("the simulator starts");
    let plugins = support::plugins_dir(&[support::FRESHDESK]);
    let cwd = TempDir::new().unwrap();
    let config = cwd.path().join("serve.yml");
    let yaml = serve_yaml(
        &config_yaml(&sim.base_url(), 3, None, ""),
        &format!("      webhook_secret: {SECRET}\n"),
        "",
    );
    std::fs::write(&config, yaml).unwrap();
    let served = Served::start(cwd.path(), &config, plugins.path(), "freshdesk").await;
    if let Err(seen) = served.wait_passes("drill", 1).await {
        served
            .fail(&format!("the pass at start did not end ({seen} passes)"))
            .await;
    }
    let url = served.webhook_url("freshdesk");

    // An action whose header carries another secret: refused, nothing routed.
    sim.set_webhook(Some(WebhookTarget::new(
        url.clone(),
        "fd-webhook-secret-not-otais",
    )));
    let forged = sim.add_tickets(vec![request(0)]).unwrap()[0];
    if serving::wait_for(WAIT, || !sim.webhook_deliveries().is_empty())
        .await
        .is_none()
    {
        served
            .fail("the simulator's delivery was not answered")
            .await;
    }
    assert_eq!(sim.webhook_deliveries()[0].status, Some(401));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sim.write_count(forged), 0, "nothing written after a 401");
    assert!(!processed(&sim, forged));
    assert_eq!(inbox_waiting(cwd.path()), 0, "nothing stored after a 401");

    // The genuine action: answered 202, the ticket written back.
    sim.set_webhook(Some(WebhookTarget::new(url, SECRET)));
    let added = Instant::now();
    let id = sim.add_tickets(vec![request(1)]).unwrap()[0];
    let Some(took) = serving::wait_for(WAIT, || processed(&sim, id)).await else {
        served
            .fail(&format!("ticket {id} was not routed after its webhook"))
            .await;
    };
    println!(
        "freshdesk: webhook (ticket created) to written back: {took:?} ({:?} since added)",
        added.elapsed()
    );
    let deliveries = sim.webhook_deliveries();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert_eq!(
        (deliveries[1].ticket_id, deliveries[1].status),
        (id, Some(202)),
        "{deliveries:?}"
    );
    // The pass it woke routed the ticket the refused delivery named too; each written once,
    // the customer's tag kept.
    if serving::wait_for(WAIT, || processed(&sim, forged))
        .await
        .is_none()
    {
        served
            .fail(&format!("ticket {forged} was not routed by the woken pass"))
            .await;
    }
    let check = Check {
        routed_by_hand: BTreeMap::new(),
        tags_before: BTreeMap::from([
            (forged, vec![CUSTOMER_TAG.to_string()]),
            (id, vec![CUSTOMER_TAG.to_string()]),
        ]),
        ids: BTreeSet::from([forged, id]),
    };
    let fates = check.run(&sim);
    assert_eq!(count(&fates, Fate::Written), 2, "{fates:?}");

    if let Err(ready) = served.wait_inbox_settled().await {
        served
            .fail(&format!("the inbox still holds tickets: {ready}"))
            .await;
    }
    let (stdout, stderr) = served.stop().await;
    assert_eq!(inbox_waiting(cwd.path()), 0, "{stderr}");
    // The pass at start and the one the genuine delivery woke: the refused one woke none.
    assert_eq!(serving::passes(&stdout, "drill"), 2, "{stdout}");
    assert!(stderr.contains("Refused a webhook delivery"), "{stderr}");
    assert!(stderr.contains("Accepted a webhook delivery."), "{stderr}");
    assert!(!stderr.contains(SECRET), "the secret is never logged");
    sim.shutdown().await;
}
