//! `otai train --data FILE --out DIR`: the classifier's `train_from_file` behind the command line.

use std::io::Write;

use anyhow::{bail, Context as _};

use crate::{
    classifier::{train_from_file, TrainOptions},
    cli::TrainArgs,
};

pub fn train(args: &TrainArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if !(0.0..1.0).contains(&args.holdout) {
        bail!("--holdout must be a fraction from 0 to below 1, e.g. 0.1");
    }
    let options = TrainOptions {
        fields: args.fields.clone(),
        holdout: args.holdout,
        seed: args.seed,
        overwrite: args.overwrite,
        ..TrainOptions::default()
    };
    tracing::info!(data = %args.data.display(), out = %args.out.display(), encoder = %args.model.display(), "Training a model.");
    let report =
        train_from_file(&args.model, &args.data, &args.out, &options).with_context(|| {
            format!(
                "training from {} into {} failed",
                args.data.display(),
                args.out.display()
            )
        })?;
    writeln!(out, "{report}")?;
    writeln!(out, "Wrote the model folder {}.", args.out.display())?;
    if report.holdout_examples == 0 {
        writeln!(
            out,
            "No examples were held out, so no accuracy is reported (use --holdout 0.1)."
        )?;
    }
    out.flush()?;
    Ok(())
}
