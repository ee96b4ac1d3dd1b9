//! Tickets to classify, without labels, from a help desk's export: CSV or JSONL, each with an optional id.
//!
//! - CSV (`.csv`): a header row with `text`, or `subject` and/or `body`; an `id` column if the export has one.
//!   Every other column is ignored (exports carry status, requester, dates, ...).
//! - JSONL (any other name): one object per line with `text`, or `subject` and/or `body`; `id` (a string or a
//!   number) if present. Other keys are ignored.
//!
//! The id is carried into every result so results can be joined back to the export. Errors name the file and
//! line.

use std::path::Path;

use serde_json::Value;

use super::data::{csv_table, text_columns};
use super::error::{ClassifierError, Result};
use super::TicketText;

/// One ticket to classify.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTicket {
    /// The export's id for the ticket, if it has one.
    pub id: Option<String>,
    /// Where it came from (1-based line; a CSV record's first line).
    pub line: usize,
    pub text: TicketText,
}

/// The column (key) holding a ticket's id.
pub const ID_COLUMN: &str = "id";

/// Reads every ticket of a CSV (by extension) or JSONL file. An empty file is an error.
pub fn read_tickets(path: &Path) -> Result<Vec<InputTicket>> {
    let content = std::fs::read_to_string(path).map_err(|e| ClassifierError::io(path, e))?;
    let content = content.strip_prefix('\u{feff}').unwrap_or(&content);
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let tickets = if is_csv {
        from_csv(path, content)?
    } else {
        from_jsonl(path, content)?
    };
    if tickets.is_empty() {
        return Err(ClassifierError::data(path, 0, "holds no tickets"));
    }
    Ok(tickets)
}

fn from_csv(path: &Path, content: &str) -> Result<Vec<InputTicket>> {
    let Some((header, records)) = csv_table(path, content)? else {
        return Ok(Vec::new());
    };
    let (text, subject, body) = text_columns(path, &header)?;
    let id = header.iter().position(|h| h == ID_COLUMN);
    let mut tickets = Vec::new();
    for (line, record) in records {
        let cell = |c: Option<usize>| c.map(|c| record[c].as_str()).unwrap_or("");
        let text = match text {
            Some(c) => TicketText::new("", record[c].as_str()),
            None => TicketText::new(cell(subject), cell(body)),
        };
        let id = id
            .map(|c| record[c].trim().to_string())
            .filter(|id| !id.is_empty());
        tickets.push(InputTicket { id, line, text });
    }
    Ok(tickets)
}

fn from_jsonl(path: &Path, content: &str) -> Result<Vec<InputTicket>> {
    let mut tickets = Vec::new();
    for (i, raw) in content.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let err = |message: String| ClassifierError::data(path, line, message);
        let value: Value = serde_json::from_str(raw).map_err(|e| {
            err(format!(
                "not valid JSON ({e}); expected an object {{\"id\": ..., \"subject\": ..., \"body\": ...}} \
                 or {{\"id\": ..., \"text\": ...}}"
            ))
        })?;
        let Value::Object(map) = value else {
            return Err(err("expected a JSON object".into()));
        };
        let string = |key: &str| -> Result<Option<String>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(err(format!("`{key}` must be a string, got {other}"))),
            }
        };
        let id = match map.get(ID_COLUMN) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            // Help desks number their tickets; keep the digits exactly as written (no float rounding).
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                return Err(err(format!(
                    "`id` must be a string or a number, got {other}"
                )))
            }
        };
        let text = match (string("text")?, string("subject")?, string("body")?) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(err(
                    "give either \"text\" or \"subject\"/\"body\", not both".into(),
                ))
            }
            (Some(text), None, None) => TicketText::new("", text),
            (None, None, None) => {
                return Err(err(
                    "the object has neither \"text\" nor \"subject\"/\"body\"".into(),
                ))
            }
            (None, subject, body) => {
                TicketText::new(subject.unwrap_or_default(), body.unwrap_or_default())
            }
        };
        tickets.push(InputTicket { id, line, text });
    }
    Ok(tickets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn jsonl_carries_ids_and_ignores_unknown_fields() {
        let (_dir, path) = write(
            "export.jsonl",
            "{\"id\": \"42\", \"subject\": \"Card\", \"body\": \"lost\", \"status\": \"new\"}\n\n\
             {\"id\": 18446744073709551615, \"text\": \"hi\", \"tags\": [\"vip\"]}\n\
             {\"subject\": \"no id\"}\n",
        );
        let tickets = read_tickets(&path).unwrap();
        assert_eq!(
            tickets,
            [
                InputTicket {
                    id: Some("42".into()),
                    line: 1,
                    text: TicketText::new("Card", "lost"),
                },
                InputTicket {
                    id: Some("18446744073709551615".into()),
                    line: 3,
                    text: TicketText::new("", "hi"),
                },
                InputTicket {
                    id: None,
                    line: 4,
                    text: TicketText::new("no id", ""),
                },
            ]
        );
    }

    #[test]
    fn jsonl_errors_name_file_line_and_key() {
        for (content, expected) in [
            (
                "{\"text\":\"ok\"}\n{\"txt\":\"typo\"}\n",
                "neither \"text\" nor",
            ),
            ("{\"text\": 5}\n", "`text` must be a string"),
            (
                "{\"id\": [1], \"text\": \"x\"}\n",
                "`id` must be a string or a number",
            ),
            ("{\"text\": \"a\", \"body\": \"b\"}\n", "not both"),
            ("not json\n", "not valid JSON"),
            ("[1]\n", "expected a JSON object"),
        ] {
            let (_dir, path) = write("t.jsonl", content);
            let err = read_tickets(&path).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{}:", path.display())), "{err}");
            assert!(err.contains(expected), "{content:?}: {err}");
        }
    }

    #[test]
    fn csv_reads_ids_text_columns_and_ignores_the_rest() {
        let (_dir, path) = write(
            "export.csv",
            "id,status,subject,body\n7,new,Card,\"lost, please block\"\n,open,,only body\n",
        );
        let tickets = read_tickets(&path).unwrap();
        assert_eq!(tickets.len(), 2);
        assert_eq!(tickets[0].id.as_deref(), Some("7"));
        assert_eq!(
            tickets[0].text,
            TicketText::new("Card", "lost, please block")
        );
        assert_eq!(tickets[1].id, None, "an empty id cell is no id");
        assert_eq!(tickets[1].text.text(), "only body");
    }

    #[test]
    fn csv_without_a_text_column_names_what_it_has() {
        let (_dir, path) = write("export.csv", "id,status\n1,new\n");
        let err = read_tickets(&path).unwrap_err().to_string();
        assert!(err.contains(":1: no text column"), "{err}");
        assert!(err.contains("id, status"), "{err}");
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let (_dir, path) = write("t.jsonl", "\n\n");
        assert!(read_tickets(&path)
            .unwrap_err()
            .to_string()
            .contains("holds no tickets"));
    }
}
