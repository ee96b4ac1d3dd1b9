//! Endpoint shapes (against the recorded fixtures), update semantics, tags, comments, auth,
//! incremental export, the admin API.

use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn ticket_shapes_match_the_recorded_fixtures() {
    let sim = sim().await;
    let one = get(&sim, &format!("/api/v2/tickets/{BIG}.json")).await;
    assert_eq!(one.status, 200);
    let t = &one.body["ticket"];
    let missing = missing_keys(&fixture("GET/ticket.json")["ticket"], t);
    assert!(missing.is_empty(), "missing keys {missing:?}");
    assert_eq!(t["id"].as_u64(), Some(BIG));
    assert_eq!(
        t["url"],
        format!("{}/api/v2/tickets/{BIG}.json", sim.base_url())
    );
    assert!(t["group_id"].as_u64().unwrap() > u64::from(u32::MAX) / 100);
    assert_eq!(t["fields"], t["custom_fields"]);
    assert_eq!(t["via"]["channel"], "web");
    // Suffix-less path, same answer; a ticket without subject serves null.
    let same = get(&sim, &format!("/api/v2/tickets/{BIG}")).await;
    assert_eq!(same.body, one.body);
    assert_eq!(
        get(&sim, "/api/v2/tickets/2").await.body["ticket"]["subject"],
        Value::Null
    );
    assert_eq!(
        get(&sim, "/api/v2/tickets/5").await.body["ticket"]["status"],
        "escalated_custom"
    );
    let nf = get(&sim, "/api/v2/tickets/999").await;
    assert_eq!(
        (nf.status, nf.body["error"].as_str()),
        (404, Some("RecordNotFound"))
    );

    let many = get(
        &sim,
        &format!("/api/v2/tickets/show_many.json?ids={BIG},999,3"),
    )
    .await;
    assert!(missing_keys(&fixture("GET/ticket_show_many.json"), &many.body).is_empty());
    assert_eq!(ids(&many.body["tickets"]), vec![3, BIG]);
    let too_many: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let a = get(
        &sim,
        &format!("/api/v2/tickets/show_many?ids={}", too_many.join(",")),
    )
    .await;
    assert_eq!(
        (a.status, a.body["error"].as_str()),
        (400, Some("TooManyValues"))
    );
    assert_eq!(a.body["max_count"], 100);
}

#[tokio::test]
async fn ticket_list_pages_by_cursor_and_offset() {
    let sim = sim().await;
    let mut seen = Vec::new();
    let mut path = "/api/v2/tickets.json?page%5Bsize%5D=4".to_string();
    let mut pages = 0;
    loop {
        let a = get(&sim, &path).await;
        pages += 1;
        seen.extend(ids(&a.body["tickets"]));
        // links.next stays a URL on the last page, as real Zendesk.
        let next = a.body["links"]["next"].as_str().unwrap().to_string();
        if a.body["meta"]["has_more"] == false {
            break;
        }
        path = next.replace(sim.base_url(), "");
    }
    assert_eq!(pages, 2);
    seen.sort_unstable();
    assert_eq!(seen, vec![2, 3, 4, 5, 6, BIG]);

    let off = get(&sim, "/api/v2/tickets?page=2&per_page=4").await;
    assert!(missing_keys(&fixture("GET/tickets.json"), &off.body).is_empty());
    assert_eq!(off.body["count"], 6);
    assert_eq!(off.body["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(off.body["next_page"], Value::Null);
    assert!(off.body["previous_page"].is_string());
    assert_eq!(
        get(&sim, "/api/v2/tickets?page=101&per_page=100")
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn groups_fields_users_and_comments_have_zendesk_shapes() {
    let sim = sim().await;
    let g = get(&sim, "/api/v2/groups?page[size]=2").await;
    let recorded = &fixture("GET/groups.json")["groups"][0];
    assert!(missing_keys(recorded, &g.body["groups"][0]).is_empty());
    assert_eq!(g.body["meta"]["has_more"], true);
    let all = get(&sim, "/api/v2/groups").await;
    assert_eq!(all.body["count"], 3);
    let deleted: Vec<&Value> = all.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["deleted"] == true)
        .collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        get(&sim, "/api/v2/groups/assignable").await.body["count"],
        2
    );

    let f = get(&sim, "/api/v2/ticket_fields").await;
    assert!(missing_keys(
        &fixture("GET/ticket_fields.json")["ticket_fields"][0],
        &f.body["ticket_fields"][0]
    )
    .is_empty());
    assert!(f.body["ticket_fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["type"] == "tagger" && x["custom_field_options"][0]["value"].is_string()));

    let me = get(&sim, "/api/v2/users/me").await;
    assert_eq!(me.body["user"]["email"], otai_zendesk_sim::DEFAULT_EMAIL);
    assert!(me.body["user"]["id"].as_u64().is_some());

    let c = get(&sim, "/api/v2/tickets/3/comments").await;
    assert!(missing_keys(
        &fixture("GET/ticket_comments.json")["comments"][0],
        &c.body["comments"][0]
    )
    .is_empty());
    assert_eq!(c.body["comments"][0]["body"], "Cannot log in");
    assert_eq!(c.body["comments"][0]["public"], true);
}

#[tokio::test]
async fn put_is_partial_tags_replace_and_notes_are_private() {
    let sim = sim().await;
    let a = call(&sim, "PUT", "/api/v2/tickets/3", Some(json!({"ticket": {
        "id": 3, "priority": "urgent", "tags": ["Billing", "vip"], "custom_fields": [{"id": 360000000201u64, "value": "category_billing"}],
        "comment": {"body": "Classifier: billing (0.93)", "public": false}
    }}))).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let t = &a.body["ticket"];
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["status"], "pending", "untouched fields stay");
    assert_eq!(
        t["tags"],
        json!(["billing", "vip"]),
        "tags replace, lower case"
    );
    assert_eq!(t["custom_fields"][0]["value"], "category_billing");
    assert!(missing_keys(&fixture("PUT/ticket.json")["ticket"], t).is_empty());
    let events = a.body["audit"]["events"].as_array().unwrap();
    assert!(events
        .iter()
        .any(|e| e["type"] == "Comment" && e["public"] == false));
    assert!(events
        .iter()
        .any(|e| e["field_name"] == "priority" && e["previous_value"] == Value::Null));
    assert!(a
        .header("x-zendesk-api-warn")
        .unwrap()
        .contains("ticket.id"));
    assert!(t["updated_at"].as_str().unwrap() > "2024-05-04T10:00:00Z");

    let comments = sim.comments(3);
    assert_eq!(comments.len(), 2);
    assert!(!comments[1].public);
    assert_eq!(comments[1].body, "Classifier: billing (0.93)");
    let w = sim.writes(3);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].tags_added, vec!["billing"]);
    assert_eq!(w[0].tags_removed, vec!["login"]);
    assert!(!w[0].via_update_many);
    let fields: Vec<&str> = w[0].changes.iter().map(|c| c.field.as_str()).collect();
    assert!(fields.contains(&"priority") && fields.contains(&"tags"));
    assert_eq!(sim.ticket(3).unwrap().revision, 1);
}

#[tokio::test]
async fn safe_update_conflicts_and_validation_errors() {
    let sim = sim().await;
    let stamp = get(&sim, "/api/v2/tickets/2").await.body["ticket"]["updated_at"].clone();
    let ok = call(
        &sim,
        "PUT",
        "/api/v2/tickets/2",
        Some(json!({"ticket": {"status": "solved", "safe_update": true, "updated_stamp": stamp}})),
    )
    .await;
    assert_eq!(ok.status, 200);
    // The same (now stale) stamp again, within the same second: 409, nothing written.
    let stale = call(
        &sim,
        "PUT",
        "/api/v2/tickets/2",
        Some(json!({"ticket": {"priority": "low", "safe_update": true, "updated_stamp": stamp}})),
    )
    .await;
    assert_eq!(
        (stale.status, stale.body["error"].as_str()),
        (409, Some("UpdateConflict"))
    );
    assert_eq!(sim.ticket(2).unwrap().priority.as_deref(), Some("high"));
    assert_eq!(sim.write_count(2), 1);

    let closed = call(
        &sim,
        "PUT",
        "/api/v2/tickets/4",
        Some(json!({"ticket": {"priority": "low"}})),
    )
    .await;
    assert_eq!(closed.status, 422);
    assert!(closed.body["details"]["status"][0]["description"]
        .as_str()
        .unwrap()
        .contains("closed"));
    let group = call(
        &sim,
        "PUT",
        "/api/v2/tickets/2",
        Some(json!({"ticket": {"group_id": 360000000999u64}})),
    )
    .await;
    assert_eq!(
        (group.status, group.body["error"].as_str()),
        (422, Some("RecordInvalid")),
        "deleted group"
    );
    let bad = call(
        &sim,
        "PUT",
        "/api/v2/tickets/2",
        Some(json!({"ticket": {"status": "bogus"}})),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(sim.write_count(2), 1);
}

#[tokio::test]
async fn tags_endpoints_add_set_remove_with_safe_update() {
    let sim = sim().await;
    let add = call(
        &sim,
        "PUT",
        "/api/v2/tickets/2/tags",
        Some(json!({"tags": ["New_One", "hardware"]})),
    )
    .await;
    assert_eq!(add.status, 200);
    assert_eq!(
        add.body["tags"],
        json!(["hardware", "otai_done", "new_one"])
    );
    assert!(missing_keys(&fixture("PUT/tags.json"), &add.body).is_empty());
    let set = call(
        &sim,
        "POST",
        "/api/v2/tickets/2/tags",
        Some(json!({"tags": ["only"]})),
    )
    .await;
    assert_eq!(
        (set.status, set.body["tags"].clone()),
        (201, json!(["only"]))
    );
    let stamp = "2024-05-03T10:00:00Z";
    let stale = call(
        &sim,
        "DELETE",
        "/api/v2/tickets/2/tags",
        Some(json!({"tags": ["only"], "safe_update": true, "updated_stamp": stamp})),
    )
    .await;
    assert_eq!(stale.status, 409);
    let rm = call(
        &sim,
        "DELETE",
        "/api/v2/tickets/2/tags",
        Some(json!({"tags": ["only"]})),
    )
    .await;
    assert_eq!(rm.status, 204);
    assert_eq!(
        get(&sim, "/api/v2/tickets/2/tags").await.body["tags"],
        json!([])
    );
    let endpoints: Vec<String> = sim.writes(2).into_iter().map(|w| w.endpoint).collect();
    assert_eq!(
        endpoints,
        vec![
            "PUT /api/v2/tickets/{id}/tags",
            "POST /api/v2/tickets/{id}/tags",
            "DELETE /api/v2/tickets/{id}/tags"
        ]
    );
}

#[tokio::test]
async fn auth_is_required_and_faithful() {
    let sim = sim().await;
    let wrong = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "agent@example.com/token:nope"
        )
    );
    for auth in [Some(wrong.as_str()), None] {
        let a = call_auth(&sim, "GET", "/api/v2/tickets/2", None, auth).await;
        assert_eq!(
            (a.status, a.body["error"].as_str()),
            (401, Some("Couldn't authenticate you"))
        );
    }
    let bearer = call_auth(&sim, "GET", "/api/v2/tickets/2", None, Some("Bearer nope")).await;
    assert_eq!(
        (bearer.status, bearer.body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    let ok = call_auth(
        &sim,
        "GET",
        "/api/v2/tickets/2",
        None,
        Some(&format!("Bearer {}", otai_zendesk_sim::DEFAULT_BEARER)),
    )
    .await;
    assert_eq!(ok.status, 200);
    // users/me without credentials: the anonymous user; with bad ones: 401.
    let anon = call_auth(&sim, "GET", "/api/v2/users/me", None, None).await;
    assert_eq!(
        (anon.status, anon.body["user"]["id"].clone()),
        (200, Value::Null)
    );
    assert_eq!(
        call_auth(&sim, "GET", "/api/v2/users/me", None, Some(&wrong))
            .await
            .status,
        401
    );

    let ro = builder()
        .credential(otai_zendesk_sim::Credential::Bearer {
            token: "read".into(),
            read_only: true,
        })
        .start()
        .await
        .unwrap();
    assert_eq!(
        call_auth(&ro, "GET", "/api/v2/tickets/2", None, Some("Bearer read"))
            .await
            .status,
        200
    );
    let w = call_auth(
        &ro,
        "PUT",
        "/api/v2/tickets/2",
        Some(json!({"ticket": {"priority": "low"}})),
        Some("Bearer read"),
    )
    .await;
    assert_eq!(
        (w.status, w.body["error"].as_str()),
        (403, Some("Forbidden"))
    );
    assert_eq!(ro.write_count(2), 0);
    assert_eq!(ro.stats().unauthorized, 1);
}

#[tokio::test]
async fn incremental_export_pages_and_shows_deleted_tickets() {
    let sim = sim().await;
    assert_eq!(
        call(&sim, "DELETE", "/api/v2/tickets/6", None).await.status,
        204
    );
    assert_eq!(get(&sim, "/api/v2/tickets/6").await.status, 404);
    let mut all = Vec::new();
    let mut path = "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=4".to_string();
    loop {
        let a = get(&sim, &path).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        all.extend(a.body["tickets"].as_array().unwrap().clone());
        if a.body["end_of_stream"] == true {
            break;
        }
        path = format!(
            "/api/v2/incremental/tickets/cursor?cursor={}&per_page=4",
            a.body["after_cursor"].as_str().unwrap()
        );
    }
    assert_eq!(all.len(), 6);
    assert!(all.iter().any(|t| t["id"] == 6 && t["status"] == "deleted"));
    // Deleting moved the ticket's generated_timestamp on; old untouched tickets stay out.
    let start = 1_715_000_000; // 2024-05-06
    let recent = get(
        &sim,
        &format!("/api/v2/incremental/tickets/cursor?start_time={start}"),
    )
    .await;
    assert!(ids(&recent.body["tickets"]).contains(&6));
    assert!(!ids(&recent.body["tickets"]).contains(&4));
}

#[tokio::test]
async fn admin_api_shows_state_and_resets() {
    let sim = sim().await;
    call(
        &sim,
        "PUT",
        "/api/v2/tickets/3",
        Some(json!({"ticket": {"comment": {"html_body": "<p>Hi</p>", "public": true}}})),
    )
    .await;
    let t = get(&sim, "/__sim/tickets/3").await;
    assert_eq!(t.body["revision"], 1);
    assert_eq!(t.body["comments"][1]["body"], "Hi");
    assert_eq!(t.body["writes"][0]["comment"]["public"], true);
    assert_eq!(
        get(&sim, "/__sim/writes").await.body["writes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let stats = get(&sim, "/__sim/stats").await.body;
    assert_eq!(stats["writes"], 1);
    assert_eq!(stats["requests"], 1, "admin requests are not counted");
    assert_eq!(call(&sim, "POST", "/__sim/reset", None).await.status, 200);
    assert_eq!(sim.write_count(3), 0);
    assert_eq!(sim.comments(3).len(), 1);
    assert_eq!(sim.stats().requests, 0);
}

#[tokio::test]
async fn binary_prints_its_base_url_first_and_serves_the_seed() {
    use std::io::{BufRead, BufReader, Write};
    let dir = std::env::temp_dir().join(format!("zendesk-sim-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.jsonl");
    let mut f = std::fs::File::create(&seed).unwrap();
    writeln!(
        f,
        r#"{{"id": {BIG}, "subject": "From the file", "status": "new", "group": "Billing"}}"#
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_otai-zendesk-sim"))
        .args([
            "--seed",
            seed.to_str().unwrap(),
            "--email",
            "e@x.y",
            "--token",
            "tk",
            "--rate-limit",
            "50",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v2/tickets/{BIG}.json"))
        .basic_auth("e@x.y/token", Some("tk"))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let limit = res
        .headers()
        .get("x-rate-limit")
        .map(|v| v.to_str().unwrap().to_string());
    let body: Value = res.json().await.unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status, 200);
    assert_eq!(limit.as_deref(), Some("50"));
    assert_eq!(body["ticket"]["subject"], "From the file");
}
