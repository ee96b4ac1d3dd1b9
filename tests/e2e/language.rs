//! The built-in `language` field end to end: the real binary, the real Zendesk plugin, the demo
//! model through ONNX Runtime and the Zendesk simulator. The demo model has no `language` head, so
//! the detector answers it; German and English tickets get their tag in the same write as the
//! model's fields, and the note names the language.

use otai_zendesk_sim::Simulator;
use serde_json::json;

use crate::support::{self, banking_sim_config, BANKING_GROUPS};

// The simulator answers on the runtime's other worker while the test blocks on the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn german_and_english_tickets_are_tagged_with_their_language_in_the_same_write() {
    // Ticket-sized texts (two or three sentences): short ones stay below the threshold more often.
    let texts = [
        (
            1u64,
            "Meine Karte wurde gestern gestohlen. Bitte sperren Sie sie sofort, ich habe Angst, \
             dass jemand damit bezahlt. Vielen Dank für Ihre schnelle Hilfe!",
            "de",
        ),
        (
            2,
            "My card was stolen yesterday. Please block it immediately, I am worried that \
             somebody will use it to pay. Thank you for your quick help!",
            "en",
        ),
        (
            3,
            "Warum wurde mir für meine Überweisung eine Gebühr berechnet? Das war vorher nicht \
             angekündigt, und ich möchte das Geld bitte zurück.",
            "de",
        ),
    ];
    let tickets = texts
        .iter()
        .map(|(id, text, _)| json!({"id": id, "description": text, "status": "new"}))
        .collect();
    let sim = Simulator::builder()
        .groups(BANKING_GROUPS)
        .tickets(tickets)
        .start()
        .await
        .expect("the simulator starts");
    let yaml = banking_sim_config(sim.base_url(), "lang")
        + "      language:\n        action: tag\n        languages: [de, en]\n";
    let cwd = tempfile::tempdir().unwrap();
    let config = cwd.path().join("otai.yml");
    std::fs::write(&config, yaml).unwrap();
    let plugins = support::plugins_dir(&[support::ZENDESK]);

    let (check, _) = support::run_otai(cwd.path(), &config, plugins.path(), &["check"]);
    assert!(check.contains("language -> tag (3 labels)"), "{check}");
    let (ran, _) = support::run_otai(cwd.path(), &config, plugins.path(), &["run", "--once"]);
    assert!(ran.contains("written 3"), "{ran}");

    for (id, _, language) in texts {
        let ticket = sim.ticket(id).expect("the ticket exists");
        let tags: Vec<&str> = ticket.tags.iter().map(String::as_str).collect();
        let want = format!("otai_language__{language}");
        assert!(tags.contains(&want.as_str()), "ticket {id}: {tags:?}");
        assert!(tags.contains(&"otai_processed"), "one write: {tags:?}");
        assert_eq!(
            tags.iter()
                .filter(|t| t.starts_with("otai_language__"))
                .count(),
            1,
            "ticket {id}: {tags:?}"
        );
    }
    let stats = sim.stats();
    assert_eq!(stats.writes, 3, "each ticket written once");
    assert_eq!(stats.jobs_submitted, 1, "all three in one bulk write");
}
