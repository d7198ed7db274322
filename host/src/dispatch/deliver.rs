//! One delivery attempt: sign, POST, classify. Success is a 2xx answer only; redirects are
//! not followed (a 3xx is a failure); 410 asks for the webhook to be disabled; a
//! `Retry-After` on 429/503 is passed on to the retry policy.

use super::config::DispatchConfig;
use super::retry::parse_retry_after;
use crate::core::now_ms;
use crate::core::outbound::{OutboundPolicy, find_refusal, guard_url, guarded_client};
use crate::core::signature::{SigningSecret, headers};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A webhook as the delivery loop needs it: target and live signing secrets.
#[derive(Debug, Clone)]
pub struct Target {
    /// `wh_...`.
    pub webhook_id: String,
    /// Parsed URL.
    pub url: reqwest::Url,
    /// Current secret first, then the rotated-out one while its grace lasts.
    pub secrets: Vec<SigningSecret>,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// 2xx.
    pub success: bool,
    /// The receiver answered 410 Gone.
    pub gone: bool,
    /// The receiver's status, if it answered.
    pub http_status: Option<u16>,
    /// Why it failed (network error, SSRF refusal, non-2xx).
    pub error: Option<String>,
    /// Start of the response body.
    pub snippet: Option<String>,
    /// The receiver's `Retry-After`, on 429 and 503.
    pub retry_after: Option<Duration>,
    /// Start time, unix ms.
    pub at_ms: i64,
    /// Duration.
    pub elapsed: Duration,
}

/// Sends deliveries through one HTTP client (connection reuse) guarded by the outbound policy.
#[derive(Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    policy: Arc<dyn OutboundPolicy>,
    snippet_bytes: usize,
}

impl Deliverer {
    /// Builds the client: guarded by `policy` (DNS through the guard, no redirects, no
    /// proxy), the configured timeouts.
    pub fn new(
        config: &DispatchConfig,
        policy: Arc<dyn OutboundPolicy>,
    ) -> Result<Deliverer, reqwest::Error> {
        let client = guarded_client(policy.clone())
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.concurrency_per_webhook.max(8))
            .user_agent(concat!("hintd/", env!("CARGO_PKG_VERSION"), " (webhooks)"))
            .build()?;
        Ok(Deliverer {
            client,
            policy,
            snippet_bytes: config.response_snippet_bytes,
        })
    }

    /// One signed POST of `body` as message `msg_id`.
    pub async fn attempt(&self, target: &Target, msg_id: &str, body: Vec<u8>) -> Outcome {
        let at_ms = now_ms();
        let started = Instant::now();
        let mut outcome = Outcome {
            success: false,
            gone: false,
            http_status: None,
            error: None,
            snippet: None,
            retry_after: None,
            at_ms,
            elapsed: Duration::ZERO,
        };
        if let Err(refusal) = guard_url(self.policy.as_ref(), &target.url) {
            outcome.error = Some(refusal.to_string());
            return outcome;
        }
        let secrets: Vec<&SigningSecret> = target.secrets.iter().collect();
        let mut request = self
            .client
            .post(target.url.clone())
            .header("content-type", "application/json");
        for (name, value) in headers(&secrets, msg_id, at_ms / 1000, &body) {
            request = request.header(name, value);
        }
        match request.body(body).send().await {
            Ok(mut response) => {
                let status = response.status();
                outcome.http_status = Some(status.as_u16());
                outcome.success = status.is_success();
                outcome.gone = status == reqwest::StatusCode::GONE;
                if status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status == reqwest::StatusCode::SERVICE_UNAVAILABLE
                {
                    outcome.retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, at_ms));
                }
                if !outcome.success {
                    outcome.error = Some(match response.headers().get(reqwest::header::LOCATION) {
                        Some(_) if status.is_redirection() => {
                            format!("HTTP {status}: redirect not followed")
                        }
                        _ => format!("HTTP {status}"),
                    });
                }
                outcome.snippet = read_snippet(&mut response, self.snippet_bytes).await;
            }
            Err(e) => outcome.error = Some(describe(&e)),
        }
        outcome.elapsed = started.elapsed();
        outcome
    }
}

/// Reads at most `limit` bytes of the body (never the whole of a huge answer).
async fn read_snippet(response: &mut reqwest::Response, limit: usize) -> Option<String> {
    let mut buf = Vec::new();
    while buf.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk[..chunk.len().min(limit - buf.len())]),
            _ => break,
        }
    }
    if buf.is_empty() {
        return None;
    }
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    while text.len() > limit {
        text.pop();
    }
    Some(text)
}

/// A network error in words: the outbound policy's refusal, a timeout, or the innermost cause.
fn describe(e: &reqwest::Error) -> String {
    if let Some(refusal) = find_refusal(e) {
        return refusal.to_string();
    }
    if e.is_timeout() {
        return "timeout: no complete answer within the request timeout".into();
    }
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    let kind = if e.is_connect() {
        "connect error"
    } else {
        "request error"
    };
    match parts.last() {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_string(),
    }
}
