//! `otai evaluate`: how good routing will be, before it writes anything.
//!
//! - `--model DIR --data FILE`: classify labelled examples and score them per field. When the file has a
//!   `created_at` column only the newest `--holdout` share is scored (the model was presumably trained on
//!   the older ones), else every row.
//! - `--shadow FILE`: compare what `otai run --shadow` would have written with what agents did since
//!   (see [`crate::pipeline::shadow`]), with the corrections agents made per field.
//! - `--audit FILE`: compare what otai wrote (a pipeline's audit log) with the tickets now: per
//!   field, how often agents kept otai's value and corrected it ([`crate::pipeline::corrections`]).
//!
//! Both print, per field, accuracy, macro-F1, the worst confusions and the coverage / precision trade-off
//! with a suggested threshold (`--target-precision`), as text or `--json`. With `--data` holding
//! tickets in two or more languages (the built-in detector's view, at least 20 each), every field
//! is also scored per language, as `queue@de`, `queue@en`. For a model with hybrid heads, `--data`
//! also scores each head's halves alone (lexical n-grams, embedding) on the same examples: the
//! lexical baseline beside the model. A head without a lexical half gets one fitted on the
//! examples by cross-validation instead ([`lexical_baseline`]). A new data source is an arm
//! of the match on the arguments in [`evaluate`] producing a header and `(field, Vec<Scored>)`.

use std::{collections::HashMap, io::Write, path::Path};

use anyhow::{bail, Context as _};

use crate::{
    classifier::{
        data::Dataset,
        evaluate::{
            evaluate_field, Evaluation, FieldEvaluation, FieldScores, Halves, LexicalBaseline,
            Scored,
        },
        hybrid,
        language::LanguageDetector,
        lexical::NGrams,
        Classifier, ClassifierOptions, LinearHead,
    },
    cli::EvaluateArgs,
    commands::Context,
    pipeline::{corrections, shadow},
};

pub fn evaluate(ctx: &Context, args: &EvaluateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.target_precision) {
        bail!("--target-precision must be a fraction from 0 to 1, e.g. 0.95");
    }
    if !(0.0..1.0).contains(&args.holdout) || args.holdout == 0.0 {
        bail!("--holdout must be a fraction above 0 and below 1, e.g. 0.2");
    }
    if args.system.is_some() && args.data.is_some() {
        bail!("--system goes with --shadow or --audit (with --data the examples are in the file)");
    }
    let (header, scored, halves, baselines) = match (&args.data, &args.shadow, &args.audit) {
        (Some(data), None, None) => {
            let d = from_data(&args.model, data, args)?;
            (d.header, d.scored, d.halves, d.baselines)
        }
        (None, Some(file), None) => {
            let runtime = super::runtime()?;
            let (header, scored) = runtime.block_on(shadow_source(ctx, file, args))?;
            (header, scored, HashMap::new(), HashMap::new())
        }
        (None, None, Some(file)) => {
            return super::runtime()?.block_on(audit_source(ctx, file, args, out));
        }
        _ => bail!("give one of --data FILE (with --model DIR), --shadow FILE and --audit FILE"),
    };
    let evaluation = Evaluation {
        fields: scored
            .iter()
            .filter(|(field, _)| {
                // `queue@de` (a language's share of `queue`) comes with `queue`.
                let base = field.split('@').next().unwrap_or(field);
                args.fields
                    .as_ref()
                    .is_none_or(|wanted| wanted.iter().any(|w| w == base))
            })
            .map(|(field, s)| FieldEvaluation {
                halves: halves.get(field).copied(),
                lexical_baseline: baselines.get(field).copied(),
                ..evaluate_field(field, s, args.target_precision)
            })
            .collect(),
    };
    if args.json {
        let value = serde_json::json!({ "source": header, "fields": evaluation.fields });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        writeln!(out, "{header}")?;
        writeln!(out)?;
        if evaluation.fields.is_empty() {
            writeln!(out, "Nothing to evaluate.")?;
        } else {
            writeln!(out, "{evaluation}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Languages with fewer examples than this get no scores of their own.
const MIN_LANGUAGE_EXAMPLES: usize = 20;
/// Nor do languages with a smaller share of the rows: on short texts the detector calls a few
/// German queries Afrikaans or Dutch, and those slivers are noise, not a language of the help desk.
const MIN_LANGUAGE_SHARE: f64 = 0.05;

/// Each row's language (the built-in detector, over every language it knows), and the languages
/// worth scoring on their own: those with at least [`MIN_LANGUAGE_EXAMPLES`] rows and
/// [`MIN_LANGUAGE_SHARE`] of them, when there are two or more. A model that is good in English and
/// poor in German shows it there.
fn row_languages(rows: &[usize], dataset: &Dataset) -> (Vec<String>, Vec<String>) {
    let detector = LanguageDetector::new(&[]).expect("no languages given: every language");
    let languages: Vec<String> = rows
        .iter()
        .map(|&i| detector.predict(&dataset.texts[i]).best().label.clone())
        .collect();
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for language in &languages {
        *counts.entry(language.as_str()).or_default() += 1;
    }
    let shown: Vec<String> = counts
        .into_iter()
        .filter(|(_, n)| {
            *n >= MIN_LANGUAGE_EXAMPLES && *n as f64 >= MIN_LANGUAGE_SHARE * rows.len() as f64
        })
        .map(|(l, _)| l.to_string())
        .collect();
    let shown = if shown.len() >= 2 { shown } else { Vec::new() };
    (languages, shown)
}

/// Classifies the labelled rows of `data` (the newest `--holdout` share when it has times) with `model`.
/// `otai evaluate --shadow FILE`: loads the configuration and the ticket system, compares, and returns
/// a header and the per-field scored predictions.
async fn shadow_source(
    ctx: &Context,
    file: &Path,
    args: &EvaluateArgs,
) -> anyhow::Result<(String, FieldScores)> {
    let records = shadow::read_records(file)?;
    if records.is_empty() {
        bail!(
            "{} has no shadow records (run `otai run --shadow` first)",
            file.display()
        );
    }
    let config = std::sync::Arc::new(ctx.load_config()?);
    let pipelines: Vec<&str> = records.iter().map(|r| r.pipeline.as_str()).collect();
    let (system_name, system) = open_records_system(ctx, &config, &pipelines, args).await?;
    let (cmp, scored) = shadow::compare_with(records, &config.pipelines, system, 8).await;
    Ok((shadow::comparison_header(file, &system_name, &cmp), scored))
}

/// The ticket system records of `pipelines` are read back from: `--system`, else the one ticket
/// system those pipelines use in the configuration.
async fn open_records_system(
    ctx: &Context,
    config: &std::sync::Arc<crate::config::Config>,
    pipelines: &[&str],
    args: &EvaluateArgs,
) -> anyhow::Result<(String, std::sync::Arc<dyn crate::ticket::TicketSystem>)> {
    let system_name = match &args.system {
        Some(name) => name.clone(),
        None => {
            let names: std::collections::BTreeSet<&str> = pipelines
                .iter()
                .filter_map(|p| config.pipelines.get(*p))
                .map(|p| p.ticket_system.as_str())
                .collect();
            match names.into_iter().collect::<Vec<_>>().as_slice() {
                [one] => one.to_string(),
                [] => bail!(
                    "the records' pipelines are not in {}: name the ticket system with --system",
                    config.file.display()
                ),
                _ => bail!("the records come from pipelines on several ticket systems: pick one with --system"),
            }
        }
    };
    let (plugins_dir, cfg, name) = (ctx.plugins_dir(config), config.clone(), system_name.clone());
    let system = tokio::task::spawn_blocking(move || {
        crate::commands::tickets::open_configured_system(&plugins_dir, &cfg, &name)
    })
    .await??;
    Ok((system_name, system))
}

/// `otai evaluate --audit FILE`: what otai wrote against the tickets now, printed.
async fn audit_source(
    ctx: &Context,
    file: &Path,
    args: &EvaluateArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let written = corrections::read_audit(file)?;
    if written.is_empty() {
        bail!(
            "{} records no ticket otai wrote a classification to",
            file.display()
        );
    }
    let config = std::sync::Arc::new(ctx.load_config()?);
    let pipelines: Vec<&str> = written.iter().map(|w| w.pipeline.as_str()).collect();
    let (system_name, system) = open_records_system(ctx, &config, &pipelines, args).await?;
    let found = corrections::compare_audit(written, &config.pipelines, system, 8).await;
    let readable = found.tickets - found.gone - found.unreadable;
    if args.json {
        let fields: serde_json::Map<String, serde_json::Value> = found
            .corrections
            .fields()
            .into_iter()
            .map(|(field, c)| (field, serde_json::json!(c)))
            .collect();
        let value = serde_json::json!({
            "audit_log": file.display().to_string(),
            "ticket_system": system_name,
            "tickets": found.tickets,
            "compared": readable,
            "finished": found.finished,
            "gone": found.gone,
            "unreadable": found.unreadable,
            "fields": fields,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        writeln!(
            out,
            "What otai wrote ({}) against ticket system `{system_name}` now: {} ticket(s), {} \
             compared ({} finished by agents), {} gone (404), {} unreadable.",
            file.display(),
            found.tickets,
            readable,
            found.finished,
            found.gone,
            found.unreadable
        )?;
        if found.corrections.is_empty() {
            writeln!(out, "No queue, priority or custom field to compare.")?;
        } else {
            write!(out, "{}", found.corrections.describe("otai wrote"))?;
            writeln!(
                out,
                "Each correction is a labelled example: `otai train --system {system_name}` learns \
                 from them once the tickets are solved (add --promote LINK to put the new model in \
                 use only if it does better)."
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn from_data(
    model: &std::path::Path,
    data: &std::path::Path,
    args: &EvaluateArgs,
) -> anyhow::Result<FromData> {
    let dataset = Dataset::load(data, args.fields.as_deref())
        .with_context(|| format!("cannot read {}", data.display()))?;
    let classifier = Classifier::load(model, &ClassifierOptions::default())
        .with_context(|| format!("cannot load the model {}", model.display()))?;
    let model_fields: Vec<String> = classifier
        .fields()
        .into_iter()
        .map(str::to_string)
        .collect();
    let fields: Vec<(usize, String)> = dataset
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| model_fields.contains(f))
        .map(|(i, f)| (i, f.clone()))
        .collect();
    if fields.is_empty() {
        bail!(
            "{} has none of the model's fields ({}); its label columns are: {}",
            data.display(),
            model_fields.join(", "),
            dataset.fields.join(", ")
        );
    }
    let rows: Vec<usize> = if dataset.has_times() {
        let newest = dataset.newest(args.holdout);
        (0..dataset.len()).filter(|&i| newest[i]).collect()
    } else {
        (0..dataset.len()).collect()
    };
    let rows: Vec<usize> = rows
        .into_iter()
        .filter(|&i| fields.iter().any(|&(f, _)| dataset.labels[f][i].is_some()))
        .collect();
    let texts: Vec<String> = rows.iter().map(|&i| dataset.texts[i].clone()).collect();
    let embedded = classifier
        .embed_blocking(texts.clone())
        .context("classification failed")?;
    let predictions = classifier.predict_embedded(&embedded, &texts);
    let halves = score_halves(&classifier, &dataset, &rows, &embedded, &texts);
    let baselines: HashMap<String, LexicalBaseline> = fields
        .iter()
        .filter(|(_, field)| !halves.contains_key(field))
        .filter_map(|(f, field)| lexical_baseline(&dataset, &rows, *f).map(|b| (field.clone(), b)))
        .collect();
    let (languages, shown) = row_languages(&rows, &dataset);
    let mut scored = Vec::new();
    let mut per_language = Vec::new();
    for (f, field) in fields {
        let mut s = Vec::new();
        let mut per: std::collections::BTreeMap<&str, Vec<Scored>> =
            shown.iter().map(|l| (l.as_str(), Vec::new())).collect();
        for ((&i, prediction), language) in rows.iter().zip(&predictions).zip(&languages) {
            let (Some(truth), Some(p)) = (&dataset.labels[f][i], prediction.field(&field)) else {
                continue;
            };
            let best = p.best();
            let score = Scored::new(truth.clone(), best.label.clone(), best.probability as f64);
            if let Some(of_language) = per.get_mut(language.as_str()) {
                of_language.push(score.clone());
            }
            s.push(score);
        }
        per_language.extend(
            per.into_iter()
                .map(|(language, s)| (format!("{field}@{language}"), s)),
        );
        scored.push((field, s));
    }
    // Per language after every field: `queue`, `priority`, `queue@de`, `queue@en`, ...
    scored.extend(per_language);
    let header = if dataset.has_times() {
        format!(
            "Evaluated {} on {}: the newest {:.0} % by created_at ({} of {} examples).",
            model.display(),
            data.display(),
            100.0 * args.holdout,
            rows.len(),
            dataset.len()
        )
    } else {
        format!(
            "Evaluated {} on {}: all {} labelled examples (no created_at column).",
            model.display(),
            data.display(),
            rows.len()
        )
    };
    Ok(FromData {
        header,
        scored,
        halves,
        baselines,
    })
}

/// What `--data` gives: the header, the scored predictions, and the baselines per field.
struct FromData {
    header: String,
    scored: FieldScores,
    halves: HashMap<String, Halves>,
    baselines: HashMap<String, LexicalBaseline>,
}

/// Fewer labelled rows than this get no cross-validated baseline (its folds would be noise).
const MIN_BASELINE_EXAMPLES: usize = 50;
/// Folds of the cross-validated baseline.
const BASELINE_FOLDS: usize = 5;

/// The lexical baseline of field `f` on the labelled ones of `rows`: TF-IDF + logistic regression
/// fitted and scored by cross-validation on these examples, for a head without a lexical half.
fn lexical_baseline(dataset: &Dataset, rows: &[usize], f: usize) -> Option<LexicalBaseline> {
    let labelled: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&i| dataset.labels[f][i].is_some())
        .collect();
    let labels: std::collections::BTreeSet<&String> = labelled
        .iter()
        .filter_map(|&i| dataset.labels[f][i].as_ref())
        .collect();
    if labelled.len() < MIN_BASELINE_EXAMPLES || labels.len() < 2 {
        return None;
    }
    let labels: Vec<&String> = labels.into_iter().collect();
    let y: Vec<usize> = labelled
        .iter()
        .map(|&i| {
            let label = dataset.labels[f][i].as_ref().expect("labelled");
            labels.binary_search(&label).expect("a known label")
        })
        .collect();
    let data = hybrid::Labelled {
        dataset,
        rows: &labelled,
        y: &y,
    };
    let accuracy = hybrid::cross_validated_lexical(
        data,
        labels.len(),
        BASELINE_FOLDS,
        &hybrid::LexicalOptions::default(),
    );
    Some(LexicalBaseline {
        accuracy,
        folds: BASELINE_FOLDS,
    })
}

/// Each hybrid head's halves scored alone on the same rows (one encoder pass serves all).
fn score_halves(
    classifier: &Classifier,
    dataset: &Dataset,
    rows: &[usize],
    embedded: &[Vec<f32>],
    texts: &[String],
) -> HashMap<String, Halves> {
    let mut out = HashMap::new();
    let halves = classifier.hybrid_halves();
    // Counted once per text for every half of every field.
    let ngrams: Vec<NGrams> = if halves.is_empty() {
        Vec::new()
    } else {
        texts.iter().map(|t| NGrams::of(t)).collect()
    };
    for (field, embedding, lexical) in halves {
        let Some(f) = dataset.field_index(&field) else {
            continue;
        };
        let accuracy = |head: &LinearHead| {
            let (mut right, mut n) = (0usize, 0usize);
            for ((&i, row), ngrams) in rows.iter().zip(embedded).zip(&ngrams) {
                if let Some(truth) = &dataset.labels[f][i] {
                    n += 1;
                    right += usize::from(head.top_k_of(row, ngrams, 1)[0].label == *truth);
                }
            }
            right as f64 / n.max(1) as f64
        };
        let halves = Halves {
            embedding: embedding.as_ref().map(accuracy),
            lexical: accuracy(&lexical),
        };
        out.insert(field, halves);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::testing::lost_card_sentence;

    fn dataset(counts: &[(&str, usize)]) -> Dataset {
        let texts: Vec<String> = counts
            .iter()
            .flat_map(|&(language, n)| {
                std::iter::repeat_n(lost_card_sentence(language).to_string(), n)
            })
            .collect();
        Dataset {
            path: "test.csv".into(),
            lines: (2..texts.len() + 2).collect(),
            fields: Vec::new(),
            labels: Vec::new(),
            created_at: Vec::new(),
            texts,
        }
    }

    fn shown(counts: &[(&str, usize)]) -> Vec<String> {
        let data = dataset(counts);
        let rows: Vec<usize> = (0..data.len()).collect();
        row_languages(&rows, &data).1
    }

    #[test]
    fn a_language_is_scored_alone_with_enough_rows_and_a_big_enough_share() {
        assert_eq!(
            shown(&[("de", 100), ("en", 100), ("fr", 20)]),
            ["de", "en", "fr"]
        );
        // 20 French rows of 420 (4.8 %): a sliver, scored only within the whole.
        assert_eq!(shown(&[("de", 200), ("en", 200), ("fr", 20)]), ["de", "en"]);
        // 19 rows are too few whatever their share.
        assert_eq!(shown(&[("de", 30), ("en", 19)]), Vec::<String>::new());
        // One language alone has nothing to be compared with.
        assert_eq!(shown(&[("de", 100)]), Vec::<String>::new());
    }
}
