//! The two loops of the hub.
//!
//! Fan-out reads the event log after a durable cursor and writes one outbox message per
//! matching webhook in the same transaction that moves the cursor. Delivery claims due
//! messages under a lease, delivers each dialog's messages one after another (different
//! dialogs concurrently, bounded per webhook and per process), and hands results to a
//! recorder that writes them in batches and applies the disable rules (410 at once; every
//! delivery failing for `disable_after`).

use super::catalog::{EventFilter, HINTD_SOURCE};
use super::deliver::Target;
use super::envelope::{WebhookDisabled, envelope, rfc3339_ms};
use super::retry::RetryPolicy;
use super::service::Dispatcher;
use crate::core::now_ms;
use crate::store::{
    AttemptResult, Backend, ClaimedMessage, FanoutStats, MessageNext, NewEvent, NewMessage,
    StoredEvent, WebhookRecord, WebhookStatus,
};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};

/// How often the webhook cache is reloaded even without a local change (other replicas).
const TARGET_REFRESH: Duration = Duration::from_secs(2);
/// Pause after a store error before trying again.
const ERROR_BACKOFF: Duration = Duration::from_millis(500);

/// The stable message id of (webhook, event): the `webhook-id` header. The event's position
/// comes first, so ids sort the way they are created (as Svix's KSUID-based ids do) and
/// the outbox's primary key grows at its right edge, where a random id would rewrite a
/// different index page for every message; 64 bits of the webhook id's digest tell the
/// webhooks of one event apart.
pub fn message_id(webhook_id: &str, event_seq: i64) -> String {
    let digest = Sha256::digest(webhook_id.as_bytes());
    format!("msg_{:016x}{}", event_seq, hex::encode(&digest[..8]))
}

/// The messages one event becomes: one per active webhook created before the event whose
/// account and event patterns match.
pub fn plan(event: &StoredEvent, hooks: &[WebhookRecord]) -> Vec<NewMessage> {
    let e = &event.event;
    let mut body: Option<Vec<u8>> = None;
    let mut out = Vec::new();
    for h in hooks {
        if h.status != WebhookStatus::Active || h.created_at_ms > e.received_at_ms {
            continue;
        }
        if h.account.as_deref().is_some_and(|a| a != e.account) {
            continue;
        }
        if !EventFilter::parse(&h.events).is_ok_and(|f| f.matches(&e.source, &e.event_type)) {
            continue;
        }
        let payload = body.get_or_insert_with(|| envelope(event)).clone();
        out.push(NewMessage {
            id: message_id(&h.id, event.seq),
            webhook_id: h.id.clone(),
            event_seq: event.seq,
            event_type: e.event_type.clone(),
            order_key: e
                .dialog_id
                .as_ref()
                .map(|d| format!("{}/{}/{d}", e.source, e.account)),
            payload,
        });
    }
    out
}

impl Dispatcher {
    /// Starts fan-out, delivery and retention on the current tokio runtime, unless
    /// `[dispatch] enabled = false`.
    pub async fn start(&self) -> Result<(), crate::store::StoreError> {
        if !self.inner.config.enabled {
            tracing::info!("webhook delivery workers disabled by [dispatch] enabled = false");
            return Ok(());
        }
        if self.inner.store.backend() == Backend::Sqlite {
            // One process owns an SQLite store: leases left by a killed predecessor are void.
            let n = self.inner.store.release_all_leases().await?;
            if n > 0 {
                tracing::info!(messages = n, "released outbox leases of a previous run");
            }
        }
        tokio::spawn(fanout_loop(self.clone()));
        tokio::spawn(delivery_loop(self.clone()));
        tokio::spawn(super::retention::run(self.clone()));
        Ok(())
    }

    /// Stops claiming, lets deliveries in flight finish and their results be recorded (up
    /// to `request_timeout`), then hands back whatever this process still holds so another
    /// replica (or the next start) takes it over at once instead of after the lease.
    pub async fn stop(&self) {
        let inner = &self.inner;
        inner.stopping.store(true, Ordering::Release);
        inner.delivery_wake.notify_one();
        let end = Instant::now() + inner.config.request_timeout + Duration::from_secs(1);
        while inner.outstanding.load(Ordering::Acquire) > 0 && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        match inner.store.release_leases(&inner.owner).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "released unfinished webhook deliveries"),
            Err(e) => {
                tracing::warn!(error = %e, "could not release webhook leases; they expire on their own")
            }
        }
    }

    fn retry_policy(&self) -> RetryPolicy {
        let c = &self.inner.config;
        RetryPolicy {
            schedule: c.retry_schedule.clone(),
            jitter: c.retry_jitter,
            retry_after_max: c.retry_after_max,
        }
    }

    /// Disables a webhook because of its deliveries and emits `webhook.disabled`. Only the
    /// first process to do it emits the event.
    async fn disable_for_failure(
        &self,
        webhook_id: &str,
        reason: &str,
        last_error: Option<String>,
    ) {
        let inner = &self.inner;
        let Ok(Some(w)) = inner.store.webhook_get(webhook_id).await else {
            return;
        };
        if w.status != WebhookStatus::Active {
            return;
        }
        let now = now_ms();
        let data = WebhookDisabled {
            webhook_id: w.id.clone(),
            name: w.name.clone(),
            url: w.url.clone(),
            reason: reason.into(),
            disabled_at: rfc3339_ms(now),
            failing_since: w.failing_since_ms.map(rfc3339_ms),
            last_error,
        };
        let event = NewEvent {
            source: HINTD_SOURCE.into(),
            account: w.account.clone().unwrap_or_else(|| "default".into()),
            event_type: "webhook.disabled".into(),
            dialog_id: None,
            dedup_key: Some(format!("webhook.disabled:{}:{now}", w.id)),
            received_at_ms: now,
            payload: serde_json::to_vec(&data).expect("plain struct serialises"),
        };
        match inner
            .store
            .webhook_disable(&w.id, reason, now, &event)
            .await
        {
            Ok(true) => {
                tracing::warn!(webhook = %w.id, name = %w.name, reason, "webhook disabled");
                metrics::counter!("hintd_webhooks_disabled_total", "reason" => reason.to_string())
                    .increment(1);
                inner.generation.fetch_add(1, Ordering::Release);
                inner.fanout_wake.notify_one();
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(webhook = %w.id, error = %e, "could not disable webhook"),
        }
    }
}

/// Times one outbox transaction (`hintd_webhook_outbox_seconds{op}`, rows per call).
fn observe(op: &'static str, started: Instant, rows: usize) {
    let elapsed = started.elapsed();
    metrics::histogram!("hintd_webhook_outbox_seconds", "op" => op).record(elapsed.as_secs_f64());
    tracing::trace!(
        op,
        rows,
        ms = elapsed.as_secs_f64() * 1000.0,
        "outbox transaction"
    );
}

/// Takes the SQLite write gate (no-op on PostgreSQL).
async fn gate(inner: &super::service::Inner) -> Option<tokio::sync::MutexGuard<'_, ()>> {
    match &inner.write_gate {
        Some(m) => Some(m.lock().await),
        None => None,
    }
}

async fn fanout_loop(d: Dispatcher) {
    let inner = &d.inner;
    loop {
        let result = {
            let _gate = gate(inner).await;
            let t = Instant::now();
            let r = inner.store.fanout(inner.config.fanout_batch, plan).await;
            observe("fanout", t, r.as_ref().map_or(0, |s| s.events));
            r
        };
        if let Ok(FanoutStats {
            active_webhooks: Some(n),
            ..
        }) = &result
        {
            inner.no_active_webhooks.store(*n == 0, Ordering::Relaxed);
        }
        match result {
            Ok(stats) if stats.events > 0 => {
                if stats.messages > 0 {
                    metrics::counter!("hintd_webhook_messages_total")
                        .increment(stats.messages as u64);
                    inner.delivery_wake.notify_one();
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "webhook fan-out failed; retrying");
                tokio::time::sleep(ERROR_BACKOFF).await;
                continue;
            }
        }
        tokio::select! {
            _ = inner.fanout_wake.notified() => {}
            _ = tokio::time::sleep(inner.config.poll_interval) => {}
        }
    }
}

/// Active webhooks ready to deliver to, reloaded when subscriptions change.
struct Targets {
    by_id: HashMap<String, Arc<Target>>,
    generation: u64,
    loaded_at: Instant,
}

impl Targets {
    async fn refresh(&mut self, d: &Dispatcher, force: bool) {
        let inner = &d.inner;
        let generation = inner.generation.load(Ordering::Acquire);
        if !force && generation == self.generation && self.loaded_at.elapsed() < TARGET_REFRESH {
            return;
        }
        let hooks = match inner.store.webhook_list(None).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "loading webhooks failed");
                return;
            }
        };
        let Some(sealer) = inner.secrets.as_ref() else {
            return;
        };
        let now = now_ms();
        let mut by_id = HashMap::new();
        for h in hooks
            .into_iter()
            .filter(|h| h.status == WebhookStatus::Active)
        {
            let Ok(url) = reqwest::Url::parse(&h.url) else {
                continue;
            };
            let mut secrets = match sealer.open(&h.id, &h.secret) {
                Ok(s) => vec![s],
                Err(e) => {
                    tracing::error!(webhook = %h.id, error = %e, "cannot sign deliveries");
                    continue;
                }
            };
            if let (Some(old), Some(until)) = (&h.old_secret, h.old_secret_until_ms)
                && until > now
                && let Ok(s) = sealer.open(&h.id, old)
            {
                secrets.push(s);
            }
            by_id.insert(
                h.id.clone(),
                Arc::new(Target {
                    webhook_id: h.id,
                    url,
                    secrets,
                }),
            );
        }
        self.by_id = by_id;
        self.generation = generation;
        self.loaded_at = Instant::now();
    }
}

/// A result on its way to the recorder.
struct Finished {
    result: AttemptResult,
    /// The receiver answered 410.
    gone: bool,
}

/// A webhook's dialog: its messages are delivered one after another.
type LaneKey = (String, String);

/// What a dialog lane is doing in this process.
enum Lane {
    /// Delivering; later messages of the dialog queue here.
    Active(VecDeque<(ClaimedMessage, Instant)>),
    /// A message failed and waits for its retry at this time (unix ms): later messages of the
    /// dialog claimed meanwhile wait for the same time instead of overtaking it.
    Held(i64),
}

type Lanes = Arc<parking_lot::Mutex<HashMap<LaneKey, Lane>>>;

async fn delivery_loop(d: Dispatcher) {
    let inner = d.inner.clone();
    let global = Arc::new(Semaphore::new(inner.config.max_in_flight));
    let mut per_webhook: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let lanes: Lanes = Arc::default();
    let (tx, rx) = mpsc::unbounded_channel::<Finished>();
    tokio::spawn(recorder(d.clone(), rx));
    let mut targets = Targets {
        by_id: HashMap::new(),
        generation: u64::MAX,
        loaded_at: Instant::now(),
    };
    let lease = inner.config.lease;
    let max = inner.config.max_in_flight;
    loop {
        if inner.stopping.load(Ordering::Acquire) {
            return;
        }
        // Claimed but unrecorded messages count against the bound, so claims come in
        // batches as room frees up rather than one by one.
        let free = max.saturating_sub(inner.outstanding.load(Ordering::Acquire));
        if free < (max / 4).max(1) && inner.outstanding.load(Ordering::Acquire) > 0 {
            tokio::select! {
                _ = inner.delivery_wake.notified() => {}
                _ = tokio::time::sleep(inner.config.poll_interval) => {}
            }
            continue;
        }
        targets.refresh(&d, false).await;
        let now = now_ms();
        let limit = (inner.config.claim_batch as usize).min(free).max(1) as u32;
        let result = {
            let _gate = gate(&inner).await;
            let t = Instant::now();
            let r = inner
                .store
                .claim_due(&inner.owner, now, now + lease.as_millis() as i64, limit)
                .await;
            observe("claim", t, r.as_ref().map_or(0, Vec::len));
            r
        };
        let claimed = match result {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "claiming webhook messages failed; retrying");
                tokio::time::sleep(ERROR_BACKOFF).await;
                continue;
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = inner.delivery_wake.notified() => {}
                _ = tokio::time::sleep(inner.config.poll_interval) => {}
            }
            continue;
        }
        inner.outstanding.fetch_add(claimed.len(), Ordering::AcqRel);
        if claimed
            .iter()
            .any(|m| !targets.by_id.contains_key(&m.webhook_id))
        {
            targets.refresh(&d, true).await;
        }
        let claimed_at = Instant::now();
        let mut start: Vec<(Option<LaneKey>, ClaimedMessage)> = Vec::new();
        {
            let mut lanes = lanes.lock();
            lanes.retain(|_, lane| !matches!(lane, Lane::Held(until) if *until <= now));
            for m in claimed {
                let Some(k) = m.order_key.clone() else {
                    start.push((None, m));
                    continue;
                };
                let key = (m.webhook_id.clone(), k);
                match lanes.get_mut(&key) {
                    Some(Lane::Active(queue)) => queue.push_back((m, claimed_at)),
                    Some(Lane::Held(until)) => {
                        let _ = tx.send(Finished {
                            result: release(&m, *until),
                            gone: false,
                        });
                    }
                    None => {
                        lanes.insert(key.clone(), Lane::Active(VecDeque::new()));
                        start.push((Some(key), m));
                    }
                }
            }
        }
        for (key, first) in start {
            let webhook_id = first.webhook_id.clone();
            let target = targets.by_id.get(&webhook_id).cloned();
            let limit = per_webhook
                .entry(webhook_id)
                .or_insert_with(|| Arc::new(Semaphore::new(inner.config.concurrency_per_webhook)))
                .clone();
            let lane = LaneRun {
                d: d.clone(),
                target,
                global: global.clone(),
                per_webhook: limit,
                tx: tx.clone(),
                lanes: lanes.clone(),
            };
            tokio::spawn(lane.run(key, first, claimed_at));
        }
    }
}

/// One dialog lane's delivery task (or a single message without a dialog).
struct LaneRun {
    d: Dispatcher,
    target: Option<Arc<Target>>,
    global: Arc<Semaphore>,
    per_webhook: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Finished>,
    lanes: Lanes,
}

impl LaneRun {
    /// Delivers `first`, then whatever queued behind it, in order. After a failure the rest
    /// wait for the failed message's retry instead of overtaking it.
    async fn run(self, key: Option<LaneKey>, first: ClaimedMessage, claimed_at: Instant) {
        let policy = self.d.retry_policy();
        // Stop well before a lease ends so no other process takes over a message in flight.
        let budget = self.d.inner.config.lease / 2;
        let mut next = Some((first, claimed_at));
        while let Some((m, claimed_at)) = next.take() {
            let hold = if claimed_at.elapsed() >= budget {
                let _ = self.tx.send(Finished {
                    result: release(&m, now_ms()),
                    gone: false,
                });
                None
            } else {
                let _g = self.global.acquire().await.expect("semaphore never closed");
                let _w = self
                    .per_webhook
                    .acquire()
                    .await
                    .expect("semaphore never closed");
                let finished = attempt(&self.d, self.target.as_deref(), &policy, m).await;
                let hold = match finished.result.next {
                    MessageNext::Retry(at) | MessageNext::Release(at) => Some(at),
                    MessageNext::Failed if finished.gone => Some(now_ms() + 1_000),
                    _ => None,
                };
                let _ = self.tx.send(finished);
                hold
            };
            let Some(key) = &key else { return };
            let mut lanes = self.lanes.lock();
            let Some(Lane::Active(queue)) = lanes.get_mut(key) else {
                return;
            };
            match hold {
                None => match queue.pop_front() {
                    Some(n) => next = Some(n),
                    None => {
                        lanes.remove(key);
                    }
                },
                Some(at) => {
                    for (m, _) in queue.drain(..) {
                        let _ = self.tx.send(Finished {
                            result: release(&m, at),
                            gone: false,
                        });
                    }
                    lanes.insert(key.clone(), Lane::Held(at));
                }
            }
        }
    }
}

fn release(m: &ClaimedMessage, at: i64) -> AttemptResult {
    AttemptResult {
        message_id: m.id.clone(),
        webhook_id: m.webhook_id.clone(),
        attempt: m.attempts,
        at_ms: now_ms(),
        duration_ms: 0,
        http_status: None,
        error: None,
        response_snippet: None,
        next: MessageNext::Release(at),
    }
}

/// One attempt of one message and what becomes of it.
async fn attempt(
    d: &Dispatcher,
    target: Option<&Target>,
    policy: &RetryPolicy,
    mut m: ClaimedMessage,
) -> Finished {
    let Some(target) = target else {
        // Disabled or deleted since the claim, or not decryptable: look again later.
        return Finished {
            result: release(&m, now_ms() + 1_000),
            gone: false,
        };
    };
    let number = m.attempts + 1;
    let Some(payload) = m.payload.take() else {
        let mut r = release(&m, 0);
        r.attempt = number;
        r.error = Some("payload purged by retention".into());
        r.next = MessageNext::Failed;
        return Finished {
            result: r,
            gone: false,
        };
    };
    let outcome = d.inner.deliverer.attempt(target, &m.id, payload).await;
    let label = if outcome.success {
        "success"
    } else {
        "failure"
    };
    metrics::counter!("hintd_webhook_deliveries_total", "outcome" => label).increment(1);
    metrics::histogram!("hintd_webhook_delivery_duration_seconds")
        .record(outcome.elapsed.as_secs_f64());
    let next = if outcome.success {
        MessageNext::Delivered
    } else if outcome.gone {
        MessageNext::Failed
    } else {
        match policy.next_delay(number as u32, outcome.retry_after) {
            Some(delay) => MessageNext::Retry(now_ms() + delay.as_millis() as i64),
            None => MessageNext::Failed,
        }
    };
    if !outcome.success {
        tracing::debug!(webhook = %m.webhook_id, message = %m.id, attempt = number, error = ?outcome.error, "delivery failed");
    }
    Finished {
        gone: outcome.gone,
        result: AttemptResult {
            message_id: m.id.clone(),
            webhook_id: m.webhook_id.clone(),
            attempt: number,
            at_ms: outcome.at_ms,
            duration_ms: outcome.elapsed.as_millis() as i64,
            http_status: outcome.http_status.map(i64::from),
            error: outcome.error,
            response_snippet: outcome.snippet,
            next,
        },
    }
}

/// Writes results in batches (one transaction each) and applies the disable rules.
async fn recorder(d: Dispatcher, mut rx: mpsc::UnboundedReceiver<Finished>) {
    let inner = d.inner.clone();
    let disable_after = inner.config.disable_after.as_millis() as i64;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        for pause in [false, true] {
            // A moment's wait when the batch is small turns a trickle of results into one
            // transaction instead of many.
            if pause && batch.len() < 64 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            while batch.len() < 2_000 {
                match rx.try_recv() {
                    Ok(f) => batch.push(f),
                    Err(_) => break,
                }
            }
        }
        let gone: Vec<(String, Option<String>)> = batch
            .iter()
            .filter(|f| f.gone)
            .map(|f| (f.result.webhook_id.clone(), f.result.error.clone()))
            .collect();
        let results: Vec<AttemptResult> = batch.into_iter().map(|f| f.result).collect();
        let failing = loop {
            let result = {
                let _gate = gate(&inner).await;
                let t = Instant::now();
                let r = inner.store.record_results(&inner.owner, &results).await;
                observe("record", t, results.len());
                r
            };
            match result {
                Ok(f) => break f,
                Err(e) => {
                    // Keep the results: the leases still protect the messages meanwhile.
                    tracing::warn!(error = %e, results = results.len(), "recording deliveries failed; retrying");
                    tokio::time::sleep(ERROR_BACKOFF).await;
                }
            }
        };
        inner.outstanding.fetch_sub(results.len(), Ordering::AcqRel);
        inner.delivery_wake.notify_one();
        for (id, error) in gone {
            d.disable_for_failure(&id, "gone", error).await;
        }
        let now = now_ms();
        for f in failing {
            if now - f.failing_since_ms >= disable_after {
                let last = results
                    .iter()
                    .rev()
                    .find(|r| r.webhook_id == f.webhook_id)
                    .and_then(|r| r.error.clone());
                d.disable_for_failure(&f.webhook_id, "failing", last).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(id: &str, events: &[&str], account: Option<&str>) -> WebhookRecord {
        WebhookRecord {
            id: id.into(),
            account: account.map(Into::into),
            name: id.into(),
            url: "https://example.com/".into(),
            events: events.iter().map(|s| s.to_string()).collect(),
            status: WebhookStatus::Active,
            disabled_reason: None,
            disabled_at_ms: None,
            secret: vec![],
            old_secret: None,
            old_secret_until_ms: None,
            created_at_ms: 0,
            updated_at_ms: 0,
            last_success_ms: None,
            failing_since_ms: None,
        }
    }

    fn event(source: &str, account: &str, ty: &str, dialog: Option<&str>) -> StoredEvent {
        StoredEvent {
            seq: 5,
            event: NewEvent {
                source: source.into(),
                account: account.into(),
                event_type: ty.into(),
                dialog_id: dialog.map(Into::into),
                dedup_key: None,
                received_at_ms: 10,
                payload: b"{}".to_vec(),
            },
        }
    }

    #[test]
    fn plans_one_message_per_matching_webhook() {
        let hooks = vec![
            hook("a", &["inbox"], None),
            hook("b", &["outbox"], None),
            hook("c", &["*"], Some("other")),
            hook("d", &["chat2desk.*"], Some("acme")),
        ];
        let msgs = plan(&event("chat2desk", "acme", "inbox", Some("9")), &hooks);
        let ids: Vec<_> = msgs.iter().map(|m| m.webhook_id.as_str()).collect();
        assert_eq!(ids, ["a", "d"]);
        assert_eq!(msgs[0].order_key.as_deref(), Some("chat2desk/acme/9"));
        assert_eq!(msgs[0].id, message_id("a", 5));
        assert_ne!(message_id("a", 5), message_id("b", 5));
        assert!(msgs[0].id.starts_with("msg_"));
        assert!(message_id("a", 5) < message_id("a", 6));
        assert!(message_id("b", 9) < message_id("a", 10));
    }

    #[test]
    fn webhooks_created_after_the_event_do_not_get_it() {
        let mut late = hook("late", &["*"], None);
        late.created_at_ms = 11;
        assert!(plan(&event("chatwoot", "x", "message_created", None), &[late]).is_empty());
    }
}
