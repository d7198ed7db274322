//! `/api/v1/webhooks`: the subscriptions API of the webhook hub (the admin key is checked for
//! all of `/api/v1` by [`crate::api::auth`]).
//!
//! | method | path | |
//! |---|---|---|
//! | POST | `/api/v1/webhooks` | create `{name, url, events[], account?}` → 201 with `secret` (shown once) |
//! | GET | `/api/v1/webhooks[?account=]` | list with status, last success, recent errors |
//! | GET | `/api/v1/webhooks/events` | every valid event name |
//! | GET, PUT, DELETE | `/api/v1/webhooks/{id}` | read; modify (`"url": null` deletes, `"status": "active"` re-enables); delete |
//! | POST | `/api/v1/webhooks/{id}/rotate-secret` | new secret; the old one signs too for 24 h |
//! | GET | `/api/v1/webhooks/{id}/attempts[?before=&limit=]` | attempt log, newest first |
//! | GET | `/api/v1/webhooks/{id}/messages[?status=&limit=]` | outbox messages |
//! | GET | `/api/v1/webhooks/{id}/messages/{msg}[/attempts]` | one message, its attempts |
//! | POST | `/api/v1/webhooks/{id}/messages/{msg}/resend` | send again now |
//! | POST | `/api/v1/webhooks/{id}/recover` | `{since}`: send again the failed messages since then |

use crate::api::error::ApiError;
use crate::api::extract::{BodyBytes, PathParams, QueryParams, backticked};
use crate::app::App;
use crate::dispatch::DispatchError;
use crate::dispatch::catalog::valid_patterns;
use crate::dispatch::service::Updated;
use crate::dispatch::subscription::{CreateWebhook, UpdateWebhook};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

/// The routes of this file.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/webhooks", post(create).get(list))
        .route("/api/v1/webhooks/events", get(events))
        .route(
            "/api/v1/webhooks/{id}",
            get(read).put(update).delete(remove),
        )
        .route("/api/v1/webhooks/{id}/rotate-secret", post(rotate))
        .route("/api/v1/webhooks/{id}/attempts", get(attempts))
        .route("/api/v1/webhooks/{id}/messages", get(messages))
        .route("/api/v1/webhooks/{id}/messages/{msg}", get(message))
        .route(
            "/api/v1/webhooks/{id}/messages/{msg}/attempts",
            get(message_attempts),
        )
        .route("/api/v1/webhooks/{id}/messages/{msg}/resend", post(resend))
        .route("/api/v1/webhooks/{id}/recover", post(recover))
}

impl From<DispatchError> for ApiError {
    fn from(e: DispatchError) -> Self {
        match e {
            DispatchError::Invalid(inv) => {
                let message = match &inv.valid_events {
                    Some(valid) => format!("{inv}; valid events: {}", valid.join(", ")),
                    None => inv.to_string(),
                };
                ApiError::invalid(inv.field, message)
            }
            DispatchError::NotFound(m) => ApiError::not_found("not_found", m),
            e @ DispatchError::LimitReached { .. } => {
                ApiError::new(StatusCode::CONFLICT, "limit_reached", e.to_string())
            }
            DispatchError::NotResendable(m) => {
                ApiError::new(StatusCode::CONFLICT, "not_resendable", m)
            }
            DispatchError::Store(e) => e.into(),
            DispatchError::Secret(e @ crate::dispatch::secrets::SecretError::KeyRequired) => {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "secret_key_missing",
                    e.to_string(),
                )
            }
            other => ApiError::internal(other),
        }
    }
}

/// Parses a JSON body into `T`, naming the field at fault when serde can.
pub fn parse_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    if let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        && !ct
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "body must be application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        let message = e.to_string();
        let field = backticked(&message).filter(|_| {
            message.starts_with("unknown field")
                || message.starts_with("missing field")
                || message.starts_with("duplicate field")
        });
        let err = ApiError::bad_request("invalid_json", format!("request body: {message}"));
        match field {
            Some(f) => err.with_field(f),
            None => err,
        }
    })
}

async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let input: CreateWebhook = parse_body(&headers, &body)?;
    let created = app.dispatch.create(input).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    account: Option<String>,
}

async fn list(
    State(app): State<App>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Response, ApiError> {
    let hooks = app.dispatch.list(q.account.as_deref()).await?;
    Ok(axum::Json(json!({ "webhooks": hooks, "limit_per_account": app.dispatch.config().max_webhooks_per_account })).into_response())
}

async fn events() -> Response {
    axum::Json(json!({ "events": valid_patterns() })).into_response()
}

async fn read(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(app.dispatch.get(&id).await?).into_response())
}

async fn update(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let input: UpdateWebhook = parse_body(&headers, &body)?;
    Ok(match app.dispatch.update(&id, input).await? {
        Updated::Changed { webhook, warnings } => {
            let mut v = serde_json::to_value(webhook).expect("view serialises");
            if !warnings.is_empty() {
                v["warnings"] = json!(warnings);
            }
            axum::Json(v).into_response()
        }
        Updated::Deleted => axum::Json(json!({ "id": id, "deleted": true })).into_response(),
    })
}

async fn remove(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    app.dispatch.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn rotate(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(app.dispatch.rotate_secret(&id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    before: Option<i64>,
    limit: Option<u32>,
    status: Option<String>,
}

async fn attempts(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Response, ApiError> {
    let list = app
        .dispatch
        .attempts(&id, None, q.before, q.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(json!({ "attempts": list })).into_response())
}

async fn messages(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Response, ApiError> {
    let list = app
        .dispatch
        .messages(&id, q.status.as_deref(), q.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(json!({ "messages": list })).into_response())
}

async fn message(
    State(app): State<App>,
    PathParams((id, msg)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    app.dispatch.get(&id).await?;
    Ok(axum::Json(app.dispatch.message(&id, &msg).await?).into_response())
}

async fn message_attempts(
    State(app): State<App>,
    PathParams((id, msg)): PathParams<(String, String)>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Response, ApiError> {
    let list = app
        .dispatch
        .attempts(&id, Some(&msg), q.before, q.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(json!({ "attempts": list })).into_response())
}

async fn resend(
    State(app): State<App>,
    PathParams((id, msg)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    let m = app.dispatch.resend(&id, &msg).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(m)).into_response())
}

/// `POST /api/v1/webhooks/{id}/recover`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverBody {
    /// RFC 3339 time or unix milliseconds.
    pub since: Option<Value>,
}

async fn recover(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let input: RecoverBody = parse_body(&headers, &body)?;
    let bad = || {
        ApiError::invalid(
            "since",
            "since: must be an RFC 3339 time or unix milliseconds",
        )
    };
    let since_ms = match input.since {
        None => return Err(ApiError::invalid("since", "since: is required")),
        Some(Value::Number(n)) => n.as_i64().filter(|v| *v >= 0).ok_or_else(bad)?,
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(&s)
            .map_err(|_| bad())?
            .timestamp_millis(),
        Some(_) => return Err(bad()),
    };
    let n = app.dispatch.recover(&id, since_ms).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(json!({ "requeued": n }))).into_response())
}
