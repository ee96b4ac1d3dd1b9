//! The operation's data, built as `ProviderProcessRequest` builds it: query parameters (a
//! repeated key becomes an array; a value Perl reads as false, `""` or `"0"`, becomes `""`), the
//! route's path parameters over them, and for a request with a body other than GET the body's
//! JSON object with both merged over it. Plus the Perl truthiness the operations test values with.

use serde_json::{Map, Value};

use crate::error::Failure;

/// The data of a request. `body` is ignored for GET (as the real transport ignores it).
pub fn request_data(
    method: &str,
    query: &[(String, String)],
    path_params: &[(String, String)],
    body: &[u8],
) -> Result<Map<String, Value>, Failure> {
    let mut uri = Map::new();
    for (k, v) in query {
        let v = if v == "0" { String::new() } else { v.clone() };
        match uri.get_mut(k) {
            None => {
                uri.insert(k.clone(), Value::String(v));
            }
            Some(Value::Array(list)) => list.push(Value::String(v)),
            Some(first) => {
                let first = first.take();
                uri.insert(k.clone(), Value::Array(vec![first, Value::String(v)]));
            }
        }
    }
    for (k, v) in path_params {
        uri.insert(k.clone(), Value::String(v.clone()));
    }
    if body.is_empty() || method == "GET" {
        return Ok(uri);
    }
    let decoded: Value = serde_json::from_slice(body)
        .map_err(|_| Failure::Transport("Error while decoding request content.".into()))?;
    match decoded {
        Value::Object(mut o) if !o.is_empty() => {
            o.extend(uri);
            Ok(o)
        }
        // A non-empty array passes the real transport, and the operations then fail on it as
        // Perl dies on a list used as a hash: a 500 either way.
        _ => Err(Failure::Transport(
            "Unsupported request content structure.".into(),
        )),
    }
}

/// Perl's truth of a value: not null, `""`, `"0"`, `0`, `false`; lists and hashes are true.
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty() && s != "0",
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// A scalar as Perl would print it (strings as they are, numbers in decimal); `None` for null,
/// lists and hashes.
pub fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "" }.to_string()),
        _ => None,
    }
}

/// A scalar that is true in Perl (`IsStringWithData` after a truth test).
pub fn scalar_with_data(v: Option<&Value>) -> Option<String> {
    scalar(v).filter(|s| !s.is_empty())
}

/// A string or a list of strings as a list (`_GetParams`: a non-empty scalar or a non-empty
/// list); empty strings dropped.
pub fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| scalar(Some(x)))
            .filter(|s| !s.is_empty())
            .collect(),
        other => scalar_with_data(other).into_iter().collect(),
    }
}

/// A positive integer parameter (`Limit`, `ArticleLimit`); `None` when unset, false or not a
/// number.
pub fn count(v: Option<&Value>) -> Option<usize> {
    if !truthy(v) {
        return None;
    }
    scalar(v)?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn repeated_query_keys_become_lists_and_path_params_win() {
        let d = request_data(
            "GET",
            &q(&[
                ("States", "new"),
                ("States", "open"),
                ("TicketID", "9"),
                ("Limit", "0"),
            ]),
            &q(&[("TicketID", "5")]),
            b"{\"ignored\": 1}",
        )
        .unwrap();
        assert_eq!(d["States"], json!(["new", "open"]));
        assert_eq!(d["TicketID"], "5");
        assert_eq!(d["Limit"], "", "Perl's `$Value || ''` turns 0 into ''");
        assert!(!d.contains_key("ignored"), "a GET body is ignored");
    }

    #[test]
    fn a_body_is_merged_under_the_uri_data_and_bad_bodies_are_transport_errors() {
        let d = request_data(
            "PATCH",
            &q(&[("UserLogin", "a")]),
            &q(&[("TicketID", "5")]),
            br#"{"TicketID": 7, "UserLogin": "b", "Ticket": {"Queue": "Raw"}}"#,
        )
        .unwrap();
        assert_eq!(
            (d["TicketID"].clone(), d["UserLogin"].clone()),
            (json!("5"), json!("a"))
        );
        assert_eq!(d["Ticket"]["Queue"], "Raw");
        let bad = |b: &[u8]| request_data("POST", &[], &[], b).unwrap_err();
        assert_eq!(
            bad(b"{"),
            Failure::Transport("Error while decoding request content.".into())
        );
        assert_eq!(
            bad(b"{}"),
            Failure::Transport("Unsupported request content structure.".into())
        );
        assert!(request_data("POST", &[], &[], b"").unwrap().is_empty());
    }

    #[test]
    fn perl_truth_and_lists() {
        assert!(!truthy(Some(&json!("0"))) && !truthy(Some(&json!(0))) && !truthy(None));
        assert!(truthy(Some(&json!("1"))) && truthy(Some(&json!([]))));
        assert_eq!(list(Some(&json!(["a", "", 3]))), ["a", "3"]);
        assert_eq!(list(Some(&json!("x"))), ["x"]);
        assert!(list(Some(&json!(""))).is_empty());
        assert_eq!(count(Some(&json!("25"))), Some(25));
        assert_eq!(count(Some(&json!("many"))), None);
    }
}
