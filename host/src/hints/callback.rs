//! Hint callbacks: the answer POSTed to the source's `callback_url`, signed with the Standard
//! Webhooks headers, retried with exponential backoff (and jitter) for a bounded time, and
//! not sent at all once a newer client message made the hints stale.

use crate::core::signature::{SigningSecret, headers};
use rand::Rng;
use std::future::Future;
use std::time::{Duration, Instant};

/// Retry bounds of callbacks (from `[hints]`).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Timeout of one POST.
    pub timeout: Duration,
    /// First retry delay; doubled after each failure.
    pub initial: Duration,
    /// Longest delay between attempts.
    pub max_delay: Duration,
    /// No attempt starts later than this after the first.
    pub give_up_after: Duration,
}

impl RetryPolicy {
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
    /// Given up (time bound or `410 Gone`).
    Failed {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        error: String,
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
    policy: RetryPolicy,
}

impl CallbackSender {
    /// A sender with its own connection pool; redirects are never followed (a 3xx is a failure).
    pub fn new(policy: RetryPolicy) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(policy.timeout)
            .user_agent(concat!("hintd/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        CallbackSender { client, policy }
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
        let started = Instant::now();
        let mut attempts = 0u32;
        loop {
            if is_stale().await {
                return CallbackOutcome::Suppressed { attempts };
            }
            attempts += 1;
            let error = match self.attempt(url, msg_id, body, secret).await {
                Ok(()) => return CallbackOutcome::Sent { attempts },
                Err(Attempt::Gone) => {
                    return CallbackOutcome::Failed {
                        attempts,
                        error: "410 Gone: receiver refuses callbacks".into(),
                    };
                }
                Err(Attempt::Retry(e)) => e,
            };
            metrics::counter!("hintd_hint_callback_attempts_failed_total").increment(1);
            let delay = self.policy.delay(attempts);
            if started.elapsed() + delay > self.policy.give_up_after {
                return CallbackOutcome::Failed { attempts, error };
            }
            tracing::debug!(host = %host_of(url), attempts, error = %error, delay_ms = delay.as_millis() as u64, "hint callback failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        url: &str,
        msg_id: &str,
        body: &bytes::Bytes,
        secret: Option<&SigningSecret>,
    ) -> Result<(), Attempt> {
        let mut request = self
            .client
            .post(url)
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
            Ok(r) if r.status() == reqwest::StatusCode::GONE => Err(Attempt::Gone),
            Ok(r) => Err(Attempt::Retry(format!("HTTP {}", r.status().as_u16()))),
            Err(e) => Err(Attempt::Retry(if e.is_timeout() {
                "timed out".into()
            } else {
                format!("{}", e.without_url())
            })),
        }
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

enum Attempt {
    Gone,
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

    #[test]
    fn backoff_doubles_up_to_the_bound() {
        let p = RetryPolicy {
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
