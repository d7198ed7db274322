//! The baseline the hints figure is compared with: a bare axum handler in this binary that
//! parses the same `ai_hints_requested` body (same JSON, same fields) and answers a fixed
//! hints reply of the same shape. The ratio hintd ÷ baseline factors out the machine, the
//! load generator and HTTP itself.

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::Value;

/// The fields hintd reads from a hints request. Values stay raw because the platform sends
/// numbers as numbers or strings.
#[derive(Deserialize)]
struct HintsRequest {
    client_id: Value,
    dialog_id: Value,
    request_id: Value,
    message_id: Value,
    hook_type: String,
}

/// Parses the request like hintd must, then returns three fixed hints for its message.
async fn answer(body: Bytes) -> Response {
    let req: HintsRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    if req.hook_type != "ai_hints_requested"
        || req.client_id.is_null()
        || req.dialog_id.is_null()
        || req.request_id.is_null()
    {
        return (StatusCode::BAD_REQUEST, "not a hints request").into_response();
    }
    let reply = serde_json::json!({
        "message_id": req.message_id,
        "hints": [
            {"id": 1, "text": "Refunds take 5 to 7 business days after the return reaches our warehouse", "url": "", "relevance": 90, "link": ""},
            {"id": 2, "text": "Return shipping is free for exchanges and costs 5 euros for refunds", "url": "", "relevance": 75, "link": ""},
            {"id": 3, "text": "Yes, the refund always goes back to the card used for payment", "url": "", "relevance": 60, "link": ""}
        ]
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(&reply).expect("JSON value serialises"),
    )
        .into_response()
}

/// The baseline's router: the same path as hintd's Chat2Desk endpoint.
pub fn router() -> Router {
    Router::new().route("/webhooks/chat2desk/{account}", post(answer))
}
