//! Errors that cross the boundary.

use std::fmt;

use abi_stable::{
    std_types::{ROption, RString},
    StableAbi,
};

/// What kind of failure a [`PluginError`] reports.
///
/// An open set of `u8` codes rather than a Rust enum, so that a later 1.x release can add kinds
/// without breaking the layout check between an older host and a newer plugin. A host that meets an
/// unknown code treats it as a generic failure ([`ErrorKind::name`] returns `"unknown"`).
#[repr(transparent)]
#[derive(StableAbi, Copy, Clone, PartialEq, Eq, Hash)]
pub struct ErrorKind(pub u8);

impl ErrorKind {
    /// The service's params are invalid (missing key, wrong type, two auth methods, ...).
    pub const CONFIG: ErrorKind = ErrorKind(1);
    /// The help desk rejected the credentials (HTTP 401).
    pub const AUTH: ErrorKind = ErrorKind(2);
    /// Authenticated, but not allowed (HTTP 403: role, scope, plan).
    pub const FORBIDDEN: ErrorKind = ErrorKind(3);
    /// The ticket (or other record) does not exist (HTTP 404).
    pub const NOT_FOUND: ErrorKind = ErrorKind(4);
    /// The help desk throttled us (HTTP 429, or 503 with `Retry-After`); see
    /// [`PluginError::retry_after_ms`].
    pub const RATE_LIMITED: ErrorKind = ErrorKind(5);
    /// The ticket changed since the caller read it ("only if unchanged since" failed, HTTP 409).
    /// Nothing was written.
    pub const CONFLICT: ErrorKind = ErrorKind(6);
    /// The help desk refused the values (HTTP 400/422, unknown queue name, bad priority, ...).
    pub const VALIDATION: ErrorKind = ErrorKind(7);
    /// The request could not be sent or its answer not received (DNS, TLS, connection reset, 5xx).
    pub const TRANSPORT: ErrorKind = ErrorKind(8);
    /// No answer within the configured timeout. For a write, whether it was applied is unknown.
    pub const TIMEOUT: ErrorKind = ErrorKind(9);
    /// The help desk answered with something that could not be understood (malformed JSON, ...).
    pub const INVALID_RESPONSE: ErrorKind = ErrorKind(10);
    /// The plugin panicked; the panic was caught at the boundary.
    pub const PANICKED: ErrorKind = ErrorKind(11);
    /// The plugin or service does not support this operation.
    pub const UNSUPPORTED: ErrorKind = ErrorKind(12);

    /// A stable, lower-case name for logs and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Self::CONFIG => "config",
            Self::AUTH => "auth",
            Self::FORBIDDEN => "forbidden",
            Self::NOT_FOUND => "not_found",
            Self::RATE_LIMITED => "rate_limited",
            Self::CONFLICT => "conflict",
            Self::VALIDATION => "validation",
            Self::TRANSPORT => "transport",
            Self::TIMEOUT => "timeout",
            Self::INVALID_RESPONSE => "invalid_response",
            Self::PANICKED => "panicked",
            Self::UNSUPPORTED => "unsupported",
            _ => "unknown",
        }
    }

    /// Whether the same call may succeed if simply tried again later (rate limits, transport
    /// failures). Timeouts are not included: a write that timed out may have been applied.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::RATE_LIMITED | Self::TRANSPORT)
    }
}

impl fmt::Debug for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "unknown" => write!(f, "ErrorKind({})", self.0),
            name => f.write_str(name),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An error returned by a plugin. Its message must never contain a secret (token, password).
#[repr(C)]
#[derive(StableAbi, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// A sentence for a person: what failed and where (ticket id, URL path without query secrets),
    /// including the help desk's own error text where there is one.
    pub message: RString,
    /// The HTTP status of the response that caused the error, if any.
    pub http_status: ROption<u16>,
    /// The help desk's request id (Zendesk: `x-request-id`), for support tickets with the vendor.
    pub request_id: ROption<RString>,
    /// How long the help desk asked us to wait before trying again (`Retry-After`), in milliseconds.
    pub retry_after_ms: ROption<u64>,
}

impl PluginError {
    /// An error with a kind and a message and nothing else.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: RString::from(message.into()),
            http_status: ROption::RNone,
            request_id: ROption::RNone,
            retry_after_ms: ROption::RNone,
        }
    }

    /// Sets the HTTP status.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = ROption::RSome(status);
        self
    }

    /// Sets the help desk's request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = ROption::RSome(RString::from(request_id.into()));
        self
    }

    /// Sets how long to wait before a retry, in milliseconds.
    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = ROption::RSome(ms);
        self
    }

    /// Shorthand for an [`ErrorKind::UNSUPPORTED`] error naming the operation.
    pub fn unsupported(operation: &str) -> Self {
        Self::new(
            ErrorKind::UNSUPPORTED,
            format!("{operation} is not supported by this service"),
        )
    }
}

impl fmt::Debug for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginError")
            .field("kind", &self.kind)
            .field("message", &self.message.as_str())
            .field("http_status", &self.http_status)
            .field("request_id", &self.request_id)
            .field("retry_after_ms", &self.retry_after_ms)
            .finish()
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}", self.kind, self.message)?;
        if let ROption::RSome(status) = self.http_status {
            write!(f, " (HTTP {status}")?;
            if let ROption::RSome(id) = &self.request_id {
                write!(f, ", request id {id}")?;
            }
            f.write_str(")")?;
        } else if let ROption::RSome(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        if let ROption::RSome(ms) = self.retry_after_ms {
            write!(f, "; retry after {:.1} s", ms as f64 / 1000.0)?;
        }
        Ok(())
    }
}

impl std::error::Error for PluginError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_status_request_id_and_retry() {
        let err = PluginError::new(ErrorKind::RATE_LIMITED, "GET /api/v2/search was throttled")
            .with_http_status(429)
            .with_request_id("abc123")
            .with_retry_after_ms(2500);
        assert_eq!(
            err.to_string(),
            "rate_limited error: GET /api/v2/search was throttled (HTTP 429, request id abc123); retry after 2.5 s"
        );
    }

    #[test]
    fn unknown_kinds_are_named_unknown() {
        assert_eq!(ErrorKind(200).name(), "unknown");
        assert_eq!(format!("{:?}", ErrorKind(200)), "ErrorKind(200)");
        assert!(!ErrorKind(200).is_transient());
    }
}
