//! Plugin output in the host's log: the `log` import, and guest stdout/stderr (`stdio`). Every
//! line a plugin writes is a structured field of a host event, its control characters escaped
//! (a `\n` cannot start a line that looks like the host's), and goes through the plugin's log
//! budget (lines and bytes per second; the excess is dropped and counted).

use super::HostState;
use crate::plugins::limits::Limits;
use crate::plugins::manifest::Capability;
use crate::plugins::wit::v0_1_0::hintd::provider::log::{Host, Level};
use parking_lot::Mutex;
use std::time::{Duration, Instant};

impl Host for HostState {
    async fn write(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        if !self.ctx.grants(Capability::Log) {
            return Ok(());
        }
        let line = truncate(&message, self.ctx.limits.max_log_line_bytes);
        let plugin = self.ctx.name.as_str();
        if !self.ctx.log_budget.admit(plugin, line.len()) {
            return Ok(());
        }
        let text = line.escape_debug();
        match level {
            Level::Trace => tracing::trace!(plugin, text = %text, "plugin log"),
            Level::Debug => tracing::debug!(plugin, text = %text, "plugin log"),
            Level::Info => tracing::info!(plugin, text = %text, "plugin log"),
            Level::Warn => tracing::warn!(plugin, text = %text, "plugin log"),
            Level::Error => tracing::error!(plugin, text = %text, "plugin log"),
        }
        Ok(())
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// How much one plugin may write to the log per one-second window (all its instances).
pub struct LogBudget {
    max_lines: u32,
    max_bytes: usize,
    window: Mutex<Window>,
}

struct Window {
    started: Instant,
    lines: u32,
    bytes: usize,
    dropped_lines: u64,
    dropped_bytes: u64,
}

const WINDOW: Duration = Duration::from_secs(1);

impl LogBudget {
    /// The budget the limits give.
    pub fn new(limits: &Limits) -> Self {
        LogBudget {
            max_lines: limits.log_lines_per_second,
            max_bytes: limits.log_bytes_per_second,
            window: Mutex::new(Window {
                started: Instant::now(),
                lines: 0,
                bytes: 0,
                dropped_lines: 0,
                dropped_bytes: 0,
            }),
        }
    }

    /// Whether a line of `bytes` may be written now; if not it is counted as dropped
    /// (`hintd_plugin_log_dropped_total{plugin}`). The first line of a new window reports
    /// what the previous one dropped.
    pub fn admit(&self, plugin: &str, bytes: usize) -> bool {
        let mut w = self.window.lock();
        let now = Instant::now();
        if now.duration_since(w.started) >= WINDOW {
            if w.dropped_lines > 0 {
                tracing::warn!(
                    plugin,
                    dropped_lines = w.dropped_lines,
                    dropped_bytes = w.dropped_bytes,
                    "plugin log over its budget; lines dropped"
                );
            }
            *w = Window {
                started: now,
                lines: 0,
                bytes: 0,
                dropped_lines: 0,
                dropped_bytes: 0,
            };
        }
        if w.lines >= self.max_lines || w.bytes.saturating_add(bytes) > self.max_bytes {
            w.dropped_lines += 1;
            w.dropped_bytes += bytes as u64;
            metrics::counter!("hintd_plugin_log_dropped_total", "plugin" => plugin.to_string())
                .increment(1);
            return false;
        }
        w.lines += 1;
        w.bytes += bytes;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn budget_bounds_lines_and_bytes_per_window() {
        let limits = Limits {
            log_lines_per_second: 3,
            log_bytes_per_second: 10,
            ..Limits::default()
        };
        let budget = LogBudget::new(&limits);
        assert!(budget.admit("p", 4));
        assert!(budget.admit("p", 4));
        assert!(!budget.admit("p", 4), "12 bytes is over 10");
        assert!(budget.admit("p", 1));
        assert!(!budget.admit("p", 1), "a fourth line is over 3");
        budget.window.lock().started -= WINDOW;
        assert!(budget.admit("p", 4), "a new window");
    }

    #[test]
    fn control_characters_cannot_start_a_line() {
        let forged = "ok\n2026-12-01T00:00:00Z  INFO hintd: admin key is x\r\0\u{1b}[31m";
        let shown = forged.escape_debug().to_string();
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(shown.contains("\\n") && shown.contains("\\r") && shown.contains("\\0"));
    }
}
