//! Webhook subscriptions, the delivery outbox and the attempt log.
//!
//! The outbox is fed from the event log by [`DispatchStore::fanout`], which turns a batch of
//! new events into per-webhook messages and advances a durable cursor in the same
//! transaction: an event in the log is either not yet fanned out or has all its messages.
//! Messages are delivered under leases ([`DispatchStore::claim_due`]): a claimed message is
//! reserved to one process until its lease ends, after which any replica may take it over.

use super::{StoreError, StoredEvent};

/// Whether a webhook receives deliveries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum WebhookStatus {
    /// Receives deliveries.
    Active,
    /// Receives nothing until re-enabled; its pending messages were marked failed.
    Disabled,
}

impl WebhookStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Active => "active",
            WebhookStatus::Disabled => "disabled",
        }
    }

    /// Reads the stored name (anything unknown reads as disabled: never deliver by mistake).
    pub fn parse(s: &str) -> WebhookStatus {
        if s == "active" {
            WebhookStatus::Active
        } else {
            WebhookStatus::Disabled
        }
    }
}

/// One webhook subscription as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    /// `wh_...`.
    pub id: String,
    /// Only events of this account; `None`: every account.
    pub account: Option<String>,
    /// Display name.
    pub name: String,
    /// Target URL.
    pub url: String,
    /// Subscription patterns as given.
    pub events: Vec<String>,
    /// Active or disabled.
    pub status: WebhookStatus,
    /// Why it was disabled (`gone`, `failing`, `admin`).
    pub disabled_reason: Option<String>,
    /// When it was disabled, unix ms.
    pub disabled_at_ms: Option<i64>,
    /// The signing secret, sealed.
    pub secret: Vec<u8>,
    /// The previous secret, sealed, during rotation.
    pub old_secret: Option<Vec<u8>>,
    /// Until when the previous secret still signs, unix ms.
    pub old_secret_until_ms: Option<i64>,
    /// Creation time, unix ms.
    pub created_at_ms: i64,
    /// Last modification, unix ms.
    pub updated_at_ms: i64,
    /// Last successful delivery, unix ms.
    pub last_success_ms: Option<i64>,
    /// First failure since the last success, unix ms (`None` while healthy).
    pub failing_since_ms: Option<i64>,
}

/// A message fan-out wants created.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `msg_...`, stable for the (webhook, event) pair.
    pub id: String,
    /// Target webhook.
    pub webhook_id: String,
    /// The event's position in the log.
    pub event_seq: i64,
    /// The event's type.
    pub event_type: String,
    /// Messages with the same key are delivered in order.
    pub order_key: Option<String>,
    /// The body to POST.
    pub payload: Vec<u8>,
}

/// What one fan-out transaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanoutStats {
    /// Events read from the log.
    pub events: usize,
    /// Messages created.
    pub messages: usize,
    /// Active webhooks the fan-out planned with; `None` when it did not look (no new events
    /// on a backend that reads the webhooks only when there are).
    pub active_webhooks: Option<usize>,
}

/// Decides, inside the fan-out transaction, which messages an event becomes given the
/// active webhooks. A plain function, so a backend may run it on a writer thread of its own.
pub type FanoutPlan = fn(&StoredEvent, &[WebhookRecord]) -> Vec<NewMessage>;

/// A message claimed for delivery.
#[derive(Debug, Clone)]
pub struct ClaimedMessage {
    /// `msg_...`.
    pub id: String,
    /// Target webhook.
    pub webhook_id: String,
    /// The event's position in the log.
    pub event_seq: i64,
    /// Ordering key.
    pub order_key: Option<String>,
    /// The body (`None` if retention purged it: the message is then given up).
    pub payload: Option<Vec<u8>>,
    /// Attempts made so far in this round (resend and recover start a new round).
    pub attempts: i64,
}

/// What happens to a message after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageNext {
    /// Delivered: done.
    Delivered,
    /// Failed; try again at this time (unix ms).
    Retry(i64),
    /// Failed for good.
    Failed,
    /// Not attempted (an earlier message of its dialog failed): back to pending at this time,
    /// without counting an attempt.
    Release(i64),
}

/// The result of one delivery attempt (or a release) to record.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The message.
    pub message_id: String,
    /// Its webhook.
    pub webhook_id: String,
    /// Attempt number in the round, from 1 (ignored for `Release`).
    pub attempt: i64,
    /// Start time, unix ms.
    pub at_ms: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// Receiver's HTTP status, if it answered.
    pub http_status: Option<i64>,
    /// Network error, refusal, or non-2xx description.
    pub error: Option<String>,
    /// Start of the receiver's response body.
    pub response_snippet: Option<String>,
    /// What becomes of the message.
    pub next: MessageNext,
}

/// A webhook left failing by a batch of results, for the disable-after rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingWebhook {
    /// The webhook.
    pub webhook_id: String,
    /// First failure since its last success, unix ms.
    pub failing_since_ms: i64,
}

/// One row of the attempt log.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AttemptRecord {
    /// Increasing id (pagination cursor).
    pub id: i64,
    /// The message (`webhook-id` header).
    pub message_id: String,
    /// Attempt number in its round.
    pub attempt: i64,
    /// Start time, unix ms.
    pub at_ms: i64,
    /// Duration, ms.
    pub duration_ms: i64,
    /// `success` or `failure`.
    pub outcome: String,
    /// Receiver's HTTP status.
    pub http_status: Option<i64>,
    /// Error text.
    pub error: Option<String>,
    /// Start of the response body.
    pub response_snippet: Option<String>,
}

/// One outbox message as stored.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MessageRecord {
    /// `msg_...`.
    pub id: String,
    /// Its webhook.
    pub webhook_id: String,
    /// The event's position in the log.
    pub event_seq: i64,
    /// The event's type.
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts in the current round.
    pub attempts: i64,
    /// Next attempt, unix ms (pending only).
    pub next_attempt_ms: i64,
    /// Creation time, unix ms.
    pub created_at_ms: i64,
    /// When it was delivered or given up, unix ms.
    pub finished_at_ms: Option<i64>,
    /// Whether the payload is still kept.
    pub has_payload: bool,
    /// Last error.
    pub last_error: Option<String>,
}

/// What a retention purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PurgeStats {
    /// Finished messages whose payload was dropped.
    pub payloads_dropped: u64,
    /// Finished messages deleted.
    pub messages_deleted: u64,
    /// Attempt rows deleted.
    pub attempts_deleted: u64,
}

/// Subscriptions, outbox and attempts.
#[async_trait::async_trait]
pub trait DispatchStore {
    /// Inserts a webhook unless its account already has `limit` of them
    /// ([`StoreError::Conflict`] then).
    async fn webhook_insert(&self, webhook: &WebhookRecord, limit: u32) -> Result<(), StoreError>;
    /// One webhook.
    async fn webhook_get(&self, id: &str) -> Result<Option<WebhookRecord>, StoreError>;
    /// Webhooks of one account (`None`: all), oldest first.
    async fn webhook_list(&self, account: Option<&str>) -> Result<Vec<WebhookRecord>, StoreError>;
    /// Writes every mutable field (the account cannot change). When `fail_pending`, the
    /// webhook's pending messages are marked failed in the same transaction. `false` when
    /// the webhook does not exist.
    async fn webhook_update(
        &self,
        webhook: &WebhookRecord,
        fail_pending: bool,
    ) -> Result<bool, StoreError>;
    /// Deletes a webhook with its messages and attempts. `false` when it did not exist.
    async fn webhook_delete(&self, id: &str) -> Result<bool, StoreError>;
    /// Disables an active webhook because of delivery failures, fails its pending messages
    /// and appends `event` (its `webhook.disabled`) to the event log, atomically. `false`
    /// when it was not active (another process got there first).
    async fn webhook_disable(
        &self,
        id: &str,
        reason: &str,
        now_ms: i64,
        event: &super::NewEvent,
    ) -> Result<bool, StoreError>;

    /// Turns up to `limit` new events of the log into messages per `plan` and advances the
    /// cursor, in one transaction.
    async fn fanout(&self, limit: u32, plan: FanoutPlan) -> Result<FanoutStats, StoreError>;
    /// Leases up to `limit` due messages of active webhooks to `owner` until `lease_until_ms`,
    /// oldest event first. A message is not claimed while an earlier message of its dialog
    /// for the same webhook is leased by another process or waiting for a retry (the
    /// claiming process orders its own in-flight messages of a dialog itself).
    async fn claim_due(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<ClaimedMessage>, StoreError>;
    /// Ends every lease (a single SQLite process at start: leases of a killed process
    /// need not wait to expire). Never used with several replicas.
    async fn release_all_leases(&self) -> Result<u64, StoreError>;
    /// Ends the leases `owner` still holds (graceful stop: others may take over at once).
    async fn release_leases(&self, owner: &str) -> Result<u64, StoreError>;
    /// Records attempts and moves their messages on, in one transaction; only messages still
    /// leased to `owner` change. Returns the webhooks left failing by these results.
    async fn record_results(
        &self,
        owner: &str,
        results: &[AttemptResult],
    ) -> Result<Vec<FailingWebhook>, StoreError>;

    /// Attempts of a webhook (or one of its messages), newest first, with `id < before`.
    async fn attempts_list(
        &self,
        webhook_id: &str,
        message_id: Option<&str>,
        only_failures: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AttemptRecord>, StoreError>;
    /// One message of a webhook.
    async fn message_get(
        &self,
        webhook_id: &str,
        message_id: &str,
    ) -> Result<Option<MessageRecord>, StoreError>;
    /// Messages of a webhook, newest first, optionally of one status.
    async fn messages_list(
        &self,
        webhook_id: &str,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>, StoreError>;
    /// Puts a message back to pending for an immediate new round of attempts. `false` when
    /// it does not exist or its payload was purged.
    async fn message_resend(
        &self,
        webhook_id: &str,
        message_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Puts the failed messages of a webhook created at or after `since_ms` back to pending.
    async fn messages_recover(
        &self,
        webhook_id: &str,
        since_ms: i64,
        now_ms: i64,
    ) -> Result<u64, StoreError>;
    /// Drops payloads of messages finished before `payloads_before_ms` and deletes finished
    /// messages and attempts older than `rows_before_ms`.
    async fn dispatch_purge(
        &self,
        payloads_before_ms: i64,
        rows_before_ms: i64,
    ) -> Result<PurgeStats, StoreError>;
    /// Messages waiting for delivery, all webhooks.
    async fn pending_count(&self) -> Result<u64, StoreError>;
}
