//! The subset of Freshdesk's ticket-filter language the simulator understands (docs "Filter
//! Tickets"; helpdesk-apis.md 2.2): `field:value`, `field:null`, `field:'string'`, `field:>v`
//! and `field:<v` (the docs: "greater than or equal to" and "less than or equal to", so both
//! bounds are inclusive), `AND`, `OR` (AND binds tighter) and parentheses. Fields: `agent_id`,
//! `group_id`, `priority`, `status`, `tag`, `type`, `created_at`, `updated_at`, `due_by`,
//! `fr_due_by` (dates `'YYYY-MM-DD'`, compared by UTC day) and the custom fields by name (`cf_x`,
//! or `x` for `cf_x`). Strings compare case-insensitively (unverified).

use serde_json::Value;

use crate::{
    stamp::{day_of, parse_day, parse_secs},
    store::Ticket,
};

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// One condition.
    Cond(Cond),
}

/// `field:value`, `field:>value`, `field:<value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// The field as written.
    pub field: String,
    /// The comparison.
    pub op: Op,
    /// The value.
    pub value: QValue,
}

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `:`.
    Eq,
    /// `:>` (at least).
    AtLeast,
    /// `:<` (at most).
    AtMost,
}

/// A value in a query.
#[derive(Debug, Clone, PartialEq)]
pub enum QValue {
    /// `null`.
    Null,
    /// A whole number.
    Int(i64),
    /// `true` / `false`.
    Bool(bool),
    /// A quoted or bare string.
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Word(String),
    Quoted(String),
    Colon,
    Gt,
    Lt,
}

fn tokens(q: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ':' | '>' | '<' => {
                chars.next();
                out.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    ':' => Tok::Colon,
                    '>' => Tok::Gt,
                    _ => Tok::Lt,
                });
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => s.push(c),
                        None => return Err("unterminated string".into()),
                    }
                }
                out.push(Tok::Quoted(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "():'<>".contains(c) {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                out.push(match w.as_str() {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    _ => Tok::Word(w),
                });
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    _ => Err("missing )".into()),
                }
            }
            Some(Tok::Word(field)) => {
                if self.next() != Some(Tok::Colon) {
                    return Err(format!("expected : after {field}"));
                }
                let op = match self.peek() {
                    Some(Tok::Gt) => Op::AtLeast,
                    Some(Tok::Lt) => Op::AtMost,
                    _ => Op::Eq,
                };
                if op != Op::Eq {
                    self.pos += 1;
                }
                let value = match self.next() {
                    Some(Tok::Quoted(s)) => QValue::Str(s),
                    Some(Tok::Word(w)) => match w.as_str() {
                        "null" => QValue::Null,
                        "true" => QValue::Bool(true),
                        "false" => QValue::Bool(false),
                        _ => w.parse().map(QValue::Int).unwrap_or(QValue::Str(w)),
                    },
                    _ => return Err(format!("expected a value for {field}")),
                };
                Ok(Expr::Cond(Cond { field, op, value }))
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

/// Parses a query (without its enclosing double quotes).
pub fn parse(q: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: tokens(q)?,
        pos: 0,
    };
    if p.toks.is_empty() {
        return Err("empty query".into());
    }
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err("trailing input".into());
    }
    Ok(e)
}

/// The fields a query may name, given the custom fields; the first unknown field, if any,
/// or a value that does not suit its field.
pub fn check(e: &Expr, custom: &[String]) -> Result<(), String> {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => check(a, custom).and(check(b, custom)),
        Expr::Cond(c) => {
            let field = c.field.as_str();
            match field {
                "agent_id" | "group_id" | "priority" | "status" => match (&c.value, c.op) {
                    (QValue::Int(_), _) | (QValue::Null, Op::Eq) => Ok(()),
                    _ => Err(field.to_string()),
                },
                "tag" | "type" => match (&c.value, c.op) {
                    (_, Op::Eq) => Ok(()),
                    _ => Err(field.to_string()),
                },
                "created_at" | "updated_at" | "due_by" | "fr_due_by" => match &c.value {
                    QValue::Str(s) if parse_day(s).is_some() || parse_secs(s).is_some() => Ok(()),
                    _ => Err(field.to_string()),
                },
                _ if custom_name(field, custom).is_some() => Ok(()),
                _ => Err(field.to_string()),
            }
        }
    }
}

fn custom_name<'a>(field: &str, custom: &'a [String]) -> Option<&'a String> {
    custom
        .iter()
        .find(|n| *n == field || n.strip_prefix("cf_") == Some(field))
}

fn cmp_int(have: Option<i64>, op: Op, want: &QValue) -> bool {
    match (want, have, op) {
        (QValue::Null, h, Op::Eq) => h.is_none(),
        (QValue::Int(w), Some(h), Op::Eq) => h == *w,
        (QValue::Int(w), Some(h), Op::AtLeast) => h >= *w,
        (QValue::Int(w), Some(h), Op::AtMost) => h <= *w,
        _ => false,
    }
}

fn eq_str(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn cmp_day(stamp: i64, op: Op, want: &QValue) -> bool {
    let QValue::Str(s) = want else { return false };
    let Some(day) = parse_day(s).or_else(|| parse_secs(s).map(day_of)) else {
        return false;
    };
    let have = day_of(stamp);
    match op {
        Op::Eq => have == day,
        Op::AtLeast => have >= day,
        Op::AtMost => have <= day,
    }
}

fn cmp_json(have: Option<&Value>, op: Op, want: &QValue) -> bool {
    let have = have.unwrap_or(&Value::Null);
    match (want, have) {
        (QValue::Null, h) => h.is_null() || h.as_str() == Some(""),
        (QValue::Bool(w), Value::Bool(h)) => w == h && op == Op::Eq,
        (QValue::Int(_), Value::Number(n)) => cmp_int(n.as_i64(), op, want),
        (QValue::Int(w), Value::String(s)) => op == Op::Eq && s == &w.to_string(),
        (QValue::Str(w), Value::String(s)) => op == Op::Eq && eq_str(s, w),
        _ => false,
    }
}

fn stamp_of(t: &Ticket, field: &str) -> i64 {
    match field {
        "created_at" => t.created_secs(),
        "updated_at" => t.updated_secs(),
        "due_by" => parse_secs(&t.due_by).unwrap_or(0),
        _ => parse_secs(&t.fr_due_by).unwrap_or(0),
    }
}

/// Whether ticket `t` matches `e` (checked with [`check`] first).
pub fn matches(e: &Expr, t: &Ticket, custom: &[String]) -> bool {
    match e {
        Expr::And(a, b) => matches(a, t, custom) && matches(b, t, custom),
        Expr::Or(a, b) => matches(a, t, custom) || matches(b, t, custom),
        Expr::Cond(c) => {
            let id = |v: Option<u64>| v.map(|x| x as i64);
            match c.field.as_str() {
                "agent_id" => cmp_int(id(t.responder_id), c.op, &c.value),
                "group_id" => cmp_int(id(t.group_id), c.op, &c.value),
                "priority" => cmp_int(Some(t.priority as i64), c.op, &c.value),
                "status" => cmp_int(Some(t.status as i64), c.op, &c.value),
                "tag" => match &c.value {
                    QValue::Null => t.tags.is_empty(),
                    QValue::Str(w) => t.tags.iter().any(|x| eq_str(x, w)),
                    QValue::Int(n) => t.tags.iter().any(|x| x == &n.to_string()),
                    QValue::Bool(b) => t.tags.iter().any(|x| x == &b.to_string()),
                },
                "type" => match (&c.value, &t.type_) {
                    (QValue::Null, ty) => ty.is_none(),
                    (QValue::Str(w), Some(ty)) => eq_str(ty, w),
                    _ => false,
                },
                f @ ("created_at" | "updated_at" | "due_by" | "fr_due_by") => {
                    cmp_day(stamp_of(t, f), c.op, &c.value)
                }
                f => match custom_name(f, custom) {
                    Some(name) => cmp_json(t.custom_fields.get(name), c.op, &c.value),
                    None => false,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewTicket, Store};

    fn ticket() -> (Ticket, Vec<String>) {
        let mut s = Store::new();
        s.ensure_group("Cards");
        let mut custom = serde_json::Map::new();
        custom.insert("cf_category".into(), "Cards".into());
        custom.insert("cf_locked".into(), true.into());
        let id = s
            .insert_ticket(
                NewTicket {
                    subject: "x".into(),
                    status: 2,
                    priority: 3,
                    group: Some("Cards".into()),
                    tags: vec!["Marketing".into()],
                    type_: Some("Problem".into()),
                    custom_fields: custom,
                    created: parse_secs("2017-01-01T10:00:00Z"),
                    ..NewTicket::default()
                },
                0,
                0,
            )
            .unwrap();
        (s.tickets[&id].clone(), s.custom_fields.clone())
    }

    fn q(query: &str) -> bool {
        let (t, custom) = ticket();
        let e = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
        check(&e, &custom).unwrap_or_else(|f| panic!("{query}: field {f}"));
        matches(&e, &t, &custom)
    }

    #[test]
    fn the_documented_examples_parse_and_match() {
        assert!(q("priority:3"));
        assert!(q("priority:4 OR priority:3"));
        assert!(q("priority:>3 AND group_id:2001 AND status:2"));
        assert!(!q("priority:>4"));
        assert!(q("priority:<3"));
        assert!(q("agent_id:null AND status:2"));
        assert!(!q("group_id:null"));
        assert!(q(
            "(cf_category:'cards' OR cf_category:'x') AND cf_locked:true"
        ));
        assert!(q("category:'Cards'"), "custom fields also without cf_");
        assert!(q("priority:>3 AND created_at:'2017-01-01'"));
        assert!(q("created_at:>'2016-12-31' AND created_at:<'2017-01-01'"));
        assert!(!q("created_at:>'2017-01-02'"));
        assert!(q("type:'Problem' AND tag:'marketing'"));
        assert!(!q("tag:null"));
        assert!(!q("type:null AND priority:4"));
        assert!(q("status:2 AND (agent_id:2 OR agent_id:null)"));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert!(q("priority:1 AND status:9 OR status:2"));
        assert!(!q("priority:1 AND (status:9 OR status:2)"));
    }

    #[test]
    fn bad_queries_and_unknown_fields_are_refused() {
        assert!(parse("").is_err());
        assert!(parse("status:").is_err());
        assert!(parse("(status:2").is_err());
        assert!(parse("status 2").is_err());
        assert!(parse("tag:'open").is_err());
        let custom = vec!["cf_category".to_string()];
        assert_eq!(
            check(&parse("colour:2").unwrap(), &custom),
            Err("colour".into())
        );
        assert!(check(&parse("created_at:'yesterday'").unwrap(), &custom).is_err());
        assert!(check(&parse("tag:>'a'").unwrap(), &custom).is_err());
    }
}
