//! Where guest code runs: a tokio runtime of its own, on threads named `hintd-guest`.
//!
//! Guest code never runs on the server's runtime. A plugin spinning until its deadline then
//! holds a guest thread, never a worker that answers requests, ingests webhooks, delivers
//! them or answers health checks — however many plugins spin at once. Host imports stay
//! async and run on this runtime too. Two more things keep guests from crowding the server:
//! guest code yields to this runtime's scheduler at every epoch tick (so a spinning guest
//! shares its thread with the other calls queued there instead of holding it to its
//! deadline), and on Linux the guest threads run at a lower scheduling priority than the
//! rest of the process, so when every core is busy the server's threads get the CPU first.

use super::error::CallError;
use std::future::Future;
use std::sync::OnceLock;

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
                .on_thread_start(lower_priority)
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the guest threads: {e}"))
        })
        .as_ref()
        .map_err(|e| CallError::Instantiate(e.clone()))
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

/// Runs `work` on the guest threads and waits for it from the caller's runtime. Dropping the
/// returned future cancels `work`: it stops at its next yield, at the latest one epoch tick
/// later, and its store is dropped there.
pub async fn run<F>(work: F) -> Result<F::Output, CallError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
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
    async fn runs_on_guest_threads_and_cancels_on_drop() {
        let name = run(async { std::thread::current().name().map(str::to_string) })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("hintd-guest"));

        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let pending = run(async move {
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
