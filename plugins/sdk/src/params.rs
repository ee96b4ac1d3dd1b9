//! An adapter's params: the `params:` object of the operator's config, read key by key.
//!
//! Every error is [`ErrorKind::Config`], starts with `<plugin> params:` and names the key
//! (`timeout`, `oauth.client_id`), never its value: values may be secrets. Keys nobody asked for
//! are reported by [`Params::finish`] with the list of known keys, so a typo never passes
//! silently. Numbers and booleans are also accepted as strings, because a templated param
//! (`"{{ get_env('TIMEOUT') }}"`) renders to one.
//!
//! ```
//! use std::time::Duration;
//! use otai_plugin_sdk::Params;
//!
//! let mut p = Params::from_json("otai_acme", r#"{"base_url": "https://acme.example", "timeout": "10"}"#).unwrap();
//! let base_url = p.required_base_url("base_url").unwrap();
//! let timeout = p.seconds("timeout", Duration::from_secs(30), 0.001, 3600.0).unwrap();
//! p.finish().unwrap();
//! assert_eq!((base_url.as_str(), timeout.as_secs()), ("https://acme.example", 10));
//! ```

use std::{path::PathBuf, time::Duration};

use serde_json::{Map, Value};

use crate::{
    error::{Error, ErrorKind},
    secret::Secret,
};

/// How the server's TLS certificate is checked (the `verify` param).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verify {
    /// The platform's trust store (the default, `verify: true`).
    System,
    /// No verification at all (`verify: false`); only for test setups.
    Disabled,
    /// The platform's trust store plus the CAs in this PEM bundle (`verify: PATH` or
    /// `verify: {ca: PATH}`).
    CaBundle(PathBuf),
    /// Only the CAs in this PEM bundle (`verify: {ca: PATH, only: true}`).
    CaOnly(PathBuf),
}

/// The params of one service, consumed key by key.
#[derive(Debug)]
pub struct Params {
    plugin: String,
    /// `""` at the top level, `"oauth."` inside the `oauth:` object.
    prefix: String,
    map: Map<String, Value>,
    known: Vec<String>,
}

/// A [`ErrorKind::Config`] error with the plugin's prefix: `otai_acme params: <message>`.
pub fn config_error(plugin: &str, message: impl AsRef<str>) -> Error {
    Error::new(
        ErrorKind::Config,
        format!("{plugin} params: {}", message.as_ref()),
    )
}

impl Params {
    /// Parses the params JSON the host passes when it constructs a service.
    pub fn from_json(plugin: &str, params_json: &str) -> Result<Params, Error> {
        let value: Value = serde_json::from_str(params_json).map_err(|e| {
            // serde_json's syntax errors carry only a position, never the text around it.
            config_error(
                plugin,
                format!(
                    "params are not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        Params::from_value(plugin, value)
    }

    /// Params already parsed as JSON; must be an object.
    pub fn from_value(plugin: &str, value: Value) -> Result<Params, Error> {
        match value {
            Value::Object(map) => Ok(Params {
                plugin: plugin.to_string(),
                prefix: String::new(),
                map,
                known: Vec::new(),
            }),
            _ => Err(config_error(
                plugin,
                "params must be a JSON object of key: value pairs",
            )),
        }
    }

    /// An error naming this plugin, for checks the adapter makes itself.
    pub fn error(&self, message: impl AsRef<str>) -> Error {
        config_error(&self.plugin, message)
    }

    /// The key as messages show it, with the prefix of its object: `oauth.client_id`.
    pub fn key_name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Whether `key` is present and not `null`, without consuming it.
    pub fn has(&self, key: &str) -> bool {
        !matches!(self.map.get(key), None | Some(Value::Null))
    }

    /// Takes the raw value of `key`; `null` counts as absent. Marks the key as known.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.known.push(key.to_string());
        match self.map.remove(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// Marks keys as known without reading them (read elsewhere, or accepted and ignored).
    pub fn allow(&mut self, keys: &[&str]) {
        self.known.extend(keys.iter().map(|k| k.to_string()));
    }

    /// A string param, trimmed; an empty string is an error (usually an unset environment
    /// variable in a template).
    pub fn string(&mut self, key: &str) -> Result<Option<String>, Error> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim().to_string();
                if s.is_empty() {
                    Err(self.error(format!("`{}` is empty", self.key_name(key))))
                } else {
                    Ok(Some(s))
                }
            }
            Some(_) => Err(self.error(format!("`{}` must be a string", self.key_name(key)))),
        }
    }

    /// A string param that must be there; `what` explains it in the error.
    pub fn required_string(&mut self, key: &str, what: &str) -> Result<String, Error> {
        self.string(key)?
            .ok_or_else(|| self.error(format!("missing `{}` ({what})", self.key_name(key))))
    }

    /// A secret (token, password): a string that never prints, checked to be usable in a header.
    pub fn secret(&mut self, key: &str) -> Result<Option<Secret>, Error> {
        match self.string(key)? {
            None => Ok(None),
            Some(value) => {
                self.check_header_safe(key, &value)?;
                Ok(Some(Secret::new(value)))
            }
        }
    }

    /// A password: like [`secret`](Self::secret) but spaces and non-ASCII characters are allowed
    /// (it travels in a body, not a header).
    pub fn password(&mut self, key: &str) -> Result<Option<Secret>, Error> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => {
                Err(self.error(format!("`{}` is empty", self.key_name(key))))
            }
            Some(Value::String(s)) => Ok(Some(Secret::new(s))),
            Some(_) => Err(self.error(format!("`{}` must be a string", self.key_name(key)))),
        }
    }

    /// Rejects a token with whitespace, control or non-ASCII characters (they cannot appear in
    /// an HTTP header); the message names the key only.
    pub fn check_header_safe(&self, key: &str, token: &str) -> Result<(), Error> {
        if token
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
        {
            Err(self.error(format!(
                "`{}` contains spaces or characters that cannot appear in a token",
                self.key_name(key)
            )))
        } else {
            Ok(())
        }
    }

    /// A number of seconds between `min` and `max` (fractions allowed), `default` if absent.
    pub fn seconds(
        &mut self,
        key: &str,
        default: Duration,
        min: f64,
        max: f64,
    ) -> Result<Duration, Error> {
        let Some(value) = self.take(key) else {
            return Ok(default);
        };
        match number(&value) {
            Some(n) if n.is_finite() && n >= min && n <= max => Ok(Duration::from_secs_f64(n)),
            _ => Err(self.error(format!(
                "`{}` must be a number of seconds between {min} and {max}",
                self.key_name(key)
            ))),
        }
    }

    /// A whole number between `min` and `max`, `default` if absent.
    pub fn integer(&mut self, key: &str, default: u64, min: u64, max: u64) -> Result<u64, Error> {
        let Some(value) = self.take(key) else {
            return Ok(default);
        };
        match number(&value) {
            Some(n) if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => Ok(n as u64),
            _ => Err(self.error(format!(
                "`{}` must be a whole number between {min} and {max}",
                self.key_name(key)
            ))),
        }
    }

    /// `true` or `false` (also as strings), `default` if absent.
    pub fn bool(&mut self, key: &str, default: bool) -> Result<bool, Error> {
        match self.take(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(Value::String(s)) if s.trim() == "true" => Ok(true),
            Some(Value::String(s)) if s.trim() == "false" => Ok(false),
            Some(_) => Err(self.error(format!("`{}` must be true or false", self.key_name(key)))),
        }
    }

    /// A nested object (`oauth:`), read with the same rules; its keys are named `key.inner`.
    pub fn object(&mut self, key: &str) -> Result<Option<Params>, Error> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Params {
                plugin: self.plugin.clone(),
                prefix: format!("{}{key}.", self.prefix),
                map,
                known: Vec::new(),
            })),
            Some(_) => Err(self.error(format!("`{}` must be an object", self.key_name(key)))),
        }
    }

    /// The `verify` param: `true` (the default), `false`, a CA bundle path, or
    /// `{ca: PATH, only: BOOL}`.
    pub fn verify(&mut self) -> Result<Verify, Error> {
        let key = "verify";
        let name = self.key_name(key);
        match self.take(key) {
            None | Some(Value::Bool(true)) => Ok(Verify::System),
            Some(Value::Bool(false)) => Ok(Verify::Disabled),
            Some(Value::String(s)) => match s.trim() {
                "true" => Ok(Verify::System),
                "false" => Ok(Verify::Disabled),
                "" => Err(self.error(format!(
                    "`{name}` is an empty string; use true, false or a CA bundle path"
                ))),
                path => Ok(Verify::CaBundle(PathBuf::from(path))),
            },
            Some(Value::Object(map)) => {
                let mut o = Params {
                    plugin: self.plugin.clone(),
                    prefix: format!("{name}."),
                    map,
                    known: Vec::new(),
                };
                let ca = o.required_string("ca", "the path of a PEM CA bundle")?;
                let only = o.bool("only", false)?;
                o.finish()?;
                Ok(if only {
                    Verify::CaOnly(PathBuf::from(ca))
                } else {
                    Verify::CaBundle(PathBuf::from(ca))
                })
            }
            Some(_) => Err(self.error(format!(
                "`{name}` must be true, false, the path of a PEM CA bundle, or {{ca: PATH, only: true|false}}"
            ))),
        }
    }

    /// An absolute `http(s)://` URL without credentials, query or fragment, without a trailing
    /// `/`. Plain `http://` to another machine is refused unless `allow_insecure_http: true`
    /// (read here too): credentials and tickets would travel in clear.
    pub fn base_url(&mut self, key: &str) -> Result<Option<String>, Error> {
        let allow_insecure = self.bool("allow_insecure_http", false)?;
        let Some(raw) = self.string(key)? else {
            return Ok(None);
        };
        let name = self.key_name(key);
        let url = url::Url::parse(&raw)
            .map_err(|_| self.error(format!("`{name}` is not a valid absolute URL")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(self.error(format!("`{name}` must start with https:// or http://")));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(self.error(format!("`{name}` has no host")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(self.error(format!(
                "`{name}` must not contain credentials; give them in their own params"
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(self.error(format!("`{name}` must not have a query string or fragment")));
        }
        let normalised = url.as_str().trim_end_matches('/').to_string();
        if url.scheme() == "http" && !is_loopback(&normalised) && !allow_insecure {
            return Err(self.error(format!(
                "`{name}` uses http:// to a host other than this machine: the credentials and \
                 tickets would travel in clear. Use https://, or set `allow_insecure_http: true` \
                 for a test setup"
            )));
        }
        Ok(Some(normalised))
    }

    /// [`base_url`](Self::base_url) that must be there.
    pub fn required_base_url(&mut self, key: &str) -> Result<String, Error> {
        let name = self.key_name(key);
        self.base_url(key)?.ok_or_else(|| {
            self.error(format!(
                "missing `{name}` (where the help desk is, e.g. https://helpdesk.example.com)"
            ))
        })
    }

    /// Fails on any key nobody read or allowed, listing the known ones.
    pub fn finish(self) -> Result<(), Error> {
        let mut unknown: Vec<&String> = self.map.keys().collect();
        unknown.sort();
        if unknown.is_empty() {
            return Ok(());
        }
        let names = unknown
            .iter()
            .map(|k| format!("`{}{k}`", self.prefix))
            .collect::<Vec<_>>()
            .join(", ");
        let mut known: Vec<String> = self
            .known
            .iter()
            .map(|k| format!("{}{k}", self.prefix))
            .collect();
        known.sort();
        known.dedup();
        Err(self.error(format!(
            "unknown param {names}; known params: {}",
            known.join(", ")
        )))
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// Whether a base URL points at this machine (127.0.0.0/8, ::1, localhost), where cleartext
/// never leaves it.
pub fn is_loopback(base_url: &str) -> bool {
    let Ok(url) = url::Url::parse(base_url) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        Params::from_value("otai_t", v).unwrap()
    }

    #[test]
    fn errors_name_the_key_with_its_prefix_and_never_the_value() {
        let mut p = params(json!({"oauth": {"client_id": 12345}, "timeout": "soon-ish"}));
        let e = p.seconds("timeout", Duration::ZERO, 0.0, 10.0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(
            e.message.starts_with("otai_t params: `timeout`"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("soon-ish"));
        let mut o = p.object("oauth").unwrap().unwrap();
        let e = o.string("client_id").unwrap_err();
        assert!(
            e.message.contains("`oauth.client_id` must be a string"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("12345"));
    }

    #[test]
    fn unknown_keys_are_listed_with_the_known_ones() {
        let mut p = params(json!({"timeout": 3, "api_tokn": "x"}));
        p.seconds("timeout", Duration::ZERO, 0.0, 10.0).unwrap();
        p.allow(&["api_token"]);
        let e = p.finish().unwrap_err();
        assert!(
            e.message
                .contains("unknown param `api_tokn`; known params: api_token, timeout"),
            "{}",
            e.message
        );
    }

    #[test]
    fn templated_numbers_and_booleans_arrive_as_strings() {
        let mut p = params(json!({"n": "7", "b": "true", "s": " x "}));
        assert_eq!(p.integer("n", 1, 1, 10).unwrap(), 7);
        assert!(p.bool("b", false).unwrap());
        assert_eq!(p.string("s").unwrap().as_deref(), Some("x"));
        assert_eq!(p.integer("absent", 4, 1, 10).unwrap(), 4);
        let e = params(json!({"n": 11})).integer("n", 1, 1, 10).unwrap_err();
        assert!(e.message.contains("between 1 and 10"));
    }

    #[test]
    fn empty_strings_and_unsafe_tokens_are_refused() {
        assert!(params(json!({"k": "  "}))
            .string("k")
            .unwrap_err()
            .message
            .contains("`k` is empty"));
        let e = params(json!({"t": "a b"})).secret("t").unwrap_err();
        assert!(e.message.contains("`t` contains spaces"));
        assert!(!e.message.contains("a b"));
        let s = params(json!({"t": "tok"})).secret("t").unwrap().unwrap();
        assert_eq!(format!("{s:?}"), "[redacted]");
    }

    #[test]
    fn verify_takes_every_form() {
        let v = |x: Value| params(json!({ "verify": x })).verify();
        assert_eq!(v(json!(true)).unwrap(), Verify::System);
        assert_eq!(v(json!("false")).unwrap(), Verify::Disabled);
        assert_eq!(
            v(json!("/ca.pem")).unwrap(),
            Verify::CaBundle("/ca.pem".into())
        );
        assert_eq!(
            v(json!({"ca": "/ca.pem", "only": true})).unwrap(),
            Verify::CaOnly("/ca.pem".into())
        );
        assert!(v(json!({"ca": "/x", "oly": true}))
            .unwrap_err()
            .message
            .contains("`verify.oly`"));
        assert!(v(json!(3)).unwrap_err().message.contains("`verify`"));
        assert_eq!(params(json!({})).verify().unwrap(), Verify::System);
    }

    #[test]
    fn base_urls_are_normalised_and_cleartext_is_refused_off_this_machine() {
        let b = |x: Value| params(x).base_url("base_url");
        assert_eq!(
            b(json!({"base_url": "https://h.example/x/"}))
                .unwrap()
                .unwrap(),
            "https://h.example/x"
        );
        assert_eq!(
            b(json!({"base_url": "http://127.0.0.1:8080"}))
                .unwrap()
                .unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(b(json!({"base_url": "http://h.example"}))
            .unwrap_err()
            .message
            .contains("allow_insecure_http"));
        assert!(b(json!({"base_url": "http://h.example", "allow_insecure_http": true})).is_ok());
        let e = b(json!({"base_url": "https://u:pw@h.example"})).unwrap_err();
        assert!(e.message.contains("credentials") && !e.message.contains("pw"));
        assert!(b(json!({"base_url": "ftp://h"})).is_err());
        assert!(b(json!({"base_url": "https://h/?a=1"})).is_err());
        assert!(b(json!({})).unwrap().is_none());
    }

    #[test]
    fn params_must_be_a_json_object() {
        assert!(Params::from_json("p", "[1]")
            .unwrap_err()
            .message
            .contains("JSON object"));
        let e = Params::from_json("p", "{\"token\": \"s3cret").unwrap_err();
        assert!(e.message.contains("line 1") && !e.message.contains("s3cret"));
    }
}
