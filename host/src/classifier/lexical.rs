//! Lexical features for hybrid heads: what a TF-IDF baseline sees, beside the sentence embedding.
//!
//! A text becomes word 1-2-grams and character 2-5-grams inside words (each word padded with a space on
//! both sides, so prefixes and suffixes are features of their own), lower-cased. Counts are damped
//! (`1 + ln count`), weighted by inverse document frequency and L2-normalised, as in the usual
//! `TfidfVectorizer(sublinear_tf=True)` setup. Character n-grams are what carries German compounds and
//! inflections ("Kreditkarte", "Kreditkarten") that an English-only encoder splits into noise.
//!
//! The vocabulary (the n-grams kept, with their IDF) is built from the texts a head is fitted on and
//! stored in the head's file as plain strings, so a head stays self-contained and readable. In memory
//! the n-grams are looked up by a 64-bit FNV-1a hash, so featurising a ticket allocates nothing per
//! n-gram.
//!
//! The lexical side reads up to [`MAX_LEXICAL_CHARS`] of the ticket, far past the encoder's 256 tokens:
//! the end of a long ticket still counts.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

/// How much of a text the lexical features read (characters). Past this a ticket is usually quoted
/// mail history or logs.
pub const MAX_LEXICAL_CHARS: usize = 32 * 1024;
/// Character n-gram lengths (inside words).
const CHAR_NGRAMS: std::ops::RangeInclusive<usize> = 2..=5;
/// Default cap on the vocabulary: the n-grams found in most texts win. Bounds the head file
/// (labels x features weights) and the fitting time; measured in `make bench` (bench `hybrid`).
pub const DEFAULT_MAX_FEATURES: usize = 20_000;
/// N-grams seen in fewer texts than this are left out (a single occurrence cannot generalise).
pub const MIN_DOCUMENT_FREQUENCY: u32 = 2;

/// Calls `each` with every n-gram of `text`, in a reused buffer: `w:<word>`, `w:<word> <word>` and
/// `c:<chars>`.
fn for_each_ngram(text: &str, mut each: impl FnMut(&str)) {
    let lowered: String = text
        .chars()
        .take(MAX_LEXICAL_CHARS)
        .flat_map(char::to_lowercase)
        .collect();
    let mut buffer = String::with_capacity(64);
    let mut previous: Option<&str> = None;
    let mut padded: Vec<char> = Vec::with_capacity(32);
    for word in lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        buffer.clear();
        buffer.push_str("w:");
        buffer.push_str(word);
        each(&buffer);
        if let Some(prev) = previous {
            buffer.clear();
            buffer.push_str("w:");
            buffer.push_str(prev);
            buffer.push(' ');
            buffer.push_str(word);
            each(&buffer);
        }
        previous = Some(word);
        padded.clear();
        padded.push(' ');
        padded.extend(word.chars());
        padded.push(' ');
        for n in CHAR_NGRAMS {
            for window in padded.windows(n) {
                buffer.clear();
                buffer.push_str("c:");
                buffer.extend(window);
                each(&buffer);
            }
        }
    }
}

/// FNV-1a, 64 bits: stable across Rust releases and machines (the std hasher is not).
fn hash(ngram: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in ngram.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A sparse feature row: `(column, value)` sorted by column, L2 norm 1 (or empty).
pub type SparseRow = Vec<(u32, f32)>;

/// The n-grams of one text, hashed and counted, sorted by hash: computed once per ticket and read by
/// every hybrid head (each through its own vocabulary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NGrams(Vec<(u64, u32)>);

impl NGrams {
    /// The n-grams of `text`.
    pub fn of(text: &str) -> Self {
        let mut hashes = Vec::with_capacity(text.len().min(MAX_LEXICAL_CHARS) * 4);
        for_each_ngram(text, |g| hashes.push(hash(g)));
        hashes.sort_unstable();
        let mut counted: Vec<(u64, u32)> = Vec::with_capacity(hashes.len());
        for h in hashes {
            match counted.last_mut() {
                Some((last, count)) if *last == h => *count += 1,
                _ => counted.push((h, 1)),
            }
        }
        Self(counted)
    }
}

/// The vocabulary's keys already are FNV hashes: one multiply spreads them over the table (std's
/// SipHash would cost more than the rest of the lookup).
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(26)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type HashIndex = HashMap<u64, u32, BuildHasherDefault<MixHasher>>;

/// The n-grams a head knows and their IDF weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "VocabularyFile", into = "VocabularyFile")]
pub struct Vocabulary {
    ngrams: Vec<String>,
    idf: Vec<f32>,
    index: HashIndex,
}

/// How a vocabulary is stored: the n-grams in column order and one IDF per n-gram.
#[derive(Serialize, Deserialize)]
struct VocabularyFile {
    ngrams: Vec<String>,
    idf: Vec<f32>,
}

impl From<VocabularyFile> for Vocabulary {
    fn from(file: VocabularyFile) -> Self {
        Self::from_parts(file.ngrams, file.idf)
    }
}

impl From<Vocabulary> for VocabularyFile {
    fn from(v: Vocabulary) -> Self {
        Self {
            ngrams: v.ngrams,
            idf: v.idf,
        }
    }
}

impl PartialEq for Vocabulary {
    fn eq(&self, other: &Self) -> bool {
        self.ngrams == other.ngrams && self.idf == other.idf
    }
}

impl Vocabulary {
    fn from_parts(ngrams: Vec<String>, idf: Vec<f32>) -> Self {
        let index = ngrams
            .iter()
            .enumerate()
            .map(|(i, g)| (hash(g), i as u32))
            .collect();
        Self { ngrams, idf, index }
    }

    /// The `max_features` n-grams found in the most `texts` (at least [`MIN_DOCUMENT_FREQUENCY`]; ties
    /// by the n-gram itself, so the result does not depend on hash order), with smoothed IDF
    /// `ln((1 + n) / (1 + df)) + 1`.
    pub fn build<'a>(texts: impl IntoIterator<Item = &'a str>, max_features: usize) -> Self {
        let mut document_frequency: HashMap<String, u32> = HashMap::new();
        let mut seen_in_this_text: std::collections::HashSet<u64> = Default::default();
        let mut n = 0usize;
        for text in texts {
            n += 1;
            seen_in_this_text.clear();
            for_each_ngram(text, |g| {
                if seen_in_this_text.insert(hash(g)) {
                    match document_frequency.get_mut(g) {
                        Some(df) => *df += 1,
                        None => {
                            document_frequency.insert(g.to_string(), 1);
                        }
                    }
                }
            });
        }
        let mut kept: Vec<(String, u32)> = document_frequency
            .into_iter()
            .filter(|(_, df)| *df >= MIN_DOCUMENT_FREQUENCY)
            .collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        kept.truncate(max_features);
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        let idf = kept
            .iter()
            .map(|(_, df)| (((1 + n) as f64 / (1 + *df) as f64).ln() + 1.0) as f32)
            .collect();
        Self::from_parts(kept.into_iter().map(|(g, _)| g).collect(), idf)
    }

    /// Number of features (columns).
    pub fn len(&self) -> usize {
        self.ngrams.len()
    }

    /// Whether no n-gram was kept (too little text to build one).
    pub fn is_empty(&self) -> bool {
        self.ngrams.is_empty()
    }

    /// A problem with the stored vocabulary, if any (for the head file's error message).
    pub fn problem(&self) -> Option<String> {
        if self.idf.len() != self.ngrams.len() {
            return Some(format!(
                "the lexical vocabulary has {} n-grams but {} idf values",
                self.ngrams.len(),
                self.idf.len()
            ));
        }
        if self.index.len() != self.ngrams.len() {
            return Some("the lexical vocabulary lists an n-gram twice".into());
        }
        if self.idf.iter().any(|v| !v.is_finite()) {
            return Some("the lexical vocabulary has NaN or infinite idf values".into());
        }
        None
    }

    /// The TF-IDF row of `text`: known n-grams only, `(1 + ln count) * idf`, L2-normalised.
    pub fn row(&self, text: &str) -> SparseRow {
        self.row_of(&NGrams::of(text))
    }

    /// [`Vocabulary::row`] from n-grams counted before.
    pub fn row_of(&self, ngrams: &NGrams) -> SparseRow {
        let mut row: SparseRow = ngrams
            .0
            .iter()
            .filter_map(|&(h, count)| {
                let &c = self.index.get(&h)?;
                Some((c, (1.0 + (count as f32).ln()) * self.idf[c as usize]))
            })
            .collect();
        row.sort_unstable_by_key(|&(c, _)| c);
        let norm = row.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|(_, v)| *v /= norm);
        }
        row
    }
}

/// Rows of sparse features, for fitting.
#[derive(Debug, Clone, Default)]
pub struct SparseMatrix {
    /// Number of columns.
    pub columns: usize,
    rows: Vec<SparseRow>,
}

impl SparseMatrix {
    /// The TF-IDF rows of `texts` under `vocabulary`.
    pub fn of<'a>(vocabulary: &Vocabulary, texts: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            columns: vocabulary.len(),
            rows: texts.into_iter().map(|t| vocabulary.row(t)).collect(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[(u32, f32)] {
        &self.rows[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ngrams(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_ngram(text, |g| out.push(g.to_string()));
        out
    }

    #[test]
    fn words_bigrams_and_padded_character_ngrams_are_lower_cased() {
        let grams = ngrams("Karte, gesperrt!");

        assert!(grams.contains(&"w:karte".to_string()));
        assert!(grams.contains(&"w:karte gesperrt".to_string()));
        assert!(grams.contains(&"c: k".to_string()), "{grams:?}");
        assert!(grams.contains(&"c:rte ".to_string()));
        assert!(grams.contains(&"c:karte".to_string()));
        assert!(!grams.iter().any(|g| g.contains(',') || g.contains('K')));
        // " karte " (7 characters) has 6 + 5 + 4 + 3 n-grams of 2-5, " gesperrt " (10) 9 + 8 + 7 + 6.
        assert_eq!(
            grams.iter().filter(|g| g.starts_with("c:")).count(),
            18 + 30
        );
    }

    #[test]
    fn the_vocabulary_keeps_ngrams_seen_twice_most_frequent_first_and_rows_are_unit_length() {
        let texts = ["card blocked", "card lost", "card blocked again", "invoice"];

        let v = Vocabulary::build(texts, 1_000);
        let capped = Vocabulary::build(texts, 3);
        let row = v.row("my card is BLOCKED blocked");

        assert!(v.ngrams.contains(&"w:card".to_string()));
        assert!(v.ngrams.contains(&"w:card blocked".to_string()));
        assert!(!v
            .ngrams
            .iter()
            .any(|g| g.contains("invoice") || g == "w:lost"));
        assert_eq!(capped.len(), 3);
        assert!(capped.ngrams.iter().all(|g| v.ngrams.contains(g)));
        let norm: f32 = row.iter().map(|(_, x)| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert!(row.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(v.row("zzz qqq").is_empty());
        assert!(v.problem().is_none());
    }

    #[test]
    fn the_vocabulary_round_trips_through_json_and_rare_ngrams_weigh_more() {
        let texts = ["card blocked", "card lost", "card lost", "card blocked"];
        let v = Vocabulary::build(texts, 1_000);

        let back: Vocabulary = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();

        assert_eq!(back, v);
        assert_eq!(back.row("card lost"), v.row("card lost"));
        let idf = |g: &str| v.idf[v.ngrams.iter().position(|x| x == g).unwrap()];
        assert!(idf("w:lost") > idf("w:card"));
    }

    #[test]
    fn a_long_text_is_read_up_to_the_cap() {
        let long = format!("{} tail", "a ".repeat(MAX_LEXICAL_CHARS));
        let v = Vocabulary::build(["tail x", "tail y"], 100);

        assert!(v.row(&long).is_empty());
        assert!(!v.row(&format!("{} tail", "a ".repeat(1_000))).is_empty());
    }
}
