//! Trains otai's default demo model, `models/banking77/` (heads `intent`, `queue`, `priority`), through the
//! library's Rust training path and reports accuracy on BANKING77's own test split. `models/setup.sh` runs it.
//! BANKING77: PolyAI, Casanueva et al. 2020, CC-BY-4.0 (data/banking77/LICENSE).
//!
//! ```text
//! cargo run --release -p otai --bin otai-train-banking77 -- [--repo DIR] [--encoder DIR] [--data DIR]
//!     [--routing FILE] [--out DIR] [--cache DIR | --no-cache] [--l2 X] [--sweep]
//! ```
//! Paths default to the repository layout (`--repo`, default: the working directory). `--sweep` prints
//! held-out and test accuracy for several L2 penalties and writes nothing.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use otai::classifier::demo::{self, DemoOptions};
use otai::classifier::{Classifier, ClassifierOptions, TicketText};

fn main() -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let repo = argv
        .iter()
        .position(|a| a == "--repo")
        .and_then(|i| argv.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut options = DemoOptions::in_repo(&repo);
    let mut sweep = false;
    let mut it = argv.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--repo" => {
                value()?;
            }
            "--encoder" => options.encoder_dir = value()?.into(),
            "--data" => options.data_dir = value()?.into(),
            "--routing" => options.routing = value()?.into(),
            "--out" => options.out = value()?.into(),
            "--cache" => options.cache = Some(value()?.into()),
            "--no-cache" => options.cache = None,
            "--l2" => options.train.l2 = value()?.parse().context("--l2 needs a number")?,
            "--sweep" => sweep = true,
            other => bail!("unknown argument {other}; see the comment at the top of host/src/bin/otai-train-banking77.rs"),
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    if sweep {
        for (l2, holdout, test, queue) in
            demo::sweep_l2(&options, &[1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6])?
        {
            println!(
                "l2 {l2:.0e}: intent held-out {:.2} %, intent test {:.2} %, queue test {:.2} %",
                100.0 * holdout,
                100.0 * test,
                100.0 * queue
            );
        }
        return Ok(());
    }

    let started = std::time::Instant::now();
    let report = demo::train_banking77(&options)?;
    println!("{report}");
    println!(
        "Wrote {} in {:.1} s.",
        options.out.display(),
        started.elapsed().as_secs_f64()
    );

    // Smoke test through the public API, as `otai classify` uses it.
    let classifier = Classifier::load(&options.out, &ClassifierOptions::default())?;
    let ticket = TicketText::new("Card gone", "I lost my card, please block it");
    let prediction = classifier.classify_batch_blocking(std::slice::from_ref(&ticket))?;
    let shown: Vec<String> = prediction[0]
        .fields
        .iter()
        .map(|f| {
            format!(
                "{}={} ({:.2})",
                f.field,
                f.best().label,
                f.best().probability
            )
        })
        .collect();
    println!("Check: {:?} -> {}", ticket.text(), shown.join(", "));
    Ok(())
}
