//! `otai classify TEXT | --file FILE [--model DIR] [--json]`: predictions for quick checks of a
//! model, without a help desk.

use std::{io::Write, path::Path};

use anyhow::{bail, Context as _};
use serde::Deserialize;
use serde_json::json;

use crate::{
    classifier::{Classifier, ClassifierOptions, Prediction, TicketText},
    cli::ClassifyArgs,
};

pub fn classify(args: &ClassifyArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.top_k == 0 {
        bail!("--top-k must be at least 1");
    }
    // Read the input first: a typo in the file should not wait for the model to load.
    let tickets: Vec<TicketText> = match (&args.text, &args.file) {
        (Some(text), _) => vec![TicketText::new("", text.as_str())],
        (None, Some(file)) => read_jsonl(file)?,
        (None, None) => bail!("give a TEXT or --file FILE"),
    };
    let mut options = ClassifierOptions {
        top_k: args.top_k,
        ..ClassifierOptions::default()
    };
    options.encoder.max_tokens = args.max_tokens.map(usize::from);
    let classifier = Classifier::load(&args.model, &options)
        .with_context(|| format!("cannot load the model {}", args.model.display()))?;
    let predictions = classifier
        .classify_batch_blocking(&tickets)
        .context("classification failed")?;
    for (i, (ticket, prediction)) in tickets.iter().zip(&predictions).enumerate() {
        if args.json {
            print_json(out, i + 1, ticket, prediction)?;
        } else {
            print_text(out, i + 1, ticket, prediction)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// One line of `--file`: subject/body or text, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

fn read_jsonl(file: &Path) -> anyhow::Result<Vec<TicketText>> {
    let content =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut tickets = Vec::new();
    for (i, raw) in content.lines().enumerate() {
        let at = || format!("{}:{}", file.display(), i + 1);
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw).with_context(|| {
            format!(
                "{}: expected a JSON object {{\"subject\": ..., \"body\": ...}} or {{\"text\": ...}}",
                at()
            )
        })?;
        tickets.push(match line {
            Line {
                text: Some(text),
                subject: None,
                body: None,
            } => TicketText::new("", text),
            Line {
                text: None,
                subject,
                body,
            } if subject.is_some() || body.is_some() => {
                TicketText::new(subject.unwrap_or_default(), body.unwrap_or_default())
            }
            Line { text: Some(_), .. } => {
                bail!(
                    "{}: give either \"text\" or \"subject\"/\"body\", not both",
                    at()
                )
            }
            _ => bail!(
                "{}: the object has neither \"text\" nor \"subject\"/\"body\"",
                at()
            ),
        });
    }
    if tickets.is_empty() {
        bail!("{} holds no tickets", file.display());
    }
    Ok(tickets)
}

fn print_text(
    out: &mut dyn Write,
    n: usize,
    ticket: &TicketText,
    prediction: &Prediction,
) -> anyhow::Result<()> {
    let text = ticket.text().replace('\n', " / ");
    let shown: String = text.chars().take(100).collect();
    let ellipsis = if shown.len() < text.len() { "..." } else { "" };
    writeln!(out, "[{n}] {shown}{ellipsis}")?;
    let width = prediction
        .fields
        .iter()
        .map(|f| f.field.len())
        .max()
        .unwrap_or(0);
    for field in &prediction.fields {
        let labels: Vec<String> = field
            .top
            .iter()
            .map(|s| format!("{} {:.3}", s.label, s.probability))
            .collect();
        writeln!(out, "  {:<width$}  {}", field.field, labels.join(" | "))?;
    }
    Ok(())
}

fn print_json(
    out: &mut dyn Write,
    n: usize,
    ticket: &TicketText,
    prediction: &Prediction,
) -> anyhow::Result<()> {
    let fields: serde_json::Map<String, serde_json::Value> = prediction
        .fields
        .iter()
        .map(|f| (f.field.clone(), json!(f.top)))
        .collect();
    let line = json!({"input": n, "text": ticket.text(), "predictions": fields});
    writeln!(out, "{line}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn jsonl_accepts_subject_body_and_text_and_skips_blank_lines() {
        let (_dir, path) = write("{\"subject\":\"Card\",\"body\":\"lost\"}\n\n{\"text\":\"hi\"}\n");
        let tickets = read_jsonl(&path).unwrap();
        assert_eq!(
            tickets,
            [TicketText::new("Card", "lost"), TicketText::new("", "hi")]
        );
    }

    #[test]
    fn jsonl_errors_name_file_and_line() {
        let (_dir, path) = write("{\"text\":\"ok\"}\n{\"txt\":\"typo\"}\n");
        let err = format!("{:#}", read_jsonl(&path).unwrap_err());
        assert!(err.contains(&format!("{}:2", path.display())), "{err}");
        assert!(err.contains("unknown field `txt`"), "{err}");
    }
}
