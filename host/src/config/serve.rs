//! The `serve:` section: how `otai serve` listens and where it keeps accepted webhook deliveries.
//!
//! ```yaml
//! serve:
//!   listen: 127.0.0.1:8411      # address and port of the HTTP server
//!   inbox: ../state/webhooks.jsonl  # accepted ticket ids, kept until routed (relative: the file's folder)
//!   poll_interval: 300          # seconds between safety-net polls of a pipeline whose help desk sends webhooks
//!   max_body_bytes: 262144      # the largest webhook body accepted (larger: 413)
//!   api_token: "{{ get_env('OTAI_API_TOKEN') }}"  # bearer token of POST /api/classify (unset: the API is off)
//! ```
//!
//! Every key is optional. The signing secrets are the adapters' own params
//! (`ticket_systems.<name>.params.webhook_secret`), not this section's.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use otai_plugin_sdk::Secret;
use serde::Deserialize;

use super::{paths::ConfigPaths, Problem};

/// Where `otai serve` listens unless `serve.listen` or `--listen` says otherwise: this machine
/// only. A help desk in the cloud reaches it through the operator's reverse proxy (TLS there).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8411";
/// The inbox unless `serve.inbox` says otherwise, in the working directory (like the retry
/// state's `.otai/state/`).
pub const DEFAULT_INBOX: &str = ".otai/webhooks/inbox.jsonl";
/// How often a pipeline whose help desk sends webhooks polls anyway: deliveries get lost (a
/// help desk gives up after a few retries; a trigger may be switched off).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(300);
/// Webhook payloads are small (an id, maybe a subject): 256 KiB is far more than any needs.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
/// A shorter bearer token is guessable.
const MIN_API_TOKEN_CHARS: usize = 16;
/// The largest `max_body_bytes` accepted: a body is held in memory while it is verified.
const MAX_MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// `serve:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServe {
    #[serde(default)]
    pub listen: Option<String>,
    #[serde(default)]
    pub inbox: Option<String>,
    #[serde(default)]
    pub poll_interval: Option<f64>,
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
    #[serde(default)]
    pub api_token: Option<String>,
}

/// `serve:` validated, with its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Resolved from the file's folder when written there; else [`DEFAULT_INBOX`].
    pub inbox: PathBuf,
    pub poll_interval: Duration,
    pub max_body_bytes: usize,
    /// The bearer token `POST /api/classify` requires; none: the API answers 404.
    pub api_token: Option<Secret>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: DEFAULT_LISTEN.parse().expect("a valid default address"),
            inbox: PathBuf::from(DEFAULT_INBOX),
            poll_interval: DEFAULT_POLL_INTERVAL,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            api_token: None,
        }
    }
}

impl RawServe {
    /// Validates; every problem is pushed, and the defaults stand in for what is wrong.
    pub fn validate(self, paths: &ConfigPaths, problems: &mut Vec<Problem>) -> ServeConfig {
        let mut serve = ServeConfig::default();
        if let Some(listen) = self.listen {
            match listen.trim().parse::<SocketAddr>() {
                Ok(addr) => serve.listen = addr,
                Err(_) => problems.push(Problem::new(
                    "serve.listen",
                    format!("`{listen}` is not an address and port such as `127.0.0.1:8411` or `[::1]:8411`"),
                )),
            }
        }
        match self.inbox.as_deref() {
            Some("") => problems.push(Problem::new(
                "serve.inbox",
                format!("must not be empty; leave it out to use {DEFAULT_INBOX}"),
            )),
            Some(written) => match paths.resolve("serve.inbox", written) {
                Ok(path) => serve.inbox = path,
                Err(problem) => problems.push(problem),
            },
            None => {}
        }
        if let Some(secs) = self.poll_interval {
            if secs.is_finite() && (1.0..=86_400.0).contains(&secs) {
                serve.poll_interval = Duration::from_secs_f64(secs);
            } else {
                problems.push(Problem::new(
                    "serve.poll_interval",
                    "must be a number of seconds from 1 to 86400",
                ));
            }
        }
        if let Some(bytes) = self.max_body_bytes {
            if (1_024..=MAX_MAX_BODY_BYTES).contains(&bytes) {
                serve.max_body_bytes = bytes as usize;
            } else {
                problems.push(Problem::new(
                    "serve.max_body_bytes",
                    format!("must be from 1024 to {MAX_MAX_BODY_BYTES} bytes"),
                ));
            }
        }
        match self.api_token {
            Some(token) if token.trim().len() < MIN_API_TOKEN_CHARS => problems.push(Problem::new(
                "serve.api_token",
                format!("must be at least {MIN_API_TOKEN_CHARS} characters (a random string, e.g. `openssl rand -hex 32`)"),
            )),
            Some(token) => serve.api_token = Some(Secret::new(token.trim())),
            None => {}
        }
        serve
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    fn parse(yaml: &str) -> Result<Config, crate::config::ConfigError> {
        Config::parse(yaml, Path::new("/etc/otai/config.yml"), &|_| Ok(None))
    }

    #[test]
    fn serve_defaults_to_this_machine_and_reads_its_paths_from_the_files_folder() {
        let config = parse("ticket_systems: {}\n").unwrap();
        assert_eq!(config.serve, super::ServeConfig::default());
        assert_eq!(config.serve.listen.to_string(), super::DEFAULT_LISTEN);
        let config = parse(
            "serve: {listen: '0.0.0.0:9000', inbox: state/inbox.jsonl, poll_interval: 600, max_body_bytes: 2048}\n",
        )
        .unwrap();
        assert_eq!(config.serve.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.serve.inbox, Path::new("/etc/otai/state/inbox.jsonl"));
        assert_eq!(config.serve.poll_interval.as_secs(), 600);
        assert_eq!(config.serve.max_body_bytes, 2048);
    }

    #[test]
    fn every_bad_serve_key_is_named() {
        let err = parse(
            "serve: {listen: 'localhost', inbox: '', poll_interval: 0, max_body_bytes: 10}\n",
        )
        .unwrap_err()
        .to_string();
        for key in [
            "serve.listen",
            "serve.inbox",
            "serve.poll_interval",
            "serve.max_body_bytes",
        ] {
            assert!(err.contains(key), "{key}: {err}");
        }
        let err = parse("serve: {api_token: short}\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("serve.api_token") && !err.contains("short"),
            "{err}"
        );
        let config = parse("serve: {api_token: 0123456789abcdef0123}\n").unwrap();
        assert!(!format!("{:?}", config.serve).contains("0123456789abcdef"));
        let err = parse("serve: {port: 1}\n").unwrap_err().to_string();
        assert!(err.contains("port"), "{err}");
    }
}
