//! Labelled training and evaluation data from CSV or JSONL files.
//!
//! - CSV (`.csv`): a header row, then one ticket per record (RFC 4180: quoted fields may hold commas, quotes
//!   as `""`, and line breaks). The text is the `text` column, or `subject` and `body` combined as
//!   [`super::TicketText`] does. Every other column except `id` is a field to learn, unless `fields` names
//!   the ones to use.
//! - JSONL (`.jsonl`, `.ndjson`): one object per line, `{"text": ..., "queue": ..., "priority": ...}` (or
//!   `subject` / `body` instead of `text`). Labels may be strings, numbers or booleans.
//!
//! A `created_at` column (key) is not a field: it is the example's time, RFC 3339 (`2024-05-01T12:00:00Z`,
//! offsets and fractions allowed, or just a date) or Unix seconds. With it, training and evaluation hold out
//! the newest examples (see [`Dataset::newest`]).
//!
//! An empty or missing label means "unknown for this field": that example is left out of that field's head
//! only. Errors name the file and line.

use std::path::{Path, PathBuf};

use super::error::{ClassifierError, Result};
use super::TicketText;

/// Labelled texts.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Where the data came from (for messages).
    pub path: PathBuf,
    /// One text per example.
    pub texts: Vec<String>,
    /// Source line of each example (1-based), for messages.
    pub lines: Vec<usize>,
    /// The fields (label columns): in column order for CSV, in key order (alphabetical) for JSONL.
    pub fields: Vec<String>,
    /// `labels[f][i]`: label of example `i` for field `fields[f]`, `None` when unknown.
    pub labels: Vec<Vec<Option<String>>>,
    /// Per example, its creation time in Unix seconds when the data has a `created_at` column (empty when
    /// it has none; `None` for a row without a readable time).
    pub created_at: Vec<Option<f64>>,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Index of a field by name.
    pub fn field_index(&self, field: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == field)
    }

    /// True when the examples carry creation times (a `created_at` column with at least one value).
    pub fn has_times(&self) -> bool {
        self.created_at.iter().any(Option::is_some)
    }

    /// Marks the newest `fraction` of examples (by `created_at`; `round(fraction * n)`, at most `n - 1`)
    /// as held out: train on the older, test on the newer. Examples without a time count as the oldest;
    /// equal times keep file order. Without times, nothing is marked.
    pub fn newest(&self, fraction: f64) -> Vec<bool> {
        let n = self.len();
        let mut out = vec![false; n];
        if !self.has_times() || fraction <= 0.0 {
            return out;
        }
        let mut order: Vec<usize> = (0..n).collect();
        let time = |i: usize| self.created_at.get(i).copied().flatten();
        order.sort_by(|&a, &b| match (time(a), time(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        let take = ((fraction * n as f64).round() as usize).min(n.saturating_sub(1));
        for &i in &order[n - take..] {
            out[i] = true;
        }
        out
    }

    /// Loads a CSV or JSONL file (by extension). `fields`: the label columns to use; `None` = all of them.
    pub fn load(path: &Path, fields: Option<&[String]>) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let text = std::fs::read_to_string(path).map_err(|e| ClassifierError::io(path, e))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let ds = match ext.as_str() {
            "csv" => parse_csv(path, text, fields)?,
            "jsonl" | "ndjson" => parse_jsonl(path, text, fields)?,
            _ => return Err(ClassifierError::data(
                path,
                0,
                "unknown data format: use a .csv file (header `text,<field>...`) or a .jsonl file \
                     (one {\"text\": ..., \"<field>\": ...} object per line)",
            )),
        };
        if ds.is_empty() {
            return Err(ClassifierError::data(path, 0, "no examples in the file"));
        }
        Ok(ds)
    }
}

const TEXT_COLUMNS: [&str; 3] = ["text", "subject", "body"];

/// The column with each example's creation time.
pub const TIME_COLUMN: &str = "created_at";

/// Reads a time as Unix seconds: a number, or RFC 3339 / ISO 8601 (`YYYY-MM-DD`, optionally
/// `THH:MM[:SS[.fff]]` and `Z` or `+HH:MM`; no zone = UTC).
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    let num = |t: &str| -> Option<i64> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let (date, rest) = match s.get(..10) {
        Some(date) => (date, &s[10..]),
        None => (s, ""),
    };
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut secs = (days * 86_400) as f64;
    let rest = rest.trim_start_matches(['T', 't', ' ']);
    if rest.is_empty() {
        return Some(secs);
    }
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut c = clock.split(':');
    let h = num(c.next()?)?;
    let min = num(c.next()?)?;
    let sec: f64 = match c.next() {
        Some(v) => v.parse().ok().filter(|v: &f64| v.is_finite())?,
        None => 0.0,
    };
    secs += (h * 3600 + min * 60) as f64 + sec;
    match zone {
        "" | "Z" | "z" => {}
        z => {
            let sign = if z.starts_with('-') { 1.0 } else { -1.0 };
            let z = &z[1..];
            let (zh, zm) = z.split_once(':').unwrap_or((z.get(..2)?, z.get(2..)?));
            secs += sign * (num(zh)? * 3600 + if zm.is_empty() { 0 } else { num(zm)? * 60 }) as f64;
        }
    }
    Some(secs)
}

fn choose_fields(
    path: &Path,
    available: &[String],
    wanted: Option<&[String]>,
) -> Result<Vec<String>> {
    let candidates: Vec<String> = available
        .iter()
        .filter(|c| {
            !TEXT_COLUMNS.contains(&c.as_str()) && c.as_str() != "id" && c.as_str() != TIME_COLUMN
        })
        .cloned()
        .collect();
    let fields = match wanted {
        Some(w) => {
            for f in w {
                if !candidates.contains(f) {
                    return Err(ClassifierError::data(
                        path,
                        1,
                        format!(
                            "no label column `{f}`; the label columns are: {}",
                            candidates.join(", ")
                        ),
                    ));
                }
            }
            w.to_vec()
        }
        None => candidates,
    };
    if fields.is_empty() {
        return Err(ClassifierError::data(
            path,
            1,
            "no label columns: besides `text` (or `subject`/`body`) the data needs at least one field to \
             learn, e.g. `queue`",
        ));
    }
    Ok(fields)
}

/// A CSV file as its trimmed header and its records (blank lines left out), each with the line it
/// starts on; a record whose width differs from the header's is an error naming its line.
pub(super) type CsvTable = (Vec<String>, Vec<(usize, Vec<String>)>);

pub(super) fn csv_table(path: &Path, text: &str) -> Result<Option<CsvTable>> {
    let mut records = csv_records(path, text)?.into_iter();
    let Some((_, header)) = records.next() else {
        return Ok(None);
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for (line, record) in records {
        if record.len() == 1 && record[0].is_empty() {
            continue; // blank line
        }
        if record.len() != header.len() {
            return Err(ClassifierError::data(
                path,
                line,
                format!(
                    "{} columns, the header has {} (quote fields that contain commas)",
                    record.len(),
                    header.len()
                ),
            ));
        }
        rows.push((line, record));
    }
    Ok(Some((header, rows)))
}

/// The text columns of a CSV header (`text`, `subject`, `body`), or the error naming what it has.
pub(super) fn text_columns(
    path: &Path,
    header: &[String],
) -> Result<(Option<usize>, Option<usize>, Option<usize>)> {
    let col = |name: &str| header.iter().position(|h| h == name);
    let (text, subject, body) = (col("text"), col("subject"), col("body"));
    if text.is_none() && subject.is_none() && body.is_none() {
        return Err(ClassifierError::data(
            path,
            1,
            format!(
                "no text column: the header needs `text`, or `subject` and/or `body` (it has: {})",
                header.join(", ")
            ),
        ));
    }
    Ok((text, subject, body))
}

fn parse_csv(path: &Path, text: &str, wanted: Option<&[String]>) -> Result<Dataset> {
    let (header, records) =
        csv_table(path, text)?.ok_or_else(|| ClassifierError::data(path, 0, "empty file"))?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (text_col, subject_col, body_col) = text_columns(path, &header)?;
    let fields = choose_fields(path, &header, wanted)?;
    let field_cols: Vec<usize> = fields.iter().map(|f| col(f).unwrap_or_default()).collect();
    let time_col = col(TIME_COLUMN);
    let mut ds = Dataset {
        path: path.to_path_buf(),
        fields: fields.clone(),
        labels: vec![Vec::new(); fields.len()],
        ..Default::default()
    };
    for (line, record) in records {
        let text = match text_col {
            Some(c) => record[c].clone(),
            None => TicketText::new(
                subject_col.map(|c| record[c].as_str()).unwrap_or(""),
                body_col.map(|c| record[c].as_str()).unwrap_or(""),
            )
            .text(),
        };
        ds.texts.push(text);
        ds.lines.push(line);
        if let Some(c) = time_col {
            ds.created_at.push(parse_time(&record[c]));
        }
        for (f, &c) in field_cols.iter().enumerate() {
            let value = record[c].trim();
            ds.labels[f].push((!value.is_empty()).then(|| value.to_string()));
        }
    }
    Ok(ds)
}

/// Splits CSV text into records, each with the line it starts on.
fn csv_records(path: &Path, text: &str) -> Result<Vec<(usize, Vec<String>)>> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut quote_line = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                quote_line = line;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut record)));
                line += 1;
                record_line = line;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(ClassifierError::data(
            path,
            quote_line,
            "a quoted field is never closed (missing `\"`)",
        ));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((record_line, record));
    }
    Ok(records)
}

fn parse_jsonl(path: &Path, text: &str, wanted: Option<&[String]>) -> Result<Dataset> {
    let mut objects = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| ClassifierError::data(path, line, format!("not valid JSON: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(ClassifierError::data(path, line, "expected a JSON object"));
        };
        for k in map.keys() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        objects.push((line, map));
    }
    let fields = choose_fields(path, &keys, wanted)?;
    let mut ds = Dataset {
        path: path.to_path_buf(),
        fields: fields.clone(),
        labels: vec![Vec::new(); fields.len()],
        ..Default::default()
    };
    for (line, map) in objects {
        let string = |key: &str| -> Result<Option<String>> {
            match map.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
                Some(serde_json::Value::Bool(b)) => Ok(Some(b.to_string())),
                Some(other) => Err(ClassifierError::data(
                    path,
                    line,
                    format!("`{key}` must be a string, got {other}"),
                )),
            }
        };
        let text = match string("text")? {
            Some(t) => t,
            None => {
                let (subject, body) = (string("subject")?, string("body")?);
                if subject.is_none() && body.is_none() {
                    return Err(ClassifierError::data(
                        path,
                        line,
                        "no `text` (or `subject` / `body`) in this object",
                    ));
                }
                TicketText::new(subject.unwrap_or_default(), body.unwrap_or_default()).text()
            }
        };
        ds.texts.push(text);
        ds.lines.push(line);
        if keys.iter().any(|k| k == TIME_COLUMN) {
            ds.created_at
                .push(string(TIME_COLUMN)?.as_deref().and_then(parse_time));
        }
        for (f, field) in fields.iter().enumerate() {
            let label = string(field)?
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            ds.labels[f].push(label);
        }
    }
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn csv_with_quotes_newlines_and_missing_labels() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(
            tmp.path(),
            "t.csv",
            "id,subject,body,queue,priority\r\n1,Card,\"lost it, \"\"help\"\"\nplease\",cards,urgent\r\n2,Hi,there,billing,\n",
        );

        let ds = Dataset::load(&path, None).unwrap();

        assert_eq!(ds.fields, ["queue", "priority"]);
        assert_eq!(ds.texts[0], "Card\nlost it, \"help\"\nplease");
        assert_eq!(ds.lines, [2, 4]);
        assert_eq!(ds.labels[1], [Some("urgent".to_string()), None]);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(
            tmp.path(),
            "bad.csv",
            "text,queue\nok,a\ntoo,many,columns\n",
        );

        let err = Dataset::load(&path, None).unwrap_err().to_string();

        assert!(err.contains("bad.csv:3:"), "{err}");
    }

    #[test]
    fn unknown_field_lists_the_available_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(tmp.path(), "t.csv", "text,queue\nhello,a\n");

        let err = Dataset::load(&path, Some(&["priority".to_string()]))
            .unwrap_err()
            .to_string();

        assert!(err.contains("priority") && err.contains("queue"), "{err}");
    }

    #[test]
    fn jsonl_with_subject_body_and_numbers() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(
            tmp.path(),
            "t.jsonl",
            "{\"subject\": \"S\", \"body\": \"B\", \"queue\": \"q1\", \"priority\": 3}\n\n{\"text\": \"T\", \"queue\": \"q2\"}\n",
        );

        let ds = Dataset::load(&path, None).unwrap();

        assert_eq!(ds.texts, ["S\nB", "T"]);
        let priority = ds.field_index("priority").unwrap();
        assert_eq!(ds.labels[priority], [Some("3".to_string()), None]);
        assert_eq!(ds.lines, [1, 3]);
    }

    #[test]
    fn times_are_read_and_not_a_field() {
        assert_eq!(parse_time("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_time("1970-01-01T01:00:00Z"), Some(3600.0));
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_time("2024-05-01T12:00:00.5Z"), Some(1_714_564_800.5));
        assert_eq!(parse_time("1714564800"), Some(1_714_564_800.0));
        assert_eq!(parse_time("yesterday"), None);
        let tmp = tempfile::tempdir().unwrap();
        let path = write(
            tmp.path(),
            "t.csv",
            "text,queue,created_at\na,x,2024-01-03\nb,y,2024-01-01\nc,x,\nd,y,2024-01-02\n",
        );

        let ds = Dataset::load(&path, None).unwrap();

        assert_eq!(ds.fields, ["queue"]);
        assert!(ds.has_times());
        // Newest half: a (01-03) and d (01-02); c has no time and counts as the oldest.
        assert_eq!(ds.newest(0.5), [true, false, false, true]);
        assert_eq!(ds.newest(0.0), [false; 4]);
    }

    #[test]
    fn without_times_nothing_is_newest() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(
            tmp.path(),
            "t.jsonl",
            "{\"text\": \"a\", \"queue\": \"x\"}\n",
        );

        let ds = Dataset::load(&path, None).unwrap();

        assert!(!ds.has_times() && ds.created_at.is_empty());
        assert_eq!(ds.newest(0.5), [false]);
    }

    #[test]
    fn jsonl_errors_name_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write(
            tmp.path(),
            "t.jsonl",
            "{\"text\": \"a\", \"queue\": \"x\"}\n{broken\n",
        );

        let err = Dataset::load(&path, None).unwrap_err().to_string();

        assert!(err.contains("t.jsonl:2:"), "{err}");
    }
}
