//! `otai serve` over the Zammad simulator: the real binary and `libotai_zammad.so`, the
//! simulator's trigger webhook (Zammad's default payload signed with `X-Hub-Signature`) for each
//! ticket a customer writes in. Polling is an hour away, so whatever is routed was routed by its
//! delivery.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Instant,
};

use otai_zammad_sim::{webhooks, SimHandle, WebhookTarget};
use serde_json::{json, Value};
use tempfile::TempDir;

use super::desk::{config_yaml, count, sim_builder, Check, Fate, INBOX, PROCESSED, TEXTS};
use crate::{
    serving::{self, inbox_waiting, serve_yaml, Served, WAIT},
    support,
};

/// The webhook's signature token (spaces are fine in an HMAC key, and otai uses it as given).
const SECRET: &str = "zammad signature token for the serve test";

fn request(i: usize) -> Value {
    json!({"title": format!("Request {i}"), "body": TEXTS[i % TEXTS.len()], "state": "new",
           "group": INBOX, "priority": "2 normal"})
}

fn processed(sim: &SimHandle, id: u64) -> bool {
    sim.tags(id).iter().any(|t| t == PROCESSED)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zammad_serve_routes_a_new_ticket_after_its_signed_webhook_and_refuses_a_forged_one() {
    let sim = sim_builder(Vec::new())
        .start()
        .await
        .expect("the simulator starts");
    let plugins = support::plugins_dir(&[support::ZAMMAD]);
    let cwd = TempDir::new().unwrap();
    let config = cwd.path().join("serve.yml");
    let yaml = serve_yaml(
        &config_yaml(&sim.base_url(), 3, None),
        &format!("      webhook_secret: {SECRET}\n"),
        "",
    );
    std::fs::write(&config, yaml).unwrap();
    let served = Served::start(cwd.path(), &config, plugins.path(), "zammad").await;
    if let Err(seen) = served.wait_passes("drill", 1).await {
        served
            .fail(&format!("the pass at start did not end ({seen} passes)"))
            .await;
    }
    let url = served.webhook_url("zammad");

    // A webhook whose signature token is not otai's: its delivery is refused, nothing routed.
    sim.set_webhook(Some(WebhookTarget {
        url: url.clone(),
        secret: "not the signature token".into(),
    }));
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
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(sim.write_count(forged), 0, "nothing written after a 401");
    assert_eq!(inbox_waiting(cwd.path()), 0, "nothing stored after a 401");

    // The genuine webhook: answered 202, the ticket written back.
    sim.set_webhook(Some(WebhookTarget {
        url,
        secret: SECRET.into(),
    }));
    let added = Instant::now();
    let id = sim.add_tickets(vec![request(1)]).unwrap()[0];
    let Some(took) = serving::wait_for(WAIT, || processed(&sim, id)).await else {
        served
            .fail(&format!("ticket {id} was not routed after its webhook"))
            .await;
    };
    println!(
        "zammad: webhook (ticket created) to written back: {took:?} ({:?} since added)",
        added.elapsed()
    );
    let deliveries = sim.webhook_deliveries();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert_eq!(
        (deliveries[1].ticket_id, deliveries[1].status),
        (id, Some(202)),
        "{deliveries:?}"
    );
    // The pass it woke routed the ticket the forged delivery named too; each written once.
    if serving::wait_for(WAIT, || processed(&sim, forged))
        .await
        .is_none()
    {
        served
            .fail(&format!("ticket {forged} was not routed by the woken pass"))
            .await;
    }
    let check = Check {
        seeded: BTreeMap::from([(forged, Vec::new()), (id, Vec::new())]),
        routed_by_hand: BTreeSet::new(),
    };
    let fates = check.run(&sim);
    assert_eq!(count(&fates, Fate::Written), 2, "{fates:?}");

    // Zammad's delivery id: the same delivery again (a retry) is a duplicate, nothing done.
    let delivery = deliveries[1].delivery_id.clone().expect("a delivery id");
    let body = serde_json::to_vec(&json!({"ticket": {"id": id}})).unwrap();
    let headers = webhooks::signed_headers(SECRET, &body, &delivery);
    let (status, answer) = served.post("/webhooks/zammad", &headers, body).await;
    assert_eq!(
        (status, &answer["duplicate"]),
        (200, &json!(true)),
        "{answer}"
    );

    if let Err(ready) = served.wait_inbox_settled().await {
        served
            .fail(&format!("the inbox still holds tickets: {ready}"))
            .await;
    }
    let (stdout, stderr) = served.stop().await;
    assert_eq!(inbox_waiting(cwd.path()), 0, "{stderr}");
    // The pass at start and the one the genuine delivery woke: neither the forged delivery nor
    // the duplicate woke one.
    assert_eq!(serving::passes(&stdout, "drill"), 2, "{stdout}");
    assert!(stderr.contains("Refused a webhook delivery"), "{stderr}");
    assert!(stderr.contains("Accepted a webhook delivery."), "{stderr}");
    assert!(!stderr.contains(SECRET), "the secret is never logged");
    sim.shutdown().await;
}
