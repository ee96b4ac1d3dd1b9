//! The Elasticsearch `query_string` subset Zammad's ticket search passes through
//! (`default_operator: AND`): `field:value`, `field:"a phrase"`, `field:(a OR b)`,
//! `field:[a TO b]` / `{a TO b}` (`*` open), `field:>=x` / `>x` / `<x` / `<=x`, `_exists_:field`,
//! `AND` / `OR` / `NOT` / `&&` / `||` / `!` / `-` / `+`, parentheses, quoted phrases, `*` and `?`
//! wildcards, and bare words searched over title, number, tags and the articles' subject, body,
//! from and to. Text is matched by tokens (lower case, split at non-alphanumerics), as the
//! standard analyser does; ids and numbers exactly; stamps as times (`now-7d` allowed).
//!
//! Fields of the ticket document: the ticket's columns (`id`, `number`, `title`, `group_id`,
//! `state_id`, `priority_id`, `owner_id`, `customer_id`, `created_at`, `updated_at`,
//! `pending_time`, `article_count`, custom attributes), `tags`, `group.name`, `state.name`,
//! `priority.name`, `owner.<login|email|firstname|lastname>`, `customer.<...>`,
//! `article.<body|subject|from|to>`. An unknown field matches nothing. A query Elasticsearch
//! would reject (unbalanced parentheses or quotes, a dangling operator, an empty range bound)
//! is [`QueryError`]: Zammad logs the 400 and answers an empty result.

use crate::{
    stamp::parse_ms,
    store::{Store, TicketRec},
};

/// A query Elasticsearch would answer with 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Q {
    /// All must match.
    And(Vec<Q>),
    /// One must match.
    Or(Vec<Q>),
    /// Must not match.
    Not(Box<Q>),
    /// A word (maybe with wildcards) in a field, or in the full-text fields.
    Term(Option<String>, String),
    /// Consecutive words.
    Phrase(Option<String>, String),
    /// A range; `None` bounds are open.
    Range {
        /// The field.
        field: String,
        /// Lower bound.
        lo: Option<String>,
        /// Upper bound.
        hi: Option<String>,
        /// Lower bound included.
        lo_inc: bool,
        /// Upper bound included.
        hi_inc: bool,
    },
    /// The field has a value.
    Exists(String),
}

/// Parses `query`.
pub fn parse(query: &str) -> Result<Q, QueryError> {
    let mut p = Parser {
        s: query.chars().collect(),
        i: 0,
    };
    let q = p.or(None)?;
    p.ws();
    if p.i < p.s.len() {
        return Err(QueryError(format!("unexpected {:?} at {}", p.s[p.i], p.i)));
    }
    Ok(q)
}

struct Parser {
    s: Vec<char>,
    i: usize,
}

impl Parser {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn at(&self, lit: &str) -> bool {
        let lit: Vec<char> = lit.chars().collect();
        self.s.get(self.i..self.i + lit.len()) == Some(&lit[..])
    }

    /// A keyword operator (`AND`) followed by a boundary.
    fn at_kw(&self, kw: &str) -> bool {
        if !self.at(kw) {
            return false;
        }
        match self.s.get(self.i + kw.chars().count()) {
            None => true,
            Some(c) => c.is_whitespace() || *c == '(',
        }
    }

    fn or(&mut self, field: Option<&str>) -> Result<Q, QueryError> {
        let mut parts = vec![self.and(field)?];
        loop {
            self.ws();
            if !(self.at_kw("OR") || self.at("||")) {
                break;
            }
            self.i += 2;
            parts.push(self.and(field)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Q::Or(parts)
        })
    }

    fn and(&mut self, field: Option<&str>) -> Result<Q, QueryError> {
        let mut parts = Vec::new();
        loop {
            self.ws();
            match self.peek() {
                None | Some(')') => break,
                _ => {}
            }
            if self.at_kw("OR") || self.at("||") {
                break;
            }
            let and_len = if self.at_kw("AND") {
                3
            } else if self.at("&&") {
                2
            } else {
                0
            };
            if and_len > 0 {
                if parts.is_empty() {
                    return Err(QueryError("an operator without a left operand".into()));
                }
                self.i += and_len;
                self.expect_operand()?;
                continue;
            }
            parts.push(self.unary(field)?);
        }
        match parts.len() {
            0 => Err(QueryError("an operator without an operand".into())),
            1 => Ok(parts.pop().expect("one")),
            _ => Ok(Q::And(parts)),
        }
    }

    fn expect_operand(&mut self) -> Result<(), QueryError> {
        self.ws();
        match self.peek() {
            None | Some(')') => Err(QueryError("an operator without an operand".into())),
            _ if self.at_kw("AND") || self.at_kw("OR") => {
                Err(QueryError("two operators in a row".into()))
            }
            _ => Ok(()),
        }
    }

    fn unary(&mut self, field: Option<&str>) -> Result<Q, QueryError> {
        self.ws();
        if self.at_kw("NOT") {
            self.i += 3;
            self.expect_operand()?;
            return Ok(Q::Not(Box::new(self.unary(field)?)));
        }
        match self.peek() {
            Some('!') | Some('-') => {
                self.i += 1;
                self.expect_operand()?;
                Ok(Q::Not(Box::new(self.unary(field)?)))
            }
            Some('+') => {
                self.i += 1;
                self.expect_operand()?;
                self.unary(field)
            }
            _ => self.primary(field),
        }
    }

    fn primary(&mut self, field: Option<&str>) -> Result<Q, QueryError> {
        self.ws();
        match self.peek() {
            Some('(') => {
                self.i += 1;
                let q = self.or(field)?;
                self.ws();
                if self.peek() != Some(')') {
                    return Err(QueryError("unbalanced parentheses".into()));
                }
                self.i += 1;
                Ok(q)
            }
            Some('"') => Ok(Q::Phrase(field.map(str::to_string), self.quoted()?)),
            Some(')') | None => Err(QueryError("missing term".into())),
            _ => {
                let word = self.word(true)?;
                if self.peek() == Some(':') && field.is_none() {
                    self.i += 1;
                    return self.field_value(&word);
                }
                Ok(term(field, word))
            }
        }
    }

    fn quoted(&mut self) -> Result<String, QueryError> {
        self.i += 1;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                '"' => return Ok(out),
                c => out.push(c),
            }
        }
        Err(QueryError("unbalanced quotes".into()))
    }

    /// A bare word: up to whitespace or a parenthesis (and up to `:` when `stop_at_colon`).
    fn word(&mut self, stop_at_colon: bool) -> Result<String, QueryError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == '(' || c == ')' || (stop_at_colon && c == ':') {
                break;
            }
            if c == '"' && stop_at_colon {
                break;
            }
            self.i += 1;
            if c == '\\' {
                if let Some(n) = self.peek() {
                    out.push(n);
                    self.i += 1;
                }
                continue;
            }
            out.push(c);
        }
        if out.is_empty() {
            return Err(QueryError("missing term".into()));
        }
        Ok(out)
    }

    fn field_value(&mut self, field: &str) -> Result<Q, QueryError> {
        self.ws();
        let f = field.to_string();
        match self.peek() {
            Some('"') => Ok(Q::Phrase(Some(f), self.quoted()?)),
            Some('(') => {
                self.i += 1;
                let q = self.or(Some(field))?;
                self.ws();
                if self.peek() != Some(')') {
                    return Err(QueryError("unbalanced parentheses".into()));
                }
                self.i += 1;
                Ok(q)
            }
            Some(open @ ('[' | '{')) => {
                self.i += 1;
                let start = self.i;
                while self.peek().is_some_and(|c| c != ']' && c != '}') {
                    self.i += 1;
                }
                let Some(close) = self.peek() else {
                    return Err(QueryError("unbalanced range".into()));
                };
                let inner: String = self.s[start..self.i].iter().collect();
                self.i += 1;
                let (lo, hi) = inner
                    .split_once(" TO ")
                    .ok_or_else(|| QueryError(format!("a range needs TO: {inner:?}")))?;
                let bound = |b: &str| -> Result<Option<String>, QueryError> {
                    match b.trim() {
                        "" => Err(QueryError(format!("empty range bound in {inner:?}"))),
                        "*" => Ok(None),
                        b => Ok(Some(b.trim_matches('"').to_string())),
                    }
                };
                Ok(Q::Range {
                    field: f,
                    lo: bound(lo)?,
                    hi: bound(hi)?,
                    lo_inc: open == '[',
                    hi_inc: close == ']',
                })
            }
            Some('>') | Some('<') => {
                let op = if self.at(">=") || self.at("<=") {
                    let o: String = self.s[self.i..self.i + 2].iter().collect();
                    self.i += 2;
                    o
                } else {
                    let o = self.s[self.i].to_string();
                    self.i += 1;
                    o
                };
                let v = self.word(false)?;
                let (lo, hi, lo_inc, hi_inc) = match op.as_str() {
                    ">=" => (Some(v), None, true, true),
                    ">" => (Some(v), None, false, true),
                    "<=" => (None, Some(v), true, true),
                    _ => (None, Some(v), true, false),
                };
                Ok(Q::Range {
                    field: f,
                    lo,
                    hi,
                    lo_inc,
                    hi_inc,
                })
            }
            None => Err(QueryError(format!("no value for {field}:"))),
            _ => {
                let v = self.word(false)?;
                if field == "_exists_" {
                    return Ok(Q::Exists(v));
                }
                if v == "*" {
                    return Ok(Q::Exists(f));
                }
                Ok(Q::Term(Some(f), v))
            }
        }
    }
}

fn term(field: Option<&str>, word: String) -> Q {
    Q::Term(field.map(str::to_string), word)
}

/// What a document field holds.
enum FieldValues {
    Text(Vec<String>),
    Number(Vec<f64>),
    Time(Vec<i64>),
}

const FULL_TEXT: &[&str] = &[
    "title",
    "number",
    "tags",
    "article.subject",
    "article.body",
    "article.from",
    "article.to",
];

fn field_values(store: &Store, t: &TicketRec, field: &str) -> Option<FieldValues> {
    use FieldValues::*;
    let user = |id: u64, attr: &str| -> Option<FieldValues> {
        let u = store.user(id)?;
        Some(match attr {
            "login" => Text(vec![u.login.clone()]),
            "email" => Text(vec![u.email.clone()]),
            "firstname" => Text(vec![u.firstname.clone()]),
            "lastname" => Text(vec![u.lastname.clone()]),
            "id" => Number(vec![u.id as f64]),
            _ => return None,
        })
    };
    let num = |v: u64| Some(Number(vec![v as f64]));
    let articles = store.article_recs(t.id);
    let art = |f: &dyn Fn(&crate::store::ArticleRec) -> Option<String>| {
        Some(Text(articles.iter().filter_map(|a| f(a)).collect()))
    };
    match field {
        "id" => num(t.id),
        "group_id" => num(t.group_id),
        "priority_id" => num(t.priority_id),
        "state_id" => num(t.state_id),
        "owner_id" => num(t.owner_id),
        "customer_id" => num(t.customer_id),
        "created_by_id" => num(t.created_by_id),
        "updated_by_id" => num(t.updated_by_id),
        "article_count" => num(articles.len() as u64),
        "number" => Some(Text(vec![t.number.clone()])),
        "title" => Some(Text(vec![t.title.clone()])),
        "tags" => Some(Text(store.tags(t.id))),
        "created_at" => Some(Time(vec![t.created_at])),
        "updated_at" => Some(Time(vec![t.updated_at])),
        "pending_time" => Some(Time(t.pending_time.into_iter().collect())),
        "group.name" => Some(Text(
            store
                .group(t.group_id)
                .map(|g| g.name.clone())
                .into_iter()
                .collect(),
        )),
        "state.name" => Some(Text(
            store
                .state(t.state_id)
                .map(|s| s.name.clone())
                .into_iter()
                .collect(),
        )),
        "priority.name" => Some(Text(
            store
                .priority(t.priority_id)
                .map(|p| p.name.clone())
                .into_iter()
                .collect(),
        )),
        "article.body" => art(&|a| Some(a.body.clone())),
        "article.subject" => art(&|a| a.subject.clone()),
        "article.from" => art(&|a| a.from.clone()),
        "article.to" => art(&|a| a.to.clone()),
        f => {
            if let Some(attr) = f.strip_prefix("owner.") {
                return user(t.owner_id, attr);
            }
            if let Some(attr) = f.strip_prefix("customer.") {
                return user(t.customer_id, attr);
            }
            let v = t.attributes.get(f)?;
            Some(match v {
                serde_json::Value::Number(n) => Number(vec![n.as_f64().unwrap_or(0.0)]),
                serde_json::Value::Null => Text(vec![]),
                serde_json::Value::String(s) => Text(vec![s.clone()]),
                serde_json::Value::Array(a) => Text(
                    a.iter()
                        .map(|x| {
                            x.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| x.to_string())
                        })
                        .collect(),
                ),
                other => Text(vec![other.to_string()]),
            })
        }
    }
}

/// Lower-case tokens, split at anything not alphanumeric (keeping `*` and `?` when
/// `wildcards`).
fn tokens(s: &str, wildcards: bool) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || (wildcards && (c == '*' || c == '?'))))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Whether `patterns` occur as consecutive tokens of `text`.
fn text_has(text: &str, patterns: &[String]) -> bool {
    if patterns.is_empty() {
        return false;
    }
    let toks = tokens(text, false);
    toks.windows(patterns.len())
        .any(|w| w.iter().zip(patterns).all(|(t, p)| glob_match(p, t)))
}

/// A time bound: an ISO time or date, `now`, `now-7d`, `now+1h` (`s m h d w M y`).
fn time_bound(s: &str, now_ms: i64) -> Option<i64> {
    if let Some(rest) = s.strip_prefix("now") {
        let rest = rest.split('/').next().unwrap_or("");
        if rest.is_empty() {
            return Some(now_ms);
        }
        let (sign, body) = match rest.as_bytes()[0] {
            b'-' => (-1, &rest[1..]),
            b'+' => (1, &rest[1..]),
            _ => return None,
        };
        let unit = body.chars().last()?;
        let n: i64 = body[..body.len() - unit.len_utf8()].parse().ok()?;
        let ms = match unit {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            'w' => 7 * 86_400_000,
            'M' => 30 * 86_400_000,
            'y' => 365 * 86_400_000,
            _ => return None,
        };
        return Some(now_ms + sign * n * ms);
    }
    parse_ms(s)
}

/// Whether ticket `t` matches `q`; an error where Elasticsearch would reject the query (a range
/// bound that is no time for a time field).
pub(crate) fn matches(
    q: &Q,
    store: &Store,
    t: &TicketRec,
    now_ms: i64,
) -> Result<bool, QueryError> {
    Ok(match q {
        Q::And(parts) => {
            for p in parts {
                if !matches(p, store, t, now_ms)? {
                    return Ok(false);
                }
            }
            true
        }
        Q::Or(parts) => {
            for p in parts {
                if matches(p, store, t, now_ms)? {
                    return Ok(true);
                }
            }
            false
        }
        Q::Not(inner) => !matches(inner, store, t, now_ms)?,
        Q::Exists(field) => match field_values(store, t, field) {
            Some(FieldValues::Text(v)) => v.iter().any(|s| !s.is_empty()),
            Some(FieldValues::Number(v)) => !v.is_empty(),
            Some(FieldValues::Time(v)) => !v.is_empty(),
            None => false,
        },
        Q::Term(None, word) | Q::Phrase(None, word) => {
            let pats = tokens(word, matches!(q, Q::Term(..)));
            FULL_TEXT.iter().any(|f| match field_values(store, t, f) {
                Some(FieldValues::Text(v)) => v.iter().any(|s| text_has(s, &pats)),
                _ => false,
            })
        }
        Q::Term(Some(field), word) | Q::Phrase(Some(field), word) => {
            let wild = matches!(q, Q::Term(..));
            match field_values(store, t, field) {
                None => false,
                Some(FieldValues::Text(v)) => {
                    let pats = tokens(word, wild);
                    v.iter().any(|s| text_has(s, &pats))
                }
                Some(FieldValues::Number(v)) => match word.parse::<f64>() {
                    Ok(n) => v.contains(&n),
                    Err(_) => return Err(QueryError(format!("{word:?} is no number for {field}"))),
                },
                Some(FieldValues::Time(v)) => {
                    let Some(at) = time_bound(word, now_ms) else {
                        return Err(QueryError(format!("{word:?} is no time for {field}")));
                    };
                    // A date matches its whole day.
                    if word.len() == 10 {
                        v.iter().any(|x| *x >= at && *x < at + 86_400_000)
                    } else {
                        v.contains(&at)
                    }
                }
            }
        }
        Q::Range {
            field,
            lo,
            hi,
            lo_inc,
            hi_inc,
        } => {
            let within = |x: f64, lo: Option<f64>, hi: Option<f64>| {
                lo.is_none_or(|l| if *lo_inc { x >= l } else { x > l })
                    && hi.is_none_or(|h| if *hi_inc { x <= h } else { x < h })
            };
            match field_values(store, t, field) {
                None => false,
                Some(FieldValues::Time(v)) => {
                    let conv = |b: &Option<String>| -> Result<Option<f64>, QueryError> {
                        match b {
                            None => Ok(None),
                            Some(s) => time_bound(s, now_ms)
                                .map(|x| Some(x as f64))
                                .ok_or_else(|| QueryError(format!("{s:?} is no time for {field}"))),
                        }
                    };
                    let (l, h) = (conv(lo)?, conv(hi)?);
                    v.iter().any(|x| within(*x as f64, l, h))
                }
                Some(FieldValues::Number(v)) => {
                    let conv = |b: &Option<String>| -> Result<Option<f64>, QueryError> {
                        match b {
                            None => Ok(None),
                            Some(s) => s
                                .parse::<f64>()
                                .map(Some)
                                .map_err(|_| QueryError(format!("{s:?} is no number for {field}"))),
                        }
                    };
                    let (l, h) = (conv(lo)?, conv(hi)?);
                    v.iter().any(|x| within(*x, l, h))
                }
                Some(FieldValues::Text(v)) => v.iter().any(|s| {
                    let s = s.to_lowercase();
                    lo.as_ref().is_none_or(|l| {
                        let l = l.to_lowercase();
                        if *lo_inc {
                            s >= l
                        } else {
                            s > l
                        }
                    }) && hi.as_ref().is_none_or(|h| {
                        let h = h.to_lowercase();
                        if *hi_inc {
                            s <= h
                        } else {
                            s < h
                        }
                    })
                }),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        stamp::{parse_ms, Now},
        store::{NewArticle, NewTicket, DEFAULT_AGENT_LOGIN},
    };

    fn store() -> Store {
        let mut s = Store::new(DEFAULT_AGENT_LOGIN, Now::at(0));
        let day = |d: &str| parse_ms(d);
        for (title, state, group, body, at) in [
            (
                "My card was stolen",
                "new",
                "Users",
                "Please block my card",
                "2026-01-02",
            ),
            (
                "Top-up failed",
                "open",
                "Billing",
                "my top-up did not arrive",
                "2025-12-01",
            ),
            (
                "Where is my refund",
                "new",
                "Card payments",
                "refund for order 17",
                "2026-02-01",
            ),
        ] {
            s.insert_ticket(
                NewTicket {
                    title: title.into(),
                    state: Some(state.into()),
                    group: Some(group.into()),
                    customer: Some("jane@example.com".into()),
                    created_at: day(at),
                    articles: vec![NewArticle {
                        body: body.into(),
                        ..NewArticle::default()
                    }],
                    ..NewTicket::default()
                },
                Now::at(0),
            )
            .unwrap();
        }
        s
    }

    fn ids(s: &Store, q: &str) -> Result<Vec<u64>, QueryError> {
        let q = parse(q)?;
        let mut out = Vec::new();
        for t in s.tickets.values() {
            if matches(&q, s, t, parse_ms("2026-03-01").unwrap())? {
                out.push(t.id);
            }
        }
        Ok(out)
    }

    #[test]
    fn fields_names_and_booleans() {
        let s = store();
        assert_eq!(ids(&s, "state.name:new").unwrap(), [1, 3]);
        assert_eq!(ids(&s, "state_id:2").unwrap(), [2]);
        assert_eq!(ids(&s, "group.name:\"Card payments\"").unwrap(), [3]);
        assert_eq!(ids(&s, "group.name:Users AND state.name:new").unwrap(), [1]);
        assert_eq!(ids(&s, "state.name:new AND NOT id:1").unwrap(), [3]);
        assert_eq!(ids(&s, "state.name:new -id:1").unwrap(), [3]);
        assert_eq!(ids(&s, "id:1 OR id:2").unwrap(), [1, 2]);
        assert_eq!(ids(&s, "state.name:(open OR closed)").unwrap(), [2]);
        assert_eq!(ids(&s, "(id:1 || id:3) && state.name:new").unwrap(), [1, 3]);
        assert_eq!(
            ids(&s, "customer.email:jane@example.com").unwrap(),
            [1, 2, 3]
        );
        assert_eq!(ids(&s, "state:new").unwrap(), Vec::<u64>::new());
        assert_eq!(ids(&s, "_exists_:pending_time").unwrap(), Vec::<u64>::new());
    }

    #[test]
    fn words_phrases_and_wildcards_over_title_and_articles() {
        let s = store();
        assert_eq!(ids(&s, "card").unwrap(), [1]);
        assert_eq!(ids(&s, "refund").unwrap(), [3]);
        assert_eq!(ids(&s, "\"block my card\"").unwrap(), [1]);
        assert_eq!(ids(&s, "\"my block card\"").unwrap(), Vec::<u64>::new());
        assert_eq!(ids(&s, "top-up").unwrap(), [2]);
        assert_eq!(ids(&s, "stol*").unwrap(), [1]);
        assert_eq!(ids(&s, "ref?nd").unwrap(), [3]);
        assert_eq!(ids(&s, "article.body:order").unwrap(), [3]);
    }

    #[test]
    fn ranges_on_times_and_numbers() {
        let s = store();
        assert_eq!(
            ids(&s, "created_at:[2026-01-01T00:00:00Z TO *]").unwrap(),
            [1, 3]
        );
        assert_eq!(
            ids(&s, "created_at:>=2026-01-01T00:00:00Z").unwrap(),
            [1, 3]
        );
        assert_eq!(ids(&s, "created_at:<2026-01-01").unwrap(), [2]);
        assert_eq!(
            ids(&s, "created_at:{2026-01-02 TO 2026-02-01]").unwrap(),
            [3]
        );
        assert_eq!(ids(&s, "created_at:>now-35d").unwrap(), [3]);
        assert_eq!(ids(&s, "id:[2 TO 3]").unwrap(), [2, 3]);
        assert_eq!(ids(&s, "id:>1").unwrap(), [2, 3]);
        assert_eq!(ids(&s, "created_at:2026-01-02").unwrap(), [1]);
    }

    #[test]
    fn what_elasticsearch_rejects() {
        let s = store();
        for bad in [
            "(card",
            "\"card",
            "card AND",
            "AND card",
            "created_at:[2026-01-01 TO ]",
            "state.name:",
            "id:abc",
            "created_at:>yesterday",
            "card)",
        ] {
            assert!(ids(&s, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("ca*", "card"));
        assert!(glob_match("*rd", "card"));
        assert!(glob_match("c?rd", "card"));
        assert!(!glob_match("c?d", "card"));
        assert!(glob_match("*", ""));
    }
}
