//! The GenericInterface's side of the SDK's transport: how its HTTP errors read (500 with a
//! `faultstring` for transport errors) and what to check. Credentials travel in the data
//! ([`crate::gi`]), not in a header.

use otai_plugin_sdk::{
    http::{Http, Vendor},
    Error, Logger,
};
use serde_json::Value;

use crate::{config::Config, PLUGIN_NAME};

/// How the GenericInterface's HTTP errors read.
pub(crate) const GENERIC_INTERFACE: Vendor = Vendor {
    plugin: PLUGIN_NAME,
    name: "the GenericInterface",
    request_id_header: "x-request-id",
    error_detail,
    hint,
};

/// `faultstring`, or the plain text the transport sends.
fn error_detail(body: &[u8]) -> Option<String> {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        if let Some(fault) = json.get("faultstring").and_then(Value::as_str) {
            return Some(fault.trim().to_string());
        }
    }
    otai_plugin_sdk::http::error_detail(body)
}

fn hint(status: u16) -> &'static str {
    match status {
        500 => " The GenericInterface answers 500 when an operation failed midway (see its message above), when no route of the web service matches (check `base_url` and `routes` against Admin > Web Services), or when it could not read the request.",
        404 => " Check `base_url`: the web service name, and the /otobo/ or /otrs/ prefix.",
        413 => " The request is larger than the web service's MaxLength.",
        300..=399 => " The web server answered with a redirect; check `base_url` (https?).",
        _ => "",
    }
}

/// The transport for `config` (to the web server's origin) and the web service's path under it,
/// so that every message names the whole URL path. Local only.
pub(crate) fn transport(config: &Config, log: Logger) -> Result<(Http, String), Error> {
    let (origin, prefix) = split_origin(&config.http.base_url);
    let mut settings = config.http.clone();
    settings.base_url = origin.to_string();
    Ok((
        Http::new(settings, GENERIC_INTERFACE, log)?,
        prefix.to_string(),
    ))
}

/// `https://h:8443/otobo/x` → (`https://h:8443`, `/otobo/x`).
fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_origin_and_the_web_service_path_split() {
        assert_eq!(
            super::split_origin("https://h:8443/otobo/nph-genericinterface.pl/Webservice/X"),
            (
                "https://h:8443",
                "/otobo/nph-genericinterface.pl/Webservice/X"
            )
        );
        assert_eq!(
            super::split_origin("http://127.0.0.1:9"),
            ("http://127.0.0.1:9", "")
        );
    }
}
