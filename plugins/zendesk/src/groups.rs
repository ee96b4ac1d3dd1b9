//! Group (queue) names to ids, cached per service.
//!
//! The cache is loaded on first use from `GET /api/v2/groups` (cursor pagination) and ignores
//! deleted groups. A name it does not know makes it reload the list (a group created since the
//! last load), but at most once per [`RELOAD_ON_MISS_AFTER`]: a name still unknown after a load is
//! remembered as unknown until the next one, and a miss while the list is younger than that is
//! answered at once with the same validation error. So a misspelled queue mapping costs one
//! reload a minute, not one per ticket.

use std::{
    collections::HashSet,
    fmt,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use otai_plugin_sdk::{Error, ErrorKind, LogLevel};

use otai_plugin_sdk::http::Http;

use crate::api::GroupsPage;

const TARGET: &str = "otai_zendesk::groups";
/// A guard against a server that keeps saying "more" forever.
const MAX_PAGES: usize = 1000;
/// How many known names an "unknown group" error lists.
const NAMES_IN_ERROR: usize = 10;
/// A name the group list does not know reloads the list only if it was loaded at least this long
/// ago.
pub(crate) const RELOAD_ON_MISS_AFTER: Duration = Duration::from_secs(60);

/// One live group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group id.
    pub id: u64,
    /// Group name.
    pub name: String,
}

/// The list as last loaded.
#[derive(Debug)]
struct Loaded {
    groups: Arc<Vec<Group>>,
    at: Instant,
    /// Names looked up and not found in `groups`: unknown until the next load.
    unknown: HashSet<String>,
}

/// The clock the reload interval is measured with (replaced in tests).
type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The per-service name→id cache.
pub(crate) struct GroupCache {
    loaded: RwLock<Option<Loaded>>,
    /// Serializes loads so that concurrent first uses (and misses) fetch the list once.
    loading: tokio::sync::Mutex<()>,
    now: Clock,
}

impl Default for GroupCache {
    fn default() -> Self {
        GroupCache::with_clock(Arc::new(Instant::now))
    }
}

impl fmt::Debug for GroupCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupCache")
            .field("loaded", &self.loaded)
            .finish_non_exhaustive()
    }
}

impl GroupCache {
    fn with_clock(now: Clock) -> Self {
        GroupCache {
            loaded: RwLock::new(None),
            loading: tokio::sync::Mutex::new(()),
            now,
        }
    }

    /// The name of group `id` if the cache is loaded and knows it; never fetches.
    pub(crate) fn cached_name(&self, id: u64) -> Option<String> {
        let guard = self.loaded.read().unwrap_or_else(|p| p.into_inner());
        name_of(&guard.as_ref()?.groups, id)
    }

    /// Every live group, loading the list if needed.
    pub(crate) async fn all(&self, http: &Http) -> Result<Arc<Vec<Group>>, Error> {
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
    /// is unambiguous. An unknown name is a [`ErrorKind::Validation`] error listing known names;
    /// it reloads the list first only if the list is [`RELOAD_ON_MISS_AFTER`] old or older.
    pub(crate) async fn resolve(&self, http: &Http, name: &str) -> Result<u64, Error> {
        let groups = self.all(http).await?;
        if let Some(id) = find(&groups, name) {
            return Ok(id);
        }
        if !self.due_for_reload() {
            return Err(self.unknown(http, name, &groups));
        }
        let groups = {
            let _guard = self.loading.lock().await;
            // Another miss may have reloaded the list while this one waited.
            match self.snapshot() {
                Some(groups) if !self.due_for_reload() => groups,
                _ => self.reload(http).await?,
            }
        };
        match find(&groups, name) {
            Some(id) => Ok(id),
            None => Err(self.unknown(http, name, &groups)),
        }
    }

    fn snapshot(&self) -> Option<Arc<Vec<Group>>> {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|l| l.groups.clone())
    }

    /// Whether a miss may reload the list: it is not loaded, or was loaded long enough ago.
    fn due_for_reload(&self) -> bool {
        let guard = self.loaded.read().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .is_none_or(|l| (self.now)().saturating_duration_since(l.at) >= RELOAD_ON_MISS_AFTER)
    }

    /// The error for `name`, which `groups` (the current list) does not know; remembers the name
    /// as unknown until the next load, and says so in the log the first time.
    fn unknown(&self, http: &Http, name: &str, groups: &[Group]) -> Error {
        let first_miss = {
            let mut guard = self.loaded.write().unwrap_or_else(|p| p.into_inner());
            guard
                .as_mut()
                .is_some_and(|l| l.unknown.insert(name.to_string()))
        };
        if first_miss {
            http.log().log(LogLevel::Debug, TARGET, || {
                format!(
                    "Zendesk group \"{name}\" is not in the group list; it stays unknown until the list is reloaded (at most once every {} s, on a miss).",
                    RELOAD_ON_MISS_AFTER.as_secs()
                )
            });
        }
        unknown_group(name, groups)
    }

    async fn reload(&self, http: &Http) -> Result<Arc<Vec<Group>>, Error> {
        let groups = Arc::new(fetch_all(http).await?);
        http.log().log(LogLevel::Debug, TARGET, || {
            format!("Loaded {} Zendesk groups.", groups.len())
        });
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Some(Loaded {
            groups: groups.clone(),
            at: (self.now)(),
            unknown: HashSet::new(),
        });
        Ok(groups)
    }
}

/// The name of group `id` in `groups`, if it is there.
pub(crate) fn name_of(groups: &[Group], id: u64) -> Option<String> {
    groups.iter().find(|g| g.id == id).map(|g| g.name.clone())
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

fn unknown_group(name: &str, groups: &[Group]) -> Error {
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
    Error::new(
        ErrorKind::Validation,
        format!("unknown Zendesk group (queue) \"{name}\"; {known}"),
    )
}

async fn fetch_all(http: &Http) -> Result<Vec<Group>, Error> {
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
                        return Err(Error::new(
                            ErrorKind::InvalidResponse,
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
    Err(Error::new(
        ErrorKind::InvalidResponse,
        format!("GET /api/v2/groups: more than {MAX_PAGES} pages; giving up"),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;
    use wiremock::{
        matchers::{method, path},
        Mock, MockServer, ResponseTemplate,
    };

    use super::*;
    use otai_plugin_sdk::Logger;

    use crate::config::Config;

    /// A clock the test moves by hand.
    #[derive(Clone)]
    struct TestClock(Arc<Mutex<Instant>>);

    impl TestClock {
        fn new() -> Self {
            TestClock(Arc::new(Mutex::new(Instant::now())))
        }
        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
        fn cache(&self) -> GroupCache {
            let clock = self.clone();
            GroupCache::with_clock(Arc::new(move || *clock.0.lock().unwrap()))
        }
    }

    fn http(server: &MockServer) -> Http {
        let params = json!({"base_url": server.uri(), "oauth_token": "t"}).to_string();
        crate::http::transport(&Config::from_json(&params).unwrap(), Logger::silent())
            .unwrap()
            .0
    }

    fn page(names: &[(u64, &str)]) -> ResponseTemplate {
        let groups: Vec<_> = names
            .iter()
            .map(|(id, name)| json!({"id": id, "name": name, "deleted": false}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({
            "groups": groups,
            "meta": {"has_more": false, "after_cursor": null, "before_cursor": null}
        }))
    }

    #[tokio::test]
    async fn an_unknown_name_reloads_the_list_at_most_once_a_minute() {
        let server = MockServer::start().await;
        // The first load, then one reload per minute in which a miss happened.
        Mock::given(method("GET"))
            .and(path("/api/v2/groups"))
            .respond_with(page(&[(1, "Support")]))
            .expect(3)
            .mount(&server)
            .await;
        let http = http(&server);
        let clock = TestClock::new();
        let cache = clock.cache();
        assert_eq!(cache.resolve(&http, "Support").await.unwrap(), 1);

        let mut errors = Vec::new();
        for _ in 0..100 {
            errors.push(cache.resolve(&http, "Suport").await.unwrap_err());
        }
        clock.advance(RELOAD_ON_MISS_AFTER - Duration::from_secs(1));
        errors.push(cache.resolve(&http, "Sales").await.unwrap_err());
        clock.advance(Duration::from_secs(1));
        for _ in 0..100 {
            // The first reloads (a minute has passed); the rest are answered at once.
            errors.push(cache.resolve(&http, "Suport").await.unwrap_err());
        }
        assert_eq!(cache.resolve(&http, "Support").await.unwrap(), 1);
        clock.advance(RELOAD_ON_MISS_AFTER);
        errors.push(cache.resolve(&http, "Sales").await.unwrap_err());

        for e in &errors {
            assert_eq!(e.kind, ErrorKind::Validation);
            assert!(
                e.message.contains("known groups: \"Support\""),
                "{}",
                e.message
            );
        }
        assert_eq!(
            errors[0].message, errors[99].message,
            "the same error each time"
        );
        assert!(
            errors[100].message.contains("\"Sales\""),
            "{}",
            errors[100].message
        );
        // `expect(3)` is verified when the server drops.
    }

    #[tokio::test]
    async fn a_group_created_since_the_last_load_is_found_once_a_minute_has_passed() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/groups"))
            .respond_with(page(&[(1, "Support")]))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v2/groups"))
            .respond_with(page(&[(1, "Support"), (2, "Sales")]))
            .expect(1)
            .mount(&server)
            .await;
        let http = http(&server);
        let clock = TestClock::new();
        let cache = clock.cache();

        let e = cache.resolve(&http, "Sales").await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(
            cache.resolve(&http, "Sales").await.is_err(),
            "within the minute"
        );
        clock.advance(RELOAD_ON_MISS_AFTER);

        assert_eq!(cache.resolve(&http, "Sales").await.unwrap(), 2);
        assert_eq!(cache.cached_name(2).as_deref(), Some("Sales"));
    }

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
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(e.message.contains("\"Sales\""));
        assert!(e.message.contains("\"Support\""));
    }
}
