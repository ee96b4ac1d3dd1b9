//! `PUT /api/v2/tickets/update_many` (batch and bulk forms) and job statuses.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::{tickets::ids_param, Reply, Req, Res};
use crate::{
    error::ApiError,
    jobs::{new_job_id, Job, JobItem},
    shared::Shared,
    store::id_of,
};

/// Most items per call.
const MAX_ITEMS: usize = 100;

pub(crate) fn update_many(sh: &Arc<Shared>, req: &Req) -> Res {
    let body = match req.json()? {
        Value::Object(o) => o,
        _ => {
            return Err(ApiError::bad_request(
                "InvalidValue",
                "The body must be a JSON object",
            ))
        }
    };
    let (items, bulk) = match (body.get("tickets"), body.get("ticket")) {
        (Some(Value::Array(list)), _) => {
            if list.len() > MAX_ITEMS {
                return Err(ApiError::too_many("tickets"));
            }
            let mut items = Vec::new();
            for t in list {
                let mut o: Map<String, Value> = t.as_object().cloned().ok_or_else(|| {
                    ApiError::bad_request("InvalidValue", "each ticket must be an object")
                })?;
                let id = o.remove("id").as_ref().and_then(id_of).ok_or_else(|| {
                    ApiError::bad_request("InvalidValue", "each ticket needs an id")
                })?;
                items.push(JobItem { id, body: o });
            }
            (items, false)
        }
        (_, Some(Value::Object(t))) => {
            let ids = ids_param(req, "ids")?;
            let items = ids
                .into_iter()
                .map(|id| JobItem {
                    id,
                    body: t.clone(),
                })
                .collect();
            (items, true)
        }
        _ => {
            return Err(ApiError::bad_request(
                "InvalidValue",
                "Expected {\"tickets\": [...]} or ?ids= with {\"ticket\": {...}}",
            ))
        }
    };
    if let Some(tag) = &req.conflict_tag {
        let mut store = sh.store.lock().unwrap();
        for item in &items {
            store.agent_edit(item.id, tag);
        }
    }
    let id = new_job_id(&mut sh.job_ids.lock().unwrap());
    let job = Job {
        id: id.clone(),
        status: "queued".into(),
        total: items.len(),
        progress: None,
        message: None,
        results: None,
        items,
        bulk,
        author_id: req.user_id,
    };
    let base = sh.base_url.clone();
    let answer = job.to_json(&base);
    {
        let mut jobs = sh.jobs.lock().unwrap();
        jobs.insert(id.clone(), job);
    }
    sh.counters.lock().unwrap().jobs_submitted += 1;
    sh.spawn_job(id);
    Ok(Reply::ok(json!({ "job_status": answer })))
}

pub(crate) fn show(sh: &Shared, id: &str) -> Res {
    let jobs = sh.jobs.lock().unwrap();
    let j = jobs.get(id).ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(json!({ "job_status": j.to_json(&sh.base_url) })))
}

pub(crate) fn show_many(sh: &Shared, req: &Req) -> Res {
    let raw = req
        .q("ids")
        .ok_or_else(|| ApiError::bad_request("InvalidValue", "ids is required"))?;
    let ids: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.len() > 100 {
        return Err(ApiError::too_many("ids"));
    }
    let jobs = sh.jobs.lock().unwrap();
    let list: Vec<Value> = ids
        .iter()
        .filter_map(|id| jobs.get(*id))
        .map(|j| j.to_json(&sh.base_url))
        .collect();
    Ok(Reply::ok(json!({ "job_statuses": list })))
}

pub(crate) fn list(sh: &Shared) -> Res {
    let jobs = sh.jobs.lock().unwrap();
    let list: Vec<Value> = jobs.values().map(|j| j.to_json(&sh.base_url)).collect();
    Ok(Reply::ok(json!({
        "job_statuses": list, "next_page": null, "previous_page": null, "count": list.len()
    })))
}
