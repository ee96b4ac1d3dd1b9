//! The Zendesk search syntax subset the simulator understands, matching and sorting.
//!
//! Terms are separated by spaces; `"..."` quotes a phrase (also as a value: `group:"Level 2"`).
//! A term is `[-]keyword OP value` with OP one of `:`, `>`, `<`, `>=`, `<=`, or a free word.
//!
//! Combination (the rule the simulator applies; Zendesk's own documentation describes AND
//! between different keywords and "any of" for repeated values of one keyword):
//! - positive `:` terms on the **same keyword** are alternatives (OR): `status:new status:open`
//!   finds new or open tickets; `tags:a tags:b` finds tickets with tag a **or** b;
//! - different keywords, comparisons (`>`, `<`, ...) and negations combine with AND;
//! - `-keyword:value` excludes: `-tags:x` drops every ticket tagged x;
//! - free words must all occur (case-insensitive substring) in the subject or description;
//!   `-word` excludes tickets containing it.
//!
//! Keywords: `type` (`ticket` matches tickets; any other type matches nothing), `status`
//! (also `status<solved` etc. in the order new < open < pending < hold < solved < closed),
//! `priority` (also compared: low < normal < high < urgent), `ticket_type`, `group` (a group name,
//! case-insensitive exact match, or a group id), `group_id`, `tags`/`tag`, `assignee_id`,
//! `requester_id`, `subject` / `description` (substring), `created`, `updated` (RFC 3339 time or
//! `YYYY-MM-DD`; for a date, `>D` means after that day, `<D` before it, `:D` during it).
//! Unknown keywords are ignored and listed in the `x-sim-ignored-terms` response header.
//! Deleted tickets are never found.

use serde_json::Value;

use crate::store::{parse_date, parse_time, Store, Ticket, PRIORITIES};

const STATUS_ORDER: &[&str] = &["new", "open", "pending", "hold", "solved", "closed"];

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `:`
    Eq,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `<=`
    Le,
}

/// One parsed term.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// Leading `-`.
    pub negated: bool,
    /// Lower-case keyword; empty for a free word.
    pub key: String,
    /// Operator (`Eq` for free words).
    pub op: Op,
    /// Value, unquoted.
    pub value: String,
}

/// A parsed query.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Every term.
    pub terms: Vec<Term>,
    /// Terms with keywords the simulator does not know (ignored).
    pub ignored: Vec<String>,
}

const KNOWN: &[&str] = &[
    "type",
    "status",
    "priority",
    "ticket_type",
    "group",
    "group_id",
    "tags",
    "tag",
    "assignee_id",
    "requester_id",
    "subject",
    "description",
    "created",
    "updated",
];

/// Splits at spaces outside quotes.
fn tokens(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(s: &str) -> String {
    s.trim_matches('"').to_string()
}

/// Parses a query; `Err` explains a value that cannot be understood (a bad date).
pub fn parse(q: &str) -> Result<Query, String> {
    let mut query = Query::default();
    for tok in tokens(q) {
        let (negated, rest) = match tok.strip_prefix('-') {
            Some(r) if !r.is_empty() => (true, r),
            _ => (false, tok.as_str()),
        };
        let key_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let after = &rest[key_len..];
        let (op, vlen) = if after.starts_with(">=") {
            (Some(Op::Ge), 2)
        } else if after.starts_with("<=") {
            (Some(Op::Le), 2)
        } else if after.starts_with(':') {
            (Some(Op::Eq), 1)
        } else if after.starts_with('>') {
            (Some(Op::Gt), 1)
        } else if after.starts_with('<') {
            (Some(Op::Lt), 1)
        } else {
            (None, 0)
        };
        let term = match op {
            Some(op) if key_len > 0 => Term {
                negated,
                key: rest[..key_len].to_ascii_lowercase(),
                op,
                value: unquote(&after[vlen..]),
            },
            _ => Term {
                negated,
                key: String::new(),
                op: Op::Eq,
                value: unquote(rest).to_lowercase(),
            },
        };
        if !term.key.is_empty() && !KNOWN.contains(&term.key.as_str()) {
            query.ignored.push(tok.clone());
            continue;
        }
        if term.key == "created" || term.key == "updated" {
            parse_time(&term.value)
                .ok_or_else(|| format!("{tok}: not a time (use RFC 3339 or YYYY-MM-DD)"))?;
        }
        query.terms.push(term);
    }
    Ok(query)
}

impl Query {
    /// Whether the query contains a `type:` term.
    pub fn has_type(&self) -> bool {
        self.terms.iter().any(|t| t.key == "type")
    }

    /// Whether `t` matches (deleted tickets never do).
    pub fn matches(&self, t: &Ticket, store: &Store) -> bool {
        if t.deleted {
            return false;
        }
        // Positive `:` terms grouped by keyword: any one of each group must hold.
        let mut groups: Vec<(&str, bool)> = Vec::new();
        for term in &self.terms {
            let hit = term_matches(term, t, store);
            if term.negated {
                if hit {
                    return false;
                }
            } else if term.op == Op::Eq && !term.key.is_empty() {
                let key = if term.key == "tag" {
                    "tags"
                } else {
                    term.key.as_str()
                };
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, any)) => *any |= hit,
                    None => groups.push((key, hit)),
                }
            } else if !hit {
                return false;
            }
        }
        groups.iter().all(|(_, any)| *any)
    }
}

fn rank(list: &[&str], v: &str) -> Option<usize> {
    list.iter().position(|x| x.eq_ignore_ascii_case(v))
}

fn cmp_ok(op: Op, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => ord == Equal,
        Op::Gt => ord == Greater,
        Op::Lt => ord == Less,
        Op::Ge => ord != Less,
        Op::Le => ord != Greater,
    }
}

fn term_matches(term: &Term, t: &Ticket, store: &Store) -> bool {
    let v = term.value.as_str();
    let id_eq = |x: Option<u64>| match v.parse::<u64>() {
        Ok(n) => x == Some(n),
        Err(_) => v.eq_ignore_ascii_case("none") && x.is_none(),
    };
    match term.key.as_str() {
        "" => {
            let hay =
                format!("{} {}", t.subject.as_deref().unwrap_or(""), t.description).to_lowercase();
            hay.contains(v)
        }
        "type" => v.eq_ignore_ascii_case("ticket"),
        "status" => match term.op {
            Op::Eq => t.status.eq_ignore_ascii_case(v),
            op => match (rank(STATUS_ORDER, &t.status), rank(STATUS_ORDER, v)) {
                (Some(a), Some(b)) => cmp_ok(op, a.cmp(&b)),
                _ => false,
            },
        },
        "priority" => match term.op {
            Op::Eq => match &t.priority {
                Some(p) => p.eq_ignore_ascii_case(v),
                None => v.eq_ignore_ascii_case("none"),
            },
            op => match (
                t.priority.as_deref().and_then(|p| rank(PRIORITIES, p)),
                rank(PRIORITIES, v),
            ) {
                (Some(a), Some(b)) => cmp_ok(op, a.cmp(&b)),
                _ => false,
            },
        },
        "ticket_type" => match &t.ticket_type {
            Some(ty) => ty.eq_ignore_ascii_case(v),
            None => v.eq_ignore_ascii_case("none"),
        },
        "group" => {
            if let Ok(n) = v.parse::<u64>() {
                return t.group_id == Some(n);
            }
            if v.eq_ignore_ascii_case("none") {
                return t.group_id.is_none();
            }
            t.group_id
                .and_then(|g| store.groups().iter().find(|x| x.id == g))
                .is_some_and(|g| g.name.eq_ignore_ascii_case(v))
        }
        "group_id" => id_eq(t.group_id),
        "assignee_id" => id_eq(t.assignee_id),
        "requester_id" => id_eq(Some(t.requester_id)),
        "tags" | "tag" => {
            let v = v.to_lowercase();
            t.tags.contains(&v)
        }
        "subject" => t
            .subject
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .contains(&v.to_lowercase()),
        "description" => t.description.to_lowercase().contains(&v.to_lowercase()),
        "created" | "updated" => {
            let at = if term.key == "created" {
                t.created_at
            } else {
                t.updated_at
            };
            let is_date = parse_date(v).is_some() && v.len() <= 10;
            let Some(x) = parse_time(v) else { return false };
            if is_date {
                let end = x + 86_400;
                match term.op {
                    Op::Eq => at >= x && at < end,
                    Op::Gt => at >= end,
                    Op::Ge => at >= x,
                    Op::Lt => at < x,
                    Op::Le => at < end,
                }
            } else {
                cmp_ok(term.op, at.cmp(&x))
            }
        }
        _ => false,
    }
}

/// Sorts tickets for `GET /api/v2/search`: `sort_by` one of `updated_at`, `created_at`,
/// `priority`, `status`, `ticket_type` (anything else, like the default "relevance", sorts by
/// `updated_at`); `sort_order` `asc` or `desc` (default). Ties break by id ascending.
pub fn sort(tickets: &mut [&Ticket], sort_by: Option<&str>, sort_order: Option<&str>) {
    let desc = !matches!(sort_order, Some(o) if o.eq_ignore_ascii_case("asc"));
    let key = |t: &Ticket| -> Value {
        match sort_by.unwrap_or("") {
            "created_at" => Value::from(t.created_at),
            "priority" => Value::from(
                t.priority
                    .as_deref()
                    .and_then(|p| rank(PRIORITIES, p))
                    .map(|r| r as i64 + 1)
                    .unwrap_or(0),
            ),
            "status" => Value::from(
                rank(STATUS_ORDER, &t.status)
                    .map(|r| r as i64)
                    .unwrap_or(99),
            ),
            "ticket_type" => Value::from(t.ticket_type.clone().unwrap_or_default()),
            _ => Value::from(t.updated_at),
        }
    };
    tickets.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        let ord = match (ka.as_i64(), kb.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => ka.as_str().unwrap_or("").cmp(kb.as_str().unwrap_or("")),
        };
        let ord = if desc { ord.reverse() } else { ord };
        ord.then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_adapter_query() {
        let q = parse("type:ticket status:new status:open group:\"Level 2\" tags:vip -tags:ai_done updated>2024-04-30T23:59:59Z brand:acme").unwrap();
        assert_eq!(q.terms.len(), 7);
        assert_eq!(q.ignored, vec!["brand:acme".to_string()]);
        assert_eq!(q.terms[3].value, "Level 2");
        assert!(q.terms[5].negated);
        assert_eq!(q.terms[6].op, Op::Gt);
        assert!(parse("updated>yesterdayish").is_err());
    }
}
