//! The hint service: one request from context to served answer (idempotent, persisted,
//! announced), the operator's choice routed back to the plugins, and callbacks.

use super::answer::Answer;
use super::callback::{CallbackOutcome, CallbackRetry, CallbackSender};
use super::context_source::{ContextSource, LatestClientMessage};
use super::debounce::Debouncer;
use super::error::HintsError;
use super::feedback::{FeedbackBase, route};
use super::generated::generated_payload;
use super::merge::{MergeRules, merge};
use super::note::NoteFailures;
use super::pipeline::{FanOut, ProviderOutcome, fan_out};
use super::providers::Providers;
use super::reply::HintsReply;
use super::writer::{AnswerWriter, WriteError, own_event};
use super::{HintsConfig, MAX_HINTS_CEILING};
use crate::core::signature::SigningSecret;
use crate::core::{DialogKey, Source, now_ms};
use crate::plugins::HintRequest;
use crate::store::{
    Backend, ChoiceRecord, HintStats, IngestRecord, NewEvent, StatsFilter, Store, StoreError,
};
use dashmap::DashMap;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// The `outcome` label values of `hintd_hint_requests_total`.
pub const REQUEST_OUTCOMES: [&str; 4] = ["computed", "replayed", "invalid", "error"];

/// How long a served answer stays in memory (for replays and choices) before only the
/// store is asked: long enough for quick retries and choices.
const MEMORY_WINDOW_MS: i64 = 60_000;
/// Answers kept in memory at most per index; beyond, new answers are found in the store.
const MEMORY_CAPACITY: usize = 50_000;

/// A request for hints, from a platform webhook or the API.
#[derive(Debug, Clone)]
pub struct HintQuery {
    /// Source, account and dialog.
    pub dialog: DialogKey,
    /// The platform's request id; with it, a repeat of the request is answered from the
    /// first answer (same `message_id` too) while `idempotency_ttl_secs` last.
    pub request_id: Option<String>,
    /// The message to answer; default: the dialog's latest client message.
    pub message_id: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// The operator asking.
    pub operator_id: Option<String>,
    /// The channel.
    pub channel_id: Option<String>,
    /// The transport.
    pub transport: Option<String>,
    /// Integration key.
    pub external_key: Option<String>,
    /// Hints wanted (1–20); default `[hints] max_hints`.
    pub max_hints: Option<u32>,
}

impl HintQuery {
    /// A request for hints on `dialog`'s latest client message, with nothing else said.
    pub fn new(dialog: DialogKey) -> HintQuery {
        HintQuery {
            dialog,
            request_id: None,
            message_id: None,
            client_id: None,
            operator_id: None,
            channel_id: None,
            transport: None,
            external_key: None,
            max_hints: None,
        }
    }
}

/// An answer as served to one request.
#[derive(Debug, Clone)]
pub struct Served {
    /// The answer.
    pub answer: Arc<Answer>,
    /// Whether it was an earlier answer to the same request.
    pub replayed: bool,
    /// The dialog's latest client message when the request arrived.
    pub baseline: Option<LatestClientMessage>,
    /// How each provider's call ended (empty for a replay).
    pub outcomes: Vec<ProviderOutcome>,
    /// Wall time of the plugin fan-out (zero for a replay): the rest of the request's time is
    /// the host's own overhead.
    pub plugins_elapsed: Duration,
}

/// The operator's choice of one hint (Chat2Desk `ai_hints_requested` with `hint_id`).
#[derive(Debug, Clone)]
pub struct ChoiceQuery {
    /// The source.
    pub source: Source,
    /// The account.
    pub account: String,
    /// The message the answer was for.
    pub message_id: String,
    /// The client, when the platform says.
    pub client_id: Option<String>,
    /// The answer-local hint id.
    pub hint_id: i64,
    /// What the operator sent instead, when they edited the hint before using it (the
    /// hint panel's "edit, then copy"); announced with `hint.selected`.
    pub edited_text: Option<String>,
}

/// What a choice did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ChoiceOutcome {
    /// The answer.
    pub answer_id: String,
    /// The plugin whose hint was chosen.
    pub plugin: String,
    /// 1-based position of the hint.
    pub position: u32,
    /// `false` when this choice had been recorded already (nothing was sent again).
    pub recorded: bool,
    /// Each plugin told, with the outcome of its `feedback` call.
    #[schema(schema_with = feedback_schema)]
    pub feedback: Vec<(String, String)>,
}

/// `feedback`: a list of pairs: `[[plugin, outcome], ...]`.
fn feedback_schema() -> utoipa::openapi::schema::ArrayBuilder {
    use utoipa::openapi::schema::{ArrayBuilder, Object, Type};
    // Both members have one type, so "two items of that type" says exactly what
    // `prefixItems` would, in a form every client generator and validator reads.
    ArrayBuilder::new().items(
        ArrayBuilder::new()
            .items(Object::with_type(Type::String))
            .min_items(Some(2))
            .max_items(Some(2))
            .description(Some("[plugin, outcome of its feedback call]")),
    )
}

type SharedServe = Shared<BoxFuture<'static, Result<Served, HintsError>>>;

struct Inner {
    config: HintsConfig,
    providers: Arc<dyn Providers>,
    contexts: Arc<dyn ContextSource>,
    store: Arc<dyn Store>,
    callbacks: CallbackSender,
    secret: Option<SigningSecret>,
    /// Chatwoot private notes: their sender (own outbound opt-in), debounce and failures.
    notes: CallbackSender,
    note_debounce: Debouncer,
    note_failures: NoteFailures,
    /// Recent answers by idempotency key.
    by_request: DashMap<String, Arc<Answer>>,
    /// SQLite only: every idempotency key this store can still replay, with its deadline —
    /// filled from the store at start, then by this process (the only writer). A key missing
    /// here is known not to be stored, which saves a store read per request. `None` once the
    /// index outgrew its capacity (the store is asked again).
    replay_keys: parking_lot::Mutex<Option<std::collections::HashMap<String, i64>>>,
    /// Recent answers by (source, account, message), for choices.
    by_message: DashMap<String, Arc<Answer>>,
    /// Requests being computed, so a concurrent repeat waits for the same answer.
    inflight: DashMap<String, SharedServe>,
    /// Group commit of answers (SQLite) and of hintd's events.
    writer: AnswerWriter,
    /// Whether answers are saved on the request path (several replicas may share the store).
    save_inline: bool,
}

/// The hint service. Cloning is cheap.
#[derive(Clone)]
pub struct Hints {
    inner: Arc<Inner>,
}

fn message_key(source: &str, account: &str, message_id: &str) -> String {
    format!("{source}\u{0}{account}\u{0}{message_id}")
}

/// Counts a choice by outcome (`recorded`: whether it was new) and logs a refusal.
fn count_choice(q: &ChoiceQuery, result: Result<bool, &HintsError>) {
    let outcome = match result {
        Ok(true) => "recorded",
        Ok(false) => "duplicate",
        Err(HintsError::UnknownAnswer { .. }) => "unknown_message",
        Err(HintsError::UnknownHint { .. }) => "unknown_hint",
        Err(_) => "error",
    };
    metrics::counter!("hintd_hint_choices_total", "source" => q.source.as_str(), "outcome" => outcome).increment(1);
    if let Err(e @ (HintsError::UnknownAnswer { .. } | HintsError::UnknownHint { .. })) = result {
        tracing::info!(source = %q.source, account = %q.account, error = %e, "hint choice refused");
    }
}

/// Holds an id to the rule every entry point applies ([`crate::ingest::check_id`]).
fn check_id(field: &'static str, value: &Option<String>) -> Result<(), HintsError> {
    match value.as_deref().map(crate::ingest::check_id) {
        Some(Err(e)) => Err(HintsError::InvalidRequest {
            field,
            reason: e.to_string(),
        }),
        _ => Ok(()),
    }
}

impl Hints {
    /// Builds the service; starts its writer and the sweeper of its in-memory caches (must run
    /// inside tokio).
    pub fn new(
        config: HintsConfig,
        providers: Arc<dyn Providers>,
        contexts: Arc<dyn ContextSource>,
        store: Arc<dyn Store>,
    ) -> Result<Hints, super::InvalidHintsConfig> {
        config.validate()?;
        let secret = config
            .callback_secret
            .as_deref()
            .map(|s| SigningSecret::parse(s).expect("validated"));
        let retry = CallbackRetry {
            timeout: Duration::from_millis(config.callback_timeout_ms.max(1)),
            initial: Duration::from_millis(config.callback_retry_initial_ms),
            max_delay: Duration::from_millis(config.callback_retry_max_ms),
            give_up_after: Duration::from_millis(config.callback_give_up_ms),
        };
        let callbacks = CallbackSender::new(retry, Arc::new(config.callback_policy()));
        let notes = CallbackSender::new(retry, Arc::new(config.note_policy()));
        let note_debounce = Debouncer::new(Duration::from_millis(config.note_debounce_ms));
        let hints = Hints {
            inner: Arc::new(Inner {
                config,
                providers,
                contexts,
                callbacks,
                secret,
                notes,
                note_debounce,
                note_failures: NoteFailures::default(),
                by_request: DashMap::new(),
                replay_keys: parking_lot::Mutex::new(None),
                by_message: DashMap::new(),
                inflight: DashMap::new(),
                writer: AnswerWriter::start(store.clone()),
                save_inline: store.backend() == Backend::Postgres,
                store,
            }),
        };
        tokio::spawn(sweep(Arc::downgrade(&hints.inner)));
        Ok(hints)
    }

    /// Loads the replayable idempotency keys from the store (SQLite, one process): afterwards
    /// a request with a new key is served without a store read. Call once at start.
    pub async fn load_replay_index(&self) -> Result<(), HintsError> {
        let inner = &self.inner;
        if inner.save_inline {
            return Ok(());
        }
        let keys = inner
            .store
            .replayable_keys(now_ms(), MEMORY_CAPACITY as u32 + 1)
            .await?;
        if keys.len() <= MEMORY_CAPACITY {
            *inner.replay_keys.lock() = Some(keys.into_iter().collect());
        }
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &HintsConfig {
        &self.inner.config
    }

    /// The providers the service asks.
    pub fn providers(&self) -> &Arc<dyn Providers> {
        &self.inner.providers
    }

    /// The sender of Chatwoot private notes.
    pub(super) fn note_sender(&self) -> &CallbackSender {
        &self.inner.notes
    }

    /// The per-conversation debounce of private notes.
    pub(super) fn note_debounce(&self) -> &Debouncer {
        &self.inner.note_debounce
    }

    /// The lasting failures of private notes, per account.
    pub(super) fn note_failures(&self) -> &NoteFailures {
        &self.inner.note_failures
    }

    /// Whether a client message newer than `baseline` (and than the one `answer` is for)
    /// arrived: the answer's hints are stale. A context that cannot be read says no.
    pub(super) async fn outdated(
        &self,
        answer: &Answer,
        baseline: &Option<LatestClientMessage>,
    ) -> bool {
        match self
            .inner
            .contexts
            .latest_client_message(&answer.dialog)
            .await
        {
            Ok(latest) => is_newer(&latest, baseline, &answer.message_id),
            Err(_) => false,
        }
    }

    /// Where the service reads each dialog's context.
    pub(super) fn contexts(&self) -> &Arc<dyn ContextSource> {
        &self.inner.contexts
    }

    /// Serves a hint request: a replay of an earlier answer to the same request, or a new
    /// answer computed from the dialog's context by every enabled plugin, merged, persisted
    /// and announced (`hints.generated`).
    pub async fn request(&self, q: HintQuery) -> Result<Served, HintsError> {
        let started = Instant::now();
        let dialog = q.dialog.clone();
        let source = dialog.source.as_str();
        let result = self.request_inner(dialog.clone(), q).await;
        let [computed, replayed, invalid, error] = REQUEST_OUTCOMES;
        let outcome = match &result {
            Ok(s) if s.replayed => replayed,
            Ok(_) => computed,
            Err(HintsError::InvalidRequest { .. }) => invalid,
            Err(_) => error,
        };
        metrics::counter!("hintd_hint_requests_total", "source" => source, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("hintd_hint_request_duration_seconds", "source" => source)
            .record(started.elapsed().as_secs_f64());
        result
    }

    async fn request_inner(&self, dialog: DialogKey, q: HintQuery) -> Result<Served, HintsError> {
        if dialog.dialog_id.is_empty() {
            return Err(HintsError::InvalidRequest {
                field: "dialog_id",
                reason: "must not be empty".into(),
            });
        }
        for (field, v) in [
            ("dialog_id", &Some(dialog.dialog_id.clone())),
            ("account", &Some(dialog.account.clone())),
            ("request_id", &q.request_id),
            ("message_id", &q.message_id),
            ("client_id", &q.client_id),
            ("operator_id", &q.operator_id),
            ("channel_id", &q.channel_id),
            ("transport", &q.transport),
            ("external_key", &q.external_key),
        ] {
            check_id(field, v)?;
        }
        if let Some(n) = q.max_hints
            && (n == 0 || n > MAX_HINTS_CEILING)
        {
            return Err(HintsError::InvalidRequest {
                field: "max_hints",
                reason: format!("{n} is not in 1..={MAX_HINTS_CEILING}"),
            });
        }
        let Some(request_id) = q.request_id.clone().filter(|r| !r.is_empty()) else {
            return self
                .compute(
                    dialog,
                    q,
                    format!("hintd-{}", uuid::Uuid::now_v7().simple()),
                    None,
                )
                .await;
        };
        let key = format!(
            "{}/{}/{}/{}",
            dialog.source,
            dialog.account,
            request_id,
            q.message_id.as_deref().unwrap_or("")
        );
        if let Some(answer) = self.replayable(&key) {
            return Ok(self.replay(answer, &dialog).await);
        }
        // A concurrent repeat of the same request waits for the first computation.
        let shared = match self.inner.inflight.entry(key.clone()) {
            dashmap::Entry::Occupied(e) => e.get().clone(),
            dashmap::Entry::Vacant(v) => {
                let this = self.clone();
                let key2 = key.clone();
                let fut: BoxFuture<'static, Result<Served, HintsError>> = async move {
                    let result = this.compute_once(dialog, q, request_id, key2.clone()).await;
                    this.inner.inflight.remove(&key2);
                    result
                }
                .boxed();
                let shared = fut.shared();
                v.insert(shared.clone());
                shared
            }
        };
        shared.await
    }

    fn replayable(&self, key: &str) -> Option<Arc<Answer>> {
        let ttl_ms = self.inner.config.idempotency_ttl_secs.saturating_mul(1000) as i64;
        let entry = self.inner.by_request.get(key)?;
        (entry.created_at_ms + ttl_ms > now_ms()).then(|| entry.clone())
    }

    async fn replay(&self, answer: Arc<Answer>, dialog: &DialogKey) -> Served {
        let baseline = self
            .inner
            .contexts
            .latest_client_message(dialog)
            .await
            .ok()
            .flatten();
        Served {
            answer,
            replayed: true,
            baseline,
            outcomes: Vec::new(),
            plugins_elapsed: Duration::ZERO,
        }
    }

    async fn compute_once(
        &self,
        dialog: DialogKey,
        q: HintQuery,
        request_id: String,
        key: String,
    ) -> Result<Served, HintsError> {
        // Answered before this process's memory window, before a restart, or by another
        // replica: the store has it — unless the replay index knows it does not.
        let now = now_ms();
        let maybe_stored = match &*self.inner.replay_keys.lock() {
            Some(index) => index.get(&key).is_some_and(|until| *until > now),
            None => true,
        };
        if maybe_stored && let Some(record) = self.inner.store.answer_by_request(&key, now).await? {
            let answer = Arc::new(
                Answer::from_record(record).map_err(|e| HintsError::Internal(e.to_string()))?,
            );
            self.remember(Some(&key), &answer);
            return Ok(self.replay(answer, &dialog).await);
        }
        self.compute(dialog, q, request_id, Some(key)).await
    }

    async fn compute(
        &self,
        dialog: DialogKey,
        q: HintQuery,
        request_id: String,
        key: Option<String>,
    ) -> Result<Served, HintsError> {
        let inner = &*self.inner;
        let config = &inner.config;
        let (context, baseline) = inner
            .contexts
            .snapshot(&dialog)
            .await
            .map_err(HintsError::Unavailable)?;
        let message_id = q
            .message_id
            .clone()
            .filter(|m| !m.is_empty())
            .or_else(|| baseline.as_ref().map(|b| b.id.clone()))
            .ok_or(HintsError::InvalidRequest {
                field: "message_id",
                reason: "not given and the dialog has no client message to answer".into(),
            })?;
        let max_hints = q
            .max_hints
            .unwrap_or(config.max_hints)
            .clamp(1, MAX_HINTS_CEILING);
        let request = Arc::new(HintRequest {
            request_id: request_id.clone(),
            dialog: dialog.clone(),
            client_id: q.client_id.clone().unwrap_or_default(),
            operator_id: q.operator_id.clone(),
            channel_id: q.channel_id.clone(),
            transport: q.transport.clone(),
            message_id: message_id.clone(),
            external_key: q.external_key.clone(),
            context,
            max_hints,
            deadline_ms: config.request_deadline_ms.min(u64::from(u32::MAX)) as u32,
        });
        let slots = inner.providers.slots();
        let fan_out_started = Instant::now();
        let FanOut { results, outcomes } = fan_out(
            &inner.providers,
            &slots,
            request.clone(),
            Duration::from_millis(config.request_deadline_ms),
        )
        .await;
        let plugins_elapsed = fan_out_started.elapsed();
        let hints = merge(
            &results,
            &MergeRules {
                threshold: config.threshold,
                max_hints,
                dedupe_similarity: config.dedupe_similarity,
            },
        );
        let body = bytes::Bytes::from(HintsReply::new(&message_id, &hints).to_json());
        let request = Arc::try_unwrap(request).unwrap_or_else(|shared| (*shared).clone());
        let answer = Arc::new(Answer {
            id: format!("ans_{}", uuid::Uuid::now_v7().simple()),
            dialog: dialog.clone(),
            client_id: q.client_id.clone(),
            message_id,
            request_id,
            hints,
            body,
            context_ids: request.context.iter().map(|m| m.id.clone()).collect(),
            context: Arc::new(request.context),
            created_at_ms: now_ms(),
        });
        let replay_until =
            answer.created_at_ms + config.idempotency_ttl_secs.saturating_mul(1000) as i64;
        let record = answer.to_record(key.clone(), replay_until);
        let generated = self.own_event(
            "hints.generated",
            &answer,
            generated_payload(&answer, &outcomes),
        );
        // Stored before the reply leaves: a served answer survives a crash right after it.
        let saved = if inner.save_inline {
            match inner.store.save_answer(record).await {
                Ok(()) => {
                    self.append_event(generated).await;
                    Ok(())
                }
                Err(StoreError::Conflict(_)) => Err(WriteError::KeyTaken),
                Err(e) => Err(WriteError::Store(Arc::new(e))),
            }
        } else {
            // One process owns an SQLite store: the writer commits the answer with many others.
            inner.writer.answer(record, generated).await
        };
        match saved {
            Ok(()) => {}
            Err(WriteError::KeyTaken) => {
                // Another replica answered the same request first: serve its answer.
                if let Some(k) = &key
                    && let Some(record) = inner.store.answer_by_request(k, now_ms()).await?
                {
                    let answer = Arc::new(
                        Answer::from_record(record)
                            .map_err(|e| HintsError::Internal(e.to_string()))?,
                    );
                    self.remember(Some(k), &answer);
                    return Ok(Served {
                        answer,
                        replayed: true,
                        baseline,
                        outcomes,
                        plugins_elapsed,
                    });
                }
                return Err(HintsError::Internal(
                    "idempotency key conflict without a replayable answer".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.remember(key.as_deref(), &answer);
        metrics::counter!("hintd_hint_answers_total", "result" => if answer.hints.is_empty() { "empty" } else { "with_hints" })
            .increment(1);
        for h in &answer.hints {
            metrics::counter!("hintd_hints_shown_total", "plugin" => h.plugin().to_string())
                .increment(1);
        }
        Ok(Served {
            answer,
            replayed: false,
            baseline,
            outcomes,
            plugins_elapsed,
        })
    }

    fn remember(&self, key: Option<&str>, answer: &Arc<Answer>) {
        let inner = &self.inner;
        if let Some(key) = key {
            if inner.by_request.len() < MEMORY_CAPACITY {
                inner.by_request.insert(key.to_string(), answer.clone());
            }
            let mut index = inner.replay_keys.lock();
            if let Some(keys) = index.as_mut() {
                if keys.len() >= MEMORY_CAPACITY {
                    *index = None;
                } else {
                    let ttl_ms = inner.config.idempotency_ttl_secs.saturating_mul(1000) as i64;
                    keys.insert(key.to_string(), answer.created_at_ms + ttl_ms);
                }
            }
        }
        if inner.by_message.len() < MEMORY_CAPACITY {
            let d = &answer.dialog;
            inner.by_message.insert(
                message_key(d.source.as_str(), &d.account, &answer.message_id),
                answer.clone(),
            );
        }
    }

    /// One of hintd's own events about `answer`, for the event log (delivered to subscribers
    /// by dispatch).
    fn own_event(
        &self,
        event_type: &'static str,
        answer: &Answer,
        payload: Vec<u8>,
    ) -> IngestRecord {
        let event = NewEvent {
            source: "hintd".into(),
            account: answer.dialog.account.clone(),
            event_type: event_type.into(),
            dialog_id: Some(answer.dialog.dialog_id.clone()),
            dedup_key: None,
            received_at_ms: now_ms(),
            payload,
        };
        own_event(event, answer.client_id.clone())
    }

    /// Appends one of hintd's own events and waits for its commit. A failure is logged: what
    /// the event announces is stored already.
    async fn append_event(&self, event: IngestRecord) {
        let event_type = event.event.event_type.clone();
        if let Err(e) = self.inner.writer.event(event).await {
            tracing::warn!(event_type, error = %e, "could not append a hintd event");
        }
    }

    /// Records the operator's choice and tells every plugin that had hints shown.
    pub async fn choose(&self, q: ChoiceQuery) -> Result<ChoiceOutcome, HintsError> {
        let result = self.choose_inner(&q).await;
        count_choice(&q, result.as_ref().map(|c| c.recorded));
        result
    }

    /// Refuses, without changing anything, a choice that names no served answer or no hint
    /// of it: the ingest endpoint asks before it stores the choice's webhook, so a refused
    /// choice leaves no trace but its log line and counter.
    pub async fn check_choice(&self, q: &ChoiceQuery) -> Result<(), HintsError> {
        let result = self.find_choice(q).await.map(|_| ());
        if result.is_err() {
            count_choice(q, result.as_ref().map(|_| false));
        }
        result
    }

    /// The served answer a choice names and the position of the chosen hint in it.
    async fn find_choice(&self, q: &ChoiceQuery) -> Result<(Arc<Answer>, u32), HintsError> {
        check_id("message_id", &Some(q.message_id.clone()))?;
        check_id("client_id", &q.client_id)?;
        let answer = self.find_answer(q).await?;
        let known = u32::try_from(q.hint_id)
            .ok()
            .filter(|id| answer.hints.iter().any(|h| h.id == *id));
        match known {
            Some(hint_id) => Ok((answer, hint_id)),
            None => Err(HintsError::UnknownHint {
                message_id: q.message_id.clone(),
                hint_id: q.hint_id,
                count: answer.hints.len(),
            }),
        }
    }

    async fn choose_inner(&self, q: &ChoiceQuery) -> Result<ChoiceOutcome, HintsError> {
        let (answer, hint_id) = self.find_choice(q).await?;
        let chosen = answer
            .hints
            .iter()
            .find(|h| h.id == hint_id)
            .expect("find_choice checked the hint");
        let plugin = chosen.plugin().to_string();
        let recorded = self
            .inner
            .store
            .record_choice(&ChoiceRecord {
                answer_id: answer.id.clone(),
                hint_id: q.hint_id,
                plugin: plugin.clone(),
                position: i64::from(hint_id),
                chosen_at_ms: now_ms(),
            })
            .await?;
        let mut told = Vec::new();
        if recorded {
            metrics::counter!("hintd_hints_chosen_total", "plugin" => plugin.clone()).increment(1);
            if q.edited_text.is_some() {
                metrics::counter!("hintd_hints_edited_total", "plugin" => plugin.clone())
                    .increment(1);
            }
            // An answer read back from the store carries only its context's message ids.
            let restored;
            let context: &[crate::core::Message] =
                if answer.context.is_empty() && !answer.context_ids.is_empty() {
                    let window = self
                        .inner
                        .contexts
                        .window(&answer.dialog)
                        .await
                        .unwrap_or_default();
                    restored = answer.restore_context(window);
                    &restored
                } else {
                    &answer.context
                };
            let base = FeedbackBase {
                request_id: &answer.request_id,
                dialog_id: &answer.dialog.dialog_id,
                account: &answer.dialog.account,
                message_id: &answer.message_id,
                context,
            };
            let routed = route(&answer.hints, hint_id, &base).unwrap_or_default();
            told = self.tell(routed).await;
            let payload = serde_json::json!({
                "type": "hint.selected",
                "answer_id": answer.id,
                "source": answer.dialog.source,
                "account": answer.dialog.account,
                "dialog_id": answer.dialog.dialog_id,
                "client_id": answer.client_id,
                "message_id": answer.message_id,
                "request_id": answer.request_id,
                "hint_id": hint_id,
                "position": hint_id,
                "text": chosen.text,
                "plugin": plugin,
                "plugin_hint_id": chosen.origins[0].hint.id,
                "edited": q.edited_text.is_some(),
                "edited_text": q.edited_text,
                "selected_at_ms": now_ms(),
            });
            let selected = self.own_event(
                "hint.selected",
                &answer,
                serde_json::to_vec(&payload).expect("JSON serialises"),
            );
            self.append_event(selected).await;
        }
        Ok(ChoiceOutcome {
            answer_id: answer.id.clone(),
            plugin,
            position: hint_id,
            recorded,
            feedback: told,
        })
    }

    async fn find_answer(&self, q: &ChoiceQuery) -> Result<Arc<Answer>, HintsError> {
        let unknown = || HintsError::UnknownAnswer {
            message_id: q.message_id.clone(),
            client_id: q.client_id.clone(),
        };
        let client_matches = |a: &Answer| match (&q.client_id, &a.client_id) {
            (Some(asked), Some(served)) => asked == served,
            _ => true,
        };
        if let Some(a) =
            self.inner
                .by_message
                .get(&message_key(q.source.as_str(), &q.account, &q.message_id))
            && client_matches(&a)
        {
            return Ok(a.clone());
        }
        let record = self
            .inner
            .store
            .answer_by_message(
                q.source.as_str(),
                &q.account,
                &q.message_id,
                q.client_id.as_deref(),
            )
            .await?
            .ok_or_else(unknown)?;
        let answer =
            Answer::from_record(record).map_err(|e| HintsError::Internal(e.to_string()))?;
        Ok(Arc::new(answer))
    }

    /// Acceptance statistics from the store.
    pub async fn stats(&self, filter: &StatsFilter) -> Result<HintStats, HintsError> {
        Ok(self.inner.store.hint_stats(filter).await?)
    }

    /// Waits until everything handed to the writer is stored. Served answers and events are
    /// stored before their replies; shutdown calls this for any write still queued.
    pub async fn flush(&self) {
        self.inner.writer.flush().await;
    }

    /// POSTs a served answer to `url` in the background (signed, retried, suppressed when a
    /// newer client message arrives first), counting the outcome.
    pub fn spawn_callback(&self, served: &Served, url: String) {
        static UNSIGNED_WARNED: std::sync::atomic::AtomicBool =
            std::sync::atomic::AtomicBool::new(false);
        if self.inner.secret.is_none()
            && !UNSIGNED_WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                "hint callbacks are sent unsigned: set [hints] callback_secret = \"whsec_...\""
            );
        }
        let this = self.clone();
        let answer = served.answer.clone();
        let baseline = served.baseline.clone();
        tokio::spawn(async move {
            let inner = &this.inner;
            let is_stale = || async {
                match inner.contexts.latest_client_message(&answer.dialog).await {
                    Ok(latest) => is_newer(&latest, &baseline, &answer.message_id),
                    Err(_) => false,
                }
            };
            let outcome = inner
                .callbacks
                .deliver(
                    &url,
                    &answer.id,
                    &answer.body,
                    inner.secret.as_ref(),
                    is_stale,
                )
                .await;
            metrics::counter!("hintd_hint_callbacks_total", "outcome" => outcome.label())
                .increment(1);
            match &outcome {
                CallbackOutcome::Sent { attempts } => {
                    tracing::debug!(answer = %answer.id, attempts, "hint callback delivered")
                }
                CallbackOutcome::Failed {
                    attempts, error, ..
                } => {
                    tracing::warn!(answer = %answer.id, attempts, error = %error, "hint callback given up")
                }
                CallbackOutcome::Suppressed { attempts } => {
                    tracing::info!(answer = %answer.id, attempts, "hint callback suppressed: a newer client message arrived")
                }
            }
        });
    }
}

/// Whether `latest` is a client message newer than the one known when the request arrived
/// (the message the hints answer itself does not count: it may arrive after the request).
fn is_newer(
    latest: &Option<LatestClientMessage>,
    baseline: &Option<LatestClientMessage>,
    answered: &str,
) -> bool {
    match (latest, baseline) {
        (None, _) => false,
        (Some(l), _) if l.id == answered => false,
        (Some(l), None) => !l.id.is_empty(),
        (Some(l), Some(b)) => l.id != b.id && l.sent_at_ms >= b.sent_at_ms,
    }
}

/// Drops answers older than the memory window from the in-memory indexes every 5 s and
/// purges answers older than `answer_retention_secs` from the store every hour. Ends when the
/// service is dropped.
async fn sweep(inner: Weak<Inner>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u64;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let ttl_ms = inner.config.idempotency_ttl_secs.saturating_mul(1000) as i64;
        let cutoff = now_ms() - ttl_ms.min(MEMORY_WINDOW_MS);
        inner.by_request.retain(|_, a| a.created_at_ms > cutoff);
        if let Some(keys) = inner.replay_keys.lock().as_mut() {
            let now = now_ms();
            keys.retain(|_, until| *until > now);
        }
        inner.by_message.retain(|_, a| a.created_at_ms > cutoff);
        if ticks.is_multiple_of(720) {
            let before = now_ms() - inner.config.answer_retention_secs.saturating_mul(1000) as i64;
            match inner.store.purge_answers(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(answers = n, "purged old hint answers"),
                Err(e) => tracing::warn!(error = %e, "purging old hint answers failed"),
            }
        }
        ticks += 1;
    }
}

impl Hints {
    /// Gives each routed plugin its feedback, each call in a task of its own; waits at most
    /// `feedback_wait_ms` for them. A plugin slow in `feedback` delays no choice beyond that:
    /// its call goes on in the background, reported as `pending` here and counted when it ends.
    async fn tell(&self, routed: Vec<(String, crate::plugins::Feedback)>) -> Vec<(String, String)> {
        let until =
            tokio::time::Instant::now() + Duration::from_millis(self.inner.config.feedback_wait_ms);
        let calls: Vec<_> = routed
            .into_iter()
            .map(|(name, fb)| {
                let providers = self.inner.providers.clone();
                let plugin = name.clone();
                let call = tokio::spawn(async move {
                    let outcome = match providers.feedback(&plugin, &fb).await {
                        Ok(()) => "ok",
                        Err(f) => {
                            tracing::debug!(plugin = %plugin, error = %f.message, "feedback call failed");
                            f.outcome
                        }
                    };
                    metrics::counter!("hintd_hint_feedback_calls_total", "plugin" => plugin, "outcome" => outcome)
                        .increment(1);
                    outcome
                });
                (name, call)
            })
            .collect();
        let mut told = Vec::with_capacity(calls.len());
        for (name, call) in calls {
            let outcome = match tokio::time::timeout_at(until, call).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => "trap",
                Err(_) => "pending",
            };
            told.push((name, outcome.to_string()));
        }
        told
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, at: i64) -> Option<LatestClientMessage> {
        Some(LatestClientMessage {
            id: id.into(),
            sent_at_ms: at,
        })
    }

    #[test]
    fn staleness_ignores_the_answered_message() {
        assert!(!is_newer(&m("1", 10), &m("1", 10), "1"));
        assert!(is_newer(&m("2", 20), &m("1", 10), "1"));
        assert!(
            !is_newer(&m("2", 20), &m("1", 10), "2"),
            "the answered message arriving late is not newer"
        );
        assert!(is_newer(&m("2", 20), &None, "1"));
        assert!(!is_newer(&None, &m("1", 10), "1"));
    }
}
