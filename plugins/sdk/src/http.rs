//! Outbound HTTP through the host (the `http` capability), with JSON bodies.
//!
//! ```no_run
//! # use hintd_plugin::{ProviderError, http};
//! # fn ask() -> Result<Vec<String>, ProviderError> {
//! #[derive(serde::Deserialize)]
//! struct Answer { suggestions: Vec<String> }
//!
//! let answer: Answer = http::Request::post("https://kb.example/v1/search")
//!     .header("authorization", "Bearer KEY")
//!     .json(&serde_json::json!({"q": "delivery times"}))?
//!     .send()?
//!     .error_for_status()?
//!     .json()?;
//! # Ok(answer.suggestions)
//! # }
//! ```

pub use crate::bindings::hintd::provider::http::{HttpError, Request, Response, send};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

impl Request {
    /// A request without headers or body that waits until the call's own deadline.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        // The host bounds every wait by the deadline of the plugin call it serves.
        Request {
            method: method.to_string(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: u32::MAX,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Request::new("GET", url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Request::new("POST", url)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits at most `ms` milliseconds (and never past the call's deadline).
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = ms;
        self
    }

    /// Sets `body` as the JSON body, with `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, HttpError> {
        self.body = serde_json::to_vec(body).map_err(|e| {
            HttpError::InvalidRequest(format!("the JSON body does not serialise: {e}"))
        })?;
        self.headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        self.headers
            .push(("content-type".into(), "application/json".into()));
        Ok(self)
    }

    /// Sends the request and waits for the whole response.
    pub fn send(&self) -> Result<Response, HttpError> {
        send(self)
    }
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The response itself when its status is 2xx, else a [`StatusError`] with the start
    /// of its body.
    pub fn error_for_status(self) -> Result<Self, StatusError> {
        if self.is_success() {
            return Ok(self);
        }
        let body = String::from_utf8_lossy(&self.body)
            .chars()
            .take(StatusError::BODY_CHARS)
            .collect();
        Err(StatusError {
            status: self.status,
            body,
        })
    }

    /// The body as a `T` from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, BodyError> {
        serde_json::from_slice(&self.body).map_err(|source| BodyError {
            status: self.status,
            source,
        })
    }
}

/// A response whose status is not 2xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusError {
    /// Its status.
    pub status: u16,
    /// The start of its body (lossy UTF-8), which usually says why.
    pub body: String,
}

impl StatusError {
    /// Characters of the body kept.
    pub const BODY_CHARS: usize = 200;
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {}: {}", self.status, self.body)
    }
}

impl std::error::Error for StatusError {}

/// A response body that is not JSON of the expected shape.
#[derive(Debug)]
pub struct BodyError {
    /// The response's status.
    pub status: u16,
    /// What serde said.
    pub source: serde_json::Error,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the response (status {}) is not the expected JSON: {}",
            self.status, self.source
        )
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn json_bodies_set_their_content_type_once() {
        let req = Request::post("https://api.example/x")
            .header("Content-Type", "text/plain")
            .json(&serde_json::json!({"a": 1}))
            .unwrap();
        assert_eq!(req.body, br#"{"a":1}"#);
        assert_eq!(
            req.headers,
            [("content-type".to_string(), "application/json".to_string())]
        );
        assert_eq!(req.timeout_ms, u32::MAX);
        assert_eq!(Request::get("u").timeout_ms(250).timeout_ms, 250);
    }

    #[test]
    fn responses_decode_or_say_why() {
        assert_eq!(response(200, "[1,2]").json::<Vec<u8>>().unwrap(), [1, 2]);
        let e = response(200, "oops").json::<Vec<u8>>().unwrap_err();
        assert_eq!(e.status, 200);
        assert!(e.to_string().contains("not the expected JSON"), "{e}");
        let e = response(503, &"x".repeat(500))
            .error_for_status()
            .unwrap_err();
        assert_eq!((e.status, e.body.len()), (503, StatusError::BODY_CHARS));
        assert!(response(204, "").error_for_status().is_ok());
    }
}
