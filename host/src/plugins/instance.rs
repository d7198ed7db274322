//! Running one call in a sandboxed instance: a fresh store per call or one from the bounded
//! pool of idle instances, an epoch deadline (guest code yields at every tick and stops at the
//! deadline) plus a wall-clock timeout around the whole call (stops a host call that hangs),
//! the memory cap, and classification of how the call ended. Calls run on the guest threads
//! (see `guest_threads`), never on the server's.

use super::error::CallError;
use super::guest_threads;
use super::host::{DeadlineExceeded, HostState, PluginContext};
use super::manifest::InstanceMode;
use super::reuse_pool::IdlePool;
use super::wit::v0_1_0::wit;
use super::wit::{Provider, ProviderPre};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wasmtime::{Store, UpdateDeadline};

/// A call into a plugin's `provider` export, its arguments borrowed from the host's data.
pub enum Call<'a> {
    /// `describe()`.
    Describe,
    /// `suggest(req)`.
    Suggest(wit::HintRequest<'a>),
    /// `feedback(fb)`.
    Feedback(wit::Feedback<'a>),
    /// `observe(event)`.
    Observe(wit::ConversationEvent<'a>),
}

/// A function of the `provider` export called after load, each with its own circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `suggest`.
    Suggest,
    /// `feedback`.
    Feedback,
    /// `observe`.
    Observe,
}

impl Function {
    /// Its name in the contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Function::Suggest => "suggest",
            Function::Feedback => "feedback",
            Function::Observe => "observe",
        }
    }
}

/// What a call returned.
pub enum Answer {
    /// From `describe`.
    Info(wit::PluginInfo),
    /// From `suggest`.
    Hints(Result<Vec<wit::HintResult>, wit::ProviderError>),
    /// From `feedback` and `observe`.
    Done,
}

/// A live instance and its store.
pub struct Live {
    store: Store<HostState>,
    provider: Provider,
    uses: u32,
}

/// The idle instances of every plugin (`reuse` mode), shared by the runners of a registry.
pub type InstancePool = IdlePool<Live>;

/// Creates instances of one plugin and runs calls in them.
pub struct Runner {
    pre: ProviderPre<HostState>,
    ctx: Arc<PluginContext>,
    /// Where idle reusable instances wait (`reuse` mode only), under this runner's id.
    pool: Arc<InstancePool>,
    id: u64,
}

impl Runner {
    /// A runner of the pre-linked component `pre`, keeping idle instances in `pool`.
    pub fn new(
        pre: ProviderPre<HostState>,
        ctx: Arc<PluginContext>,
        pool: Arc<InstancePool>,
    ) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Runner {
            pre,
            ctx,
            pool,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Runs `call` within the plugin's deadline (or `timeout_ms` when given). `account`
    /// selects the reuse pool; `None` always uses a fresh instance.
    pub async fn run(
        &self,
        account: Option<&str>,
        call: Call<'_>,
        timeout_ms: Option<u32>,
    ) -> Result<Answer, CallError> {
        let limits = &self.ctx.limits;
        let timeout_ms = timeout_ms.unwrap_or_else(|| self.ctx.manifest.timeout_ms(limits));
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        let deadline = Instant::now() + timeout;
        let abandon_at = deadline + Duration::from_millis(u64::from(limits.wall_clock_grace_ms));
        let reuse_key = match (self.ctx.manifest.instance, account) {
            (InstanceMode::Reuse, Some(a)) => Some(a),
            _ => None,
        };
        // Boxed: wasmtime's call futures are kilobytes, and every future awaiting this one
        // (the timeout, the registry's bookkeeping, the hint fan-out) would copy them inline.
        let work = Box::pin(async {
            let mut live = match reuse_key.and_then(|a| self.take_idle(a)) {
                Some(live) => live,
                None => self.instantiate(deadline).await?,
            };
            arm(&mut live.store, deadline);
            let outcome = invoke(&mut live, call).await;
            live.store.data().flush_stdio();
            match outcome {
                Ok(answer) => {
                    live.uses += 1;
                    if let Some(account) = reuse_key {
                        self.put_idle(account, live);
                    }
                    Ok(answer)
                }
                Err(e) => Err(classify(e, live.store.data().memory.refused)),
            }
        });
        // Guest code is stopped by the epoch deadline; this bounds everything else (a host
        // call that does not return). Dropping the future drops the store and its instance.
        within(abandon_at, work)
            .await
            .unwrap_or(Err(CallError::Timeout))
    }

    async fn instantiate(&self, deadline: Instant) -> Result<Live, CallError> {
        let engine = self.pre.engine();
        let mut store = Store::new(engine, HostState::new(self.ctx.clone()));
        store.limiter(|s| &mut s.memory);
        // At every epoch tick guest code yields to the guest threads' scheduler, so the calls
        // sharing a thread take turns; at the call's deadline it stops.
        store.epoch_deadline_callback(|store| {
            Ok(if Instant::now() >= store.data().deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
        arm(&mut store, deadline);
        match self.pre.instantiate_async(&mut store).await {
            Ok(provider) => Ok(Live {
                store,
                provider,
                uses: 0,
            }),
            Err(e) => {
                store.data().flush_stdio();
                Err(match classify(e, store.data().memory.refused) {
                    CallError::Trap(msg) => CallError::Instantiate(msg),
                    other => other,
                })
            }
        }
    }

    fn take_idle(&self, account: &str) -> Option<Live> {
        self.pool.take(self.id, account)
    }

    fn put_idle(&self, account: &str, live: Live) {
        if live.uses >= self.ctx.limits.reuse_max_uses {
            return;
        }
        let bytes = live.store.data().memory.bytes;
        self.pool.put(self.id, account, live, bytes);
    }
}

impl Drop for Runner {
    /// An unloaded plugin version's idle instances go with it.
    fn drop(&mut self) {
        self.pool.remove_owner(self.id);
    }
}

/// Runs `work` to its end, or gives it up at `until`. The timer is armed only on the guest
/// threads: a call's first slice runs on the caller's thread and either ends there, as most
/// do, never touching the timer wheel, or suspends and moves to the guest threads (see
/// `guest_threads::run`), whose runtime then owns the timer — one armed on the caller's
/// runtime would outlive it when that runtime stops first. Guest code is bounded by the
/// epoch deadline anyway; the timer bounds a host call that hangs.
async fn within<F: std::future::Future>(until: Instant, work: F) -> Option<F::Output> {
    let mut work = std::pin::pin!(work);
    while !guest_threads::on_guest_thread() {
        match futures::poll!(work.as_mut()) {
            std::task::Poll::Ready(out) => return Some(out),
            std::task::Poll::Pending => suspend_once().await,
        }
    }
    tokio::time::timeout_at(until.into(), work).await.ok()
}

/// Pending once, then ready: hands a suspended first slice back to `guest_threads::run`.
async fn suspend_once() {
    let mut suspended = false;
    std::future::poll_fn(|_| {
        if suspended {
            std::task::Poll::Ready(())
        } else {
            suspended = true;
            std::task::Poll::Pending
        }
    })
    .await
}

/// Sets the call's deadline on a store: the instant the epoch callback and host calls check,
/// and the first check at the next epoch tick.
fn arm(store: &mut Store<HostState>, deadline: Instant) {
    store.set_epoch_deadline(1);
    let data = store.data_mut();
    data.deadline = deadline;
    data.memory.refused = false;
}

async fn invoke(live: &mut Live, call: Call<'_>) -> wasmtime::Result<Answer> {
    let (provider, store) = (&mut live.provider, &mut live.store);
    Ok(match call {
        Call::Describe => Answer::Info(provider.call_describe(store).await?),
        Call::Suggest(req) => Answer::Hints(provider.call_suggest(store, req).await?),
        Call::Feedback(fb) => {
            provider.call_feedback(store, fb).await?;
            Answer::Done
        }
        Call::Observe(ev) => {
            provider.call_observe(store, ev).await?;
            Answer::Done
        }
    })
}

/// Maps a failed call to its outcome.
fn classify(e: wasmtime::Error, memory_refused: bool) -> CallError {
    if e.downcast_ref::<DeadlineExceeded>().is_some() {
        return CallError::Timeout;
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => CallError::Timeout,
        Some(wasmtime::Trap::StackOverflow) => CallError::Trap("stack overflow".into()),
        _ if memory_refused => CallError::OutOfMemory,
        Some(trap) => CallError::Trap(trap.to_string()),
        None => {
            let msg = format!("{e:#}");
            if msg.contains("memory") && (msg.contains("limit") || msg.contains("grow")) {
                CallError::OutOfMemory
            } else {
                CallError::Trap(msg)
            }
        }
    }
}
