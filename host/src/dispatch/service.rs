//! [`Dispatcher`]: the webhook hub's handle. The API manages subscriptions through it; the
//! app starts its workers.

use super::config::{DispatchConfig, InvalidDispatchConfig};
use super::deliver::Deliverer;
use super::envelope::rfc3339_ms;
use super::secrets::{SecretBox, SecretError};
use super::subscription::{self, CreateWebhook, Invalid, UpdateWebhook};
use crate::core::now_ms;
use crate::core::outbound::OutboundPolicy;
use crate::core::signature::SigningSecret;
use crate::store::{AttemptRecord, MessageRecord, Store, StoreError, WebhookRecord, WebhookStatus};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::Notify;

/// Recent errors shown with each webhook.
const RECENT_ERRORS: u32 = 10;

/// Why a dispatch operation failed. Each variant maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// Bad input (400).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No such webhook or message (404).
    #[error("{0}")]
    NotFound(String),
    /// The account's webhook limit is reached (409).
    #[error(
        "account `{account}` already has the maximum of {limit} webhooks; delete one (or set its url to null) first"
    )]
    LimitReached {
        /// The account (`*` for webhooks of every account).
        account: String,
        /// The limit.
        limit: u32,
    },
    /// The message cannot be resent (409): payload purged, or a delivery is in flight.
    #[error("{0}")]
    NotResendable(String),
    /// The store failed (503 when unreachable, else 500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored secret does not open (500).
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The configuration cannot work (startup).
    #[error(transparent)]
    Config(#[from] InvalidDispatchConfig),
    /// The HTTP client could not be built (startup).
    #[error("webhook HTTP client: {0}")]
    Client(String),
}

/// One recorded delivery error, as shown with a webhook.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorView {
    /// When the attempt started, RFC 3339.
    pub time: String,
    /// The message (`webhook-id`).
    pub message_id: String,
    /// Attempt number of that message.
    pub attempt: i64,
    /// The receiver's HTTP status, if it answered.
    pub http_status: Option<i64>,
    /// What went wrong (network error, SSRF refusal, non-2xx status).
    pub error: Option<String>,
    /// Start of the receiver's response body.
    pub response: Option<String>,
}

impl From<&AttemptRecord> for ErrorView {
    fn from(a: &AttemptRecord) -> Self {
        ErrorView {
            time: rfc3339_ms(a.at_ms),
            message_id: a.message_id.clone(),
            attempt: a.attempt,
            http_status: a.http_status,
            error: a.error.clone(),
            response: a.response_snippet.clone(),
        }
    }
}

/// A webhook as the API shows it (never with its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    /// `wh_...`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Target URL.
    pub url: String,
    /// Subscribed event patterns.
    pub events: Vec<String>,
    /// Only this account's events; `null`: every account.
    pub account: Option<String>,
    /// `active` or `disabled`.
    pub status: WebhookStatus,
    /// Why it is disabled: `gone` (receiver answered 410), `failing`, `admin`.
    pub disabled_reason: Option<String>,
    /// When it was disabled.
    pub disabled_at: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Last successful delivery.
    pub last_success_at: Option<String>,
    /// Every delivery has failed since then.
    pub failing_since: Option<String>,
    /// Until when the previous secret still signs beside the current one.
    pub previous_secret_expires_at: Option<String>,
    /// The most recent failed attempts, newest first.
    pub errors: Vec<ErrorView>,
}

/// The answer to a creation or rotation: the secret is shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WithSecret {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_...`: store it now, it is never shown again.
    pub secret: String,
    /// Things worth knowing (plain http, a URL the SSRF guard will refuse).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What a `PUT` did.
#[derive(Debug, Clone)]
pub enum Updated {
    /// Modified.
    Changed {
        /// The webhook after the change.
        webhook: Box<WebhookView>,
        /// Warnings about the new URL.
        warnings: Vec<String>,
    },
    /// `url: null` deleted it.
    Deleted,
}

/// The webhook hub. Cloning is cheap.
#[derive(Clone)]
pub struct Dispatcher {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: DispatchConfig,
    /// `None` on PostgreSQL without `[dispatch] secret_key`: webhooks cannot be created then.
    pub(crate) secrets: Option<SecretBox>,
    pub(crate) policy: Arc<dyn OutboundPolicy>,
    pub(crate) deliverer: Deliverer,
    /// Wakes the fan-out loop (new events) and the delivery loop (new messages).
    pub(crate) fanout_wake: Notify,
    pub(crate) delivery_wake: Notify,
    /// Bumped on every subscription change so workers reload their webhook cache.
    pub(crate) generation: AtomicU64,
    /// Whether the last fan-out saw no active webhook (see [`Dispatcher::wake`]).
    pub(crate) no_active_webhooks: AtomicBool,
    /// This process's lease owner id.
    pub(crate) owner: String,
    /// Claimed messages whose results are not recorded yet.
    pub(crate) outstanding: std::sync::atomic::AtomicUsize,
    /// Serialises this process's outbox writes on SQLite, whose single writer would otherwise
    /// make them wait in its busy handler (millisecond sleeps) instead of in a queue.
    pub(crate) write_gate: Option<tokio::sync::Mutex<()>>,
    /// Set by [`Dispatcher::stop`]: claim nothing more.
    pub(crate) stopping: std::sync::atomic::AtomicBool,
}

impl Dispatcher {
    /// Builds the hub: checks the config, obtains the secret-sealing key, builds the guarded
    /// HTTP client. Workers start with [`start`](Self::start).
    pub fn new(
        config: &DispatchConfig,
        store_url: &str,
        store: Arc<dyn Store>,
    ) -> Result<Dispatcher, DispatchError> {
        config.validate()?;
        let secrets = match SecretBox::from_config(config.secret_key.as_deref(), store_url) {
            Ok(b) => Some(b),
            // Serving everything else still works; creating a webhook explains what is missing.
            Err(SecretError::KeyRequired) => {
                tracing::warn!(
                    "{}; webhook creation is refused until it is set",
                    SecretError::KeyRequired
                );
                None
            }
            Err(e) => return Err(e.into()),
        };
        let policy: Arc<dyn OutboundPolicy> = Arc::new(config.outbound_policy());
        let deliverer = Deliverer::new(config, policy.clone())
            .map_err(|e| DispatchError::Client(e.to_string()))?;
        Ok(Dispatcher {
            inner: Arc::new(Inner {
                store: store.clone(),
                config: config.clone(),
                secrets,
                policy,
                deliverer,
                fanout_wake: Notify::new(),
                delivery_wake: Notify::new(),
                generation: AtomicU64::new(0),
                no_active_webhooks: AtomicBool::new(false),
                owner: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
                outstanding: Default::default(),
                write_gate: (store.backend() == crate::store::Backend::Sqlite)
                    .then(|| tokio::sync::Mutex::new(())),
                stopping: Default::default(),
            }),
        })
    }

    /// Tells the workers new events are in the log (call after committing one); without it
    /// they notice within `poll_interval`. While no webhook is active the call does nothing:
    /// the fan-out would only move its cursor past the events, a write transaction per
    /// ingest batch, and the poll does that as well (a webhook receives only events from its
    /// creation on, so it loses nothing by the wait).
    pub fn wake(&self) {
        if !self.inner.no_active_webhooks.load(Ordering::Relaxed) {
            self.inner.fanout_wake.notify_one();
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &DispatchConfig {
        &self.inner.config
    }

    fn secret_box(&self) -> Result<&SecretBox, DispatchError> {
        self.inner
            .secrets
            .as_ref()
            .ok_or(DispatchError::Secret(SecretError::KeyRequired))
    }

    fn changed(&self) {
        self.inner.generation.fetch_add(1, Ordering::Release);
        // A new or re-enabled webhook wants the next events at once.
        self.inner
            .no_active_webhooks
            .store(false, Ordering::Relaxed);
        self.inner.fanout_wake.notify_one();
    }

    async fn view(&self, w: &WebhookRecord) -> Result<WebhookView, DispatchError> {
        let errors = self
            .inner
            .store
            .attempts_list(&w.id, None, true, None, RECENT_ERRORS)
            .await?;
        let live_old = w.old_secret_until_ms.filter(|until| *until > now_ms());
        Ok(WebhookView {
            id: w.id.clone(),
            name: w.name.clone(),
            url: w.url.clone(),
            events: w.events.clone(),
            account: w.account.clone(),
            status: w.status,
            disabled_reason: w.disabled_reason.clone(),
            disabled_at: w.disabled_at_ms.map(rfc3339_ms),
            created_at: rfc3339_ms(w.created_at_ms),
            updated_at: rfc3339_ms(w.updated_at_ms),
            last_success_at: w.last_success_ms.map(rfc3339_ms),
            failing_since: w.failing_since_ms.map(rfc3339_ms),
            previous_secret_expires_at: live_old.map(rfc3339_ms),
            errors: errors.iter().map(ErrorView::from).collect(),
        })
    }

    async fn load(&self, id: &str) -> Result<WebhookRecord, DispatchError> {
        self.inner
            .store
            .webhook_get(id)
            .await?
            .ok_or_else(|| DispatchError::NotFound(format!("no webhook `{id}`")))
    }

    /// Creates a webhook; the answer carries its secret, shown this once.
    pub async fn create(&self, input: CreateWebhook) -> Result<WithSecret, DispatchError> {
        let name = subscription::validate_name(input.name.as_deref())?;
        let (url, warnings) =
            subscription::validate_url(input.url.as_deref(), self.inner.policy.as_ref())?;
        let events = subscription::validate_events(input.events.as_deref())?;
        let account = subscription::validate_account(input.account.as_deref())?;
        let now = now_ms();
        let id = format!("wh_{}", uuid::Uuid::new_v4().simple());
        let secret = SigningSecret::generate();
        let record = WebhookRecord {
            secret: self.secret_box()?.seal(&id, &secret),
            id,
            account,
            name,
            url,
            events,
            status: WebhookStatus::Active,
            disabled_reason: None,
            disabled_at_ms: None,
            old_secret: None,
            old_secret_until_ms: None,
            created_at_ms: now,
            updated_at_ms: now,
            last_success_ms: None,
            failing_since_ms: None,
        };
        let limit = self.inner.config.max_webhooks_per_account;
        match self.inner.store.webhook_insert(&record, limit).await {
            Err(StoreError::Conflict(_)) => {
                let account = record.account.clone().unwrap_or_else(|| "*".into());
                return Err(DispatchError::LimitReached { account, limit });
            }
            other => other?,
        }
        self.changed();
        tracing::info!(webhook = %record.id, name = %record.name, "webhook created");
        Ok(WithSecret {
            webhook: self.view(&record).await?,
            secret: secret.expose(),
            warnings,
        })
    }

    /// Webhooks, optionally of one account.
    pub async fn list(&self, account: Option<&str>) -> Result<Vec<WebhookView>, DispatchError> {
        let mut out = Vec::new();
        for w in self.inner.store.webhook_list(account).await? {
            out.push(self.view(&w).await?);
        }
        Ok(out)
    }

    /// One webhook.
    pub async fn get(&self, id: &str) -> Result<WebhookView, DispatchError> {
        let w = self.load(id).await?;
        self.view(&w).await
    }

    /// Applies a `PUT`: `url: null` deletes; `status: active` re-enables (health counters
    /// reset); `status: disabled` switches off and fails pending messages.
    pub async fn update(&self, id: &str, input: UpdateWebhook) -> Result<Updated, DispatchError> {
        let mut w = self.load(id).await?;
        if let Some(None) = input.url {
            self.delete(id).await?;
            return Ok(Updated::Deleted);
        }
        let mut warnings = Vec::new();
        if let Some(name) = input.name.as_deref() {
            w.name = subscription::validate_name(Some(name))?;
        }
        if let Some(Some(url)) = input.url.as_ref() {
            let (url, warn) = subscription::validate_url(Some(url), self.inner.policy.as_ref())?;
            w.url = url;
            warnings = warn;
        }
        if let Some(events) = input.events.as_deref() {
            w.events = subscription::validate_events(Some(events))?;
        }
        if let Some(account) = input.account.as_deref()
            && Some(account) != w.account.as_deref()
        {
            return Err(Invalid {
                field: "account",
                message: "cannot be changed; create a webhook for the other account instead".into(),
                valid_events: None,
            }
            .into());
        }
        let now = now_ms();
        let mut fail_pending = false;
        match input.status.as_deref() {
            None => {}
            Some("active") if w.status == WebhookStatus::Disabled => {
                w.status = WebhookStatus::Active;
                w.disabled_reason = None;
                w.disabled_at_ms = None;
                w.failing_since_ms = None;
            }
            Some("disabled") if w.status == WebhookStatus::Active => {
                w.status = WebhookStatus::Disabled;
                w.disabled_reason = Some("admin".into());
                w.disabled_at_ms = Some(now);
                fail_pending = true;
            }
            Some("active") | Some("disabled") => {}
            Some(other) => {
                let shown: String = other.chars().take(40).collect();
                return Err(Invalid {
                    field: "status",
                    message: format!("must be \"active\" or \"disabled\", not \"{shown}\""),
                    valid_events: None,
                }
                .into());
            }
        }
        w.updated_at_ms = now;
        if !self.inner.store.webhook_update(&w, fail_pending).await? {
            return Err(DispatchError::NotFound(format!("no webhook `{id}`")));
        }
        self.changed();
        tracing::info!(webhook = %id, "webhook updated");
        Ok(Updated::Changed {
            webhook: Box::new(self.view(&w).await?),
            warnings,
        })
    }

    /// Deletes a webhook with its outbox and attempts.
    pub async fn delete(&self, id: &str) -> Result<(), DispatchError> {
        if !self.inner.store.webhook_delete(id).await? {
            return Err(DispatchError::NotFound(format!("no webhook `{id}`")));
        }
        self.changed();
        tracing::info!(webhook = %id, "webhook deleted");
        Ok(())
    }

    /// A new secret; the current one keeps signing beside it for `old_secret_grace`.
    pub async fn rotate_secret(&self, id: &str) -> Result<WithSecret, DispatchError> {
        let mut w = self.load(id).await?;
        let secret = SigningSecret::generate();
        let now = now_ms();
        w.old_secret = Some(std::mem::replace(
            &mut w.secret,
            self.secret_box()?.seal(&w.id, &secret),
        ));
        w.old_secret_until_ms = Some(now + self.inner.config.old_secret_grace.as_millis() as i64);
        w.updated_at_ms = now;
        if !self.inner.store.webhook_update(&w, false).await? {
            return Err(DispatchError::NotFound(format!("no webhook `{id}`")));
        }
        self.changed();
        tracing::info!(webhook = %id, "webhook secret rotated");
        Ok(WithSecret {
            webhook: self.view(&w).await?,
            secret: secret.expose(),
            warnings: vec![],
        })
    }

    /// The attempt log of a webhook or of one of its messages, newest first.
    pub async fn attempts(
        &self,
        id: &str,
        message: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AttemptRecord>, DispatchError> {
        self.load(id).await?;
        if let Some(m) = message {
            self.message(id, m).await?;
        }
        Ok(self
            .inner
            .store
            .attempts_list(id, message, false, before, limit.clamp(1, 1000))
            .await?)
    }

    /// One message of a webhook.
    pub async fn message(&self, id: &str, message: &str) -> Result<MessageRecord, DispatchError> {
        self.inner
            .store
            .message_get(id, message)
            .await?
            .ok_or_else(|| {
                DispatchError::NotFound(format!("no message `{message}` for webhook `{id}`"))
            })
    }

    /// Messages of a webhook, newest first.
    pub async fn messages(
        &self,
        id: &str,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>, DispatchError> {
        self.load(id).await?;
        if let Some(s) = status
            && !matches!(s, "pending" | "delivered" | "failed")
        {
            return Err(Invalid {
                field: "status",
                message: "must be pending, delivered or failed".into(),
                valid_events: None,
            }
            .into());
        }
        Ok(self
            .inner
            .store
            .messages_list(id, status, limit.clamp(1, 1000))
            .await?)
    }

    /// Sends a message again now (a new round of attempts, same `webhook-id`).
    pub async fn resend(&self, id: &str, message: &str) -> Result<MessageRecord, DispatchError> {
        self.load(id).await?;
        let current = self.message(id, message).await?;
        if !current.has_payload {
            return Err(DispatchError::NotResendable(format!(
                "message `{message}` can no longer be sent: its payload was purged by retention"
            )));
        }
        if !self
            .inner
            .store
            .message_resend(id, message, now_ms())
            .await?
        {
            return Err(DispatchError::NotResendable(format!(
                "message `{message}` is being delivered right now; try again later"
            )));
        }
        self.inner.delivery_wake.notify_one();
        self.message(id, message).await
    }

    /// Sends again every failed message of a webhook created since `since_ms`.
    pub async fn recover(&self, id: &str, since_ms: i64) -> Result<u64, DispatchError> {
        self.load(id).await?;
        let n = self
            .inner
            .store
            .messages_recover(id, since_ms, now_ms())
            .await?;
        self.inner.delivery_wake.notify_one();
        Ok(n)
    }
}
