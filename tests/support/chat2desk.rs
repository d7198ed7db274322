//! Chat2Desk-shaped payloads and the calls tests make with them.

use crate::server::{ADMIN_KEY, Server, client};
use serde_json::{Value, json};

/// The webhook token every test config gives `[sources.chat2desk]`.
pub const TOKEN: &str = "c2d-test-token";

/// `[sources.chat2desk]` with [`TOKEN`].
pub fn source_config() -> String {
    format!("[sources.chat2desk]\ntoken = \"{TOKEN}\"\n")
}

/// Now, as Chat2Desk writes `event_time`: tests use current times so that message retention
/// (by age) never purges what a test just posted.
pub fn event_time() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An `inbox` event: client `100 + dialog` writes `text` in `dialog`.
pub fn inbox(message_id: u64, dialog: u64, text: &str) -> Value {
    json!({
        "message_id": message_id, "type": "from_client", "text": text, "transport": "telegram",
        "client_id": 100 + dialog, "operator_id": "", "dialog_id": dialog, "channel_id": 17,
        "client": {"id": 100 + dialog, "name": "Peter", "phone": ""}, "hook_type": "inbox",
        "request_id": 8725057, "attachments": [], "is_new_request": 1, "event_time": event_time()
    })
}

/// The first form of `ai_hints_requested`: the operator asks for hints on `message_id`.
pub fn hints_request(dialog: u64, request_id: u64, message_id: u64) -> Value {
    json!({"client_id": 100 + dialog, "operator_id": 1, "dialog_id": dialog, "request_id": request_id,
           "channel_id": 17, "message_id": message_id, "hook_type": "ai_hints_requested",
           "event_time": event_time()})
}

/// The second form: the operator chose `hint_id` of the answer to `message_id`.
pub fn choice(dialog: u64, message_id: u64, hint_id: i64) -> Value {
    json!({"client_id": 100 + dialog, "message_id": message_id, "hint_id": hint_id,
           "hook_type": "ai_hints_requested", "event_time": event_time()})
}

/// Posts a Chat2Desk event and returns the status and JSON body.
pub async fn post(server: &Server, body: &Value) -> (u16, Value) {
    let resp = client()
        .post(server.url(&format!("/webhooks/chat2desk?token={TOKEN}")))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// An admin API call; returns the status and JSON body (`Null` when empty).
pub async fn admin(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client()
        .request(method, server.url(path))
        .bearer_auth(ADMIN_KEY);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        },
    )
}
