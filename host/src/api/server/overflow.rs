//! The answer to a connection accepted while every open connection is being served: a
//! `503` in the API's error shape, sent at once, then the connection is closed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Turned-away connections being answered at once, at most; beyond, they are closed
/// without an answer (each answer holds its socket for up to [`LINGER`]).
const MAX_ANSWERING: usize = 256;

/// How long the request of a turned-away connection is read (and dropped) after the
/// answer, so that closing does not reset the connection before the client reads it.
const LINGER: Duration = Duration::from_secs(1);

/// Turns away connections while the server is full.
#[derive(Clone, Default)]
pub(super) struct Overflow {
    answering: Arc<AtomicUsize>,
}

impl Overflow {
    /// Answers `stream` with a `503` (or closes it when too many are being answered).
    pub(super) fn turn_away(&self, stream: TcpStream) {
        metrics::counter!("hintd_http_connections_refused_total").increment(1);
        if self.answering.fetch_add(1, Ordering::AcqRel) >= MAX_ANSWERING {
            self.answering.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        let answering = self.answering.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(LINGER, answer(stream)).await;
            answering.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

/// The whole response, written before the request is read.
fn response() -> Vec<u8> {
    let body = serde_json::json!({"error": {
        "code": "overloaded",
        "message": "every connection is busy serving a request; retry shortly",
    }})
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn answer(mut stream: TcpStream) {
    if stream.write_all(&response()).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    // Read what the client sends until it closes: closing with unread bytes would reset
    // the connection and could destroy the answer on its way.
    let mut sink = [0u8; 4096];
    while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_a_complete_json_error() {
        let text = String::from_utf8(response()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "overloaded");
    }
}
