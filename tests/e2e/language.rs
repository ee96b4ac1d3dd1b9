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

/// `otai train --data FILE --out OUT` without `--model`, run from the repository (where the
/// default encoder folders are); stdout, and the encoder description in the new folder.
fn train_choosing_the_encoder(data: &std::path::Path, out: &std::path::Path) -> (String, String) {
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(["train", "--holdout", "0.2", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .current_dir(&repo)
        .env_remove("RUST_LOG")
        .output()
        .expect("run otai");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("otai-model.json")).unwrap())
            .unwrap();
    (
        stdout,
        manifest["description"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn training_without_a_model_picks_the_encoder_by_the_texts_language() {
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let multilingual = repo.join("models/use-multilingual-int8/otai-model.json");
    assert!(
        multilingual.is_file(),
        "{} is missing: `bash models/setup.sh` builds it",
        multilingual.display()
    );
    let dir = tempfile::tempdir().unwrap();

    // German assistant requests (MASSIVE de-DE): the multilingual encoder.
    let german = dir.path().join("de.csv");
    std::fs::write(
        &german,
        support::csv_subset(
            &repo.join("../shared/data/german/massive_de/train.csv"),
            &["alarm_set", "weather_query", "play_music"],
            30,
        ),
    )
    .unwrap();
    let (stdout, encoder) = train_choosing_the_encoder(&german, &dir.path().join("de-model"));
    assert!(
        stdout.contains("Encoder: models/use-multilingual-int8 (")
            && stdout.contains("of the texts are not English (de "),
        "{stdout}"
    );
    assert!(
        encoder.contains("Universal Sentence Encoder multilingual"),
        "{encoder}"
    );

    // English banking queries (BANKING77): the English default.
    let english = dir.path().join("en.csv");
    std::fs::write(
        &english,
        support::csv_subset(
            &repo.join("data/banking77/train.csv"),
            &["card_arrival", "lost_or_stolen_card", "exchange_rate"],
            30,
        ),
    )
    .unwrap();
    let (stdout, encoder) = train_choosing_the_encoder(&english, &dir.path().join("en-model"));
    assert!(
        stdout.contains("Encoder: models/banking77 (")
            && stdout.contains("of the texts are English"),
        "{stdout}"
    );
    assert!(!encoder.contains("Universal Sentence Encoder"), "{encoder}");
}
