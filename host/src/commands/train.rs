//! `otai train`: a model folder from labelled data (`--data FILE --out DIR`, the classifier's
//! `train_from_file`) or from a help desk's history (`--system NAME --since 180d --fields ...`).
//!
//! From history: the tickets are pulled through the adapter's export with progress on stderr
//! (resumable, see [`crate::history`]), labelled, rare classes folded into the fallback label,
//! embedded with the encoder of `--model` and one head fitted per field (held out by time: the
//! newest tickets). The result is a new, versioned model folder (default
//! `models/<system>-<UTC yyyymmddThhmmssZ>`); an existing folder is never written into, so a
//! running pipeline's model is never touched. Its `training.json` summary records the system,
//! `--since`, the counts, the skip report, the folded classes and the label maps.

use std::{io::Write, path::PathBuf, time::Instant};

use anyhow::{bail, Context as _};
use serde_json::json;

use super::{
    promote::{self, PromotionLink},
    Context,
};
use crate::{
    classifier::{
        data::Dataset,
        encoder::Encoder,
        encoder_choice,
        hybrid::LexicalOptions,
        model,
        train::{embed_texts, holdout_split, train_heads},
        train_from_file, EncoderOptions, TrainOptions,
    },
    cli::TrainArgs,
    history::{self, since, PullOptions, PullProgress},
};

pub fn train(ctx: &Context, args: &TrainArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if !(0.0..1.0).contains(&args.holdout) {
        bail!("--holdout must be a fraction from 0 to below 1, e.g. 0.1");
    }
    match (&args.data, &args.system) {
        (Some(data), None) => train_from_data(args, data, out),
        (None, Some(system)) => train_from_history(ctx, args, system, out),
        _ => bail!("give exactly one of --data FILE and --system NAME"),
    }
}

fn options(args: &TrainArgs, fields: Option<Vec<String>>) -> TrainOptions {
    TrainOptions {
        fields,
        holdout: args.holdout,
        seed: args.seed,
        overwrite: args.overwrite,
        lexical: LexicalOptions {
            share: args.lexical_share,
            ..LexicalOptions::default()
        },
        ..TrainOptions::default()
    }
}

fn train_from_data(
    args: &TrainArgs,
    data: &std::path::Path,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let Some(dir) = &args.out else {
        bail!("--data needs --out DIR, the new model folder");
    };
    let options = options(args, args.fields.clone());
    let encoder = match &args.model {
        Some(given) => given.clone(),
        None => {
            let dataset = Dataset::load(data, options.fields.as_deref())
                .with_context(|| format!("cannot read {}", data.display()))?;
            chosen_encoder(None, &dataset.texts, out)?
        }
    };
    tracing::info!(data = %data.display(), out = %dir.display(), encoder = %encoder.display(), "Training a model.");
    let report = train_from_file(&encoder, data, dir, &options).with_context(|| {
        format!(
            "training from {} into {} failed",
            data.display(),
            dir.display()
        )
    })?;
    writeln!(out, "{report}")?;
    writeln!(out, "Wrote the model folder {}.", dir.display())?;
    if report.holdout_examples == 0 {
        writeln!(
            out,
            "No examples were held out, so no accuracy is reported (use --holdout 0.1)."
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The English default encoder folder (MiniLM-L6, in the demo model folder).
fn default_encoder() -> PathBuf {
    PathBuf::from(crate::config::pipeline::DEFAULT_MODEL_DIR)
}

/// `--model` when given, else the encoder the texts' languages call for
/// ([`encoder_choice::choose`]); the choice and why are printed.
fn chosen_encoder(
    given: Option<&std::path::Path>,
    texts: &[String],
    out: &mut dyn Write,
) -> anyhow::Result<PathBuf> {
    if let Some(given) = given {
        return Ok(given.to_path_buf());
    }
    let mix = encoder_choice::LanguageMix::of(texts);
    let choice = encoder_choice::choose(
        &mix,
        &default_encoder(),
        std::path::Path::new(encoder_choice::MULTILINGUAL_ENCODER_DIR),
    );
    if choice.missing_multilingual {
        tracing::warn!(reason = %choice.reason, "The multilingual encoder would suit these texts better.");
    }
    writeln!(
        out,
        "Encoder: {} ({}; --model overrides).",
        choice.dir.display(),
        choice.reason
    )?;
    Ok(choice.dir)
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn train_from_history(
    ctx: &Context,
    args: &TrainArgs,
    system_name: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let now = since::now_unix();
    let start = since::start_unix(&args.since, now)?;
    let fields = history::parse_fields(
        &args
            .fields
            .clone()
            .unwrap_or_else(|| vec!["queue".into(), "priority".into()]),
    )?;
    if args.min_examples == 0 {
        bail!("--min-examples must be at least 1");
    }
    let promotion = args
        .promote
        .as_deref()
        .map(PromotionLink::open)
        .transpose()?;
    if promotion.as_ref().is_some_and(|p| p.in_use().is_some()) && args.holdout == 0.0 {
        bail!(
            "--promote compares the models on held-out tickets: give --holdout above 0 (default 0.1)"
        );
    }
    let stamp = since::compact_stamp(now);
    let dir = match (&args.out, &promotion) {
        (Some(out), _) => out.clone(),
        (None, Some(promotion)) => promotion.candidate_dir(system_name, &stamp),
        (None, None) => PathBuf::from("models").join(format!("{system_name}-{stamp}")),
    };
    if dir.exists() {
        bail!(
            "{} already exists; training never writes into an existing model folder (a pipeline \
             may be using it): choose another --out",
            dir.display()
        );
    }
    // Fail on a missing encoder before a long pull (without --model: the English default, which
    // the languages of the history may still replace).
    let first_encoder = args.model.clone().unwrap_or_else(default_encoder);
    model::Manifest::read(&first_encoder).with_context(|| {
        format!(
            "the encoder folder {} cannot be used",
            first_encoder.display()
        )
    })?;

    let system = super::tickets::open_system(ctx, system_name)?;
    let pull_options = PullOptions {
        cache_dir: args.cache_dir.clone(),
        since: args.since.clone(),
        start_time: since::rfc3339(start),
        fresh: args.fresh,
    };
    let started = Instant::now();
    let mut progress = |p: PullProgress| {
        eprintln!(
            "pulled {} tickets (page {}{})",
            thousands(p.tickets),
            p.pages,
            if p.resumed { ", resumed" } else { "" }
        );
    };
    let pulled = super::runtime()?
        .block_on(history::pull(system.as_ref(), &pull_options, &mut progress))
        .context(
            "the history pull stopped; run the same command again to continue where it stopped \
             (or add --fresh to start over)",
        )?;
    drop(system);
    let pull_seconds = started.elapsed().as_secs_f64();

    let (mut data, skips) = pulled.labelled(&fields)?;
    write!(out, "{skips}")?;
    let folded = history::fold_rare(&mut data, args.min_examples, &args.fallback_label);
    for f in &folded {
        writeln!(
            out,
            "  folded `{}` = {} ({} examples, fewer than {}) into {}",
            f.field, f.label, f.examples, args.min_examples, args.fallback_label
        )?;
    }
    if data.texts.is_empty() {
        bail!(
            "no ticket of `{system_name}` since {} can be learned from (see the counts above)",
            pulled.start_time
        );
    }
    let label_maps = history::label_counts(&data);
    let dataset = Dataset {
        path: PathBuf::from(format!("{system_name} (since {})", pulled.start_time)),
        lines: (1..=data.texts.len()).collect(),
        texts: data.texts,
        fields: data.fields,
        labels: data.labels,
        created_at: data.created_at,
    };
    let options = options(args, None);
    let encoder_dir = chosen_encoder(args.model.as_deref(), &dataset.texts, out)?;
    tracing::info!(system = system_name, examples = dataset.len(), out = %dir.display(), encoder = %encoder_dir.display(), "Training a model from history.");
    let encoder = Encoder::load(&encoder_dir, &EncoderOptions::default())?;
    let embed_started = Instant::now();
    let x = embed_texts(&encoder, &dataset.texts)?;
    drop(encoder);
    let (heads, mut report) = train_heads(x.view(), &dataset, &options)?;
    report.embed_seconds = embed_started.elapsed().as_secs_f64();
    refuse_unless_better_than_majority(&report, out)?;
    if let Some(promotion) = &promotion {
        let (_, is_holdout) = holdout_split(&dataset, &options)?;
        let candidate = promote::Candidate {
            dir: &dir,
            dataset: &dataset,
            is_holdout: &is_holdout,
            folded: &folded,
            fallback: &args.fallback_label,
            report: &report,
        };
        let verdict = promotion.judge(&candidate)?;
        promotion.record(system_name, &candidate, &verdict)?;
        writeln!(out, "{report}")?;
        writeln!(out, "{}", promotion.describe(&verdict))?;
        if !verdict.promoted {
            writeln!(
                out,
                "The model in use stays; the candidate was not written (logged in {}).",
                promotion.log_path().display()
            )?;
            out.flush()?;
            return Ok(());
        }
    }
    let mut summary = serde_json::to_value(&report)?;
    summary["history"] = json!({
        "system": system_name,
        "since": args.since,
        "start_time": pulled.start_time,
        "pulled_at": since::rfc3339(now),
        "pages": pulled.pages,
        "tickets_pulled": pulled.pulled,
        "tickets": skips.tickets,
        "pull_seconds": pull_seconds,
        "skipped": skips,
        "min_examples": args.min_examples,
        "fallback_label": args.fallback_label,
        "folded": folded,
        "label_maps": label_maps,
    });
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    model::write_model_folder(&encoder_dir, &heads, Some(&summary), &dir, false)?;
    if promotion.is_none() {
        // A promotion printed the report beside its verdict already.
        writeln!(out, "{report}")?;
    }
    writeln!(out, "Wrote the model folder {}.", dir.display())?;
    match &promotion {
        Some(promotion) => {
            promotion.repoint(&dir)?;
            writeln!(
                out,
                "{} now points to {} (logged in {}); `otai serve` reloads on its own, `otai run` \
                 uses it from its next start.",
                promotion.link().display(),
                dir.display(),
                promotion.log_path().display()
            )?;
        }
        None => writeln!(
            out,
            "To route with it, point the pipeline at it in the config:\n    model: {}",
            dir.display()
        )?,
    }
    out.flush()?;
    Ok(())
}

/// A model trained from a help desk's history is only offered for routing when, on every field,
/// it is right on the held-out tickets more often than always answering the most common label:
/// otherwise routing with it would be worse than no model. The report is printed either way, so
/// the figures that decided are on screen; nothing is written when it is refused.
fn refuse_unless_better_than_majority(
    report: &crate::classifier::TrainReport,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let worse: Vec<String> = report
        .fields
        .iter()
        .filter_map(|f| f.evaluation.as_ref())
        .filter(|e| !e.beats_majority())
        .map(|e| {
            format!(
                "`{}` ({:.1} % held out, always `{}` {:.1} %)",
                e.field,
                100.0 * e.accuracy,
                e.majority.label,
                100.0 * e.majority.accuracy
            )
        })
        .collect();
    if worse.is_empty() {
        return Ok(());
    }
    writeln!(out, "{report}")?;
    bail!(
        "the model does not beat the majority-class baseline on {}; no model folder was written. \
         Train without those fields (--fields), with more history (--since), or check that agents \
         set them on finished tickets",
        worse.join(", ")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::thousands(4000), "4,000");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1234567), "1,234,567");
    }
}
