//! The loopback webhook receiver of the dispatch benchmark: an axum handler in this process
//! that answers 204 at once, counts deliveries, spots duplicates by `webhook-id`, and times
//! each event from the moment the load generator sent it to hintd.

use super::stats::{Latencies, micros};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use dashmap::{DashMap, DashSet};
use parking_lot::Mutex;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What the receiver has seen.
#[derive(Default)]
pub struct Deliveries {
    /// Deliveries answered.
    pub delivered: AtomicU64,
    /// Deliveries whose `webhook-id` had been seen before.
    pub duplicates: AtomicU64,
    /// When each event (keyed by its Chat2Desk `message_id`) was sent to hintd.
    pub sent_at: DashMap<String, Instant>,
    seen: DashSet<String>,
    latencies: Mutex<Vec<u32>>,
}

impl Deliveries {
    /// Takes the ingest→delivery latencies recorded so far.
    pub fn take_latencies(&self) -> Latencies {
        Latencies::from_micros(std::mem::take(&mut *self.latencies.lock()))
    }
}

/// The part of a relayed event the receiver reads: the platform payload's message id.
#[derive(Deserialize)]
struct Relayed {
    data: RelayedData,
}

#[derive(Deserialize)]
struct RelayedData {
    message_id: serde_json::Value,
}

async fn receive(State(d): State<Arc<Deliveries>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let arrived = Instant::now();
    d.delivered.fetch_add(1, Ordering::Relaxed);
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok())
        && !d.seen.insert(id.to_string())
    {
        d.duplicates.fetch_add(1, Ordering::Relaxed);
    }
    if let Ok(relayed) = serde_json::from_slice::<Relayed>(&body) {
        let key = match relayed.data.message_id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        if let Some((_, sent)) = d.sent_at.remove(&key) {
            d.latencies.lock().push(micros(arrived - sent));
        }
    }
    StatusCode::NO_CONTENT
}

/// The receiver's router (`POST /hook`) and its shared counters.
pub fn router() -> (Router, Arc<Deliveries>) {
    let deliveries = Arc::new(Deliveries::default());
    (
        Router::new()
            .route("/hook", post(receive))
            .with_state(deliveries.clone()),
        deliveries,
    )
}
