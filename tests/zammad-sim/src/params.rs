//! Rails-style request parameters: the query string's nested keys
//! (`condition[ticket.state_id][value][]=1`) and a JSON body merged into one JSON object, the
//! body winning, as a Rails controller's `params` sees them; and Ruby's conversions of them
//! (`to_i`, boolean casts).

use serde_json::{Map, Value};

/// `params`: the query pairs (nested keys expanded) with the JSON body's keys merged over them.
pub fn merged(query: &[(String, String)], body: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in query {
        insert_nested(&mut out, k, v);
    }
    if let Value::Object(b) = body {
        for (k, v) in b {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// `a[b][c][]` -> `["a", "b", "c", ""]`; a key without brackets is one segment.
fn segments(key: &str) -> Vec<String> {
    let Some(open) = key.find('[') else {
        return vec![key.to_string()];
    };
    let mut segs = vec![key[..open].to_string()];
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(close) => {
                segs.push(stripped[..close].to_string());
                rest = &stripped[close + 1..];
            }
            None => {
                // Unbalanced: Rails keeps the rest as part of the name.
                let last = segs.pop().unwrap_or_default();
                segs.push(format!("{last}{rest}"));
                break;
            }
        }
    }
    segs
}

fn insert_nested(target: &mut Map<String, Value>, key: &str, value: &str) {
    let segs = segments(key);
    let (first, rest) = segs.split_first().expect("at least one segment");
    let slot = target.entry(first.clone()).or_insert(Value::Null);
    put(slot, rest, value);
}

fn put(slot: &mut Value, path: &[String], value: &str) {
    let Some((head, rest)) = path.split_first() else {
        *slot = Value::String(value.to_string());
        return;
    };
    if head.is_empty() {
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        let arr = slot.as_array_mut().expect("array");
        if rest.is_empty() {
            arr.push(Value::String(value.to_string()));
        } else {
            // `a[][b]=1`: a new element unless the last one lacks this key.
            let need_new = match arr.last() {
                Some(Value::Object(m)) => rest.first().is_some_and(|k| m.contains_key(k)),
                _ => true,
            };
            if need_new {
                arr.push(Value::Object(Map::new()));
            }
            put(arr.last_mut().expect("pushed"), rest, value);
        }
        return;
    }
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    let m = slot.as_object_mut().expect("object");
    let next = m.entry(head.clone()).or_insert(Value::Null);
    put(next, rest, value);
}

/// A parameter as a string (numbers and booleans as their text).
pub fn str_param(p: &Map<String, Value>, key: &str) -> Option<String> {
    match p.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Ruby's `to_i` of a parameter: leading digits (with sign), else 0; `None` when absent.
pub fn int_param(p: &Map<String, Value>, key: &str) -> Option<i64> {
    match p.get(key)? {
        Value::Null => None,
        Value::Number(n) => Some(
            n.as_i64()
                .unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64),
        ),
        Value::String(s) => Some(ruby_to_i(s)),
        Value::Bool(_) => Some(0),
        _ => Some(0),
    }
}

/// `"12abc".to_i == 12`, `"x".to_i == 0`, `" -3".to_i == -3`.
pub fn ruby_to_i(s: &str) -> i64 {
    let s = s.trim_start();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let n: String = digits.chars().take_while(char::is_ascii_digit).collect();
    n.parse::<i64>().map_or(0, |v| sign * v)
}

/// A boolean parameter the way Zammad's `response_expand?` and friends read it: `true` or
/// `"true"` only.
pub fn flag(p: &Map<String, Value>, key: &str) -> bool {
    match p.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(q: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn nested_query_keys_become_the_condition_hash() {
        let q = pairs(
            "query=x&condition[ticket.state_id][operator]=is&condition[ticket.state_id][value][]=1\
             &condition[ticket.state_id][value][]=2&condition%5Bticket.title%5D%5Boperator%5D=contains\
             &condition[ticket.title][value]=Card",
        );
        let p = merged(&q, &Value::Null);
        assert_eq!(p["query"], "x");
        assert_eq!(
            Value::Object(p.clone())["condition"],
            json!({"ticket.state_id": {"operator": "is", "value": ["1", "2"]},
                   "ticket.title": {"operator": "contains", "value": "Card"}})
        );
        let p = merged(&q, &json!({"query": "y", "limit": 5}));
        assert_eq!(p["query"], "y");
        assert_eq!(int_param(&p, "limit"), Some(5));
    }

    #[test]
    fn arrays_of_hashes_and_odd_keys() {
        let p = merged(
            &pairs(
                "c[conditions][][name]=a&c[conditions][][name]=b&c[conditions][][operator]=is&x[=1",
            ),
            &Value::Null,
        );
        assert_eq!(
            Value::Object(p.clone())["c"],
            json!({"conditions": [{"name": "a"}, {"name": "b", "operator": "is"}]})
        );
        assert_eq!(p["x["], "1");
    }

    #[test]
    fn ruby_conversions() {
        assert_eq!(ruby_to_i("12abc"), 12);
        assert_eq!(ruby_to_i("abc"), 0);
        assert_eq!(ruby_to_i(" -3"), -3);
        let p = merged(&pairs("expand=true&full=1"), &json!({"all": true}));
        assert!(flag(&p, "expand") && !flag(&p, "full") && flag(&p, "all"));
        assert_eq!(str_param(&p, "expand").as_deref(), Some("true"));
    }
}
