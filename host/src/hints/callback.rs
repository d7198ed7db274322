//! Hint callbacks: the answer POSTed to the source's `callback_url`, signed with the Standard
//! Webhooks headers, retried with exponential backoff (and jitter) for a bounded time, and
//! not sent at all once a newer client message made the hints stale. Callbacks go only where
//! the outbound policy allows (`[hints] callback_allowed_cidrs` opts ranges in); a refused
//! callback fails at once, since the policy's answer will not change on a retry. Chatwoot
//! private notes go out through the same sender and retry loop.

use crate::core::outbound::{OutboundPolicy, find_refusal, guard_url, guarded_client};
use crate::core::signature::{SigningSecret, headers};
use rand::Rng;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Retry bounds of callbacks (from `[hints]`).
#[derive(Debug, Clone, Copy)]
pub struct CallbackRetry {
    /// Timeout of one POST.
    pub timeout: Duration,
    /// First retry delay; doubled after each failure.
    pub initial: Duration,
    /// Longest delay between attempts.
    pub max_delay: Duration,
    /// No attempt starts later than this after the first.
    pub give_up_after: Duration,
}

impl CallbackRetry {
    /// The delay before attempt `n + 1` after `n` failures (n ≥ 1), with ±20 % jitter so
    /// many callbacks failing together do not retry together.
    pub fn delay(&self, failures: u32) -> Duration {
        let base = self
            .initial
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
            .min(self.max_delay);
        let jitter = rand::rng().random_range(0.8..1.2);
        base.mul_f64(jitter)
    }
}

/// How a callback ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackOutcome {
    /// A 2xx answer after `attempts` attempts.
    Sent {
        /// Attempts made.
        attempts: u32,
    },
    /// Given up (time bound, `410 Gone`, or refused by the outbound policy).
    Failed {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        error: String,
        /// The HTTP status that ended it for good, if one did.
        status: Option<u16>,
    },
    /// Not sent (any more): a newer client message made the hints stale.
    Suppressed {
        /// Attempts made before.
        attempts: u32,
    },
}

impl CallbackOutcome {
    /// The metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            CallbackOutcome::Sent { .. } => "sent",
            CallbackOutcome::Failed { .. } => "failed",
            CallbackOutcome::Suppressed { .. } => "suppressed",
        }
    }
}

/// Sends callbacks. Cheap to clone (the HTTP client pools connections).
#[derive(Clone)]
pub struct CallbackSender {
    client: reqwest::Client,
    policy: CallbackRetry,
    outbound: Arc<dyn OutboundPolicy>,
}

impl CallbackSender {
    /// A sender with its own connection pool, guarded by `outbound` (no proxy; redirects are
    /// never followed, a 3xx is a failure).
    pub fn new(policy: CallbackRetry, outbound: Arc<dyn OutboundPolicy>) -> Self {
        let client = guarded_client(outbound.clone())
            .timeout(policy.timeout)
            .user_agent(concat!("hintd/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        CallbackSender {
            client,
            policy,
            outbound,
        }
    }

    /// POSTs `body` to `url` until a 2xx, a `410`, the time bound, or `is_stale()` says a newer
    /// client message arrived (checked before every attempt). `msg_id` is the `webhook-id`
    /// header: the same for every attempt, so a receiver can drop repeats.
    pub async fn deliver<F, Fut>(
        &self,
        url: &str,
        msg_id: &str,
        body: &bytes::Bytes,
        secret: Option<&SigningSecret>,
        is_stale: F,
    ) -> CallbackOutcome
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        self.retrying(url, || self.attempt(url, msg_id, body, secret), is_stale)
            .await
    }

    /// POSTs a Chatwoot private note (`body` is its JSON) to `url` with the Application API
    /// token, on the same retry bounds as callbacks. A 4xx other than 408/429 ends it at once:
    /// a wrong token, conversation or account does not heal by itself.
    pub async fn deliver_note<F, Fut>(
        &self,
        url: &str,
        access_token: &str,
        body: &bytes::Bytes,
        is_stale: F,
    ) -> CallbackOutcome
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let attempt = || async move {
            let request = self
                .guarded_post(url)?
                .header("content-type", "application/json")
                .header("api_access_token", access_token)
                .body(body.clone());
            match request.send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => {
                    let status = r.status().as_u16();
                    let error = format!("HTTP {status}");
                    if (400..500).contains(&status) && status != 408 && status != 429 {
                        Err(Attempt::Final(error, Some(status)))
                    } else {
                        Err(Attempt::Retry(error))
                    }
                }
                Err(e) => Err(transport_error(e)),
            }
        };
        self.retrying(url, attempt, is_stale).await
    }

    /// The one retry loop of hint deliveries: `attempt` until it succeeds, fails for good, the
    /// time bound passes, or `is_stale()` (checked before every attempt) says the hints are
    /// outdated. Backoff doubles from `initial` up to `max_delay`, with jitter.
    async fn retrying<A, AFut, F, Fut>(&self, url: &str, attempt: A, is_stale: F) -> CallbackOutcome
    where
        A: Fn() -> AFut,
        AFut: Future<Output = Result<(), Attempt>>,
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let started = Instant::now();
        let mut attempts = 0u32;
        loop {
            if is_stale().await {
                return CallbackOutcome::Suppressed { attempts };
            }
            attempts += 1;
            let error = match attempt().await {
                Ok(()) => return CallbackOutcome::Sent { attempts },
                Err(Attempt::Final(error, status)) => {
                    return CallbackOutcome::Failed {
                        attempts,
                        error,
                        status,
                    };
                }
                Err(Attempt::Retry(e)) => e,
            };
            metrics::counter!("hintd_hint_callback_attempts_failed_total").increment(1);
            let delay = self.policy.delay(attempts);
            if started.elapsed() + delay > self.policy.give_up_after {
                return CallbackOutcome::Failed {
                    attempts,
                    error,
                    status: None,
                };
            }
            tracing::debug!(host = %host_of(url), attempts, error = %error, delay_ms = delay.as_millis() as u64, "hint delivery failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// A POST to `url` once the outbound policy allowed it.
    fn guarded_post(&self, url: &str) -> Result<reqwest::RequestBuilder, Attempt> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| Attempt::Final(format!("not a valid URL: {e}"), None))?;
        guard_url(self.outbound.as_ref(), &url).map_err(|r| Attempt::Final(r.to_string(), None))?;
        Ok(self.client.post(url))
    }

    async fn attempt(
        &self,
        url: &str,
        msg_id: &str,
        body: &bytes::Bytes,
        secret: Option<&SigningSecret>,
    ) -> Result<(), Attempt> {
        let mut request = self
            .guarded_post(url)?
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(secret) = secret {
            for (name, value) in headers(&[secret], msg_id, crate::core::now_ms() / 1000, body) {
                request = request.header(name, value);
            }
        } else {
            request = request.header("webhook-id", msg_id);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) if r.status() == reqwest::StatusCode::GONE => Err(Attempt::Final(
                "410 Gone: receiver refuses callbacks".into(),
                Some(410),
            )),
            Ok(r) => Err(Attempt::Retry(format!("HTTP {}", r.status().as_u16()))),
            Err(e) => Err(transport_error(e)),
        }
    }
}

/// A request that got no answer: refused by the outbound policy (for good) or worth a retry.
fn transport_error(e: reqwest::Error) -> Attempt {
    match find_refusal(&e) {
        Some(refusal) => Attempt::Final(refusal.to_string(), None),
        None if e.is_timeout() => Attempt::Retry("timed out".into()),
        // Without the URL: a callback's URL may carry tokens.
        None => Attempt::Retry(e.without_url().to_string()),
    }
}

/// The host of a URL, for logs: callback URLs may carry tokens in their path or query.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// Why an attempt failed: for good (`410 Gone`, a refusal, a bad URL, a note's 4xx), with the
/// HTTP status when there was one, or worth a retry.
enum Attempt {
    Final(String, Option<u16>),
    Retry(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_show_only_the_host() {
        assert_eq!(
            host_of("https://user:pw@hooks.example:8443/cb?token=secret"),
            "hooks.example:8443"
        );
        assert_eq!(host_of("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }

    fn sender(allowed: &[&str]) -> CallbackSender {
        let config = crate::hints::HintsConfig {
            callback_allowed_cidrs: allowed.iter().map(|t| t.parse().unwrap()).collect(),
            ..Default::default()
        };
        CallbackSender::new(
            CallbackRetry {
                timeout: Duration::from_secs(5),
                initial: Duration::from_millis(10),
                max_delay: Duration::from_millis(10),
                give_up_after: Duration::from_millis(300),
            },
            Arc::new(config.callback_policy()),
        )
    }

    #[tokio::test]
    async fn refused_callbacks_fail_at_once_without_retries() {
        let body = bytes::Bytes::from_static(b"{}");
        // Nothing listens on port 1, and nothing is attempted: the policy refuses first.
        for (url, range) in [
            ("http://127.0.0.1:1/cb", "loopback"),
            ("http://0x7f.1:1/cb", "loopback"),
            ("http://[::ffff:169.254.169.254]:1/cb", "cloud-metadata"),
            ("http://localhost:1/cb", "loopback"),
        ] {
            let outcome = sender(&[])
                .deliver(url, "ans_1", &body, None, || async { false })
                .await;
            let CallbackOutcome::Failed {
                attempts, error, ..
            } = outcome
            else {
                panic!("{url}: {outcome:?}");
            };
            assert_eq!(attempts, 1, "{url}");
            assert!(
                error.contains("[hints] callback_allowed_cidrs") && error.contains(range),
                "{url}: {error}"
            );
        }
        // Opted in, the same address is attempted (and here fails to connect, so it retries).
        let outcome = sender(&["127.0.0.0/8"])
            .deliver("http://127.0.0.1:1/cb", "ans_1", &body, None, || async {
                false
            })
            .await;
        let CallbackOutcome::Failed {
            attempts, error, ..
        } = outcome
        else {
            panic!("{outcome:?}");
        };
        assert!(
            attempts > 1 && !error.contains("SSRF"),
            "{attempts} {error}"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_bound() {
        let p = CallbackRetry {
            timeout: Duration::from_secs(1),
            initial: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            give_up_after: Duration::from_secs(10),
        };
        let within = |d: Duration, ms: u64| {
            d >= Duration::from_millis(ms * 8 / 10) && d <= Duration::from_millis(ms * 12 / 10)
        };
        assert!(within(p.delay(1), 100));
        assert!(within(p.delay(2), 200));
        assert!(within(p.delay(3), 400));
        assert!(within(p.delay(10), 1000));
        assert!(within(p.delay(u32::MAX), 1000));
    }
}
