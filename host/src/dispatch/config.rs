//! `[dispatch]`: subscription limits, retry schedule, timeouts, the outbound-policy opt-in,
//! signing-key source, throughput knobs and retention. Every field has a default.

use super::duration;
use crate::core::outbound::{CidrAllowlist, allowlist::parse_cidr};
use ipnet::IpNet;
use serde::Deserialize;
use std::time::Duration;

/// `[dispatch]` in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// Run the fan-out and delivery workers in this process (the API works either way).
    pub enabled: bool,
    /// Webhooks allowed per account; one more is refused with 409.
    pub max_webhooks_per_account: u32,
    /// Delays of the retries after the first, immediate attempt (Chat2Desk's: 10 s, 5 min, 2 h).
    #[serde(deserialize_with = "duration::deserialize_list")]
    pub retry_schedule: Vec<Duration>,
    /// Random spread applied to each retry delay, as a fraction of it (0.1 = ±10 %).
    pub retry_jitter: f64,
    /// Largest wait a receiver's `Retry-After` can impose before the next attempt.
    #[serde(deserialize_with = "duration::deserialize")]
    pub retry_after_max: Duration,
    /// Whole-request timeout of one delivery attempt.
    #[serde(deserialize_with = "duration::deserialize")]
    pub request_timeout: Duration,
    /// TCP connect timeout of one delivery attempt.
    #[serde(deserialize_with = "duration::deserialize")]
    pub connect_timeout: Duration,
    /// A webhook whose deliveries have all failed for this long is disabled.
    #[serde(deserialize_with = "duration::deserialize")]
    pub disable_after: Duration,
    /// How long a rotated-out secret keeps signing beside the new one.
    #[serde(deserialize_with = "duration::deserialize")]
    pub old_secret_grace: Duration,
    /// Deliveries in flight at once to one webhook.
    pub concurrency_per_webhook: usize,
    /// Deliveries in flight at once in this process, all webhooks together.
    pub max_in_flight: usize,
    /// Messages claimed from the outbox per round trip.
    pub claim_batch: u32,
    /// Events turned into outbox messages per fan-out transaction.
    pub fanout_batch: u32,
    /// How long a claimed message stays reserved to this process; after it, another replica
    /// may take it over (at-least-once across crashes).
    #[serde(deserialize_with = "duration::deserialize")]
    pub lease: Duration,
    /// How often idle workers look for new events and due messages (new events in this
    /// process wake them at once).
    #[serde(deserialize_with = "duration::deserialize")]
    pub poll_interval: Duration,
    /// Address ranges a webhook URL may reach although they are private, loopback, etc.
    /// (e.g. `["127.0.0.0/8"]` for tests, `["10.20.0.0/16"]` for an internal receiver).
    #[serde(deserialize_with = "deserialize_cidrs")]
    pub allowed_cidrs: Vec<IpNet>,
    /// Key encrypting signing secrets at rest: 32 bytes as base64 or hex. Without it, an
    /// SQLite deployment keeps a generated key in `dispatch-secret.key` beside the database
    /// file; a PostgreSQL deployment must set it (every replica the same).
    pub secret_key: Option<String>,
    /// Bytes of a receiver's response body kept in the attempt log.
    pub response_snippet_bytes: usize,
    /// How long delivered and failed messages keep their payload.
    #[serde(deserialize_with = "duration::deserialize")]
    pub payload_retention: Duration,
    /// How long attempts and finished messages are kept at all.
    #[serde(deserialize_with = "duration::deserialize")]
    pub attempt_retention: Duration,
    /// How often the retention purge runs.
    #[serde(deserialize_with = "duration::deserialize")]
    pub purge_interval: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            enabled: true,
            max_webhooks_per_account: 5,
            retry_schedule: vec![
                Duration::from_secs(10),
                Duration::from_secs(300),
                Duration::from_secs(7200),
            ],
            retry_jitter: 0.1,
            retry_after_max: Duration::from_secs(7200),
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            disable_after: Duration::from_secs(5 * 3600),
            old_secret_grace: Duration::from_secs(24 * 3600),
            concurrency_per_webhook: 32,
            max_in_flight: 512,
            claim_batch: 500,
            fanout_batch: 1000,
            lease: Duration::from_secs(120),
            poll_interval: Duration::from_millis(100),
            allowed_cidrs: Vec::new(),
            secret_key: None,
            response_snippet_bytes: 512,
            payload_retention: Duration::from_secs(7 * 86400),
            attempt_retention: Duration::from_secs(30 * 86400),
            purge_interval: Duration::from_secs(3600),
        }
    }
}

/// serde: CIDRs from their text forms (`127.0.0.0/8`; a bare address is a single host).
fn deserialize_cidrs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|t| parse_cidr(t).map_err(|e| serde::de::Error::custom(format!("allowed_cidrs: {e}"))))
        .collect()
}

/// A `[dispatch]` value that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("[dispatch] {field}: {reason}")]
pub struct InvalidDispatchConfig {
    /// The offending key.
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

impl DispatchConfig {
    /// The webhook deliveries' outbound policy: the shared range table, opted into by
    /// `allowed_cidrs`.
    pub fn outbound_policy(&self) -> CidrAllowlist {
        CidrAllowlist::new(
            "webhook",
            "[dispatch] allowed_cidrs",
            self.allowed_cidrs.clone(),
        )
    }

    /// Checks values serde cannot (ranges, relations between fields).
    pub fn validate(&self) -> Result<(), InvalidDispatchConfig> {
        let bad = |field, reason: &str| {
            Err(InvalidDispatchConfig {
                field,
                reason: reason.into(),
            })
        };
        if !(0.0..=0.5).contains(&self.retry_jitter) {
            return bad("retry_jitter", "must be between 0 and 0.5");
        }
        if self.retry_schedule.len() > 50 {
            return bad("retry_schedule", "at most 50 retries");
        }
        if self.request_timeout.is_zero() {
            return bad("request_timeout", "must be positive");
        }
        if self.concurrency_per_webhook == 0 || self.max_in_flight == 0 {
            return bad("concurrency_per_webhook", "concurrency must be at least 1");
        }
        if self.claim_batch == 0 || self.fanout_batch == 0 {
            return bad("claim_batch", "batch sizes must be at least 1");
        }
        if self.lease <= self.request_timeout {
            return bad("lease", "must be longer than request_timeout");
        }
        if self.max_webhooks_per_account == 0 {
            return bad("max_webhooks_per_account", "must be at least 1");
        }
        Ok(())
    }
}
