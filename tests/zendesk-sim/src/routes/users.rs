//! `GET /api/v2/users/me`: the authenticated user, or the anonymous user (`id: null`) for a
//! request without credentials.

use serde_json::json;

use super::{Reply, Res};
use crate::shared::Shared;

pub(crate) fn me(sh: &Shared, user_id: Option<u64>) -> Res {
    let store = sh.store.lock().unwrap();
    match user_id.and_then(|id| store.user(id)) {
        Some(u) => Ok(Reply::ok(json!({ "user": u.to_json(&store.base_url) }))),
        None => Ok(Reply::ok(json!({
            "user": {
                "id": null, "url": null, "name": "Anonymous user", "email": "invalid@example.com",
                "created_at": null, "updated_at": null, "time_zone": "UTC", "locale": "en-US",
                "role": "end-user", "verified": false, "active": true, "tags": [], "user_fields": {}
            }
        }))),
    }
}
