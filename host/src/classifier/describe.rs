//! Zero-history heads: a field's labels described in plain words ("invoices, charges, refunds"),
//! scored by similarity to the ticket.
//!
//! Each label's description(s) go through the same encoder as the tickets; a label's vector is the
//! L2-normalised mean of its descriptions' embeddings. The head is an ordinary [`LinearHead`] with
//! those vectors times `scale` as weight rows and zero bias, so its logits are
//! `scale × cosine(ticket, description)` (ticket embeddings are L2-normalised too) and its softmax
//! probabilities sum to 1 like a trained head's. `scale` is a temperature: cosines of one ticket
//! to different descriptions lie close together (e.g. 0.2 to 0.5), and 20 spreads them into
//! usable probabilities; a larger scale gives more confident answers, never different rankings.
//!
//! Descriptions are meant for the time before there is history: a head trained on solved tickets
//! (`otai train`) is far more accurate.

use super::{
    encoder::Encoder,
    error::{ClassifierError, Result},
    head::LinearHead,
};

/// The similarity scale (softmax temperature) unless the configuration says otherwise.
pub const DEFAULT_SIMILARITY_SCALE: f32 = 20.0;

/// A head for `field` whose labels are `descriptions`' labels, scored by `scale × cosine` to their
/// descriptions (several per label: their normalised mean). The encoder must be a sentence encoder
/// (not a Hugging Face classifier, whose rows are logits).
pub fn description_head(
    encoder: &Encoder,
    field: &str,
    descriptions: &[(String, Vec<String>)],
    scale: f32,
) -> Result<LinearHead> {
    let invalid = |message: String| ClassifierError::InvalidInput(message);
    if descriptions.is_empty() {
        return Err(invalid(format!(
            "field `{field}` has no label descriptions"
        )));
    }
    if !(scale.is_finite() && scale > 0.0) {
        return Err(invalid(format!(
            "field `{field}`: the similarity scale must be a positive number, not {scale}"
        )));
    }
    if let Some((label, _)) = descriptions
        .iter()
        .find(|(_, texts)| texts.is_empty() || texts.iter().any(|t| t.trim().is_empty()))
    {
        return Err(invalid(format!(
            "field `{field}`: label `{label}` has an empty description"
        )));
    }
    let texts: Vec<String> = descriptions
        .iter()
        .flat_map(|(_, texts)| texts.iter().map(|t| t.trim().to_string()))
        .collect();
    let rows = encoder.embed_blocking(texts)?;
    let dim = encoder.dim();
    let mut head = LinearHead::zeros(
        field,
        descriptions.iter().map(|(l, _)| l.clone()).collect(),
        dim,
    );
    let mut rows = rows.into_iter();
    for (i, (_, texts)) in descriptions.iter().enumerate() {
        let mut mean = vec![0.0f32; dim];
        for row in rows.by_ref().take(texts.len()) {
            mean.iter_mut().zip(&row).for_each(|(m, x)| *m += x);
        }
        let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(invalid(format!(
                "field `{field}`: the description of `{}` gives a zero embedding",
                descriptions[i].0
            )));
        }
        head.weights[i * dim..(i + 1) * dim]
            .iter_mut()
            .zip(&mean)
            .for_each(|(w, m)| *w = scale * m / norm);
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::{model::Manifest, testing::model_dir, EncoderOptions};

    fn encoder() -> Encoder {
        let dir = model_dir("minilm-l6-int8");
        let manifest = Manifest::read(&dir).unwrap();
        Encoder::spawn(&manifest.encoder_spec(&dir), &EncoderOptions::default()).unwrap()
    }

    fn described(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(l, d)| (l.to_string(), d.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    fn queues() -> Vec<(String, Vec<String>)> {
        described(&[
            ("Billing", &["invoices, charges, refunds"]),
            ("Cards", &["lost or stolen cards, card delivery, PIN"]),
            (
                "Access",
                &["password reset, cannot log in", "two-factor code"],
            ),
        ])
    }

    #[test]
    fn probabilities_sum_to_one_and_a_paraphrase_ranks_its_label_first() {
        let encoder = encoder();
        let head = description_head(&encoder, "queue", &queues(), 20.0).unwrap();
        let tickets = encoder
            .embed_blocking(vec![
                "Somebody stole my card yesterday, please block it".into(),
                "I was charged twice on my last invoice and want a refund".into(),
                "I forgot my password and cannot sign in".into(),
            ])
            .unwrap();

        assert_eq!(head.field, "queue");
        assert_eq!(head.labels, ["Billing", "Cards", "Access"]);
        head.validate(std::path::Path::new("descriptions")).unwrap();
        assert!(head.bias.iter().all(|b| *b == 0.0));
        let best: Vec<String> = tickets
            .iter()
            .map(|t| {
                let sum: f32 = head.probabilities(t, "").iter().sum();
                assert!((sum - 1.0).abs() < 1e-4, "{sum}");
                head.top_k(t, "", 1)[0].label.clone()
            })
            .collect();
        assert_eq!(best, ["Cards", "Billing", "Access"]);
    }

    #[test]
    fn logits_are_scale_times_cosine_and_the_scale_only_sharpens() {
        let encoder = encoder();
        let one = described(&[("a", &["lost card"]), ("b", &["exchange rates"])]);
        let h1 = description_head(&encoder, "f", &one, 1.0).unwrap();
        let h20 = description_head(&encoder, "f", &one, 20.0).unwrap();
        let ticket = &encoder
            .embed_blocking(vec!["my card is lost".into()])
            .unwrap()[0];
        let described = encoder.embed_blocking(vec!["lost card".into()]).unwrap();

        let cosine: f32 = described[0].iter().zip(ticket).map(|(a, b)| a * b).sum();
        assert!((h1.logits(ticket, "")[0] - cosine).abs() < 1e-4);
        assert!((h20.logits(ticket, "")[0] - 20.0 * cosine).abs() < 1e-3);
        let (p1, p20) = (h1.probabilities(ticket, ""), h20.probabilities(ticket, ""));
        assert!(p1[0] > p1[1] && p20[0] > p1[0], "{p1:?} {p20:?}");
        let weight_norm: f32 = h20.weights[..h20.dim].iter().map(|w| w * w).sum::<f32>();
        assert!((weight_norm.sqrt() - 20.0).abs() < 1e-3);
    }

    #[test]
    fn empty_descriptions_labels_and_bad_scales_are_errors() {
        let encoder = encoder();
        let err = |d: &[(String, Vec<String>)], scale: f32| {
            description_head(&encoder, "queue", d, scale)
                .unwrap_err()
                .to_string()
        };

        assert!(err(&[], 20.0).contains("no label descriptions"));
        assert!(err(&described(&[("a", &["x"]), ("b", &[" "])]), 20.0).contains("`b`"));
        assert!(err(&described(&[("a", &["x"]), ("b", &[])]), 20.0).contains("`b`"));
        assert!(err(&queues(), 0.0).contains("scale"));
        assert!(err(&queues(), f32::NAN).contains("scale"));
    }
}
