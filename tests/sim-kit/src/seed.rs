//! The forms a seed's text comes in, told apart the same way by every simulator: a document
//! (`{"groups": [...], "tickets": [...]}`), a list of tickets, one ticket, or JSONL (a ticket per
//! line). What the tickets mean is each simulator's own.

use serde_json::{Map, Value};

/// A seed's text, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum SeedText {
    /// A document with `tickets` and/or `groups` (and whatever else the simulator reads).
    Document(Map<String, Value>),
    /// Tickets alone (a list, one object, or JSONL; empty text gives none).
    Tickets(Vec<Value>),
}

impl SeedText {
    /// Parses `text`; a JSONL line that is not JSON is named by its number.
    pub fn parse(text: &str) -> Result<SeedText, String> {
        if text.trim().is_empty() {
            return Ok(SeedText::Tickets(Vec::new()));
        }
        Ok(match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(doc)) if doc.contains_key("tickets") || doc.contains_key("groups") => {
                SeedText::Document(doc)
            }
            Ok(Value::Array(list)) => SeedText::Tickets(list),
            Ok(one @ Value::Object(_)) => SeedText::Tickets(vec![one]),
            _ => SeedText::Tickets(
                text.lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                    .map(|(n, l)| {
                        serde_json::from_str(l).map_err(|e| format!("line {}: {e}", n + 1))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_form_reads_and_a_bad_line_is_named() {
        assert_eq!(SeedText::parse("  ").unwrap(), SeedText::Tickets(vec![]));
        let doc = SeedText::parse(r#"{"groups": [], "tickets": [{"a": 1}]}"#).unwrap();
        assert!(matches!(doc, SeedText::Document(d) if d["tickets"][0]["a"] == 1));
        assert_eq!(
            SeedText::parse(r#"[{"a": 1}]"#).unwrap(),
            SeedText::Tickets(vec![json!({"a": 1})])
        );
        assert_eq!(
            SeedText::parse(r#"{"a": 1}"#).unwrap(),
            SeedText::Tickets(vec![json!({"a": 1})])
        );
        assert_eq!(
            SeedText::parse("{\"a\": 1}\n\n{\"a\": 2}\n").unwrap(),
            SeedText::Tickets(vec![json!({"a": 1}), json!({"a": 2})])
        );
        let bad = SeedText::parse("{\"a\": 1}\nnope\n").unwrap_err();
        assert!(bad.starts_with("line 2:"), "{bad}");
    }
}
