//! Prompter mode over HTTP: the reply to Chat2Desk's `ai_hints_requested` (both forms), and
//! the generic API for platforms without a hints webhook:
//! `POST /api/v1/hints` (same reply shape), `POST /api/v1/hints/choice` (the operator's
//! choice) and `GET /api/v1/hints/stats` (acceptance).

use crate::api::error::ApiError;
use crate::api::extract::{BodyBytes, QueryParams};
use crate::app::App;
use crate::core::{DialogKey, Source};
use crate::hints::{ChoiceQuery, Delivered, HintQuery, HintsError, Served};
use crate::ingest::{AccountLookupError, Event, EventKind};
use crate::store::StatsFilter;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// The routes of this file (`/api/v1/*`: the router's admin-key layer guards them).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/hints", post(post_hints))
        .route("/api/v1/hints/choice", post(post_choice))
        .route("/api/v1/hints/stats", get(get_stats))
}

/// The HTTP response to an ingested hint event (`HintsRequested` / `HintChosen`), or `None`
/// when the event is not one (the ingest endpoint then answers with its usual acknowledgement).
pub async fn on_hint_event(app: &App, event: &Event) -> Option<Response> {
    match &event.kind {
        EventKind::HintsRequested {
            request_id,
            message_id,
        } => Some(hints_requested(app, event, request_id, message_id).await),
        EventKind::HintChosen {
            message_id,
            hint_id,
        } => Some(hint_chosen(app, event, message_id, *hint_id).await),
        _ => None,
    }
}

async fn hints_requested(app: &App, event: &Event, request_id: &str, message_id: &str) -> Response {
    let meta = &event.meta;
    let Some(dialog) = meta.dialog_key() else {
        return error(&HintsError::InvalidRequest {
            field: "dialog_id",
            reason: "is required".into(),
        });
    };
    let query = HintQuery {
        dialog: Some(dialog),
        request_id: Some(request_id.to_string()).filter(|r| !r.is_empty()),
        message_id: Some(message_id.to_string()).filter(|m| !m.is_empty()),
        client_id: meta.client_id.clone(),
        operator_id: meta.operator_id.clone(),
        channel_id: meta.channel_id.clone(),
        transport: meta.transport.clone(),
        external_key: meta.external_key.clone(),
        max_hints: None,
    };
    delivered(app, query).await
}

/// Serves a hints request the way its source and account are configured to receive hints
/// (the decision is the hint service's): the answer, or `202` when it goes out in the
/// background (callback, private note).
async fn delivered(app: &App, query: HintQuery) -> Response {
    match app.hints.deliver(query, &app.config.sources).await {
        Ok(Delivered::Inline(served)) => reply(&served),
        Ok(Delivered::Accepted(delivery)) => (
            StatusCode::ACCEPTED,
            Json(json!({"status": "accepted", "delivery": delivery.as_str()})),
        )
            .into_response(),
        Err(e) => error(&e),
    }
}

/// Refuses a Chat2Desk choice (`ai_hints_requested` with `hint_id`) that names no served
/// answer or hint, before the webhook is stored; `None` when it may be stored and learnt.
pub async fn refuse_unknown_choice(app: &App, event: &Event) -> Option<Response> {
    let EventKind::HintChosen {
        message_id,
        hint_id,
    } = &event.kind
    else {
        return None;
    };
    let query = match choice_query(event, message_id, *hint_id) {
        Ok(q) => q,
        Err(e) => return Some(error(&e)),
    };
    app.hints
        .check_choice(&query)
        .await
        .err()
        .map(|e| error(&e))
}

fn choice_query(event: &Event, message_id: &str, hint_id: i64) -> Result<ChoiceQuery, HintsError> {
    let meta = &event.meta;
    let Some(source) = meta.source else {
        return Err(HintsError::InvalidRequest {
            field: "source",
            reason: "unknown".into(),
        });
    };
    Ok(ChoiceQuery {
        source,
        account: meta.account.clone(),
        message_id: message_id.to_string(),
        client_id: meta.client_id.clone(),
        hint_id,
        edited_text: None,
    })
}

async fn hint_chosen(app: &App, event: &Event, message_id: &str, hint_id: i64) -> Response {
    let query = match choice_query(event, message_id, hint_id) {
        Ok(q) => q,
        Err(e) => return error(&e),
    };
    match app.hints.choose(query).await {
        Ok(outcome) => Json(
            json!({"status": if outcome.recorded { "ok" } else { "duplicate" }, "choice": outcome}),
        )
        .into_response(),
        Err(e) => error(&e),
    }
}

/// The answer body exactly as served (also for replays: byte-identical).
fn reply(served: &Served) -> Response {
    let mut response = served.answer.body.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if served.replayed {
        response
            .headers_mut()
            .insert("x-hintd-replayed", HeaderValue::from_static("true"));
    }
    // The plugins' share of the request time, so clients (and the benchmark) can tell the
    // host's overhead apart.
    let timing = format!(
        "plugins;dur={:.3}",
        served.plugins_elapsed.as_secs_f64() * 1000.0
    );
    if let Ok(v) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", v);
    }
    response
}

/// The API's JSON error (`{"error": {"code", "message", "field"}}`) for a pipeline error.
fn error(e: &HintsError) -> Response {
    let (status, code, field) = match e {
        HintsError::InvalidRequest { field, reason } => {
            return ApiError::invalid(*field, format!("{field} {reason}")).into_response();
        }
        HintsError::UnknownAnswer { .. } => {
            (StatusCode::NOT_FOUND, "unknown_message", Some("message_id"))
        }
        HintsError::UnknownHint { .. } => (StatusCode::NOT_FOUND, "unknown_hint", Some("hint_id")),
        HintsError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None),
        // Internal details go to the log, not to the caller.
        HintsError::Internal(detail) => return ApiError::internal(detail).into_response(),
    };
    let mut api = ApiError::new(status, code, e.to_string());
    if let Some(field) = field {
        api = api.with_field(field);
    }
    api.into_response()
}

fn bad(field: &'static str, reason: impl Into<String>) -> ApiError {
    ApiError::invalid(field, format!("{field} {}", reason.into()))
}

/// An id given as a JSON string or integer.
fn id_field(body: &Value, field: &'static str, required: bool) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) if required => Err(bad(field, "is required")),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() && required => {
            Err(bad(field, "must not be empty"))
        }
        Some(Value::String(s)) => checked(field, s.trim()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(_) => Err(bad(field, "must be a string or an integer")),
    }
}

/// A non-empty id held to the rule of every id ([`crate::ingest::check_id`]).
fn checked(field: &'static str, id: &str) -> Result<Option<String>, ApiError> {
    if id.is_empty() {
        return Ok(None);
    }
    crate::ingest::check_id(id).map_err(|e| bad(field, e.to_string()))?;
    Ok(Some(id.to_string()))
}

/// Refuses a source or account that is not configured (404 naming which), so that no state
/// is kept for it.
fn configured(app: &App, source: Source, account: &str) -> Result<(), ApiError> {
    if source == Source::Api {
        return Err(ApiError::not_found(
            "not_found",
            "source `api` has no dialogs: name the platform the dialog came from",
        )
        .with_field("source"));
    }
    match app.config.sources.account(source, Some(account)) {
        Ok(_) => Ok(()),
        Err(e @ AccountLookupError::SourceDisabled(_)) => {
            Err(ApiError::not_found("not_found", e.to_string()).with_field("source"))
        }
        Err(e @ AccountLookupError::UnknownAccount { .. }) => {
            Err(ApiError::not_found("not_found", e.to_string()).with_field("account"))
        }
    }
}

/// Refuses a dialog of an unconfigured source or account, or one hintd has never heard of
/// (404 naming which). A dialog with a client message is found in memory; only others are
/// looked up in the store.
async fn known_dialog(app: &App, dialog: &DialogKey) -> Result<(), ApiError> {
    configured(app, dialog.source, &dialog.account)?;
    if app.context.latest_client_message(dialog).await?.is_some()
        || app.context.conversation(dialog).await?.is_some()
    {
        return Ok(());
    }
    Err(ApiError::not_found("not_found", format!("no dialog {dialog}")).with_field("dialog_id"))
}

fn source_field(body: &Value) -> Result<(Source, String), ApiError> {
    let source = match body.get("source") {
        Some(Value::String(s)) => s
            .parse::<Source>()
            .map_err(|e| bad("source", e.to_string()))?,
        None | Some(Value::Null) => {
            return Err(bad(
                "source",
                "is required (chat2desk, chatwoot, whazing or api)",
            ));
        }
        Some(_) => return Err(bad("source", "must be a string")),
    };
    let account = id_field(body, "account", false)?
        .unwrap_or_else(|| crate::ingest::DEFAULT_ACCOUNT.to_string());
    Ok((source, account))
}

fn json_object(body: &[u8]) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(bad("body", "must be a JSON object")),
        Err(e) => Err(bad("body", format!("is not valid JSON: {e}"))),
    }
}

const HINT_FIELDS: &[&str] = &[
    "source",
    "account",
    "dialog_id",
    "request_id",
    "message_id",
    "client_id",
    "operator_id",
    "channel_id",
    "transport",
    "external_key",
    "max_hints",
];

/// `POST /api/v1/hints` {source, account?, dialog_id, request_id?, message_id?, client_id?,
/// operator_id?, channel_id?, transport?, external_key?, max_hints?} → the Chat2Desk reply, or
/// `202` when the account's `delivery` sends the hints elsewhere (callback, private note).
/// An unconfigured source or account, or an unknown dialog, is 404 naming which.
async fn post_hints(State(app): State<App>, BodyBytes(body): BodyBytes) -> Response {
    let query = match hints_body(&body) {
        Ok(query) => query,
        Err(e) => return e.into_response(),
    };
    if let Some(dialog) = &query.dialog
        && let Err(e) = known_dialog(&app, dialog).await
    {
        return e.into_response();
    }
    delivered(&app, query).await
}

/// Reads a `POST /api/v1/hints` body, naming the field at fault.
pub fn hints_body(body: &[u8]) -> Result<HintQuery, ApiError> {
    let body = json_object(body)?;
    if let Some(unknown) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| !HINT_FIELDS.contains(&k.as_str())))
    {
        return Err(bad(
            "body",
            format!(
                "unknown field `{unknown}`; expected {}",
                HINT_FIELDS.join(", ")
            ),
        ));
    }
    let (source, account) = source_field(&body)?;
    let dialog_id = id_field(&body, "dialog_id", true)?.unwrap_or_default();
    let max_hints = match body.get("max_hints") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| (1..=20).contains(n))
                .ok_or_else(|| bad("max_hints", "must be an integer in 1..=20"))?
                as u32,
        ),
    };
    Ok(HintQuery {
        dialog: Some(DialogKey::new(source, account, dialog_id)),
        request_id: id_field(&body, "request_id", false)?,
        message_id: id_field(&body, "message_id", false)?,
        client_id: id_field(&body, "client_id", false)?,
        operator_id: id_field(&body, "operator_id", false)?,
        channel_id: id_field(&body, "channel_id", false)?,
        transport: id_field(&body, "transport", false)?,
        external_key: id_field(&body, "external_key", false)?,
        max_hints,
    })
}

/// `POST /api/v1/hints/choice` {source, account?, message_id, client_id?, hint_id}. An
/// unconfigured source or account is 404 naming which; a message no hints were served for
/// is 404 naming `message_id`.
async fn post_choice(State(app): State<App>, BodyBytes(body): BodyBytes) -> Response {
    let query =
        match choice_body(&body).and_then(|q| configured(&app, q.source, &q.account).map(|()| q)) {
            Ok(query) => query,
            Err(e) => return e.into_response(),
        };
    match app.hints.choose(query).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(e) => error(&e),
    }
}

/// Reads a `POST /api/v1/hints/choice` body, naming the field at fault.
pub fn choice_body(body: &[u8]) -> Result<ChoiceQuery, ApiError> {
    let body = json_object(body)?;
    let (source, account) = source_field(&body)?;
    let hint_id = match body.get("hint_id") {
        Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| bad("hint_id", "must be an integer"))?,
        None | Some(Value::Null) => return Err(bad("hint_id", "is required")),
        Some(_) => return Err(bad("hint_id", "must be an integer")),
    };
    Ok(ChoiceQuery {
        source,
        account,
        message_id: id_field(&body, "message_id", true)?.unwrap_or_default(),
        client_id: id_field(&body, "client_id", false)?,
        hint_id,
        edited_text: None,
    })
}

/// Query of `GET /api/v1/hints/stats`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    source: Option<String>,
    account: Option<String>,
    since_ms: Option<i64>,
}

/// `GET /api/v1/hints/stats[?source=&account=&since_ms=]`: acceptance per plugin and overall.
async fn get_stats(State(app): State<App>, QueryParams(q): QueryParams<StatsQuery>) -> Response {
    if let Some(s) = &q.source
        && let Err(e) = s.parse::<Source>()
    {
        return bad("source", e.to_string()).into_response();
    }
    let filter = StatsFilter {
        source: q.source,
        account: q.account,
        since_ms: q.since_ms,
    };
    match app.hints.stats(&filter).await {
        Ok(stats) => Json(stats).into_response(),
        Err(e) => error(&e),
    }
}
