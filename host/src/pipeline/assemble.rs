//! Building the configured pipelines: whether each fits its model (shared by `otai run` and
//! `otai check`), and the pipelines themselves with their ticket systems and classifiers (one per
//! configured system, one per model folder and truncation, shared by the pipelines that use them).

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    sync::Arc,
};

use anyhow::Context as _;
use tracing::info;

use super::{
    check_against_model, language, model_labels, pipeline_labels, with_description_heads, Classify,
    Pipeline,
};
use crate::{
    classifier::{Classifier, ClassifierOptions},
    config::{Config, PipelineConfig},
    plugins::PluginRegistry,
    ticket::TicketSystem,
};

/// The model's labels per field if the pipeline fits its model, else every problem, each naming
/// the configuration file.
pub fn fit_model(
    config: &Config,
    p: &PipelineConfig,
    hf_field: &str,
) -> Result<BTreeMap<String, Vec<String>>, Vec<String>> {
    let file = config.file.display();
    let labels = model_labels(&p.model, hf_field)
        .map_err(|e| vec![format!("{file}: {}.model: {e}", p.key_path())])?;
    let problems = check_against_model(p, &labels);
    if problems.is_empty() {
        Ok(pipeline_labels(p, &labels))
    } else {
        Err(problems
            .iter()
            .map(|problem| format!("{file}: {problem}"))
            .collect())
    }
}

/// Pipelines by name, for `check`: whether each fits its model, and what it will write.
pub fn check_models(config: &Config) -> BTreeMap<String, Result<String, Vec<String>>> {
    let hf_field = ClassifierOptions::default().hf_field;
    config
        .pipelines
        .values()
        .map(|p| {
            let result = fit_model(config, p, &hf_field).map(|labels| {
                let fields: Vec<String> = p
                    .fields
                    .iter()
                    .map(|r| {
                        format!(
                            "{} -> {} ({} labels)",
                            r.field,
                            r.action.name(),
                            labels[&r.field].len()
                        )
                    })
                    .collect();
                fields.join(", ")
            });
            (p.name.clone(), result)
        })
        .collect()
}

/// The `selected` pipelines, ready to run (their retry state loaded). Constructing ticket systems
/// (a synchronous plugin call), loading models and reading state files block: they run on the
/// blocking pool. Call [`fit_model`] first: fields without a head are described from their labels.
pub async fn assemble(
    config: &Arc<Config>,
    selected: &[&PipelineConfig],
    registry: &Arc<PluginRegistry>,
    classifier_options: &ClassifierOptions,
) -> anyhow::Result<Vec<Pipeline>> {
    let mut systems: HashMap<String, Arc<dyn TicketSystem>> = HashMap::new();
    let mut classifiers: HashMap<(PathBuf, Option<usize>), Arc<Classifier>> = HashMap::new();
    let mut pipelines = Vec::new();
    for &p in selected {
        let system = match systems.get(&p.ticket_system) {
            Some(system) => system.clone(),
            None => {
                let (registry, config, name) =
                    (registry.clone(), config.clone(), p.ticket_system.clone());
                let system =
                    tokio::task::spawn_blocking(move || registry.ticket_system(&config, &name))
                        .await??;
                systems.insert(p.ticket_system.clone(), system.clone());
                system
            }
        };
        let key = (p.model.clone(), p.max_tokens);
        let classifier = match classifiers.get(&key) {
            Some(c) => c.clone(),
            None => {
                let dir = p.model.clone();
                let mut options = classifier_options.clone();
                options.encoder.max_tokens = p.max_tokens;
                let c = tokio::task::spawn_blocking(move || {
                    Classifier::load_allowing_no_heads(&dir, &options)
                })
                .await?
                .with_context(|| {
                    format!(
                        "{}: cannot load the model of {}",
                        config.file.display(),
                        p.key_path()
                    )
                })?;
                info!(pipeline = %p.name, model = %p.model.display(), fields = ?c.fields(), "Loaded a model.");
                let c = Arc::new(c);
                classifiers.insert(key, c.clone());
                c
            }
        };
        let model_has_language = classifier
            .fields()
            .contains(&crate::classifier::language::FIELD);
        // Heads from label descriptions (zero history), on the shared encoder.
        let classifier: Arc<dyn Classify> = if p.fields.iter().any(|r| r.descriptions.is_some()) {
            let (base, pc) = (classifier.clone(), p.clone());
            let c = tokio::task::spawn_blocking(move || with_description_heads(&base, &pc))
                .await?
                .with_context(|| format!("{}: {}", config.file.display(), p.key_path()))?;
            info!(pipeline = %p.name, fields = ?c.fields(), "Built the heads from label descriptions.");
            Arc::new(c)
        } else {
            classifier
        };
        // The built-in `language` field, when the model has no head of that name.
        let classifier: Arc<dyn Classify> = match language::detector_for(p, model_has_language) {
            Some(detector) => {
                info!(pipeline = %p.name, "Detecting each ticket's language for the `language` field.");
                Arc::new(language::WithLanguage {
                    inner: classifier,
                    detector,
                })
            }
            None => classifier,
        };
        let pipeline_config = p.clone();
        let pipeline = tokio::task::spawn_blocking(move || {
            Pipeline::open(pipeline_config, system, classifier)
        })
        .await?
        .with_context(|| format!("{}: {}", config.file.display(), p.key_path()))?;
        pipelines.push(pipeline);
    }
    Ok(pipelines)
}
