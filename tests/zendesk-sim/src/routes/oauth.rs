//! `POST /oauth/tokens`: the body (JSON, as Zendesk documents it, or RFC 6749's
//! `application/x-www-form-urlencoded`) and the client's optional HTTP Basic authentication
//! (RFC 6749 2.3.1) become [`TokenParams`]; the answer carries RFC 6749 5.1's
//! `Cache-Control: no-store` and `Pragma: no-cache`. The grants are in [`crate::oauth`].

use std::time::Instant;

use base64::Engine as _;

use otai_sim_kit::{Reply, Req};

use crate::{
    error::ApiError,
    oauth::{params_from_form, params_from_json, TokenParams},
    shared::Shared,
};

/// What the token endpoint reads of a request: the body and two headers.
pub(crate) struct TokenCall<'a> {
    pub req: &'a Req,
    pub content_type: Option<&'a str>,
    pub authorization: Option<&'a str>,
}

impl<'a> TokenCall<'a> {
    /// The token request `req` carries.
    pub fn of(req: &'a Req) -> Self {
        TokenCall {
            req,
            content_type: req.header("content-type"),
            authorization: req.header("authorization"),
        }
    }
}

/// Answers a token request and records it; `faulted` when a fault will break the answer's body.
pub(crate) fn handle(sh: &Shared, call: &TokenCall, faulted: bool) -> Reply {
    let parsed = params(call);
    let mut oauth = sh.oauth.lock().unwrap();
    let (mut record, result, basic) = match parsed {
        Ok((p, basic)) => (p.record(), oauth.token(&p, Instant::now()), basic),
        Err(e) => (TokenParams::default().record(), Err(e), false),
    };
    let mut reply = match result {
        Ok(v) => Reply::ok(v),
        Err(e) => {
            record.error = e.body["error"].as_str().map(str::to_string);
            let mut r = Reply::from(e);
            // RFC 6749 5.2: a client that authenticated with a header gets the scheme back.
            if basic && r.status == 401 {
                r.headers
                    .push(("www-authenticate".into(), "Basic realm=\"Zendesk\"".into()));
            }
            r
        }
    };
    record.status = Some(reply.status);
    record.faulted = faulted;
    oauth.record(record);
    no_store(&mut reply);
    reply
}

/// Records a token request a fault answered (`status`) or dropped (`None`) unprocessed.
pub(crate) fn record_fault(sh: &Shared, call: &TokenCall, status: Option<u16>) {
    let mut record = params(call)
        .map(|(p, _)| p.record())
        .unwrap_or_else(|_| TokenParams::default().record());
    record.status = status;
    record.faulted = true;
    sh.oauth.lock().unwrap().record(record);
}

/// Token answers must not be cached (RFC 6749 5.1).
pub(crate) fn no_store(reply: &mut Reply) {
    reply
        .headers
        .push(("cache-control".into(), "no-store".into()));
    reply.headers.push(("pragma".into(), "no-cache".into()));
}

/// The parameters, and whether the client authenticated with HTTP Basic.
fn params(call: &TokenCall) -> Result<(TokenParams, bool), ApiError> {
    let mut p = body_params(call.req, call.content_type)?;
    let Some((id, secret)) = basic_client(call.authorization)? else {
        return Ok((p, false));
    };
    // RFC 6749 2.3: one authentication method per request.
    if p.client_secret.is_some() || p.client_id.as_ref().is_some_and(|b| *b != id) {
        return Err(ApiError::oauth(
            400,
            "invalid_request",
            "The client authenticated both in the Authorization header and in the body.",
        ));
    }
    p.client_id = Some(id);
    p.client_secret = Some(secret);
    Ok((p, true))
}

/// JSON or form, by `Content-Type`; without a known one, by whether the body looks like JSON.
fn body_params(req: &Req, content_type: Option<&str>) -> Result<TokenParams, ApiError> {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let json = if ct.starts_with("application/x-www-form-urlencoded") {
        false
    } else if ct.starts_with("application/json") {
        true
    } else {
        req.body.trim_ascii_start().starts_with(b"{")
    };
    if !json {
        return params_from_form(&req.body);
    }
    let bad = || ApiError::oauth(400, "invalid_request", "The body is not a JSON object.");
    let value: serde_json::Value = serde_json::from_slice(&req.body).map_err(|_| bad())?;
    params_from_json(value.as_object().ok_or_else(bad)?)
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))`, if that is the header's
/// scheme; any other scheme is ignored (a client may still send its old bearer token).
fn basic_client(header: Option<&str>) -> Result<Option<(String, String)>, ApiError> {
    let Some((scheme, value)) = header.map(str::trim).and_then(|h| h.split_once(' ')) else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let bad = || ApiError::oauth(401, "invalid_client", "Malformed HTTP Basic credentials.");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> Req {
        Req::new("POST", "/oauth/tokens").with_body(body.to_string())
    }

    fn basic(s: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }

    #[test]
    fn json_form_and_basic_client_authentication() {
        let r = req(r#"{"grant_type": "client_credentials", "client_id": "c"}"#);
        let call = TokenCall {
            req: &r,
            content_type: None,
            authorization: None,
        };
        let (p, basic_used) = params(&call).unwrap();
        assert_eq!(
            (p.grant_type.as_deref(), p.client_id.as_deref(), basic_used),
            (Some("client_credentials"), Some("c"), false)
        );

        let r = req("grant_type=refresh_token&refresh_token=rt");
        let h = basic("my+id:s%3Acret");
        let call = TokenCall {
            req: &r,
            content_type: Some("application/x-www-form-urlencoded; charset=utf-8"),
            authorization: Some(&h),
        };
        let (p, basic_used) = params(&call).unwrap();
        assert!(basic_used);
        assert_eq!(p.client_id.as_deref(), Some("my id"));
        assert_eq!(p.client_secret.as_deref(), Some("s:cret"));
        assert_eq!(p.refresh_token.as_deref(), Some("rt"));

        // Both header and body secret: refused; a bearer header is ignored.
        let r = req("grant_type=refresh_token&client_secret=x");
        let call = TokenCall {
            req: &r,
            content_type: None,
            authorization: Some(&h),
        };
        assert_eq!(params(&call).unwrap_err().body["error"], "invalid_request");
        let call = TokenCall {
            req: &r,
            content_type: None,
            authorization: Some("Bearer old"),
        };
        assert!(params(&call).is_ok());
        let r = req("[1]");
        let call = TokenCall {
            req: &r,
            content_type: Some("application/json"),
            authorization: None,
        };
        assert_eq!(params(&call).unwrap_err().status, 400);
    }
}
