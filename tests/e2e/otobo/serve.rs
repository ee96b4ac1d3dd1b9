//! `otai serve` over the OTOBO simulator: the real binary and `libotai_otobo_znuny.so`, the
//! simulator's web service Requester (the TicketCreate invoker's body with the `TicketID`, the
//! shared secret in an additional header or as the BasicAuth password) for each ticket a
//! customer writes in. Polling is an hour away, so whatever is routed was routed by its
//! delivery.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use otai_otobo_sim::{SimHandle, WebhookTarget};
use serde_json::{json, Value};
use tempfile::TempDir;

use super::desk::{config_yaml, count, sim_builder, tags, Check, Fate, INBOX, PROCESSED, TEXTS};
use crate::{
    serving::{self, inbox_waiting, serve_yaml, Served, WAIT},
    support,
};

/// The secret the invoker's transport sends (otai's `webhook_secret`).
const SECRET: &str = "gi-webhook-secret-7e3b9c2d41f0a8";
/// The BasicAuth user otai checks (`webhook_user`).
const USER: &str = "otobo-events";

fn request(i: usize) -> Value {
    json!({"Title": format!("Request {i}"), "Body": TEXTS[i % TEXTS.len()], "Queue": INBOX,
           "State": "new", "Priority": "3 normal",
           "CustomerUser": format!("customer{i}@example.com")})
}

fn processed(sim: &SimHandle, id: u64) -> bool {
    tags(sim, id).iter().any(|t| t == PROCESSED)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otobo_serve_routes_new_tickets_after_their_invoker_deliveries_and_refuses_a_wrong_secret()
{
    let sim = sim_builder(Vec::new())
        .start()
        .await
        .expect("the simulator starts");
    let plugins = support::plugins_dir(&[support::OTOBO]);
    let cwd = TempDir::new().unwrap();
    let config = cwd.path().join("serve.yml");
    let yaml = serve_yaml(
        &config_yaml(&sim.base_url(), 3, None),
        &format!("      webhook_secret: {SECRET}\n      webhook_user: {USER}\n"),
        "",
    );
    std::fs::write(&config, yaml).unwrap();
    let served = Served::start(cwd.path(), &config, plugins.path(), "otobo").await;
    if let Err(seen) = served.wait_passes("drill", 1).await {
        served
            .fail(&format!("the pass at start did not end ({seen} passes)"))
            .await;
    }
    let url = served.webhook_url("otobo");

    // A transport whose header carries another secret: refused, nothing routed.
    sim.set_webhook(Some(WebhookTarget::new(
        url.clone(),
        "gi-webhook-secret-not-otais",
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
    assert_eq!(inbox_waiting(cwd.path()), 0, "nothing stored after a 401");

    // The genuine transport, the secret in the header: answered 202, the ticket written back.
    // Then BasicAuth with the secret as the password: the same.
    let mut routed = vec![forged];
    for (way, target) in [
        ("header", WebhookTarget::new(url.clone(), SECRET)),
        (
            "basic",
            WebhookTarget::new(url.clone(), SECRET).with_basic(USER),
        ),
    ] {
        sim.set_webhook(Some(target));
        let added = Instant::now();
        let id = sim.add_tickets(vec![request(routed.len())]).unwrap()[0];
        let Some(took) = serving::wait_for(WAIT, || processed(&sim, id)).await else {
            served
                .fail(&format!(
                    "ticket {id} was not routed after its {way} delivery"
                ))
                .await;
        };
        println!(
            "otobo ({way}): webhook (TicketCreate) to written back: {took:?} ({:?} since added)",
            added.elapsed()
        );
        let deliveries = sim.webhook_deliveries();
        let last = deliveries.last().unwrap();
        assert_eq!(deliveries.len(), routed.len() + 1, "{deliveries:?}");
        assert_eq!(
            (last.ticket_id, last.status),
            (id, Some(202)),
            "{way}: {last:?}"
        );
        routed.push(id);
    }
    // The first pass woken routed the ticket the refused delivery named too; each written once.
    if serving::wait_for(WAIT, || processed(&sim, forged))
        .await
        .is_none()
    {
        served
            .fail(&format!("ticket {forged} was not routed by a woken pass"))
            .await;
    }
    let check = Check {
        routed_by_hand: BTreeMap::new(),
        ids: routed.iter().copied().collect::<BTreeSet<u64>>(),
    };
    let fates = check.run(&sim);
    assert_eq!(count(&fates, Fate::Written), 3, "{fates:?}");

    if let Err(ready) = served.wait_inbox_settled().await {
        served
            .fail(&format!("the inbox still holds tickets: {ready}"))
            .await;
    }
    let (stdout, stderr) = served.stop().await;
    assert_eq!(inbox_waiting(cwd.path()), 0, "{stderr}");
    // The pass at start and one per accepted delivery: the refused one woke none.
    assert_eq!(serving::passes(&stdout, "drill"), 3, "{stdout}");
    assert!(stderr.contains("Refused a webhook delivery"), "{stderr}");
    assert!(stderr.contains("Accepted a webhook delivery."), "{stderr}");
    assert!(!stderr.contains(SECRET), "the secret is never logged");
    sim.shutdown().await;
}
