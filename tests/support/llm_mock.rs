//! A loopback stand-in for an OpenAI-compatible `/v1/chat/completions` endpoint: answers with
//! a fixed list of suggestions after a configurable delay and records what it was sent.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Shared {
    delay: Mutex<Duration>,
    suggestions: Mutex<Vec<String>>,
    requests: Mutex<Vec<(HeaderMap, serde_json::Value)>>,
}

/// A running mock on 127.0.0.1. Stops when dropped.
pub struct LlmMock {
    /// Its address.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl LlmMock {
    /// Starts the mock answering `suggestions` (as a JSON array in the completion's content).
    pub async fn start(suggestions: &[&str]) -> LlmMock {
        let shared = Arc::new(Shared::default());
        *shared.suggestions.lock().unwrap() = suggestions.iter().map(|s| s.to_string()).collect();
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        LlmMock { addr, shared, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Makes every answer wait this long.
    pub fn set_delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Requests received: headers and JSON body.
    pub fn requests(&self) -> Vec<(HeaderMap, serde_json::Value)> {
        self.shared.requests.lock().unwrap().clone()
    }
}

impl Drop for LlmMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn complete(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::Json<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    shared.requests.lock().unwrap().push((headers, json));
    let delay = *shared.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let content = serde_json::to_string(&*shared.suggestions.lock().unwrap()).unwrap();
    axum::Json(serde_json::json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    }))
}
