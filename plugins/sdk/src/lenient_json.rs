//! Makes an answer that is almost JSON readable: invalid UTF-8 and lone UTF-16 surrogate escapes.
//!
//! Why: strict parsing rejects a whole search page for one ticket whose text carries a lone
//! surrogate escape (`"\ud800"`, as produced by software that cut a string between the two halves
//! of an emoji) or a byte that is not UTF-8. The fetch would then fail on every pass for as long as
//! that ticket matches the query, and no ticket would be routed. Replacing just the broken
//! characters with U+FFFD keeps every other ticket (and the broken one, minus a character).
//! Only used after a strict parse failed, so well-formed answers pay nothing.

use std::borrow::Cow;

/// Parses `body` strictly, and if that fails, once more after [`repair`]; the error is the
/// strict parse's.
pub fn from_slice<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    match serde_json::from_slice(body) {
        Err(e) => match repair(body) {
            Some(fixed) => serde_json::from_slice(&fixed).map_err(|_| e),
            None => Err(e),
        },
        ok => ok,
    }
}

/// The body with invalid UTF-8 sequences and unpaired surrogate escapes replaced by U+FFFD, or
/// `None` if there was nothing to replace (the body is broken in some other way).
pub fn repair(body: &[u8]) -> Option<Vec<u8>> {
    let text: Cow<'_, str> = String::from_utf8_lossy(body);
    let utf8_repaired = matches!(text, Cow::Owned(_));
    let (fixed, escapes_repaired) = replace_lone_surrogates(&text);
    (utf8_repaired || escapes_repaired).then(|| fixed.into_bytes())
}

/// Replaces `\uD800`-`\uDFFF` escapes that do not form a high + low pair with `\uFFFD`.
///
/// A backslash only occurs inside JSON strings, where it always starts an escape, so scanning
/// escape by escape needs no tracking of string boundaries.
fn replace_lone_surrogates(text: &str) -> (String, bool) {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut copied_up_to = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = hex_escape(bytes, i) else {
            // Another escape (`\\`, `\"`, `\n`, ...): skip it whole so `\\u` is not misread.
            i += 2;
            continue;
        };
        let is_high = (0xD800..=0xDBFF).contains(&unit);
        let is_low = (0xDC00..=0xDFFF).contains(&unit);
        if is_high && hex_escape(bytes, i + 6).is_some_and(|u| (0xDC00..=0xDFFF).contains(&u)) {
            i += 12; // a proper pair
        } else if is_high || is_low {
            out.push_str(&text[copied_up_to..i]);
            out.push_str("\\uFFFD");
            changed = true;
            i += 6;
            copied_up_to = i;
        } else {
            i += 6;
        }
    }
    out.push_str(&text[copied_up_to.min(text.len())..]);
    (out, changed)
}

/// The code unit of a `\uXXXX` escape starting at `at`, if there is one.
fn hex_escape(bytes: &[u8], at: usize) -> Option<u32> {
    let escape = bytes.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&escape[2..]).ok()?;
    u32::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn parse_repaired(body: &[u8]) -> Value {
        assert!(
            serde_json::from_slice::<Value>(body).is_err(),
            "strictly invalid to begin with"
        );
        let fixed = repair(body).expect("something to repair");
        serde_json::from_slice(&fixed).expect("readable after repair")
    }

    #[test]
    fn lone_surrogate_escapes_become_replacement_characters() {
        let v = parse_repaired(br#"{"a": "cut \ud83d", "b": "\udc00 low", "c": "x\ud800"}"#);
        assert_eq!(v["a"], "cut \u{FFFD}");
        assert_eq!(v["b"], "\u{FFFD} low");
        assert_eq!(v["c"], "x\u{FFFD}");
    }

    #[test]
    fn proper_pairs_and_escaped_backslashes_are_kept() {
        let body = br#"{"emoji": "\ud83d\ude00", "path": "C:\\ud800", "lone": "\ud800"}"#;
        let v = parse_repaired(body);
        assert_eq!(v["emoji"], "\u{1F600}");
        assert_eq!(
            v["path"], "C:\\ud800",
            "an escaped backslash followed by text"
        );
        assert_eq!(v["lone"], "\u{FFFD}");
    }

    #[test]
    fn invalid_utf8_bytes_become_replacement_characters() {
        let mut body = br#"{"subject": "caf"#.to_vec();
        body.push(0xE9); // Latin-1 é: not UTF-8
        body.extend_from_slice(br#"", "id": 1}"#);
        let v = parse_repaired(&body);
        assert_eq!(v["subject"], "caf\u{FFFD}");
        assert_eq!(v["id"], 1);
    }

    #[test]
    fn nothing_to_repair_in_otherwise_broken_json() {
        assert_eq!(repair(br#"{"a": "ok""#), None);
    }
}
