//! `otai classify TEXT | --file FILE [--model DIR] [--json]`: predictions for quick checks of a
//! model, without a help desk.

use std::io::Write;

use anyhow::{bail, Context as _};
use serde_json::json;

use crate::{
    classifier::{
        unlabelled::{read_tickets, InputTicket},
        Classifier, ClassifierOptions, Prediction, TicketText,
    },
    cli::ClassifyArgs,
};

pub fn classify(args: &ClassifyArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.top_k == 0 {
        bail!("--top-k must be at least 1");
    }
    // Read the input first: a typo in the file should not wait for the model to load.
    let tickets: Vec<InputTicket> = match (&args.text, &args.file) {
        (Some(text), _) => vec![InputTicket {
            id: None,
            line: 0,
            text: TicketText::new("", text.as_str()),
        }],
        (None, Some(file)) => read_tickets(file)?,
        (None, None) => bail!("give a TEXT or --file FILE"),
    };
    let mut options = ClassifierOptions {
        top_k: args.top_k,
        ..ClassifierOptions::default()
    };
    options.encoder.max_tokens = args.max_tokens.map(usize::from);
    let classifier = Classifier::load(&args.model, &options)
        .with_context(|| format!("cannot load the model {}", args.model.display()))?;
    let texts: Vec<TicketText> = tickets.iter().map(|t| t.text.clone()).collect();
    let predictions = classifier
        .classify_batch_blocking(&texts)
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

fn print_text(
    out: &mut dyn Write,
    n: usize,
    ticket: &InputTicket,
    prediction: &Prediction,
) -> anyhow::Result<()> {
    let text = ticket.text.text().replace('\n', " / ");
    let shown: String = text.chars().take(100).collect();
    let ellipsis = if shown.len() < text.len() { "..." } else { "" };
    let id = ticket
        .id
        .as_ref()
        .map(|id| format!("id {id}: "))
        .unwrap_or_default();
    writeln!(out, "[{n}] {id}{shown}{ellipsis}")?;
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
    ticket: &InputTicket,
    prediction: &Prediction,
) -> anyhow::Result<()> {
    let fields: serde_json::Map<String, serde_json::Value> = prediction
        .fields
        .iter()
        .map(|f| (f.field.clone(), json!(f.top)))
        .collect();
    let mut line = json!({"input": n, "text": ticket.text.text(), "predictions": fields});
    if let Some(id) = &ticket.id {
        line["id"] = json!(id);
    }
    writeln!(out, "{line}")?;
    Ok(())
}
