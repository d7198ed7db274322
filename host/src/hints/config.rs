//! `[hints]`: the request deadline, merge rules, idempotency, callback retry bounds, the
//! private notes' debounce, and the outbound-policy opt-ins of callbacks and notes.

use crate::core::outbound::{CidrAllowlist, allowlist::parse_cidr};
use ipnet::IpNet;
use serde::Deserialize;

/// The most hints an answer may ever carry, whatever the configuration says.
pub const MAX_HINTS_CEILING: u32 = 20;

/// `[hints]`: request deadline, merge rules, delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HintsConfig {
    /// Milliseconds one hint request may take in total; plugins still running then are left
    /// out of the answer. Each plugin also has its own `timeout_ms` (the shorter one wins).
    pub request_deadline_ms: u64,
    /// Hints whose weighted score (0–100 after normalisation × plugin weight) is below this
    /// are dropped.
    pub threshold: f64,
    /// Hints per answer (1–20).
    pub max_hints: u32,
    /// Two hints whose token sets overlap at least this much (Jaccard, 0–1) are duplicates;
    /// the better one is kept. Hints with the same normalised text are always duplicates.
    pub dedupe_similarity: f64,
    /// Seconds a served answer is returned again for the same request instead of recomputing.
    pub idempotency_ttl_secs: u64,
    /// Seconds a served answer can still receive the operator's choice (and is kept).
    pub answer_retention_secs: u64,
    /// Signing secret (`whsec_…`) for hint callbacks. Without one, callbacks are sent
    /// unsigned (only `webhook-id`) and a warning is logged once.
    pub callback_secret: Option<String>,
    /// Milliseconds one callback POST may take.
    pub callback_timeout_ms: u64,
    /// First retry delay of a failed callback; doubled after each failure.
    pub callback_retry_initial_ms: u64,
    /// Longest delay between two callback attempts.
    pub callback_retry_max_ms: u64,
    /// Milliseconds after which a callback is given up (hints go stale quickly).
    pub callback_give_up_ms: u64,
    /// Address ranges a `callback_url` may reach although they are loopback, private, etc.
    /// (e.g. `["10.20.0.0/16"]` for a bridge on the internal network); without them such a
    /// callback is refused.
    #[serde(deserialize_with = "deserialize_cidrs")]
    pub callback_allowed_cidrs: Vec<IpNet>,
    /// Milliseconds of quiet in a conversation before its private note is posted
    /// (`delivery = "note"`): several quick client messages get one note, for the last.
    pub note_debounce_ms: u64,
    /// Address ranges a `chatwoot_base_url` may reach although they are loopback, private,
    /// etc. (a Chatwoot on the internal network); without them such notes are refused.
    #[serde(deserialize_with = "deserialize_note_cidrs")]
    pub note_allowed_cidrs: Vec<IpNet>,
    /// Milliseconds a choice waits for the plugins' `feedback` calls before it is answered;
    /// calls still running then go on in the background and are reported as `pending`.
    pub feedback_wait_ms: u64,
}

impl Default for HintsConfig {
    fn default() -> Self {
        HintsConfig {
            request_deadline_ms: 800,
            threshold: 5.0,
            max_hints: 5,
            dedupe_similarity: 0.8,
            idempotency_ttl_secs: 600,
            answer_retention_secs: 7 * 24 * 3600,
            callback_secret: None,
            callback_timeout_ms: 5_000,
            callback_retry_initial_ms: 500,
            callback_retry_max_ms: 10_000,
            callback_give_up_ms: 60_000,
            callback_allowed_cidrs: Vec::new(),
            feedback_wait_ms: 1_000,
            note_debounce_ms: 1_500,
            note_allowed_cidrs: Vec::new(),
        }
    }
}

/// serde: CIDRs from their text forms (`127.0.0.0/8`; a bare address is a single host).
fn deserialize_cidrs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    cidrs(d, "callback_allowed_cidrs")
}

/// serde: `note_allowed_cidrs`, read like `callback_allowed_cidrs`.
fn deserialize_note_cidrs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    cidrs(d, "note_allowed_cidrs")
}

fn cidrs<'de, D: serde::Deserializer<'de>>(d: D, key: &str) -> Result<Vec<IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|t| parse_cidr(t).map_err(|e| serde::de::Error::custom(format!("{key}: {e}"))))
        .collect()
}

/// A `[hints]` value out of range.
#[derive(Debug, thiserror::Error)]
#[error("[hints] {field}: {reason}")]
pub struct InvalidHintsConfig {
    /// The key.
    pub field: &'static str,
    /// Why it is rejected.
    pub reason: String,
}

impl HintsConfig {
    /// The callbacks' outbound policy: the shared range table, opted into by
    /// `callback_allowed_cidrs`.
    pub fn callback_policy(&self) -> CidrAllowlist {
        CidrAllowlist::new(
            "callback",
            "[hints] callback_allowed_cidrs",
            self.callback_allowed_cidrs.clone(),
        )
    }

    /// The private notes' outbound policy: the shared range table, opted into by
    /// `note_allowed_cidrs`.
    pub fn note_policy(&self) -> CidrAllowlist {
        CidrAllowlist::new(
            "note",
            "[hints] note_allowed_cidrs",
            self.note_allowed_cidrs.clone(),
        )
    }

    /// Checks ranges, so a bad file fails at start with the key named.
    pub fn validate(&self) -> Result<(), InvalidHintsConfig> {
        let bad = |field, reason: &str| {
            Err(InvalidHintsConfig {
                field,
                reason: reason.into(),
            })
        };
        if self.request_deadline_ms == 0 || self.request_deadline_ms > 60_000 {
            return bad("request_deadline_ms", "must be 1..=60000");
        }
        if self.feedback_wait_ms > 60_000 {
            return bad("feedback_wait_ms", "must be 0..=60000");
        }
        if self.note_debounce_ms > 600_000 {
            return bad("note_debounce_ms", "must be 0..=600000");
        }
        if !(0.0..=100.0).contains(&self.threshold) {
            return bad("threshold", "must be 0..=100");
        }
        if self.max_hints == 0 || self.max_hints > MAX_HINTS_CEILING {
            return bad("max_hints", &format!("must be 1..={MAX_HINTS_CEILING}"));
        }
        if !(0.0..=1.0).contains(&self.dedupe_similarity) || self.dedupe_similarity == 0.0 {
            return bad("dedupe_similarity", "must be in (0, 1]");
        }
        if self.callback_retry_initial_ms == 0
            || self.callback_retry_max_ms < self.callback_retry_initial_ms
        {
            return bad(
                "callback_retry_initial_ms",
                "must be > 0 and <= callback_retry_max_ms",
            );
        }
        if let Some(secret) = &self.callback_secret
            && crate::core::signature::SigningSecret::parse(secret).is_err()
        {
            return bad(
                "callback_secret",
                "must be `whsec_` followed by base64 of at least 24 bytes",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::outbound::OutboundPolicy;

    #[test]
    fn defaults_are_valid_and_ranges_checked() {
        HintsConfig::default().validate().unwrap();
        let c = HintsConfig {
            max_hints: 21,
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "max_hints");
        let c = HintsConfig {
            callback_secret: Some("nope".into()),
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "callback_secret");
    }

    #[test]
    fn callback_cidrs_parse_and_a_bad_one_names_the_key() {
        let c: HintsConfig =
            toml::from_str("callback_allowed_cidrs = [\"10.20.0.0/16\", \"::1\"]").unwrap();
        assert_eq!(c.callback_allowed_cidrs.len(), 2);
        assert!(
            c.callback_policy()
                .decide("10.20.3.4".parse().unwrap())
                .is_ok()
        );
        let e = toml::from_str::<HintsConfig>("callback_allowed_cidrs = [\"nope\"]").unwrap_err();
        assert!(
            e.to_string()
                .contains("callback_allowed_cidrs: `nope` is not a CIDR such as 127.0.0.0/8"),
            "{e}"
        );
    }
}
