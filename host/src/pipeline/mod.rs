//! The routing pipeline: fetch tickets from a help desk, classify them with a local model, decide
//! per field what to write, and write it back in as few calls as the help desk allows.
//!
//! Nothing here touches FFI or ONNX Runtime: tickets come through `Arc<dyn TicketSystem>` and
//! predictions through [`Classify`] (implemented by the [`Classifier`]), so tests can swap either.
//!
//! What a pass writes to each fetched ticket, always as one write guarded by the `updated_at` it
//! was read with:
//! - classified: every field, `processed_tag` and (optionally) an internal note;
//! - routed by hand (in a queue that is not one of `inbox_queues`): only `routed_tag`, nothing
//!   else, so the fetch leaves it out from then on (otherwise tickets that stay `new` in their
//!   group would fill `fetch.limit` every pass and starve the unrouted ones behind them);
//! - out of write attempts: `failed_tag` and a note giving the reason.
//!
//! All three tags are excluded from the fetch, so each ticket is written once.
//!
//! # Layout
//! - [`decide`]: pure: prediction + field rules + ticket to a [`decide::Decision`]; the routed-by-hand rule.
//! - [`language`]: the built-in `language` field (the detector beside the model).
//! - [`note`]: the text of the internal notes.
//! - [`pass`]: one pass (fetch, classify, decide, write) and its per-ticket outcomes.
//! - [`retry`]: per-ticket attempts and backoff between passes.
//! - [`state`]: the retry state file that carries them from run to run.
//! - [`audit`]: the audit log, one JSON line per ticket written or tried, for a SIEM.
//! - [`lock`]: one writing `otai run` per pipeline (an exclusive lock beside the state file).
//! - [`summary`]: the counts of a pass.
//! - [`run`]: the interval loop with a shutdown future and a grace period.
//!
//! The configuration (`pipelines:`) is parsed in [`crate::config::pipeline`]; the checks that need
//! the model (fields and labels) are [`check_against_model`] here.

pub mod assemble;
pub mod audit;
pub mod corrections;
pub mod decide;
pub mod feed;
pub mod language;
pub mod lock;
pub mod note;
pub mod pass;
pub mod retry;
pub mod run;
pub mod shadow;
pub mod state;
pub mod summary;

use std::{collections::BTreeMap, fmt, path::Path};

pub use feed::Feed;
pub use pass::{PassProgress, PassReport, Pipeline, TicketReport, WriteResult, PROGRESS_CHUNK};
pub use run::{run, run_fed, RunOptions, RunOutcome, Stop, DEFAULT_MAX_PASSES};
pub use summary::PassSummary;

use crate::{
    classifier::{
        model::{self, FolderKind, HfModel, Manifest},
        Classifier, ClassifierError, Prediction, TicketText,
    },
    config::{
        pipeline::{check_value, PRIORITIES},
        FieldAction, PipelineConfig, Problem,
    },
    lists::list_or_none,
    ticket::BoxFuture,
};

/// Classifies tickets; the pipeline's only view of the model.
pub trait Classify: Send + Sync + fmt::Debug {
    /// One prediction per ticket, in order.
    fn classify<'a>(
        &'a self,
        tickets: &'a [TicketText],
    ) -> BoxFuture<'a, Result<Vec<Prediction>, ClassifierError>>;
}

impl Classify for Classifier {
    fn classify<'a>(
        &'a self,
        tickets: &'a [TicketText],
    ) -> BoxFuture<'a, Result<Vec<Prediction>, ClassifierError>> {
        Box::pin(self.classify_batch(tickets))
    }
}

/// Every field of a model folder with its labels, read from the folder's files without starting
/// ONNX Runtime. A Hugging Face folder classifies the single field `hf_field`.
pub fn model_labels(
    dir: &Path,
    hf_field: &str,
) -> Result<BTreeMap<String, Vec<String>>, ClassifierError> {
    Ok(match model::detect(dir)? {
        FolderKind::Otai => Manifest::read(dir)?
            .load_heads(dir)?
            .into_iter()
            .map(|h| (h.field, h.labels))
            .collect(),
        FolderKind::HuggingFace => {
            BTreeMap::from([(hf_field.to_string(), HfModel::read(dir)?.labels)])
        }
    })
}

/// The labels per field that a pipeline predicts: the model's, with the labels of every field
/// whose `descriptions:` are in use (the model has no head for it, or `use_descriptions: true`).
pub fn pipeline_labels(
    pipeline: &PipelineConfig,
    model_labels: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut labels = model_labels.clone();
    for rule in &pipeline.fields {
        if language::detects_language(rule, model_labels) {
            if let Ok(detector) =
                crate::classifier::language::LanguageDetector::new(&rule.languages)
            {
                labels.insert(rule.field.clone(), detector.labels());
            }
        }
        if let Some(d) = &rule.descriptions {
            if d.in_use(model_labels.contains_key(&rule.field)) {
                labels.insert(rule.field.clone(), d.label_names());
            }
        }
    }
    labels
}

/// The pipeline's classifier: `base` (the model) with a head built from the label descriptions
/// of every field whose descriptions are in use (see [`pipeline_labels`]); `base` itself when
/// there are none. Embeds the descriptions, so it blocks: not for async code.
pub fn with_description_heads(
    base: &Classifier,
    pipeline: &PipelineConfig,
) -> Result<Classifier, ClassifierError> {
    let model_fields = base.fields();
    let mut heads = Vec::new();
    for rule in &pipeline.fields {
        if let Some(d) = &rule.descriptions {
            if d.in_use(model_fields.contains(&rule.field.as_str())) {
                heads.push(base.description_head(&rule.field, &d.labels, d.scale)?);
            }
        }
    }
    base.with_extra_heads(heads)
}

/// What in a pipeline does not fit its model: fields it does not have (nor describes), mapped
/// labels it does not know, labels that would be written as an invalid value (e.g. a priority
/// outside low/normal/high/urgent). A field with `descriptions:` in use is checked against its
/// described labels.
pub fn check_against_model(
    pipeline: &PipelineConfig,
    labels: &BTreeMap<String, Vec<String>>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let key = pipeline.key_path();
    let model = pipeline.model.display();
    let model_labels = labels;
    let labels = &pipeline_labels(pipeline, model_labels);
    for rule in &pipeline.fields {
        let field_key = format!("{key}.fields.{}", rule.field);
        if !rule.languages.is_empty() && !language::detects_language(rule, model_labels) {
            problems.push(Problem::new(
                format!("{field_key}.languages"),
                format!(
                    "the model {model} has a `{}` head of its own, which gives its own labels; \
                     `languages:` is for the built-in detector: remove it",
                    rule.field
                ),
            ));
        }
        let described = rule
            .descriptions
            .as_ref()
            .is_some_and(|d| d.in_use(model_labels.contains_key(&rule.field)));
        if described && matches!(model::detect(&pipeline.model), Ok(FolderKind::HuggingFace)) {
            problems.push(Problem::new(
                format!("{field_key}.descriptions"),
                format!(
                    "the model {model} is a Hugging Face classifier, which gives its own labels, not \
                     sentence embeddings; descriptions need an otai model folder, e.g. \
                     models/minilm-l6-int8"
                ),
            ));
            continue;
        }
        let source = if described {
            "its descriptions".to_string()
        } else {
            format!("the model {model}")
        };
        let Some(known) = labels.get(&rule.field) else {
            problems.push(Problem::new(
                &field_key,
                format!(
                    "the model {model} has no field `{}`; its fields: {} (or describe its labels \
                     under `descriptions:` to route without history)",
                    rule.field,
                    list_or_none(&model_labels.keys().map(String::as_str).collect::<Vec<_>>())
                ),
            ));
            continue;
        };
        for label in rule.map.keys() {
            if !known.contains(label) {
                problems.push(Problem::new(
                    format!("{field_key}.map.{label}"),
                    format!(
                        "`{label}` is not a label of field `{}` in {source}; its labels: {}",
                        rule.field,
                        shorten(known)
                    ),
                ));
            }
        }
        // Labels without a map entry are written as they are: they must be valid values too.
        let unfit: Vec<&str> = known
            .iter()
            .filter(|l| !rule.map.contains_key(*l))
            .filter(|l| check_value(&rule.action, &rule.value_for(l)).is_err())
            .map(String::as_str)
            .collect();
        if !unfit.is_empty() {
            let hint = match rule.action {
                FieldAction::Priority => format!(
                    "map each to one of {}, e.g. `map: {{{}: normal}}`",
                    PRIORITIES.join(", "),
                    unfit[0]
                ),
                _ => "map each to a valid value under `map:`".to_string(),
            };
            problems.push(Problem::new(
                format!("{field_key}.map"),
                format!(
                    "the {}label(s) {} cannot be written by `action: {}` as they are; {hint}",
                    if described { "described " } else { "model's " },
                    unfit.join(", "),
                    rule.action.name()
                ),
            ));
        }
    }
    problems
}

fn shorten(labels: &[String]) -> String {
    const SHOWN: usize = 12;
    if labels.len() <= SHOWN {
        labels.join(", ")
    } else {
        format!(
            "{}, ... ({} in all)",
            labels[..SHOWN].join(", "),
            labels.len()
        )
    }
}

#[cfg(test)]
mod describe_tests;
#[cfg(test)]
mod tests;
