//! The error every adapter operation returns, in plain Rust.

use std::{fmt, time::Duration};

/// What kind of failure a [`Error`] reports.
///
/// Mirrors the plugin interface's open set of kinds; a kind this host does not know yet is kept
/// as [`ErrorKind::Unknown`] rather than lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    Config,
    Auth,
    Forbidden,
    NotFound,
    RateLimited,
    Conflict,
    Validation,
    Transport,
    Timeout,
    InvalidResponse,
    Panicked,
    Unsupported,
    Unknown(u8),
}

impl ErrorKind {
    /// A stable, lower-case name for logs and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Auth => "auth",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::RateLimited => "rate_limited",
            Self::Conflict => "conflict",
            Self::Validation => "validation",
            Self::Transport => "transport",
            Self::Timeout => "timeout",
            Self::InvalidResponse => "invalid_response",
            Self::Panicked => "panicked",
            Self::Unsupported => "unsupported",
            Self::Unknown(_) => "unknown",
        }
    }

    /// Whether the same call may succeed if simply tried again later. Timeouts are excluded:
    /// a write that timed out may have been applied.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::RateLimited | Self::Transport)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(code) => write!(f, "unknown (code {code})"),
            other => f.write_str(other.name()),
        }
    }
}

/// A failed adapter call. Its message is a sentence for a person naming what failed and where
/// (ticket id, URL path), never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The HTTP status of the answer that caused it, if any.
    pub http_status: Option<u16>,
    /// The help desk's request id, for support tickets with the vendor.
    pub request_id: Option<String>,
    /// How long the help desk asked to wait before trying again.
    pub retry_after: Option<Duration>,
}

/// The result of every adapter operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with a kind and a message and nothing else.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            http_status: None,
            request_id: None,
            retry_after: None,
        }
    }

    /// Sets the HTTP status.
    pub fn with_http_status(mut self, status: u16) -> Error {
        self.http_status = Some(status);
        self
    }

    /// Sets the help desk's request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Error {
        self.request_id = Some(request_id.into());
        self
    }

    /// Sets how long to wait before a retry.
    pub fn with_retry_after(mut self, wait: Duration) -> Error {
        self.retry_after = Some(wait);
        self
    }

    /// An [`ErrorKind::Unsupported`] error naming the operation.
    pub fn unsupported(operation: &str) -> Error {
        Error::new(
            ErrorKind::Unsupported,
            format!("{operation} is not supported by this service"),
        )
    }

    /// The same error with `context` (an operation, a ticket id) put in front of its message.
    pub fn context(mut self, context: &str) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}{}", self.kind, self.message, self.details())
    }
}

impl Error {
    /// What follows the message in [`Display`](fmt::Display): status, request id, retry wait.
    pub fn details(&self) -> Details<'_> {
        Details {
            http_status: self.http_status,
            request_id: self.request_id.as_deref(),
            retry_after: self.retry_after,
        }
    }
}

/// The HTTP status, request id and retry wait of an error as messages show them:
/// ` (HTTP 429, request id abc); retry after 2.5 s` (nothing for what is absent). The host's
/// errors print theirs the same way.
#[derive(Debug, Clone, Copy)]
pub struct Details<'a> {
    pub http_status: Option<u16>,
    pub request_id: Option<&'a str>,
    pub retry_after: Option<Duration>,
}

impl fmt::Display for Details<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.http_status, self.request_id) {
            (Some(status), Some(id)) => write!(f, " (HTTP {status}, request id {id})")?,
            (Some(status), None) => write!(f, " (HTTP {status})")?,
            (None, Some(id)) => write!(f, " (request id {id})")?,
            (None, None) => {}
        }
        if let Some(wait) = self.retry_after {
            write!(f, "; retry after {:.1} s", wait.as_secs_f64())?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
