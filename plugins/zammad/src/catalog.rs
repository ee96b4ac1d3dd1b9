//! Zammad's lists of priorities and states, read once and kept: tickets carry ids, otai speaks
//! names. Groups are not listed (`GET /groups` needs `admin.group`, which an agent's token should
//! not have): writes name the group and Zammad resolves it (an unknown name is a 422 for that
//! ticket), reads take group names from `expand` and from the assets of `all=true`. If the
//! token may not read a list either (403), Zammad's seed lists stand in.
//!
//! Priorities: otai's `low`, `normal`, `high`, `urgent` map onto the active priorities the system
//! reports. The operator's `priorities` param decides first; otherwise a priority whose name is
//! the word itself (`2 normal`, `low`) is taken; otherwise, ordered by their leading number (or
//! id), `low` is the lowest, `urgent` the highest, `normal` the one Zammad creates tickets with
//! (`default_create`) or the middle one, `high` the one above `normal`. On a fresh Zammad that is
//! `1 low`, `2 normal`, `3 high`, and `urgent` → `3 high`.

use otai_plugin_sdk::{http::Http, vocabulary::PRIORITIES, Error, ErrorKind};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::api::ZNamed;

/// Lists per page when reading them (Zammad pages its index answers at 100 at most).
const PER_PAGE: usize = 100;

/// One list: id → name, in the system's order.
#[derive(Debug, Clone, Default)]
pub struct Names {
    entries: Vec<Entry>,
}

/// One group, priority or state.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Whether it can be set.
    pub active: bool,
    /// Priorities: new tickets get this one.
    pub default_create: bool,
}

impl Names {
    /// The name of `id`.
    pub fn name(&self, id: u64) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.name.as_str())
    }

    /// The active entry named `name` (ASCII case ignored).
    pub fn by_name(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.active && e.name.eq_ignore_ascii_case(name))
    }

    /// The active names, for messages.
    pub fn active_names(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.active)
            .map(|e| e.name.as_str())
            .collect()
    }

    /// A list of `(id, name)`, all active.
    pub fn from_pairs(pairs: &[(u64, &str)]) -> Names {
        Names {
            entries: pairs
                .iter()
                .map(|(id, name)| Entry {
                    id: *id,
                    name: name.to_string(),
                    active: true,
                    default_create: *name == "2 normal",
                })
                .collect(),
        }
    }

    fn from_raw(raw: Vec<Value>) -> Names {
        let entries = raw
            .into_iter()
            .filter_map(|v| {
                let default_create = v.get("default_create").and_then(Value::as_bool) == Some(true);
                let named: ZNamed = serde_json::from_value(v).ok()?;
                Some(Entry {
                    id: named.id,
                    name: named.name?,
                    active: named.active.unwrap_or(true),
                    default_create,
                })
            })
            .collect();
        Names { entries }
    }
}

/// otai priority → Zammad priority, decided from the list and the operator's choices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriorityMap {
    /// `(otai name, Zammad priority id, Zammad name)` for each of otai's four.
    pub pairs: Vec<(String, u64, String)>,
}

impl PriorityMap {
    /// The mapping for the active priorities of `list`; `chosen` are the operator's names.
    /// A chosen name the system does not have is a config error naming it.
    pub fn decide(list: &Names, chosen: &[(String, String)]) -> Result<PriorityMap, Error> {
        let mut ranked: Vec<&Entry> = list.entries.iter().filter(|e| e.active).collect();
        if ranked.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidResponse,
                "GET /api/v1/ticket_priorities: Zammad reports no active priority",
            ));
        }
        ranked.sort_by_key(|e| (leading_number(&e.name).unwrap_or(u64::MAX), e.id));
        let normal_at = ranked
            .iter()
            .position(|e| e.default_create)
            .unwrap_or((ranked.len() - 1) / 2);
        let mut pairs = Vec::new();
        for otai in PRIORITIES {
            let entry = if let Some((_, name)) = chosen.iter().find(|(o, _)| o == otai) {
                list.by_name(name).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Config,
                        format!(
                            "otai_zammad params: `priorities.{otai}` names the priority \"{name}\", \
                             which this Zammad does not have (active: {})",
                            list.active_names().join(", ")
                        ),
                    )
                })?
            } else if let Some(same) = ranked.iter().find(|e| word_of(&e.name) == otai) {
                same
            } else {
                match otai {
                    "low" => ranked[0],
                    "normal" => ranked[normal_at],
                    "high" => ranked[(normal_at + 1).min(ranked.len() - 1)],
                    _ => ranked[ranked.len() - 1],
                }
            };
            pairs.push((otai.to_string(), entry.id, entry.name.clone()));
        }
        Ok(PriorityMap { pairs })
    }

    /// The Zammad priority id for otai's `priority`.
    pub fn to_zammad(&self, priority: &str) -> Option<u64> {
        self.pairs
            .iter()
            .find(|(o, _, _)| o == priority)
            .map(|(_, id, _)| *id)
    }

    /// otai's name for a Zammad priority id: the first of low, normal, high, urgent mapped onto
    /// it (so `3 high` reads as `high` even when `urgent` also writes it); none if unmapped.
    pub fn to_otai(&self, id: u64) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(_, z, _)| *z == id)
            .map(|(o, _, _)| o.as_str())
    }
}

/// `2` of `2 normal`.
fn leading_number(name: &str) -> Option<u64> {
    name.split_whitespace().next()?.parse().ok()
}

/// `normal` of `2 normal`, lower case.
fn word_of(name: &str) -> String {
    let rest = match leading_number(name) {
        Some(_) => name.split_once(char::is_whitespace).map_or("", |(_, r)| r),
        None => name,
    };
    rest.trim().to_ascii_lowercase()
}

/// The kept lists.
#[derive(Debug, Default)]
struct Lists {
    priorities: Option<PriorityMap>,
    states: Option<Names>,
}

/// Lazily read, shared by every call of one service.
#[derive(Debug, Default)]
pub struct Catalog {
    lists: Mutex<Lists>,
    chosen_priorities: Vec<(String, String)>,
}

impl Catalog {
    /// An empty catalog; `chosen_priorities` from the params.
    pub fn new(chosen_priorities: Vec<(String, String)>) -> Catalog {
        Catalog {
            lists: Mutex::new(Lists::default()),
            chosen_priorities,
        }
    }

    /// The priority mapping, read once.
    pub async fn priorities(&self, http: &Http) -> Result<PriorityMap, Error> {
        let mut lists = self.lists.lock().await;
        if lists.priorities.is_none() {
            let names = read_list(http, "/api/v1/ticket_priorities", SEED_PRIORITIES).await?;
            lists.priorities = Some(PriorityMap::decide(&names, &self.chosen_priorities)?);
        }
        Ok(lists.priorities.clone().expect("read above"))
    }

    /// The ticket states, read once.
    pub async fn states(&self, http: &Http) -> Result<Names, Error> {
        let mut lists = self.lists.lock().await;
        if lists.states.is_none() {
            lists.states = Some(read_list(http, "/api/v1/ticket_states", SEED_STATES).await?);
        }
        Ok(lists.states.clone().expect("read above"))
    }
}

/// Zammad's seed priorities (ids, names): what a fresh install has.
const SEED_PRIORITIES: &[(u64, &str)] = &[(1, "1 low"), (2, "2 normal"), (3, "3 high")];
/// Zammad's seed states (ids, names).
const SEED_STATES: &[(u64, &str)] = &[
    (1, "new"),
    (2, "open"),
    (3, "pending reminder"),
    (4, "closed"),
    (5, "merged"),
    (7, "pending close"),
];

/// Every page of one list endpoint; `seed` if the credentials may not read it.
async fn read_list(http: &Http, path: &str, seed: &[(u64, &str)]) -> Result<Names, Error> {
    let mut all: Vec<Value> = Vec::new();
    for page in 1.. {
        let query = [
            ("page", page.to_string()),
            ("per_page", PER_PAGE.to_string()),
        ];
        let items: Vec<Value> = match http.get(path, &query).await {
            Ok(items) => items,
            Err(e) if e.kind == ErrorKind::Forbidden && page == 1 => {
                http.log().warn("otai_zammad::catalog", || {
                    format!("{path} is not readable with these credentials ({e}); assuming Zammad's default list")
                });
                return Ok(Names::from_pairs(seed));
            }
            Err(e) => return Err(e),
        };
        let short = items.len() < PER_PAGE;
        all.extend(items);
        if short {
            break;
        }
    }
    Ok(Names::from_raw(all))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names(raw: Value) -> Names {
        Names::from_raw(raw.as_array().unwrap().clone())
    }

    fn fresh_install() -> Names {
        names(json!([
            {"id": 1, "name": "1 low", "active": true},
            {"id": 2, "name": "2 normal", "active": true, "default_create": true},
            {"id": 3, "name": "3 high", "active": true}
        ]))
    }

    #[test]
    fn a_fresh_zammad_maps_urgent_onto_its_highest_priority() {
        let map = PriorityMap::decide(&fresh_install(), &[]).unwrap();
        let ids: Vec<u64> = PRIORITIES
            .iter()
            .map(|p| map.to_zammad(p).unwrap())
            .collect();
        assert_eq!(ids, [1, 2, 3, 3]);
        assert_eq!(map.to_otai(3), Some("high"));
        assert_eq!(map.to_otai(1), Some("low"));
    }

    #[test]
    fn five_priorities_match_by_word_and_rank_and_choices_win() {
        let list = names(json!([
            {"id": 5, "name": "5 very high"},
            {"id": 1, "name": "1 very low"},
            {"id": 2, "name": "2 low"},
            {"id": 3, "name": "3 normal", "default_create": true},
            {"id": 4, "name": "4 high"},
            {"id": 9, "name": "9 retired", "active": false}
        ]));
        let map = PriorityMap::decide(&list, &[]).unwrap();
        let ids: Vec<u64> = PRIORITIES
            .iter()
            .map(|p| map.to_zammad(p).unwrap())
            .collect();
        assert_eq!(ids, [2, 3, 4, 5]);
        assert_eq!(map.to_otai(1), None);

        let chosen = vec![("low".to_string(), "1 very low".to_string())];
        assert_eq!(
            PriorityMap::decide(&list, &chosen)
                .unwrap()
                .to_zammad("low"),
            Some(1)
        );
        let wrong = vec![("urgent".to_string(), "9 retired".to_string())];
        let e = PriorityMap::decide(&list, &wrong).unwrap_err();
        assert!(
            e.message.contains("priorities.urgent") && e.message.contains("9 retired"),
            "{}",
            e.message
        );
    }

    #[test]
    fn names_are_found_ignoring_case_and_only_when_active() {
        let groups = names(json!([
            {"id": 1, "name": "Users"},
            {"id": 2, "name": "Billing", "active": false}
        ]));
        assert_eq!(groups.by_name("users").map(|e| e.id), Some(1));
        assert!(groups.by_name("Billing").is_none());
        assert_eq!(groups.name(2), Some("Billing"));
        assert_eq!(groups.active_names(), ["Users"]);
    }
}
