//! `POST /webhooks/{source}` and `POST /webhooks/{source}/{account}`: the platforms' webhooks.
//!
//! Order of checks: endpoint exists (404) → body within the limit (413) → credentials (401)
//! → body parses (400) → stored (503 when the store is down). Only a committed event gets a
//! 2xx; a redelivery gets `{"status":"duplicate"}`.

use crate::api::auth::bearer;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{PathParams, body_error};
use crate::api::v1::hint_http::{ChoiceAck, ChoiceStatus, DeliveryAccepted, delivered, error};
use crate::app::{Accepted, App};
use crate::core::Source;
use crate::hints::HintsReply;
use crate::hints::{ChoiceQuery, HintQuery};
use crate::ingest::Event;
use crate::ingest::verify::{AuthError, Credentials};
use crate::ingest::{AccountLookupError, EventKind, ParseError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::OnceLock;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The webhook routes (authenticated by each source's own token or signature, not the admin key).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(default_account))
        .routes(routes!(named_account))
}

/// The acknowledgement of a platform event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventAck {
    /// `accepted`: stored now; `duplicate`: a redelivery of an event already stored;
    /// `ignored`: Chatwoot's echo of a private note hintd posted, not stored.
    pub status: AckStatus,
    /// The event's position in the event log (accepted events only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

/// Whether an event was new.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Stored now.
    Accepted,
    /// Stored before.
    Duplicate,
    /// hintd's own private note coming back: acknowledged, never stored.
    Ignored,
}

/// What a platform webhook answers with `200`: the acknowledgement, or for a hints request
/// the hints, or for a hint choice what it did. Each variant is the type the handler sends.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum WebhookReply {
    /// Any event but a hints request or a choice.
    Ack(EventAck),
    /// Chat2Desk `ai_hints_requested` (inline or both delivery).
    Hints(HintsReply),
    /// Chat2Desk `ai_hints_requested` with `hint_id`: the operator's choice.
    Choice(ChoiceAck),
}

/// A platform's webhook for its default account.
#[utoipa::path(post, operation_id = "receive_platform_event", path = "/webhooks/{source}", tag = "webhooks (platforms)",
    params(("source" = String, Path, description = "chat2desk, chatwoot or whazing"),
        ("token" = Option<String>, Query, description = "Chat2Desk and Whazing: the account's token")),
    request_body(content = Object, description = "The platform's own event payload"),
    responses(
        (status = 200, description = "Stored (or a redelivery), or the hints / choice reply", body = WebhookReply),
        (status = 202, description = "Hints go to the callback URL or into a private note", body = DeliveryAccepted),
        (status = 400, description = "The payload cannot be read (field named when known)", body = ErrorBody),
        (status = 401, description = "Missing or wrong token or signature", body = ErrorBody),
        (status = 404, description = "Unknown or disabled source, or unknown account", body = ErrorBody),
        (status = 413, description = "Body over `server.body_limit_bytes`", body = ErrorBody)))]
async fn default_account(
    State(app): State<App>,
    PathParams(source): PathParams<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    ingest(app, &source, None, query.as_deref(), &headers, body).await
}

/// A platform's webhook for one of its configured accounts.
#[utoipa::path(post, operation_id = "receive_account_event", path = "/webhooks/{source}/{account}", tag = "webhooks (platforms)",
    params(("source" = String, Path, description = "chat2desk, chatwoot or whazing"),
        ("account" = String, Path, description = "A configured account of the source"),
        ("token" = Option<String>, Query, description = "Chat2Desk and Whazing: the account's token")),
    request_body(content = Object, description = "The platform's own event payload"),
    responses(
        (status = 200, description = "Stored (or a redelivery), or the hints / choice reply", body = WebhookReply),
        (status = 202, description = "Hints go to the callback URL or into a private note", body = DeliveryAccepted),
        (status = 400, description = "The payload cannot be read (field named when known)", body = ErrorBody),
        (status = 401, description = "Missing or wrong token or signature", body = ErrorBody),
        (status = 404, description = "Unknown or disabled source, or unknown account", body = ErrorBody),
        (status = 413, description = "Body over `server.body_limit_bytes`", body = ErrorBody)))]
async fn named_account(
    State(app): State<App>,
    PathParams((source, account)): PathParams<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    ingest(
        app,
        &source,
        Some(&account),
        query.as_deref(),
        &headers,
        body,
    )
    .await
}

async fn ingest(
    app: App,
    source_name: &str,
    account: Option<&str>,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let source: Source = source_name
        .parse()
        .ok()
        .filter(|s| *s != Source::Api)
        .ok_or_else(|| ApiError::not_found("unknown_source", format!("no webhook endpoint for source `{source_name}`: expected chat2desk, chatwoot or whazing")))?;
    let settings = app
        .config
        .sources
        .account(source, account)
        .map_err(|e| match e {
            AccountLookupError::SourceDisabled(_) => {
                ApiError::not_found("source_disabled", e.to_string())
            }
            AccountLookupError::UnknownAccount { .. } => {
                ApiError::not_found("unknown_account", e.to_string())
            }
        })?;
    let body = body.map_err(|e| body_error(&e, app.config.server.body_limit_bytes))?;
    let token = query_token(query);
    let credentials = Credentials {
        query_token: token.as_deref(),
        bearer: bearer(headers),
        signature: header_str(headers, "x-chatwoot-signature"),
        timestamp: header_str(headers, "x-chatwoot-timestamp"),
    };
    let now_s = crate::core::now_ms() / 1000;
    crate::ingest::verify::verify(&settings, &credentials, &body, now_s).map_err(auth_error)?;
    let account = settings.account.to_string();
    let received_at_ms = crate::core::now_ms();
    let parsed = crate::ingest::parse(source, &account, &body, received_at_ms).map_err(|e| {
        metrics::counter!("hintd_ingest_rejected_total", "source" => source.as_str(), "reason" => "invalid").increment(1);
        parse_error(e)
    })?;
    let type_label = if parsed.known_type {
        parsed.event.meta.event_type.clone()
    } else {
        log_unknown_once(source, &parsed.event.meta.event_type);
        "unknown".to_string()
    };
    metrics::counter!("hintd_ingest_events_total", "source" => source.as_str(), "type" => type_label).increment(1);
    let mut event = parsed.event;
    // Chatwoot echoes every private note hintd posts: acknowledged, never stored, so it is no
    // context, no operator reply and no trigger of another note.
    if crate::hints::note::is_own_note(&event) {
        metrics::counter!("hintd_ingest_own_notes_ignored_total", "source" => source.as_str())
            .increment(1);
        let ack = EventAck {
            status: AckStatus::Ignored,
            seq: None,
        };
        return Ok((StatusCode::OK, Json(ack)).into_response());
    }
    app.resolve(&mut event).await?;
    let raw = body.to_vec();
    let (accepted, hint_response) = match &event.kind {
        // The hints do not depend on the request's own row, so they are computed while it
        // commits; the answer still waits for the commit (a failed one answers the error,
        // and the platform's retry replays the same hints).
        EventKind::HintsRequested { .. } => {
            let (accepted, response) =
                tokio::join!(app.accept(raw, &event), on_hint_event(&app, &event));
            (accepted?, response)
        }
        EventKind::HintChosen { .. } => {
            // A choice of nothing served is refused before anything is stored.
            if let Some(refusal) = refuse_unknown_choice(&app, &event).await {
                return Ok(refusal);
            }
            let accepted = app.accept(raw, &event).await?;
            // A redelivered choice is not learnt twice.
            let response = match accepted {
                Accepted::Duplicate => None,
                Accepted::Stored { .. } => on_hint_event(&app, &event).await,
            };
            (accepted, response)
        }
        _ => (app.accept(raw, &event).await?, None),
    };
    if let Some(response) = hint_response {
        return Ok(response);
    }
    let ack = match accepted {
        Accepted::Stored { seq } => EventAck {
            status: AckStatus::Accepted,
            seq: Some(seq),
        },
        Accepted::Duplicate => {
            metrics::counter!("hintd_ingest_duplicates_total", "source" => source.as_str())
                .increment(1);
            EventAck {
                status: AckStatus::Duplicate,
                seq: None,
            }
        }
    };
    Ok((StatusCode::OK, Json(ack)).into_response())
}

/// `token` from the query string, form-decoded (`%XX` escapes and `+`; invalid escapes are
/// kept as written).
pub fn query_token(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn auth_error(e: AuthError) -> ApiError {
    metrics::counter!("hintd_ingest_rejected_total", "reason" => "unauthorized").increment(1);
    let error = ApiError::unauthorized(e.to_string());
    match e.field() {
        Some(f) => error.with_field(f),
        None => error,
    }
}

fn parse_error(e: ParseError) -> ApiError {
    match e.field_name() {
        Some(field) => ApiError::invalid(field.to_string(), e.to_string()),
        None => ApiError::bad_request("invalid_body", e.to_string()),
    }
}

/// Logs an unknown event type the first time it is seen (up to a bound, so a hostile sender
/// cannot grow the set without limit).
fn log_unknown_once(source: Source, event_type: &str) {
    const MAX_REMEMBERED: usize = 1024;
    static SEEN: OnceLock<Mutex<HashSet<(Source, String)>>> = OnceLock::new();
    let mut seen = SEEN.get_or_init(Default::default).lock();
    if seen.len() < MAX_REMEMBERED && seen.insert((source, event_type.to_string())) {
        tracing::info!(
            source = source.as_str(),
            event_type,
            "unknown event type accepted and stored raw"
        );
    }
}

/// The HTTP response to an ingested hint event (`HintsRequested` / `HintChosen`), or `None`
/// when the event is not one (the ingest endpoint then answers with its usual acknowledgement).
async fn on_hint_event(app: &App, event: &Event) -> Option<Response> {
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
    match HintQuery::from_event(event, request_id, message_id) {
        Ok(query) => delivered(app, query).await,
        Err(e) => error(&e),
    }
}

/// Refuses a Chat2Desk choice (`ai_hints_requested` with `hint_id`) that names no served
/// answer or hint, before the webhook is stored; `None` when it may be stored and learnt.
async fn refuse_unknown_choice(app: &App, event: &Event) -> Option<Response> {
    let EventKind::HintChosen {
        message_id,
        hint_id,
    } = &event.kind
    else {
        return None;
    };
    let query = match ChoiceQuery::from_event(event, message_id, *hint_id) {
        Ok(q) => q,
        Err(e) => return Some(error(&e)),
    };
    app.hints
        .check_choice(&query)
        .await
        .err()
        .map(|e| error(&e))
}

async fn hint_chosen(app: &App, event: &Event, message_id: &str, hint_id: i64) -> Response {
    let query = match ChoiceQuery::from_event(event, message_id, hint_id) {
        Ok(q) => q,
        Err(e) => return error(&e),
    };
    match app.hints.choose(query).await {
        Ok(outcome) => Json(ChoiceAck {
            status: if outcome.recorded {
                ChoiceStatus::Ok
            } else {
                ChoiceStatus::Duplicate
            },
            choice: outcome,
        })
        .into_response(),
        Err(e) => error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_query_strings() {
        assert_eq!(query_token(Some("a=1&token=abc")).as_deref(), Some("abc"));
        assert_eq!(
            query_token(Some("token=a%2Bb%3D+c")).as_deref(),
            Some("a+b= c")
        );
        assert_eq!(query_token(Some("token=%zz%4")).as_deref(), Some("%zz%4"));
        assert_eq!(query_token(Some("other=1")), None);
        assert_eq!(query_token(None), None);
    }
}
