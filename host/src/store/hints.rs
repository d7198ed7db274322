//! Served hint answers and the operators' choices: what was shown, where each hint came
//! from, what was chosen, and the acceptance statistics derived from them.

use super::StoreError;
use serde::Serialize;

/// One hint of a served answer, with the plugin it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedHintRecord {
    /// Answer-local id (1..k), also its position.
    pub hint_id: i64,
    /// Plugin whose hint was shown.
    pub plugin: String,
    /// That plugin's own id for it.
    pub local_id: String,
    /// Text shown.
    pub text: String,
    /// URL shown, when any.
    pub url: Option<String>,
    /// Link shown, when any.
    pub link: Option<String>,
    /// Relevance reported, 0–100.
    pub relevance: i64,
    /// Weighted score used for ranking.
    pub score: f64,
    /// Every origin of the hint (the shown one and merged duplicates), as the hints layer
    /// encodes it (JSON).
    pub origins: Vec<u8>,
}

/// A served answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRecord {
    /// hintd's id of the answer.
    pub id: String,
    /// Source name.
    pub source: String,
    /// Account.
    pub account: String,
    /// Dialog.
    pub dialog_id: String,
    /// Client, when known.
    pub client_id: Option<String>,
    /// The message the hints answer.
    pub message_id: String,
    /// The platform's request id (or one hintd made).
    pub request_id: String,
    /// Idempotency key; a second answer with the same key is refused while the first may be
    /// replayed.
    pub request_key: Option<String>,
    /// When it was served, unix ms.
    pub created_at_ms: i64,
    /// Until when the same request is answered with this answer again, unix ms.
    pub replay_until_ms: i64,
    /// The reply body exactly as sent.
    pub body: Vec<u8>,
    /// The context the hints were computed from, as the hints layer encodes it (the JSON list
    /// of its message ids).
    pub context: Vec<u8>,
    /// The hints, in the order shown.
    pub hints: Vec<ServedHintRecord>,
}

/// An operator's choice of one hint of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRecord {
    /// The answer.
    pub answer_id: String,
    /// Answer-local hint id.
    pub hint_id: i64,
    /// Plugin of the chosen hint.
    pub plugin: String,
    /// 1-based position of the chosen hint in the answer.
    pub position: i64,
    /// When, unix ms.
    pub chosen_at_ms: i64,
}

/// Which answers statistics cover.
#[derive(Debug, Clone, Default)]
pub struct StatsFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only this account.
    pub account: Option<String>,
    /// Only answers served at or after this time, unix ms.
    pub since_ms: Option<i64>,
}

/// Acceptance of one plugin's hints.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PluginAcceptance {
    /// Plugin name.
    pub plugin: String,
    /// Answers in which at least one of its hints was shown.
    pub answers_shown: i64,
    /// Its hints shown, in total.
    pub hints_shown: i64,
    /// Times one of its hints was chosen.
    pub chosen: i64,
    /// `chosen ÷ answers_shown` (0 when nothing was shown).
    pub acceptance_rate: f64,
}

/// Acceptance statistics.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HintStats {
    /// Answers with at least one hint.
    pub answers_shown: i64,
    /// Answers served with no hint at all.
    pub answers_empty: i64,
    /// Answers in which the operator chose a hint.
    pub answers_chosen: i64,
    /// `answers_chosen ÷ answers_shown` (0 when nothing was shown).
    pub acceptance_rate: f64,
    /// Mean 1-based position of chosen hints (0 when none).
    pub mean_chosen_position: f64,
    /// `(position, choices)` for every position ever chosen, ascending.
    #[schema(schema_with = positions_schema)]
    pub chosen_positions: Vec<(i64, i64)>,
    /// Per plugin, by name.
    pub plugins: Vec<PluginAcceptance>,
}

/// `chosen_positions`: a list of pairs: `[[position, choices], ...]`.
fn positions_schema() -> utoipa::openapi::schema::ArrayBuilder {
    use utoipa::openapi::schema::{ArrayBuilder, Object, Type};
    // Both members have one type, so "two items of that type" says exactly what
    // `prefixItems` would, in a form every client generator and validator reads.
    ArrayBuilder::new().items(
        ArrayBuilder::new()
            .items(Object::with_type(Type::Integer))
            .min_items(Some(2))
            .max_items(Some(2))
            .description(Some("[1-based position, choices]")),
    )
}

/// Which answers an acceptance series covers and how they are bucketed.
#[derive(Debug, Clone)]
pub struct SeriesFilter {
    /// Source, account and start, as for the totals.
    pub stats: StatsFilter,
    /// Only answers served before this time, unix ms.
    pub until_ms: i64,
    /// Bucket width, ms; buckets start at multiples of it (UTC, since the epoch has no offset).
    pub bucket_ms: i64,
}

/// One plugin's acceptance in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SeriesPoint {
    /// Plugin name.
    pub plugin: String,
    /// Start of the bucket, unix ms.
    pub bucket_start_ms: i64,
    /// Answers served in the bucket that showed at least one of its hints.
    pub answers_shown: i64,
    /// Of those, answers in which one of its hints was chosen.
    pub answers_chosen: i64,
    /// `answers_chosen ÷ answers_shown`.
    pub acceptance_rate: f64,
}

/// Served answers and feedback.
#[async_trait::async_trait]
pub trait HintStore {
    /// Stores an answer with its hints in one transaction. When another answer holds the same
    /// `request_key` and may still be replayed, nothing is stored and `Conflict` is returned;
    /// an expired holder gives the key up.
    async fn save_answer(&self, answer: AnswerRecord) -> Result<(), StoreError> {
        let key = answer.request_key.clone();
        match self.save_answers(vec![answer]).await?.as_slice() {
            [true] => Ok(()),
            _ => Err(StoreError::Conflict(format!(
                "an answer for request key {key:?} exists"
            ))),
        }
    }
    /// Stores many answers in one transaction (group commit). An answer whose `request_key`
    /// is held by a replayable answer is skipped; the result says, per answer, whether it was
    /// stored. The answers are taken so that a backend may hand them to a writer thread.
    async fn save_answers(&self, answers: Vec<AnswerRecord>) -> Result<Vec<bool>, StoreError>;
    /// The answer to replay for `request_key`, if one is still replayable at `now_ms`.
    async fn answer_by_request(
        &self,
        request_key: &str,
        now_ms: i64,
    ) -> Result<Option<AnswerRecord>, StoreError>;
    /// Every request key still replayable at `now_ms`, with its deadline (at most `limit`).
    async fn replayable_keys(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(String, i64)>, StoreError>;
    /// The latest answer for a message (of `client_id`, when given).
    async fn answer_by_message(
        &self,
        source: &str,
        account: &str,
        message_id: &str,
        client_id: Option<&str>,
    ) -> Result<Option<AnswerRecord>, StoreError>;
    /// Records a choice; `false` when the same hint of the same answer was already chosen.
    async fn record_choice(&self, choice: &ChoiceRecord) -> Result<bool, StoreError>;
    /// Acceptance statistics.
    async fn hint_stats(&self, filter: &StatsFilter) -> Result<HintStats, StoreError>;
    /// Acceptance per plugin and time bucket; only buckets where the plugin was shown, ordered
    /// by plugin, then bucket.
    async fn hint_series(&self, filter: &SeriesFilter) -> Result<Vec<SeriesPoint>, StoreError>;
    /// Deletes answers (with their hints and choices) served before `before_ms`; returns how many.
    async fn purge_answers(&self, before_ms: i64) -> Result<u64, StoreError>;
}
