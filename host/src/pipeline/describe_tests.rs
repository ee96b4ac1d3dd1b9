//! `descriptions:` (zero-history routing): configuration, checks against the model and the
//! classifier a pipeline gets.

use std::{collections::BTreeMap, path::Path};

use super::*;
use crate::{
    classifier::{testing::model_dir, ClassifierOptions},
    config::{pipeline::DEFAULT_SIMILARITY_SCALE, Config},
};

fn parse(fields: &str) -> Result<PipelineConfig, String> {
    let text = format!(
        "ticket_systems: {{fake: {{use: \"fake:Fake\"}}}}\npipelines:\n  main:\n    ticket_system: fake\n    model: models/minilm-l6-int8\n    fields:\n{fields}"
    );
    Config::parse(&text, Path::new("t.yml"), &|_| Ok(None))
        .map(|c| c.pipelines["main"].clone())
        .map_err(|e| e.to_string())
}

const QUEUE: &str = r#"      queue:
        action: queue
        threshold: 0.3
        similarity_scale: 25
        map: {billing: Billing}
        descriptions:
          cards: "lost or stolen cards, card delivery, PIN"
          billing: ["invoices, charges", "refunds"]
"#;

#[test]
fn descriptions_parse_in_file_order_with_lists_and_a_scale() {
    let p = parse(QUEUE).unwrap();
    let d = p.fields[0].descriptions.as_ref().unwrap();

    assert_eq!(
        d.labels,
        [
            (
                "cards".to_string(),
                vec!["lost or stolen cards, card delivery, PIN".to_string()]
            ),
            (
                "billing".to_string(),
                vec!["invoices, charges".to_string(), "refunds".to_string()]
            ),
        ]
    );
    assert_eq!(d.scale, 25.0);
    assert!(!d.override_trained);
    let default = parse(&QUEUE.replace("        similarity_scale: 25\n", "")).unwrap();
    assert_eq!(
        default.fields[0].descriptions.as_ref().unwrap().scale,
        DEFAULT_SIMILARITY_SCALE
    );
}

#[test]
fn bad_descriptions_are_named_by_key_path() {
    let cases = [
        (
            "      queue: {action: queue, descriptions: {cards: \"lost cards\"}}\n",
            "pipelines.main.fields.queue.descriptions: describe at least two labels (found 1)",
        ),
        (
            "      queue: {action: queue, descriptions: {}}\n",
            "pipelines.main.fields.queue.descriptions: describe at least two labels (found 0)",
        ),
        (
            "      queue: {action: queue, descriptions: {a: \"x\", b: \"  \"}}\n",
            "pipelines.main.fields.queue.descriptions.b: a description must not be empty",
        ),
        (
            "      queue: {action: queue, descriptions: {a: \"x\", b: [\"y\", \"\"]}}\n",
            "pipelines.main.fields.queue.descriptions.b[1]: a description must not be empty",
        ),
        (
            "      queue: {action: queue, descriptions: {a: \"x\", b: []}}\n",
            "pipelines.main.fields.queue.descriptions.b: give at least one description",
        ),
        (
            "      queue: {action: queue, descriptions: {a: \"x\", \"\": \"y\"}}\n",
            "pipelines.main.fields.queue.descriptions.: a label must not be empty",
        ),
        (
            "      queue: {action: queue, similarity_scale: 0, descriptions: {a: \"x\", b: \"y\"}}\n",
            "pipelines.main.fields.queue.similarity_scale: must be a number greater than 0",
        ),
        (
            "      queue: {action: queue, similarity_scale: 20}\n",
            "pipelines.main.fields.queue.similarity_scale: only with `descriptions:`",
        ),
        (
            "      queue: {action: queue, use_descriptions: true}\n",
            "pipelines.main.fields.queue.use_descriptions: only with `descriptions:`",
        ),
    ];
    for (fields, expected) in cases {
        let err = parse(fields).unwrap_err();
        assert!(err.contains(expected), "{fields}\n{err}");
    }
}

#[test]
fn a_described_field_the_model_lacks_is_checked_against_its_descriptions() {
    let p = parse(QUEUE).unwrap();
    let no_heads = BTreeMap::new();

    assert!(check_against_model(&p, &no_heads).is_empty());
    assert_eq!(
        pipeline_labels(&p, &no_heads)["queue"],
        ["cards", "billing"]
    );
    let typo = parse(&QUEUE.replace("{billing: Billing}", "{biling: Billing}")).unwrap();
    let problems: Vec<String> = check_against_model(&typo, &no_heads)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "pipelines.main.fields.queue.map.biling: `biling` is not a label of field `queue` in its descriptions; its labels: cards, billing"
        ),
        "{problems:#?}"
    );
    let priority = parse(
        "      priority: {action: priority, descriptions: {urgent: \"fraud\", soon: \"questions\"}}\n",
    )
    .unwrap();
    let problems = check_against_model(&priority, &no_heads);
    assert_eq!(problems.len(), 1);
    assert!(problems[0]
        .to_string()
        .contains("the described label(s) soon cannot be written by `action: priority`"));
    let undescribed = parse("      queue: {action: queue}\n").unwrap();
    assert!(check_against_model(&undescribed, &no_heads)[0]
        .to_string()
        .contains("has no field `queue`; its fields: none (or describe its labels"));
}

#[test]
fn a_trained_head_wins_over_descriptions_unless_use_descriptions_is_set() {
    let trained = BTreeMap::from([(
        "queue".to_string(),
        vec!["cards".to_string(), "disputes".to_string()],
    )]);
    let p = parse(&QUEUE.replace("{billing: Billing}", "{disputes: Billing}")).unwrap();
    assert!(check_against_model(&p, &trained).is_empty());
    assert_eq!(
        pipeline_labels(&p, &trained)["queue"],
        ["cards", "disputes"]
    );

    let prefer = parse(&QUEUE.replace(
        "        threshold: 0.3\n",
        "        use_descriptions: true\n",
    ))
    .unwrap();
    assert!(check_against_model(&prefer, &trained).is_empty());
    assert_eq!(
        pipeline_labels(&prefer, &trained)["queue"],
        ["cards", "billing"]
    );
}

#[test]
fn the_pipeline_classifier_gets_a_head_per_described_field_in_use() {
    let encoder_only = Classifier::load_allowing_no_heads(
        &model_dir("minilm-l6-int8"),
        &ClassifierOptions::default(),
    )
    .unwrap();
    let p = parse(QUEUE).unwrap();

    let c = with_description_heads(&encoder_only, &p).unwrap();
    let predictions = c
        .classify_texts_blocking(vec![
            "Someone stole my card".into(),
            "Please refund the charge on my invoice".into(),
        ])
        .unwrap();

    assert_eq!(c.fields(), ["queue"]);
    let best: Vec<&str> = predictions
        .iter()
        .map(|p| p.field("queue").unwrap().best().label.as_str())
        .collect();
    assert_eq!(best, ["cards", "billing"]);

    let banking = Classifier::load(&model_dir("banking77"), &ClassifierOptions::default()).unwrap();
    let kept = with_description_heads(&banking, &p).unwrap();
    let trained = kept
        .classify_texts_blocking(vec!["Someone stole my card".into()])
        .unwrap();
    assert_eq!(
        trained[0].field("queue").unwrap().best().label,
        "cards",
        "the trained head wins"
    );
    assert_eq!(trained[0].field("queue").unwrap().top.len(), 3);
    assert!(trained[0]
        .field("queue")
        .unwrap()
        .top
        .iter()
        .all(|l| l.label != "billing"));
}

#[test]
fn the_commented_zero_history_example_loads_and_fits_an_encoder_without_heads() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/config.example.yml"),
    )
    .unwrap();
    let block: String = text
        .lines()
        .skip_while(|l| !l.contains("BEGIN zero-history example"))
        .skip(1)
        .take_while(|l| !l.contains("END zero-history example"))
        .map(|l| format!("  {}\n", l.trim_start().strip_prefix("# ").unwrap_or("")))
        .collect();
    let config = format!("ticket_systems: {{zendesk: {{use: \"p:S\"}}}}\npipelines:\n{block}");
    let config = Config::parse(&config, Path::new("example"), &|_| Ok(None))
        .unwrap_or_else(|e| panic!("{e}\n{config}"));
    let p = &config.pipelines["zero-history"];
    let d = p.fields[0].descriptions.as_ref().unwrap();

    assert_eq!(d.labels.len(), 8);
    assert_eq!(d.labels[4].1.len(), 2, "Top-ups has two descriptions");
    let encoder_only = model_labels(&model_dir("minilm-l6-int8"), "queue").unwrap();
    assert!(encoder_only.is_empty());
    assert!(check_against_model(p, &encoder_only).is_empty());
}

#[test]
fn descriptions_on_a_hugging_face_classifier_are_a_problem_for_check() {
    let dir = model_dir("test-hf-classifier");
    let p = parse(&QUEUE.replace(
        "        threshold: 0.3\n",
        "        use_descriptions: true\n",
    ))
    .unwrap();
    let p = PipelineConfig {
        model: dir.clone(),
        ..p
    };
    let labels = model_labels(&dir, "queue").unwrap();

    let problems = check_against_model(&p, &labels);

    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0]
        .to_string()
        .starts_with("pipelines.main.fields.queue.descriptions: the model"));
    assert!(problems[0].to_string().contains("Hugging Face"));
    let trained_wins = PipelineConfig {
        model: dir.clone(),
        ..parse(QUEUE).unwrap()
    };
    let problems = check_against_model(&trained_wins, &labels);
    assert!(
        problems
            .iter()
            .all(|p| !p.to_string().contains("Hugging Face")),
        "{problems:?}"
    );
}
