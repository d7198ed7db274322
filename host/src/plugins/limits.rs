//! Every limit the plugin runtime enforces, in one place, with its default. The manifest may
//! lower or raise the per-plugin ones (deadline, memory) within the `max_*` bounds here; the
//! rest are host-wide (`[plugins.limits]` in the config file).

use serde::Deserialize;

/// Host-wide plugin limits (`[plugins.limits]`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Per-call deadline when the manifest sets no `timeout_ms`, milliseconds.
    pub default_timeout_ms: u32,
    /// Largest `timeout_ms` a manifest may ask for.
    pub max_timeout_ms: u32,
    /// Linear memory cap when the manifest sets no `memory_mb`, MiB.
    pub default_memory_mb: u32,
    /// Largest `memory_mb` a manifest may ask for; also sizes the pooling allocator's slots.
    pub max_memory_mb: u32,
    /// Most hints one `suggest` may return; more is an invalid output, not truncated.
    pub max_hints: usize,
    /// Longest hint text (and id, url, link), bytes.
    pub max_hint_text_bytes: usize,
    /// Longest log line a plugin may write; longer lines are truncated.
    pub max_log_line_bytes: usize,
    /// Bytes of keys + values each plugin may keep in `kv`.
    pub kv_quota_bytes: u64,
    /// Longest `kv` key, bytes.
    pub kv_max_key_bytes: usize,
    /// Most entries one `kv.scan` returns.
    pub kv_max_scan: u32,
    /// Largest `http` response body, bytes.
    pub http_max_response_bytes: usize,
    /// Largest `http` request body, bytes.
    pub http_max_request_bytes: usize,
    /// Guest stdout and stderr kept per call (each), bytes; the rest is dropped.
    pub stdio_capture_bytes: usize,
    /// Idle instances kept per (plugin, account) in `reuse` mode.
    pub reuse_pool_size: usize,
    /// Calls one reused instance serves before it is replaced.
    pub reuse_max_uses: u32,
    /// Extra wall-clock time after the deadline before a call is abandoned, milliseconds.
    /// The epoch deadline stops guest code on time; this bounds a host call that hangs.
    pub wall_clock_grace_ms: u32,
    /// Largest component file accepted, bytes.
    pub max_wasm_bytes: u64,
    /// Threads that run guest code, for all plugins together (0: one per core). Guest code
    /// never runs on the server's own threads.
    pub guest_threads: usize,
    /// Calls of one plugin running at once; more wait in its queue.
    pub max_concurrent_calls: usize,
    /// Calls of one plugin waiting for a free slot; beyond that a call is skipped at once and
    /// counted as `busy`. A waiting call also gives up at its own deadline.
    pub max_queued_calls: usize,
    /// Idle reusable instances kept across all plugins and accounts; beyond it the least
    /// recently used are dropped.
    pub reuse_max_idle_instances: usize,
    /// Linear memory those idle instances may hold together, MiB; beyond it the least recently
    /// used are dropped.
    pub reuse_max_idle_mb: u32,
    /// An idle instance unused this long is dropped, milliseconds.
    pub reuse_idle_timeout_ms: u64,
    /// Log lines (the `log` import, stdout and stderr together) one plugin may write per
    /// second; the rest are dropped and counted.
    pub log_lines_per_second: u32,
    /// Log bytes one plugin may write per second; the rest are dropped and counted.
    pub log_bytes_per_second: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_timeout_ms: 200,
            max_timeout_ms: 30_000,
            default_memory_mb: 64,
            max_memory_mb: 512,
            max_hints: 32,
            max_hint_text_bytes: 4 * 1024,
            max_log_line_bytes: 2 * 1024,
            kv_quota_bytes: 1024 * 1024,
            kv_max_key_bytes: 256,
            kv_max_scan: 1_000,
            http_max_response_bytes: 1024 * 1024,
            http_max_request_bytes: 1024 * 1024,
            stdio_capture_bytes: 4 * 1024,
            reuse_pool_size: 4,
            reuse_max_uses: 1_000,
            wall_clock_grace_ms: 50,
            max_wasm_bytes: 64 * 1024 * 1024,
            guest_threads: 0,
            max_concurrent_calls: 8,
            max_queued_calls: 64,
            reuse_max_idle_instances: 128,
            reuse_max_idle_mb: 1024,
            reuse_idle_timeout_ms: 300_000,
            log_lines_per_second: 100,
            log_bytes_per_second: 64 * 1024,
        }
    }
}

/// How often the engine's epoch advances: the granularity of deadlines, and how long guest
/// code runs before it yields to the other calls on its thread.
pub const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(5);
