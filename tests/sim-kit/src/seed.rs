//! The forms a seed's text comes in, told apart the same way by every simulator: a document
//! (`{"groups": [...], "tickets": [...]}`), a list of tickets, one ticket, or JSONL (a ticket per
//! line). What the tickets mean is each simulator's own.

use std::collections::BTreeMap;

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

/// What a seed document holds, before a simulator reads its tickets.
#[derive(Debug)]
pub struct DocumentParts<'a> {
    /// `groups` (names, or objects with `name` and an optional `id`), in order.
    pub groups: Vec<String>,
    /// Group names by id (what tickets' `group_id`s point at).
    pub by_id: BTreeMap<u64, String>,
    /// `tickets` (none if absent).
    pub tickets: &'a [Value],
}

/// A document's groups and tickets.
pub fn document_parts(doc: &Map<String, Value>) -> Result<DocumentParts<'_>, String> {
    let mut names = Vec::new();
    let mut by_id = BTreeMap::new();
    for (i, g) in doc
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = g
            .as_str()
            .or_else(|| g.get("name").and_then(Value::as_str))
            .ok_or_else(|| format!("groups[{i}] has no name"))?;
        if let Some(id) = g.get("id").and_then(Value::as_u64) {
            by_id.insert(id, name.to_string());
        }
        names.push(name.to_string());
    }
    let tickets = match doc.get("tickets") {
        None => &[][..],
        Some(Value::Array(t)) => t.as_slice(),
        Some(_) => return Err("tickets is not a list".into()),
    };
    Ok(DocumentParts {
        groups: names,
        by_id,
        tickets,
    })
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

    #[test]
    fn a_documents_groups_and_tickets() {
        let doc = json!({"groups": ["Raw", {"id": 7, "name": "Cards"}], "tickets": [{"a": 1}]});
        let parts = document_parts(doc.as_object().unwrap()).unwrap();
        assert_eq!(parts.groups, ["Raw", "Cards"]);
        assert_eq!(parts.by_id.get(&7).map(String::as_str), Some("Cards"));
        assert_eq!(parts.tickets.len(), 1);
        let bad = json!({"groups": [{"id": 1}], "tickets": []});
        assert_eq!(
            document_parts(bad.as_object().unwrap()).unwrap_err(),
            "groups[0] has no name"
        );
        let not_list = json!({"tickets": {}});
        assert!(document_parts(not_list.as_object().unwrap()).is_err());
    }
}
