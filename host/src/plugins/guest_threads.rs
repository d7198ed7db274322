//! Where guest code runs: a tokio runtime of its own, on threads named `hintd-guest`.
//!
//! A call starts on the caller's thread and runs there until it ends or first suspends
//! (guest code yields at every epoch tick, so that is at most one tick of guest code; a host
//! call waiting on I/O suspends it too). Most calls end within that first slice, and pay
//! nothing for isolation. A call still running then moves to the guest threads for the rest
//! of its time, and its plugin's next calls start there directly for a while
//! ([`OFFLOAD_PERIOD`]) — so a plugin that spins costs the server's threads one tick per
//! period, never a whole deadline, however many of its calls run at once. Requests, ingest,
//! deliveries and health checks keep their threads.
//!
//! On the guest threads, calls take turns at every epoch tick; on Linux those threads run at
//! a lower scheduling priority than the rest of the process, so when every core is busy the
//! server's threads get the CPU first. Host imports stay async and run wherever their call is.

use super::error::CallError;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a plugin whose call outlived its first slice starts its calls on the guest
/// threads.
pub const OFFLOAD_PERIOD: Duration = Duration::from_secs(60);

/// Nice value added to the guest threads (Linux): below the server's threads, well above idle.
const GUEST_NICENESS: i32 = 5;

/// The guest runtime, created on first use with `threads` workers, 0 meaning one per core
/// (later calls get the same runtime whatever they ask: it is process-wide, like the engine).
fn runtime(threads: usize) -> Result<&'static tokio::runtime::Runtime, CallError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(thread_count(threads))
                .thread_name("hintd-guest")
                .on_thread_start(|| {
                    ON_GUEST_THREAD.set(true);
                    lower_priority();
                })
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the guest threads: {e}"))
        })
        .as_ref()
        .map_err(|e| CallError::Instantiate(e.clone()))
}

thread_local! {
    static ON_GUEST_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is a guest thread. Timers a call arms must belong to the
/// runtime that polls them to the end, which is this one once a call has moved here.
pub fn on_guest_thread() -> bool {
    ON_GUEST_THREAD.get()
}

/// Guest threads of the process: `configured`, or one per core when 0.
pub fn thread_count(configured: usize) -> usize {
    if configured > 0 {
        return configured;
    }
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Starts the guest runtime now (so its threads exist before the first call).
pub fn start(threads: usize) -> Result<(), CallError> {
    runtime(threads).map(|_| ())
}

/// Where one plugin's calls start: on the caller's thread, or, for a while after one of its
/// calls outlived its first slice, on the guest threads.
#[derive(Debug, Default)]
pub struct Placement {
    /// Until when (ms since the Unix epoch) calls start on the guest threads.
    offloaded_until_ms: AtomicU64,
}

impl Placement {
    fn starts_inline(&self) -> bool {
        self.offloaded_until_ms.load(Ordering::Relaxed) <= now_ms()
    }

    fn offload(&self) {
        let until = now_ms() + OFFLOAD_PERIOD.as_millis() as u64;
        self.offloaded_until_ms.store(until, Ordering::Relaxed);
    }

    /// Whether calls of this plugin start on the guest threads now.
    pub fn offloaded(&self) -> bool {
        !self.starts_inline()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Runs `work`, a call of the plugin placed by `placement`: its first slice here (unless the
/// plugin is offloaded), the rest on the guest threads. Dropping the returned future cancels
/// `work`: on the guest threads it stops at its next yield, at the latest one epoch tick
/// later, and its store is dropped there.
pub async fn run<F>(placement: &Placement, work: F) -> Result<F::Output, CallError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut work = Box::pin(work);
    if placement.starts_inline() {
        if let Poll::Ready(out) = futures::poll!(work.as_mut()) {
            return Ok(out);
        }
        placement.offload();
    }
    let handle = runtime(0)?.spawn(work);
    let mut guard = AbortOnDrop(handle);
    (&mut guard.0)
        .await
        .map_err(|e| CallError::Trap(format!("guest task failed: {e}")))
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: setpriority takes no pointers. On Linux (NPTL) PRIO_PROCESS with who = 0 sets the
    // nice value of the calling thread only. Failure (no permission to renice) leaves the
    // thread at the process's priority, which is still correct, only less protective.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, GUEST_NICENESS);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "current_thread")]
    async fn a_call_that_suspends_moves_to_the_guest_threads_and_cancels_on_drop() {
        let thread = || std::thread::current().name().map(str::to_string);
        let placement = Placement::default();
        let here = run(&placement, async move { thread() }).await.unwrap();
        assert_ne!(here.as_deref(), Some("hintd-guest"), "a quick call stays");
        assert!(!placement.offloaded());
        let moved = run(&placement, async move {
            tokio::task::yield_now().await;
            thread()
        })
        .await
        .unwrap();
        assert_eq!(moved.as_deref(), Some("hintd-guest"));
        assert!(placement.offloaded(), "the plugin's next calls start there");
        let next = run(&placement, async move { thread() }).await.unwrap();
        assert_eq!(next.as_deref(), Some("hintd-guest"));

        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let pending = run(&placement, async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(tx);
        });
        let cut = tokio::time::timeout(Duration::from_millis(20), pending).await;
        assert!(cut.is_err(), "still running when given up");
        // The guest task was aborted, so its sender is dropped without a send.
        assert!(
            tokio::time::timeout(Duration::from_secs(5), rx)
                .await
                .unwrap()
                .is_err()
        );
    }
}
