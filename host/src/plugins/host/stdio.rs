//! Guest stdout/stderr: captured in memory up to a cap (the rest is counted and dropped, never
//! an error the guest sees), then written to the host log tagged with the plugin's name, one
//! event per line, escaped and within the plugin's log budget like the `log` import's.

use super::log::LogBudget;
use bytes::Bytes;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// A bounded in-memory sink for one guest stream.
#[derive(Clone)]
pub struct CapturedOutput {
    cap: usize,
    inner: Arc<parking_lot::Mutex<Captured>>,
}

#[derive(Default)]
struct Captured {
    kept: Vec<u8>,
    dropped: u64,
}

impl CapturedOutput {
    /// A sink keeping at most `cap` bytes.
    pub fn new(cap: usize) -> Self {
        CapturedOutput {
            cap,
            inner: Arc::default(),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut c = self.inner.lock();
        let room = self.cap.saturating_sub(c.kept.len());
        let take = room.min(bytes.len());
        c.kept.extend_from_slice(&bytes[..take]);
        c.dropped += (bytes.len() - take) as u64;
    }

    /// Takes what was captured so far: the kept bytes and how many were dropped.
    pub fn take(&self) -> (Vec<u8>, u64) {
        let mut c = self.inner.lock();
        (std::mem::take(&mut c.kept), std::mem::take(&mut c.dropped))
    }

    /// Writes captured output to the log, one event per line, tagged with the plugin and
    /// the stream; lines over the plugin's budget are dropped there.
    pub fn flush_to_log(&self, plugin: &str, stream: &'static str, budget: &LogBudget) {
        let (kept, dropped) = self.take();
        if kept.is_empty() && dropped == 0 {
            return;
        }
        let text = String::from_utf8_lossy(&kept);
        for line in text.trim_end().lines() {
            if budget.admit(plugin, line.len()) {
                tracing::info!(plugin, stream, text = %line.escape_debug(), "plugin output");
            }
        }
        if dropped > 0 {
            tracing::info!(
                plugin,
                stream,
                dropped_bytes = dropped,
                "plugin output over the capture limit"
            );
        }
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always writable: overflow is dropped here rather than failing the guest's print.
        Ok(64 * 1024)
    }
}

#[async_trait::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_up_to_cap_and_counts_the_rest() {
        let out = CapturedOutput::new(4);
        out.push(b"abc");
        out.push(b"def");
        assert_eq!(out.take(), (b"abcd".to_vec(), 2));
        assert_eq!(out.take(), (vec![], 0));
    }
}
