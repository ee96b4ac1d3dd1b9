//! The path globs of fault rules: one wildcard, `*`, for any run of characters (slashes
//! included), because rule paths name endpoints ("/api/v2/tickets/*") rather than files.

/// Whether `s` matches `pattern`; `*` matches any run of characters (including `/`). A `.json`
/// suffix on the pattern is ignored, as request paths are compared without it ([`crate::Req`]).
pub fn glob(pattern: &str, s: &str) -> bool {
    let pattern = pattern.strip_suffix(".json").unwrap_or(pattern);
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn star_spans_segments_and_json_suffix_is_ignored() {
        assert!(glob("/api/v2/tickets/*", "/api/v2/tickets/5"));
        assert!(glob("/api/v2/search*", "/api/v2/search/export"));
        assert!(glob("*/tags", "/api/v2/tickets/5/tags"));
        assert!(glob("/api/*/tickets/*/tags", "/api/v2/tickets/5/tags"));
        assert!(!glob("/api/*/tickets/*/tags", "/api/v2/tickets/5/comments"));
        assert!(!glob("/api/v2/tickets", "/api/v2/tickets/5"));
        assert!(glob("/api/v2/tickets.json", "/api/v2/tickets"));
        assert!(glob("*", ""));
    }
}
