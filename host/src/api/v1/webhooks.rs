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

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{BodyBytes, PathParams, QueryParams, backticked};
use crate::app::App;
use crate::dispatch::DispatchError;
use crate::dispatch::catalog::valid_patterns;
use crate::dispatch::service::{Updated, WebhookView, WithSecret};
use crate::dispatch::subscription::{CreateWebhook, UpdateWebhook};
use crate::store::{AttemptRecord, MessageRecord};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this file.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(events))
        .routes(routes!(read, update, remove))
        .routes(routes!(rotate))
        .routes(routes!(attempts))
        .routes(routes!(messages))
        .routes(routes!(message))
        .routes(routes!(message_attempts))
        .routes(routes!(resend))
        .routes(routes!(recover))
}

/// `GET /api/v1/webhooks`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// The webhooks, with status, last success and recent errors.
    pub webhooks: Vec<WebhookView>,
    /// How many webhooks one account may have.
    pub limit_per_account: u32,
}

/// `GET /api/v1/webhooks/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventNames {
    /// Every valid event name and pattern.
    pub events: Vec<String>,
}

/// A `PUT` that modified the webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedWebhook {
    /// The webhook after the change.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// Things worth knowing about the new URL.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A `PUT` with `"url": null`: the webhook is gone.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedWebhook {
    /// The webhook's id.
    pub id: String,
    /// Always `true`.
    pub deleted: bool,
}

/// What a `PUT` answers, by what it did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum UpdateReply {
    /// Modified.
    Changed(Box<ChangedWebhook>),
    /// Deleted (`"url": null`).
    Deleted(DeletedWebhook),
}

/// A page of the attempt log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptList {
    /// Newest first.
    pub attempts: Vec<AttemptRecord>,
}

/// Outbox messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    /// Newest first.
    pub messages: Vec<MessageRecord>,
}

/// `POST /api/v1/webhooks/{id}/recover`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requeued {
    /// Failed messages queued again.
    pub requeued: u64,
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

/// Creates a webhook; its signing secret is in this answer only.
#[utoipa::path(post, operation_id = "create_webhook", path = "/api/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created, with `secret` (shown once)", body = WithSecret,
            links(
            ("GetWebhook" = (operation_id = "get_webhook", parameters(("id" = "$response.body#/id")))),
            ("UpdateWebhook" = (operation_id = "update_webhook", parameters(("id" = "$response.body#/id")))),
            ("DeleteWebhook" = (operation_id = "delete_webhook", parameters(("id" = "$response.body#/id")))),
            ("RotateSecret" = (operation_id = "rotate_webhook_secret", parameters(("id" = "$response.body#/id")))),
            ("Attempts" = (operation_id = "list_webhook_attempts", parameters(("id" = "$response.body#/id")))),
            ("Messages" = (operation_id = "list_webhook_messages", parameters(("id" = "$response.body#/id")))),
            ("Recover" = (operation_id = "recover_webhook", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 400, description = "A field is missing or wrong (named in `field`)", body = ErrorBody),
        (status = 409, description = "The account has its maximum of webhooks", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody)))]
async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let input: CreateWebhook = parse_body(&headers, &body)?;
    let created = app.dispatch.create(input).await?;
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

/// Query of `GET /api/v1/webhooks`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this account's webhooks.
    account: Option<String>,
}

/// Every webhook, with status, last success and recent errors.
#[utoipa::path(get, operation_id = "list_webhooks", path = "/api/v1/webhooks", tag = "webhooks", params(ListQuery),
    responses(
        (status = 200, description = "The webhooks", body = WebhookList),
        (status = 400, description = "Unknown query parameter", body = ErrorBody)))]
async fn list(
    State(app): State<App>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Response, ApiError> {
    let hooks = app.dispatch.list(q.account.as_deref()).await?;
    Ok(axum::Json(WebhookList {
        webhooks: hooks,
        limit_per_account: app.dispatch.config().max_webhooks_per_account,
    })
    .into_response())
}

/// Every valid event name and pattern a webhook may subscribe to.
#[utoipa::path(get, operation_id = "list_webhook_events", path = "/api/v1/webhooks/events", tag = "webhooks",
    responses((status = 200, description = "Event names", body = EventNames)))]
async fn events() -> Response {
    axum::Json(EventNames {
        events: valid_patterns(),
    })
    .into_response()
}

/// One webhook.
#[utoipa::path(get, operation_id = "get_webhook", path = "/api/v1/webhooks/{id}", tag = "webhooks", params(WebhookId),
    responses(
        (status = 200, description = "The webhook", body = WebhookView),
        (status = 404, description = "No such webhook", body = ErrorBody)))]
async fn read(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(app.dispatch.get(&id).await?).into_response())
}

/// Modifies a webhook: absent fields stay; `"url": null` deletes it; `"status": "active"`
/// re-enables it.
#[utoipa::path(put, operation_id = "update_webhook", path = "/api/v1/webhooks/{id}", tag = "webhooks", params(WebhookId),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "Modified, or deleted", body = UpdateReply),
        (status = 400, description = "A field is wrong (named in `field`)", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody)))]
async fn update(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let input: UpdateWebhook = parse_body(&headers, &body)?;
    Ok(match app.dispatch.update(&id, input).await? {
        Updated::Changed { webhook, warnings } => {
            axum::Json(UpdateReply::Changed(Box::new(ChangedWebhook {
                webhook: *webhook,
                warnings,
            })))
            .into_response()
        }
        Updated::Deleted => {
            axum::Json(UpdateReply::Deleted(DeletedWebhook { id, deleted: true })).into_response()
        }
    })
}

/// Deletes a webhook and its outbox.
#[utoipa::path(delete, operation_id = "delete_webhook", path = "/api/v1/webhooks/{id}", tag = "webhooks", params(WebhookId),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook", body = ErrorBody)))]
async fn remove(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    app.dispatch.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A new signing secret; the previous one keeps signing beside it for 24 h.
#[utoipa::path(post, operation_id = "rotate_webhook_secret", path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(WebhookId),
    responses(
        (status = 200, description = "The webhook with its new `secret` (shown once)", body = WithSecret),
        (status = 404, description = "No such webhook", body = ErrorBody)))]
async fn rotate(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(app.dispatch.rotate_secret(&id).await?).into_response())
}

/// Paging of the attempt and message lists.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// Attempts with an id below this one (the previous page's last id).
    before: Option<i64>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
    /// Messages in this status only: `pending`, `delivered` or `failed`.
    status: Option<String>,
}

/// The webhook's path parameter.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct WebhookId {
    /// The webhook, `wh_...`.
    id: String,
}

/// The webhook and message path parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct MessageId {
    /// The webhook, `wh_...`.
    id: String,
    /// The message, `msg_...`.
    msg: String,
}

/// The webhook's attempt log, newest first.
#[utoipa::path(get, operation_id = "list_webhook_attempts", path = "/api/v1/webhooks/{id}/attempts", tag = "webhooks",
    params(WebhookId, PageQuery),
    responses(
        (status = 200, description = "Attempts", body = AttemptList),
        (status = 400, description = "A query parameter is wrong (named in `field`)", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody)))]
async fn attempts(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Response, ApiError> {
    let list = app
        .dispatch
        .attempts(&id, None, q.before, q.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(AttemptList { attempts: list }).into_response())
}

/// The webhook's outbox messages.
#[utoipa::path(get, operation_id = "list_webhook_messages", path = "/api/v1/webhooks/{id}/messages", tag = "webhooks",
    params(WebhookId, PageQuery),
    responses(
        (status = 200, description = "Messages", body = MessageList),
        (status = 400, description = "A query parameter is wrong (named in `field`)", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody)))]
async fn messages(
    State(app): State<App>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Response, ApiError> {
    let list = app
        .dispatch
        .messages(&id, q.status.as_deref(), q.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(MessageList { messages: list }).into_response())
}

/// One outbox message.
#[utoipa::path(get, operation_id = "get_webhook_message", path = "/api/v1/webhooks/{id}/messages/{msg}", tag = "webhooks",
    params(MessageId),
    responses(
        (status = 200, description = "The message", body = MessageRecord),
        (status = 404, description = "No such webhook or message", body = ErrorBody)))]
async fn message(
    State(app): State<App>,
    PathParams((id, msg)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    app.dispatch.get(&id).await?;
    Ok(axum::Json(app.dispatch.message(&id, &msg).await?).into_response())
}

/// One message's attempts, newest first.
#[utoipa::path(get, operation_id = "list_message_attempts", path = "/api/v1/webhooks/{id}/messages/{msg}/attempts", tag = "webhooks",
    params(MessageId, PageQuery),
    responses(
        (status = 200, description = "Attempts", body = AttemptList),
        (status = 400, description = "A query parameter is wrong (named in `field`)", body = ErrorBody),
        (status = 404, description = "No such webhook or message", body = ErrorBody)))]
async fn message_attempts(
    State(app): State<App>,
    PathParams((id, msg)): PathParams<(String, String)>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Response, ApiError> {
    let list = app
        .dispatch
        .attempts(&id, Some(&msg), q.before, q.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(AttemptList { attempts: list }).into_response())
}

/// Sends a message again now.
#[utoipa::path(post, operation_id = "resend_message", path = "/api/v1/webhooks/{id}/messages/{msg}/resend", tag = "webhooks",
    params(MessageId),
    responses(
        (status = 202, description = "Queued; the message as it is now", body = MessageRecord),
        (status = 404, description = "No such webhook or message", body = ErrorBody),
        (status = 409, description = "Payload purged, or a delivery in flight", body = ErrorBody)))]
async fn resend(
    State(app): State<App>,
    PathParams((id, msg)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    let m = app.dispatch.resend(&id, &msg).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(m)).into_response())
}

/// `POST /api/v1/webhooks/{id}/recover`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverBody {
    /// RFC 3339 time or unix milliseconds.
    #[schema(schema_with = since_schema, required = true)]
    pub since: Option<Value>,
}

/// `since`: an RFC 3339 time or non-negative unix milliseconds.
fn since_schema() -> OneOfBuilder {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String).format(Some(
            utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime),
        )))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
}

/// Queues again the messages that failed since a time.
#[utoipa::path(post, operation_id = "recover_webhook", path = "/api/v1/webhooks/{id}/recover", tag = "webhooks", params(WebhookId),
    request_body = RecoverBody,
    responses(
        (status = 202, description = "How many were queued again", body = Requeued),
        (status = 400, description = "`since` is missing or wrong", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody)))]
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
    Ok((StatusCode::ACCEPTED, axum::Json(Requeued { requeued: n })).into_response())
}
