//! `GET|POST /api/v1/tickets/search`: which backend answers, the filtering, sorting and paging,
//! for the two Zammad generations the simulator can be.
//!
//! [`SearchShape::Array`] is current Zammad (`CanSearch`, 2025): every `*` is stripped from
//! `query`; Elasticsearch answers only when it is on AND a query is left (a query without `:`
//! gets a trailing `*`: prefix match), with `condition` applied too; otherwise SQL answers:
//! the selector, AND a case-insensitive `LIKE %query%` over title, number and the articles'
//! body, from, to and subject (tickets without articles never match a query).
//!
//! [`SearchShape::Legacy`] is Zammad up to 2022 (`Ticket::Search`): any `condition` bypasses
//! Elasticsearch; in SQL a present `query` (even an empty one) means the `LIKE` only, the
//! condition ignored; only without `query` is the selector applied. Without a condition and
//! with Elasticsearch on, an empty query finds nothing.
//!
//! Defaults as Zammad's: `per_page` (or `limit`) 50, at most 200, `page` 1; sort `updated_at`
//! `desc` (`sort_by` / `order_by`, also lists; unknown columns fall back to the default).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    condition::{self, Cond},
    error::ApiError,
    params::{flag, int_param, str_param},
    query,
    store::{Store, TicketRec},
};

/// Which search backend the simulated Zammad has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchBackend {
    /// Elasticsearch configured: field queries (`state.name:new`) work.
    #[default]
    Elasticsearch,
    /// No Elasticsearch: the SQL `LIKE` fallback (`state.name:new` finds nothing).
    Sql,
}

/// Which Zammad generation answers a search (and how it treats `condition`, see the module
/// docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchShape {
    /// Current Zammad: an array of tickets (`with_total_count`, `full`, `only_total_count`
    /// variants).
    #[default]
    Array,
    /// Zammad up to 2022: `{"tickets": [ids], "tickets_count": N, "assets": {...}}` (an array
    /// only with `expand=true`).
    Legacy,
}

/// Maximum `per_page` of a search.
pub const MAX_PER_PAGE: i64 = 200;
/// Default `per_page` of a search.
pub const DEFAULT_PER_PAGE: i64 = 50;

/// A search request's parameters, read from Rails-style params.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    /// `query`, as sent (`None` when absent).
    pub query: Option<String>,
    /// `condition`, as sent.
    pub condition: Value,
    /// Page (1-based).
    pub page: i64,
    /// Page size after the clamp.
    pub per_page: i64,
    /// Sort columns.
    pub sort_by: Vec<String>,
    /// Directions, per column.
    pub order_by: Vec<String>,
    /// `expand=true`.
    pub expand: bool,
    /// `full=true`.
    pub full: bool,
    /// `with_total_count=true`.
    pub with_total_count: bool,
    /// `only_total_count=true`.
    pub only_total_count: bool,
}

fn list_param(p: &Map<String, Value>, key: &str) -> Vec<String> {
    match p.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

impl SearchParams {
    /// From the merged params of a request.
    pub fn from_params(p: &Map<String, Value>) -> Self {
        let per_page = int_param(p, "per_page")
            .or_else(|| int_param(p, "limit"))
            .unwrap_or(DEFAULT_PER_PAGE)
            .clamp(0, MAX_PER_PAGE);
        SearchParams {
            query: str_param(p, "query"),
            condition: p.get("condition").cloned().unwrap_or(Value::Null),
            page: int_param(p, "page").unwrap_or(1).max(1),
            per_page,
            sort_by: list_param(p, "sort_by"),
            order_by: list_param(p, "order_by"),
            expand: flag(p, "expand"),
            full: flag(p, "full"),
            with_total_count: flag(p, "with_total_count"),
            only_total_count: flag(p, "only_total_count"),
        }
    }
}

/// One page of results and the total.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The page's ticket ids, in order.
    pub ids: Vec<u64>,
    /// All matches.
    pub total: usize,
}

/// Runs a search.
pub fn search(
    store: &Store,
    backend: SearchBackend,
    shape: SearchShape,
    p: &SearchParams,
    now_ms: i64,
) -> Result<Found, ApiError> {
    let cond = condition::parse(&p.condition)?;
    let es = backend == SearchBackend::Elasticsearch;
    let hits: Vec<&TicketRec> = match shape {
        SearchShape::Array => {
            let q = p
                .query
                .as_deref()
                .map(|q| q.replace('*', ""))
                .filter(|q| !q.trim().is_empty());
            match q {
                Some(q) if es => {
                    let q = if q.contains(':') {
                        q
                    } else {
                        format!("{}*", q.trim())
                    };
                    es_hits(store, &q, cond.as_ref(), now_ms)
                }
                q => sql_hits(store, q.as_deref(), cond.as_ref(), true, now_ms),
            }
        }
        SearchShape::Legacy => {
            let has_condition = p.condition.as_object().is_some_and(|o| !o.is_empty());
            if !has_condition && es {
                match p.query.as_deref().filter(|q| !q.trim().is_empty()) {
                    None => Vec::new(),
                    Some(q) => {
                        let q = if q.contains(':') {
                            q.to_string()
                        } else {
                            format!("{}*", q.trim())
                        };
                        es_hits(store, &q, None, now_ms)
                    }
                }
            } else {
                match &p.query {
                    Some(q) => sql_hits(store, Some(&q.replace('*', "")), None, false, now_ms),
                    None => sql_hits(store, None, cond.as_ref(), false, now_ms),
                }
            }
        }
    };
    let mut hits = hits;
    sort(store, &mut hits, &p.sort_by, &p.order_by);
    let total = hits.len();
    let offset = ((p.page - 1) * p.per_page) as usize;
    let ids = hits
        .into_iter()
        .skip(offset)
        .take(p.per_page as usize)
        .map(|t| t.id)
        .collect();
    Ok(Found { ids, total })
}

fn es_hits<'a>(store: &'a Store, q: &str, cond: Option<&Cond>, now_ms: i64) -> Vec<&'a TicketRec> {
    let Ok(parsed) = query::parse(q) else {
        tracing::debug!(
            query = q,
            "Elasticsearch would reject this query; empty result."
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in store.tickets.values() {
        match query::matches(&parsed, store, t, now_ms) {
            Ok(true) => {
                if cond.is_none_or(|c| condition::matches(c, store, t, now_ms)) {
                    out.push(t);
                }
            }
            Ok(false) => {}
            Err(e) => {
                tracing::debug!(query = q, error = %e.0, "Elasticsearch would reject this query; empty result.");
                return Vec::new();
            }
        }
    }
    out
}

fn sql_hits<'a>(
    store: &'a Store,
    q: Option<&str>,
    cond: Option<&Cond>,
    case_insensitive: bool,
    now_ms: i64,
) -> Vec<&'a TicketRec> {
    let fold = |s: &str| {
        if case_insensitive {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let needle = q.map(fold);
    store
        .tickets
        .values()
        .filter(|t| cond.is_none_or(|c| condition::matches(c, store, t, now_ms)))
        .filter(|t| match &needle {
            None => true,
            Some(n) => {
                let arts = store.article_recs(t.id);
                // INNER JOIN articles: a ticket without articles never matches a query.
                !arts.is_empty()
                    && (fold(&t.title).contains(n.as_str())
                        || fold(&t.number).contains(n.as_str())
                        || arts.iter().any(|a| {
                            [
                                Some(&a.body),
                                a.from.as_ref(),
                                a.to.as_ref(),
                                a.subject.as_ref(),
                            ]
                            .into_iter()
                            .flatten()
                            .any(|s| fold(s).contains(n.as_str()))
                        }))
            }
        })
        .collect()
}

const SORTABLE: &[&str] = &[
    "id",
    "number",
    "title",
    "group_id",
    "priority_id",
    "state_id",
    "owner_id",
    "customer_id",
    "created_at",
    "updated_at",
    "pending_time",
    "article_count",
    "created_by_id",
    "updated_by_id",
];

fn sort(store: &Store, hits: &mut [&TicketRec], sort_by: &[String], order_by: &[String]) {
    let mut keys: Vec<(String, bool)> = Vec::new();
    for (i, col) in sort_by.iter().enumerate() {
        let known = SORTABLE.contains(&col.as_str()) || store.attribute_names.contains(col);
        if !known {
            continue;
        }
        let desc = !order_by
            .get(i)
            .or(order_by.first())
            .is_some_and(|o| o.eq_ignore_ascii_case("asc"));
        keys.push((col.clone(), desc));
    }
    if keys.is_empty() {
        keys.push(("updated_at".into(), true));
    }
    let last_desc = keys.last().is_some_and(|k| k.1);
    hits.sort_by(|a, b| {
        for (col, desc) in &keys {
            let va = condition::ticket_value(store, a, col);
            let vb = condition::ticket_value(store, b, col);
            let ord = cmp_values(&va, &vb);
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        if last_desc {
            b.id.cmp(&a.id)
        } else {
            a.id.cmp(&b.id)
        }
    });
}

fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (Value::Null, Value::Null) => Equal,
        (Value::Null, _) => Less,
        (_, Value::Null) => Greater,
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (x, y) => x.to_string().cmp(&y.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        params::merged,
        stamp::Now,
        store::{NewArticle, NewTicket, DEFAULT_AGENT_LOGIN},
    };
    use serde_json::json;

    fn store() -> Store {
        let mut s = Store::new(DEFAULT_AGENT_LOGIN, Now::at(0));
        for (i, (title, state)) in [
            ("Card lost", "new"),
            ("Refund", "open"),
            ("Card again", "new"),
        ]
        .into_iter()
        .enumerate()
        {
            s.insert_ticket(
                NewTicket {
                    title: title.into(),
                    state: Some(state.into()),
                    updated_at: Some(1_000 * (10 - i as i64)),
                    articles: vec![NewArticle {
                        body: format!("{title}!"),
                        ..NewArticle::default()
                    }],
                    ..NewTicket::default()
                },
                Now::at(0),
            )
            .unwrap();
        }
        s.insert_ticket(
            NewTicket {
                title: "No article card".into(),
                ..NewTicket::default()
            },
            Now::at(0),
        )
        .unwrap();
        s
    }

    fn run(s: &Store, b: SearchBackend, shape: SearchShape, params: Value) -> Vec<u64> {
        let p = SearchParams::from_params(&merged(&[], &params));
        search(s, b, shape, &p, 0).unwrap().ids
    }

    const NEW: &str = r#"{"ticket.state_id": {"operator": "is", "value": ["1"]}}"#;

    #[test]
    fn field_queries_need_elasticsearch() {
        let s = store();
        use SearchBackend::*;
        use SearchShape::*;
        let q = json!({"query": "state.name:new"});
        assert_eq!(run(&s, Elasticsearch, Array, q.clone()), [1, 3, 4]);
        assert_eq!(run(&s, Sql, Array, q.clone()), Vec::<u64>::new());
        assert_eq!(run(&s, Elasticsearch, Legacy, q), [1, 3, 4]);
        // Bare words: ES prefix-matches tokens, SQL LIKEs substrings (not ticket 4: no article).
        assert_eq!(
            run(&s, Elasticsearch, Array, json!({"query": "car"})),
            [1, 3, 4]
        );
        assert_eq!(run(&s, Sql, Array, json!({"query": "ARD"})), [1, 3]);
        assert_eq!(
            run(&s, Sql, Legacy, json!({"query": "ARD"})),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn condition_in_both_backends_and_generations() {
        let s = store();
        let cond: Value = serde_json::from_str(NEW).unwrap();
        for b in [SearchBackend::Elasticsearch, SearchBackend::Sql] {
            for shape in [SearchShape::Array, SearchShape::Legacy] {
                assert_eq!(
                    run(&s, b, shape, json!({"condition": cond})),
                    [1, 3, 4],
                    "{b:?} {shape:?}"
                );
            }
            // Current Zammad: condition and query together.
            assert_eq!(
                run(
                    &s,
                    b,
                    SearchShape::Array,
                    json!({"condition": cond, "query": "again"})
                ),
                [3],
                "{b:?}"
            );
            // Legacy: any query (even an empty one) makes the SQL search ignore the condition.
            assert_eq!(
                run(
                    &s,
                    b,
                    SearchShape::Legacy,
                    json!({"condition": cond, "query": ""})
                ),
                [1, 2, 3],
                "{b:?}"
            );
        }
        // `*` is stripped: a lone `*` is no query at all.
        assert_eq!(
            run(
                &s,
                SearchBackend::Elasticsearch,
                SearchShape::Array,
                json!({"condition": cond, "query": "*"})
            ),
            [1, 3, 4]
        );
        assert_eq!(
            run(
                &s,
                SearchBackend::Elasticsearch,
                SearchShape::Legacy,
                json!({"query": ""})
            ),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn paging_clamps_and_sorting() {
        let s = store();
        let p = |v: Value| SearchParams::from_params(&merged(&[], &v));
        assert_eq!(p(json!({})).per_page, 50);
        assert_eq!(p(json!({"per_page": 1000})).per_page, 200);
        assert_eq!(p(json!({"limit": "7"})).per_page, 7);
        assert_eq!(p(json!({"page": 0})).page, 1);
        let sql = SearchBackend::Sql;
        let arr = SearchShape::Array;
        assert_eq!(run(&s, sql, arr, json!({"per_page": 2})), [1, 2]);
        assert_eq!(run(&s, sql, arr, json!({"per_page": 2, "page": 2})), [3, 4]);
        assert_eq!(
            run(&s, sql, arr, json!({"sort_by": "id", "order_by": "asc"})),
            [1, 2, 3, 4]
        );
        assert_eq!(
            run(&s, sql, arr, json!({"sort_by": "title", "order_by": "asc"})),
            [3, 1, 4, 2]
        );
        assert_eq!(
            run(
                &s,
                sql,
                arr,
                json!({"sort_by": "nonsense", "order_by": "asc"})
            ),
            [1, 2, 3, 4]
        );
        let found = search(&s, sql, arr, &p(json!({"per_page": 1})), 0).unwrap();
        assert_eq!(found.total, 4);
    }

    #[test]
    fn a_query_elasticsearch_rejects_finds_nothing() {
        let s = store();
        let es = SearchBackend::Elasticsearch;
        // In current Zammad the `*` of an open range is stripped, leaving `[x TO ]`.
        assert_eq!(
            run(
                &s,
                es,
                SearchShape::Array,
                json!({"query": "updated_at:[1970-01-01T00:00:00Z TO *]"})
            ),
            Vec::<u64>::new()
        );
        assert_eq!(
            run(
                &s,
                es,
                SearchShape::Legacy,
                json!({"query": "updated_at:[1970-01-01T00:00:00Z TO *]"})
            )
            .len(),
            4
        );
        assert_eq!(
            run(
                &s,
                es,
                SearchShape::Array,
                json!({"query": "updated_at:>=1970-01-01T00:00:00Z"})
            )
            .len(),
            4
        );
        assert_eq!(
            run(&s, es, SearchShape::Array, json!({"query": "(card"})),
            Vec::<u64>::new()
        );
    }
}
