//! Group (queue) names to ids, cached per service.
//!
//! The cache is loaded on first use from `GET /api/v2/groups` (cursor pagination), ignores deleted
//! groups, and is refreshed once when a name is not found (a group created since the last load).

use std::sync::{Arc, RwLock};

use otai_plugin_api::{ErrorKind, LogLevel, PluginError};

use crate::{api::GroupsPage, http::Http};

const TARGET: &str = "otai_zendesk::groups";
/// A guard against a server that keeps saying "more" forever.
const MAX_PAGES: usize = 1000;
/// How many known names an "unknown group" error lists.
const NAMES_IN_ERROR: usize = 10;

/// One live group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group id.
    pub id: u64,
    /// Group name.
    pub name: String,
}

/// The per-service name→id cache.
#[derive(Debug, Default)]
pub(crate) struct GroupCache {
    groups: RwLock<Option<Arc<Vec<Group>>>>,
    /// Serializes loads so that concurrent first uses fetch the list once.
    loading: tokio::sync::Mutex<()>,
}

impl GroupCache {
    /// The name of group `id` if the cache is loaded and knows it; never fetches.
    pub(crate) fn cached_name(&self, id: u64) -> Option<String> {
        let guard = self.groups.read().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()?
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.name.clone())
    }

    /// Every live group, loading the list if needed.
    pub(crate) async fn all(&self, http: &Http) -> Result<Arc<Vec<Group>>, PluginError> {
        if let Some(groups) = self.snapshot() {
            return Ok(groups);
        }
        let _guard = self.loading.lock().await;
        if let Some(groups) = self.snapshot() {
            return Ok(groups);
        }
        self.reload(http).await
    }

    /// Resolves a group name to its id: exact match first, then a case-insensitive match if it
    /// is unambiguous. An unknown name is a [`ErrorKind::VALIDATION`] error listing known names.
    pub(crate) async fn resolve(&self, http: &Http, name: &str) -> Result<u64, PluginError> {
        let had_cache = self.snapshot().is_some();
        let groups = self.all(http).await?;
        if let Some(id) = find(&groups, name) {
            return Ok(id);
        }
        let groups = if had_cache {
            let _guard = self.loading.lock().await;
            self.reload(http).await?
        } else {
            groups
        };
        find(&groups, name).ok_or_else(|| unknown_group(name, &groups))
    }

    fn snapshot(&self) -> Option<Arc<Vec<Group>>> {
        self.groups
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn reload(&self, http: &Http) -> Result<Arc<Vec<Group>>, PluginError> {
        let groups = Arc::new(fetch_all(http).await?);
        http.log().log(LogLevel::Debug, TARGET, || {
            format!("Loaded {} Zendesk groups.", groups.len())
        });
        *self.groups.write().unwrap_or_else(|p| p.into_inner()) = Some(groups.clone());
        Ok(groups)
    }
}

fn find(groups: &[Group], name: &str) -> Option<u64> {
    let name = name.trim();
    if let Some(g) = groups.iter().find(|g| g.name == name) {
        return Some(g.id);
    }
    let mut matches = groups.iter().filter(|g| g.name.eq_ignore_ascii_case(name));
    match (matches.next(), matches.next()) {
        (Some(g), None) => Some(g.id),
        _ => None,
    }
}

fn unknown_group(name: &str, groups: &[Group]) -> PluginError {
    let mut names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    names.sort_unstable();
    let shown = names
        .iter()
        .take(NAMES_IN_ERROR)
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let more = names.len().saturating_sub(NAMES_IN_ERROR);
    let known = match (names.len(), more) {
        (0, _) => "no groups are visible to this user".to_string(),
        (_, 0) => format!("known groups: {shown}"),
        (_, more) => format!("known groups: {shown} and {more} more"),
    };
    PluginError::new(
        ErrorKind::VALIDATION,
        format!("unknown Zendesk group (queue) \"{name}\"; {known}"),
    )
}

async fn fetch_all(http: &Http) -> Result<Vec<Group>, PluginError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    let mut offset_page: u32 = 1;
    for _ in 0..MAX_PAGES {
        let mut query = vec![("page[size]", "100".to_string())];
        if let Some(cursor) = &after {
            query.push(("page[after]", cursor.clone()));
        } else if offset_page > 1 {
            // Only when the server answered with offset pagination (no `meta`).
            query = vec![
                ("page", offset_page.to_string()),
                ("per_page", "100".to_string()),
            ];
        }
        let page: GroupsPage = http.get("/api/v2/groups", &query).await?;
        out.extend(page.groups.into_iter().filter_map(|g| {
            if g.deleted == Some(true) {
                return None;
            }
            Some(Group {
                id: g.id?,
                name: g.name?,
            })
        }));
        match page.meta {
            Some(meta) => match (meta.has_more, meta.after_cursor) {
                (Some(true), Some(cursor)) if !cursor.is_empty() => {
                    if after.as_deref() == Some(cursor.as_str()) {
                        return Err(PluginError::new(
                            ErrorKind::INVALID_RESPONSE,
                            "GET /api/v2/groups: Zendesk returned the same cursor twice",
                        ));
                    }
                    after = Some(cursor);
                }
                _ => return Ok(out),
            },
            None if page.next_page.is_some() => offset_page += 1,
            None => return Ok(out),
        }
    }
    Err(PluginError::new(
        ErrorKind::INVALID_RESPONSE,
        format!("GET /api/v2/groups: more than {MAX_PAGES} pages; giving up"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> Vec<Group> {
        vec![
            Group {
                id: 1,
                name: "Support".into(),
            },
            Group {
                id: 2,
                name: "Billing".into(),
            },
            Group {
                id: 3,
                name: "billing".into(),
            },
        ]
    }

    #[test]
    fn exact_then_unambiguous_case_insensitive() {
        assert_eq!(find(&groups(), "Support"), Some(1));
        assert_eq!(find(&groups(), "support"), Some(1));
        assert_eq!(find(&groups(), "billing"), Some(3));
        assert_eq!(find(&groups(), "BILLING"), None, "ambiguous");
        assert_eq!(find(&groups(), "Sales"), None);
    }

    #[test]
    fn unknown_group_lists_names() {
        let e = unknown_group("Sales", &groups());
        assert_eq!(e.kind, ErrorKind::VALIDATION);
        assert!(e.message.contains("\"Sales\""));
        assert!(e.message.contains("\"Support\""));
    }
}
