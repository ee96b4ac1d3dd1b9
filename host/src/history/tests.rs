use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::ticket::{
    BoxFuture, CustomField, ErrorKind, ExportPage, Note, Queue, SearchQuery, StatusCategory,
    TicketResult, TicketState, TicketSystemError, TicketUpdate,
};

fn ticket(id: u32, status: &str, queue: Option<(&str, Option<&str>)>) -> Ticket {
    Ticket {
        id: id.to_string(),
        subject: format!("subject {id}"),
        body: "my card was declined".into(),
        status: status.into(),
        priority: Some("normal".into()),
        queue: queue.map(|(id, name)| Queue {
            id: Some(id.into()),
            name: name.map(str::to_string),
        }),
        created_at: Some("2024-05-01T10:00:00Z".into()),
        // What an adapter's `ticket_state` answers for these statuses.
        state: TicketState {
            category: StatusCategory::from_name(status),
            merged: false,
            deleted: status == "deleted",
        },
        ..Ticket::default()
    }
}

#[test]
fn fields_parse_and_name_their_heads() {
    let fields = parse_fields(&[
        "queue".into(),
        "priority".into(),
        "custom_field:360".into(),
        "tags:product_".into(),
    ])
    .unwrap();
    let names: Vec<String> = fields.iter().map(Field::head_name).collect();
    assert_eq!(
        names,
        ["queue", "priority", "custom_field_360", "tags_product"]
    );
    assert!(Field::parse("group").is_err());
    assert!(Field::parse("tags:").is_err());
    assert!(parse_fields(&[]).is_err());
}

#[test]
fn skips_are_counted_by_reason_and_finished_tickets_kept() {
    let mut merged = ticket(3, "closed", Some(("1", Some("Cards"))));
    merged.state.merged = true;
    let mut empty = ticket(5, "solved", Some(("1", Some("Cards"))));
    empty.subject = " ".into();
    empty.body = String::new();
    let mut no_priority = ticket(7, "closed", Some(("1", Some("Cards"))));
    no_priority.priority = None;
    let mut nothing = ticket(8, "solved", None);
    nothing.priority = None;
    let tickets = vec![
        ticket(1, "solved", Some(("1", Some("Cards")))),
        ticket(2, "deleted", Some(("1", Some("Cards")))),
        merged,
        ticket(4, "open", Some(("1", Some("Cards")))),
        empty,
        ticket(6, "closed", Some(("99", None))),
        no_priority,
        nothing,
    ];
    let fields = parse_fields(&["queue".into(), "priority".into()]).unwrap();
    let (data, report) = labelled(&tickets, &fields);
    assert_eq!(report.tickets, 8);
    assert_eq!(report.deleted, 1);
    assert_eq!(report.merged, 1);
    assert_eq!(report.unfinished, 1);
    assert_eq!(report.no_text, 1);
    assert_eq!(report.unknown_queue, 1);
    assert_eq!(report.no_label, 1);
    assert_eq!(report.kept, 2);
    assert_eq!(report.missing_label.get("priority"), Some(&1));
    assert_eq!(data.ids, ["1", "7"]);
    assert_eq!(data.texts[0], "subject 1\nmy card was declined");
    assert_eq!(data.labels[0], [Some("Cards".into()), Some("Cards".into())]);
    assert_eq!(data.labels[1], [Some("normal".into()), None]);
    assert_eq!(data.created_at[0], Some(1_714_557_600.0));
    let text = report.to_string();
    assert!(text.contains("skipped      1: deleted"), "{text}");
}

#[test]
fn custom_fields_and_tag_groups_give_labels() {
    let mut t = ticket(1, "solved", None);
    t.custom_fields = vec![
        CustomField {
            id: "10".into(),
            value: json!("opt_a"),
        },
        CustomField {
            id: "11".into(),
            value: json!(["x", "y"]),
        },
        CustomField {
            id: "12".into(),
            value: json!(null),
        },
        CustomField {
            id: "13".into(),
            value: json!(true),
        },
    ];
    t.tags = vec!["vip".into(), "product_app".into(), "product_web".into()];
    let label = |f: &str| Field::parse(f).unwrap().label(&t);
    assert_eq!(label("custom_field:10").as_deref(), Some("opt_a"));
    assert_eq!(label("custom_field:11").as_deref(), Some("x,y"));
    assert_eq!(label("custom_field:12"), None);
    assert_eq!(label("custom_field:13").as_deref(), Some("true"));
    assert_eq!(label("custom_field:99"), None);
    assert_eq!(label("tags:product_").as_deref(), Some("product_app"));
    assert_eq!(label("tags:region_"), None);
}

#[test]
fn rare_classes_fold_into_the_fallback_and_are_reported() {
    let mut data = Labelled {
        fields: vec!["queue".into()],
        labels: vec![vec![
            Some("A".into()),
            Some("A".into()),
            Some("A".into()),
            Some("B".into()),
            Some("C".into()),
            Some("C".into()),
            None,
        ]],
        ..Labelled::default()
    };
    let folded = fold_rare(&mut data, 3, "Unclassified");
    assert_eq!(
        folded,
        [
            Folded {
                field: "queue".into(),
                label: "B".into(),
                examples: 1
            },
            Folded {
                field: "queue".into(),
                label: "C".into(),
                examples: 2
            },
        ]
    );
    let counts = label_counts(&data);
    assert_eq!(counts["queue"]["A"], 3);
    assert_eq!(counts["queue"]["Unclassified"], 3);
}

/// A help desk whose export has `pages` pages of two tickets each (ticket 1 on every page: a
/// duplicate), failing once at page `fail_at`.
#[derive(Debug)]
struct Pages {
    pages: usize,
    fail_at: Mutex<Option<usize>>,
    asked: Mutex<Vec<ExportRequest>>,
}

impl TicketSystem for Pages {
    fn name(&self) -> &str {
        "desk"
    }
    fn find_tickets(&self, _: SearchQuery) -> BoxFuture<'_, TicketResult<Vec<Ticket>>> {
        unimplemented!()
    }
    fn find_first_ticket(&self, _: SearchQuery) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        unimplemented!()
    }
    fn get_ticket(&self, _: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        unimplemented!()
    }
    fn update_ticket(&self, _: &str, _: TicketUpdate) -> BoxFuture<'_, TicketResult<Ticket>> {
        unimplemented!()
    }
    fn add_note(&self, _: &str, _: Note) -> BoxFuture<'_, TicketResult<()>> {
        unimplemented!()
    }
    fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>> {
        unimplemented!()
    }
    fn export_tickets(&self, request: ExportRequest) -> BoxFuture<'_, TicketResult<ExportPage>> {
        Box::pin(async move {
            self.asked.lock().unwrap().push(request.clone());
            let page = match &request.cursor {
                None => 1,
                Some(c) => c.trim_start_matches('c').parse::<usize>().unwrap() + 1,
            };
            let mut fail = self.fail_at.lock().unwrap();
            if *fail == Some(page) {
                *fail = None;
                return Err(TicketSystemError::new(
                    "desk",
                    ErrorKind::Transport,
                    "dropped",
                ));
            }
            let mut first = ticket(1, "open", None);
            first.subject = format!("version {page}");
            Ok(ExportPage {
                tickets: vec![first, ticket(100 + page as u32, "solved", None)],
                cursor: Some(format!("c{page}")),
                end_of_stream: page == self.pages,
            })
        })
    }
}

#[tokio::test]
async fn an_interrupted_pull_resumes_from_its_cursor_and_duplicates_resolve_to_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Pages {
        pages: 3,
        fail_at: Mutex::new(Some(2)),
        asked: Mutex::new(Vec::new()),
    };
    let options = PullOptions {
        cache_dir: dir.path().to_path_buf(),
        since: "30d".into(),
        start_time: "2024-05-01T00:00:00Z".into(),
        fresh: false,
    };
    let mut seen = Vec::new();
    let err = pull(&desk, &options, &mut |p| seen.push(p))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("page 2"), "{err:#}");
    assert_eq!(seen.len(), 1);

    let history = pull(&desk, &options, &mut |p| seen.push(p)).await.unwrap();
    assert!(history.resumed);
    assert_eq!(history.pages, 3);
    assert_eq!(history.pulled, 6);
    let asked = desk.asked.lock().unwrap().clone();
    assert_eq!(asked[0].start_time.as_deref(), Some("2024-05-01T00:00:00Z"));
    assert_eq!(asked[1].cursor.as_deref(), Some("c1"));
    assert_eq!(
        asked[2].cursor.as_deref(),
        Some("c1"),
        "resumed, page 1 not pulled again"
    );
    assert_eq!(asked.len(), 4);
    let tickets = history.tickets().unwrap();
    let ids: Vec<&str> = tickets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["1", "101", "102", "103"]);
    assert_eq!(tickets[0].subject, "version 3", "the latest copy wins");

    // Another --since (or --fresh) starts over.
    let other = PullOptions {
        since: "60d".into(),
        ..options.clone()
    };
    let again = pull(&desk, &other, &mut |_| {}).await.unwrap();
    assert!(!again.resumed);
    assert_eq!(again.pulled, 6);
}

#[tokio::test]
async fn a_system_without_an_export_says_so() {
    #[derive(Debug)]
    struct NoExport;
    impl TicketSystem for NoExport {
        fn name(&self) -> &str {
            "old"
        }
        fn find_tickets(&self, _: SearchQuery) -> BoxFuture<'_, TicketResult<Vec<Ticket>>> {
            unimplemented!()
        }
        fn find_first_ticket(&self, _: SearchQuery) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
            unimplemented!()
        }
        fn get_ticket(&self, _: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
            unimplemented!()
        }
        fn update_ticket(&self, _: &str, _: TicketUpdate) -> BoxFuture<'_, TicketResult<Ticket>> {
            unimplemented!()
        }
        fn add_note(&self, _: &str, _: Note) -> BoxFuture<'_, TicketResult<()>> {
            unimplemented!()
        }
        fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>> {
            unimplemented!()
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let options = PullOptions {
        cache_dir: dir.path().to_path_buf(),
        since: "30d".into(),
        start_time: "2024-05-01T00:00:00Z".into(),
        fresh: false,
    };
    let err = pull(&NoExport, &options, &mut |_| {}).await.unwrap_err();
    assert!(format!("{err:#}").contains("cannot export"), "{err:#}");
}

#[test]
fn a_cache_is_labelled_line_by_line_with_each_tickets_latest_copy_where_it_was_first_seen() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("desk.jsonl");
    let cards = Some(("1", Some("Cards")));
    // 1: open, then solved (kept, first place). 2: solved, then deleted (skipped). 3: solved
    // once with a text far over the cap, its last character a multi-byte one at the cut.
    let mut long = ticket(3, "solved", cards);
    long.subject = String::new();
    long.body = format!(
        "{}é{}",
        "a".repeat(MAX_TRAINING_TEXT_BYTES - 1),
        "b".repeat(1000)
    );
    let mut latest_1 = ticket(1, "solved", cards);
    latest_1.subject = "latest".into();
    let lines = [
        ticket(1, "open", cards),
        ticket(2, "solved", cards),
        long,
        latest_1,
        ticket(2, "deleted", cards),
    ];
    let mut text = String::new();
    for t in &lines {
        text.push_str(&serde_json::to_string(t).unwrap());
        text.push('\n');
    }
    text.push_str("{\"id\": \"4\", \"subj\n"); // a line cut short by an interruption
    std::fs::write(&cache, text).unwrap();
    let history = History {
        cache,
        ..History::default()
    };
    let fields = parse_fields(&["queue".into()]).unwrap();

    let (data, report) = history.labelled(&fields).unwrap();
    assert_eq!(data.ids, ["1", "3"]);
    assert!(data.texts[0].starts_with("latest"), "{}", data.texts[0]);
    assert_eq!(
        data.texts[1].len(),
        MAX_TRAINING_TEXT_BYTES - 1,
        "cut before the 2-byte é"
    );
    assert_eq!(report.tickets, 3);
    assert_eq!(report.deleted, 1);
    assert_eq!(report.kept, 2);
    // The same as labelling the whole tickets.
    let whole = labelled(&history.tickets().unwrap(), &fields);
    assert_eq!((data, report), whole);
}
