//! Which encoder `otai train` embeds with when `--model` does not say: the languages of the
//! training texts decide.
//!
//! Measured side by side (`cargo bench -p otai --bench hybrid`, hybrid heads): MiniLM-L6 is the
//! better encoder for English (BANKING77 intents 94.1 % against 93.2 % with USE multilingual),
//! USE multilingual for German (MASSIVE de-DE 84.3 % against 82.6 %) and it is 3-5x faster. So
//! texts that are mostly English keep the default model folder's MiniLM-L6; others get the
//! multilingual encoder when it is installed (`models/setup.sh` builds it), and a warning saying
//! so when it is not.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use super::language::LanguageDetector;

/// The multilingual encoder folder `models/setup.sh` builds.
pub const MULTILINGUAL_ENCODER_DIR: &str = "models/use-multilingual-int8";
/// At least this share of English texts keeps the English encoder.
pub const MIN_ENGLISH_SHARE: f64 = 0.5;
/// Texts looked at (evenly spread over the data): enough for the shares, a fraction of a second.
const SAMPLE: usize = 2_000;

/// The languages of a set of texts, by the built-in detector.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguageMix {
    /// Language code and texts, most frequent first.
    pub counts: Vec<(String, usize)>,
    pub total: usize,
}

impl LanguageMix {
    /// Detects the language of up to [`SAMPLE`] texts spread evenly over `texts`.
    pub fn of(texts: &[String]) -> Self {
        let detector = LanguageDetector::new(&[]).expect("no languages given: every language");
        let step = texts.len().div_ceil(SAMPLE).max(1);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut total = 0;
        for text in texts.iter().step_by(step) {
            total += 1;
            *counts
                .entry(detector.predict(text).best().label.clone())
                .or_default() += 1;
        }
        let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Self { counts, total }
    }

    /// The share of texts in `language`.
    pub fn share(&self, language: &str) -> f64 {
        let n = self
            .counts
            .iter()
            .find(|(l, _)| l == language)
            .map_or(0, |(_, n)| *n);
        n as f64 / self.total.max(1) as f64
    }
}

impl fmt::Display for LanguageMix {
    /// `de 70 %, en 25 %, fr 5 %` (the four most frequent).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self
            .counts
            .iter()
            .take(4)
            .map(|(l, _)| format!("{l} {:.0} %", 100.0 * self.share(l)))
            .collect();
        write!(f, "{}", shown.join(", "))?;
        if self.counts.len() > 4 {
            write!(f, ", ...")?;
        }
        Ok(())
    }
}

/// The encoder chosen and why, for the training report.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderChoice {
    pub dir: PathBuf,
    pub reason: String,
    /// The multilingual encoder was wanted but is not installed.
    pub missing_multilingual: bool,
}

/// The encoder for texts of this language mix (module docs); `--model` is the caller's to honour.
pub fn choose(mix: &LanguageMix, english: &Path, multilingual: &Path) -> EncoderChoice {
    let choice = |dir: &Path, reason: String, missing_multilingual: bool| EncoderChoice {
        dir: dir.to_path_buf(),
        reason,
        missing_multilingual,
    };
    let english_share = mix.share("en");
    if english_share >= MIN_ENGLISH_SHARE {
        return choice(
            english,
            format!(
                "{:.0} % of the texts are English ({mix}): the English encoder",
                100.0 * english_share
            ),
            false,
        );
    }
    if multilingual.join("otai-model.json").is_file() {
        choice(
            multilingual,
            format!(
                "{:.0} % of the texts are not English ({mix}): the multilingual encoder",
                100.0 * (1.0 - english_share)
            ),
            false,
        )
    } else {
        choice(
            english,
            format!(
                "{:.0} % of the texts are not English ({mix}), but the multilingual encoder {} \
                 is not installed (`bash models/setup.sh` builds it): the English encoder",
                100.0 * (1.0 - english_share),
                multilingual.display()
            ),
            true,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::testing::lost_card_sentence;

    fn texts(german: usize, english: usize) -> Vec<String> {
        let (de, en) = (lost_card_sentence("de"), lost_card_sentence("en"));
        (0..german)
            .map(|_| de.to_string())
            .chain((0..english).map(|_| en.to_string()))
            .collect()
    }

    #[test]
    fn mostly_german_texts_get_the_multilingual_encoder_when_it_is_installed() {
        let dir = tempfile::tempdir().unwrap();
        let (english, multilingual) = (dir.path().join("en"), dir.path().join("multi"));
        let mix = LanguageMix::of(&texts(7, 3));
        assert_eq!(mix.counts[0], ("de".to_string(), 7));
        assert_eq!(mix.to_string(), "de 70 %, en 30 %");

        // Not installed: the English encoder, said why.
        let c = choose(&mix, &english, &multilingual);
        assert_eq!(c.dir, english);
        assert!(c.missing_multilingual);
        assert!(c.reason.contains("70 % of the texts are not English (de 70 %, en 30 %), but the multilingual encoder"), "{}", c.reason);

        std::fs::create_dir(&multilingual).unwrap();
        std::fs::write(multilingual.join("otai-model.json"), "{}").unwrap();
        let c = choose(&mix, &english, &multilingual);
        assert_eq!(c.dir, multilingual);
        assert!(!c.missing_multilingual);

        // Mostly English: the English encoder, even with the multilingual one installed.
        let c = choose(&LanguageMix::of(&texts(3, 7)), &english, &multilingual);
        assert_eq!(c.dir, english);
        assert!(
            c.reason.starts_with("70 % of the texts are English"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn a_large_set_is_sampled_evenly() {
        let mix = LanguageMix::of(&texts(5_000, 5_000));
        assert!(
            mix.total <= SAMPLE && mix.total >= SAMPLE / 2,
            "{}",
            mix.total
        );
        assert!((mix.share("de") - 0.5).abs() < 0.01, "{mix}");
    }
}
