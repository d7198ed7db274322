//! The `log` import: plugin log lines go to tracing, tagged with the plugin's name.

use super::HostState;
use crate::plugins::manifest::Capability;
use crate::plugins::wit::v0_1_0::hintd::provider::log::{Host, Level};

impl Host for HostState {
    async fn write(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        if !self.ctx.grants(Capability::Log) {
            return Ok(());
        }
        let line = truncate(&message, self.ctx.limits.max_log_line_bytes);
        let plugin = self.ctx.name.as_str();
        match level {
            Level::Trace => tracing::trace!(plugin, "{line}"),
            Level::Debug => tracing::debug!(plugin, "{line}"),
            Level::Info => tracing::info!(plugin, "{line}"),
            Level::Warn => tracing::warn!(plugin, "{line}"),
            Level::Error => tracing::error!(plugin, "{line}"),
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

#[cfg(test)]
mod tests {
    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(super::truncate("héllo", 2), "h");
        assert_eq!(super::truncate("héllo", 3), "hé");
        assert_eq!(super::truncate("abc", 10), "abc");
    }
}
