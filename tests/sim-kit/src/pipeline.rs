//! The per-request pipeline (the order is [`crate::api`]'s): a hyper request in, a hyper
//! response or a dropped connection out. Shared by every simulator so that a fault drill means
//! the same against each of them.

use std::{sync::Arc, time::Duration, time::Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, Request, Response};

use crate::{
    admin,
    api::{Admission, RequestKind, SimApi},
    clock::http_date,
    faults::Fault,
    http::{normalize_path, Reply, Req},
    state::SimState,
};

/// The body a [`Fault::Malformed`] answer carries: an HTML error page where JSON was expected,
/// as a proxy in front of a help desk sends.
pub const MALFORMED_BODY: &[u8] = b"{\"error\": <html><body>upstream hiccup</body></html>";

/// The error that makes hyper close the connection without an answer.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// Serves one request.
pub(crate) async fn handle<A: SimApi>(
    state: Arc<SimState>,
    api: Arc<A>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let started = Instant::now();
    let req = read(req).await;
    if req.is_admin() {
        let reply = admin::handle(&state, &*api, &req);
        return Ok(respond(reply, None, Vec::new()));
    }
    let kind = api.kind(&req);
    if kind == RequestKind::Api {
        state.count(|s| s.requests += 1);
    }
    let delay = state.fault_state().delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let admission = match kind {
        RequestKind::Api => api.admit(&req),
        RequestKind::Auxiliary => Admission::default(),
    };
    let mut headers = admission.headers;
    headers.push((api.request_id_header().to_string(), state.next_request_id()));

    let (reply, fault) = match admission.refusal {
        Some(refusal) => (refusal, None),
        None => match decide(&state, &req, api.partial_writes()).await {
            Decision::Drop => {
                api.connection_dropped(&req);
                return Err(Dropped);
            }
            Decision::Error {
                status,
                retry_after,
            } => {
                let mut reply = api.fault_error(&req, status, retry_after);
                if let Some(s) = retry_after.filter(|_| reply.header("retry-after").is_none()) {
                    reply.headers.push(("retry-after".into(), s.to_string()));
                }
                (reply, None)
            }
            Decision::Proceed(fault) => (api.serve(&req, fault.as_ref()), fault),
        },
    };
    let status = reply.status;
    if kind == RequestKind::Api {
        state.count(|s| *s.by_status.entry(status).or_default() += 1);
    }
    tracing::info!(
        sim = api.name(),
        method = %req.method,
        path = %req.raw_path,
        status,
        auxiliary = kind == RequestKind::Auxiliary,
        ms = started.elapsed().as_millis() as u64,
        "Served request."
    );
    headers.push(("date".into(), http_date(state.clock().now())));
    Ok(respond(reply, fault, headers))
}

/// A hyper request as a [`Req`] (the body read in full; an unreadable body reads as empty).
async fn read(req: Request<Incoming>) -> Req {
    let raw_path = req.uri().path().to_string();
    let query = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let headers = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let method = req.method().as_str().to_ascii_uppercase();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    Req {
        method,
        path: normalize_path(&raw_path),
        raw_path,
        query,
        headers,
        body,
    }
}

/// What the fault rule that fired (if any) means for the request.
enum Decision {
    /// Close the connection without an answer.
    Drop,
    /// Answer the simulator's error instead of processing the request.
    Error {
        status: u16,
        retry_after: Option<u64>,
    },
    /// Process the request (a delay has been waited out), with the fault still to apply.
    Proceed(Option<Fault>),
}

/// Picks the fault for a request (counting it) and waits out a `delay` fault. `partial_writes`:
/// the simulator applies [`Fault::StopMidWrite`] itself; otherwise its writes are atomic and the
/// fault is a 500.
async fn decide(state: &SimState, req: &Req, partial_writes: bool) -> Decision {
    let fault = state.fault_state().pick(&req.method, &req.path);
    if fault.is_some() {
        state.count(|s| s.faults_injected += 1);
    }
    match fault {
        Some(Fault::Drop) => {
            state.count(|s| s.dropped_connections += 1);
            tracing::info!(method = %req.method, path = %req.raw_path, "Dropped the connection (fault).");
            Decision::Drop
        }
        Some(Fault::Error {
            status,
            retry_after,
        }) => Decision::Error {
            status,
            retry_after: retry_after.or((status == 503).then_some(1)),
        },
        Some(Fault::StopMidWrite { .. }) if !partial_writes => Decision::Error {
            status: 500,
            retry_after: None,
        },
        other => {
            if let Some(Fault::Delay { ms }) = &other {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
            }
            Decision::Proceed(other)
        }
    }
}

/// The hyper response: `headers` then the reply's, the body broken if `fault` says so.
fn respond(
    reply: Reply,
    fault: Option<Fault>,
    mut headers: Vec<(String, String)>,
) -> Response<Full<Bytes>> {
    headers.extend(reply.headers);
    let mut bytes = match (&reply.body, &reply.text) {
        (Some(v), _) => serde_json::to_vec(v).unwrap_or_default(),
        (None, Some(text)) => text.as_bytes().to_vec(),
        (None, None) => Vec::new(),
    };
    match fault {
        Some(Fault::Truncate) => bytes.truncate(bytes.len() / 2),
        Some(Fault::Malformed) => bytes = MALFORMED_BODY.to_vec(),
        _ => {}
    }
    let mut builder = Response::builder().status(reply.status);
    if reply.body.is_some() {
        builder = builder.header("content-type", "application/json; charset=utf-8");
    }
    for (k, v) in headers {
        builder = builder.header(k, v);
    }
    builder
        .body(Full::new(Bytes::from(bytes)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
