//! Prompter mode for platforms without a hints webhook: `POST /api/v1/hints` (the reply
//! Chat2Desk's `ai_hints_requested` gets), `POST /api/v1/hints/choice` (the operator's choice)
//! and `GET /api/v1/hints/stats` (acceptance).

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{BodyBytes, QueryParams};
use crate::api::v1::fields::{
    bad, id_field, id_schema, json_object, max_hints_field, source_field,
};
use crate::api::v1::hint_http::{DeliveryAccepted, StatsQuery, delivered, error, hint_stats};
use crate::app::App;
use crate::core::{DialogKey, Source};
use crate::hints::{ChoiceOutcome, ChoiceQuery, HintQuery, HintsReply};
use crate::ingest::AccountLookupError;
use crate::store::HintStats;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this file (`/api/v1/*`: the router's admin-key layer guards them).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(post_hints))
        .routes(routes!(post_choice))
        .routes(routes!(get_stats))
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

/// `hint_id`: an integer, or a string of one ([`choice_body`]).
fn hint_id_schema() -> OneOfBuilder {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Integer))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^\\s*[+-]?[0-9]+\\s*$")),
        )
}

/// `POST /api/v1/hints`. Fields are read as JSON values and checked one by one
/// ([`hints_body`]), so that a wrong type is refused naming its field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HintsRequest {
    /// `chat2desk`, `chatwoot`, `whazing` or `api`.
    #[schema(value_type = Source, required = true)]
    pub source: Option<Value>,
    /// The account (default: `default`).
    #[schema(schema_with = id_schema)]
    pub account: Option<Value>,
    /// The dialog.
    #[schema(schema_with = id_schema, required = true)]
    pub dialog_id: Option<Value>,
    /// Idempotency key: a repeated request replays the same answer.
    #[schema(schema_with = id_schema)]
    pub request_id: Option<Value>,
    /// The client message the hints answer (default: the dialog's latest).
    #[schema(schema_with = id_schema)]
    pub message_id: Option<Value>,
    /// The client.
    #[schema(schema_with = id_schema)]
    pub client_id: Option<Value>,
    /// The operator.
    #[schema(schema_with = id_schema)]
    pub operator_id: Option<Value>,
    /// The platform channel.
    #[schema(schema_with = id_schema)]
    pub channel_id: Option<Value>,
    /// The messenger transport.
    #[schema(schema_with = id_schema)]
    pub transport: Option<Value>,
    /// The integration key.
    #[schema(schema_with = id_schema)]
    pub external_key: Option<Value>,
    /// At most this many hints, 1..=20.
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 20)]
    pub max_hints: Option<Value>,
}

/// `POST /api/v1/hints/choice`, read like [`HintsRequest`].
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct HintChoice {
    /// `chat2desk`, `chatwoot`, `whazing` or `api`.
    #[schema(value_type = Source, required = true)]
    pub source: Option<Value>,
    /// The account (default: `default`).
    #[schema(schema_with = id_schema)]
    pub account: Option<Value>,
    /// The message the hints were served for.
    #[schema(schema_with = id_schema, required = true)]
    pub message_id: Option<Value>,
    /// The client, when the platform says.
    #[schema(schema_with = id_schema)]
    pub client_id: Option<Value>,
    /// The chosen hint's answer-local id: an integer, or its decimal digits as a string.
    #[schema(schema_with = hint_id_schema, required = true)]
    pub hint_id: Option<Value>,
}

/// `POST /api/v1/hints` {source, account?, dialog_id, request_id?, message_id?, client_id?,
/// operator_id?, channel_id?, transport?, external_key?, max_hints?} → the Chat2Desk reply, or
/// `202` when the account's `delivery` sends the hints elsewhere (callback, private note).
/// An unconfigured source or account, or an unknown dialog, is 404 naming which.
#[utoipa::path(post, operation_id = "request_hints", path = "/api/v1/hints", tag = "hints", request_body = HintsRequest,
    responses(
        (status = 200, description = "Ranked hints (replays of a `request_id` are byte-identical, \
            with `x-hintd-replayed: true`)", body = HintsReply),
        (status = 202, description = "The account's `delivery` sends the hints to its callback URL \
            or as a Chatwoot private note", body = DeliveryAccepted),
        (status = 400, description = "A field is missing or wrong (named in `field`)", body = ErrorBody),
        (status = 404, description = "Unconfigured source or account, or unknown dialog", body = ErrorBody)))]
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
    let body: HintsRequest = serde_json::from_value(json_object(body)?).map_err(|e| {
        // Every field is a JSON value: an unknown field is the only way to fail here.
        bad("body", format!("{e}"))
    })?;
    let (source, account) = source_field(body.source.as_ref(), body.account.as_ref())?;
    let dialog_id = id_field(body.dialog_id.as_ref(), "dialog_id", true)?.unwrap_or_default();
    let max_hints = max_hints_field(body.max_hints)?;
    Ok(HintQuery {
        dialog: Some(DialogKey::new(source, account, dialog_id)),
        request_id: id_field(body.request_id.as_ref(), "request_id", false)?,
        message_id: id_field(body.message_id.as_ref(), "message_id", false)?,
        client_id: id_field(body.client_id.as_ref(), "client_id", false)?,
        operator_id: id_field(body.operator_id.as_ref(), "operator_id", false)?,
        channel_id: id_field(body.channel_id.as_ref(), "channel_id", false)?,
        transport: id_field(body.transport.as_ref(), "transport", false)?,
        external_key: id_field(body.external_key.as_ref(), "external_key", false)?,
        max_hints,
    })
}

/// `POST /api/v1/hints/choice` {source, account?, message_id, client_id?, hint_id}. An
/// unconfigured source or account is 404 naming which; a message no hints were served for
/// is 404 naming `message_id`.
#[utoipa::path(post, operation_id = "record_choice", path = "/api/v1/hints/choice", tag = "hints", request_body = HintChoice,
    responses(
        (status = 200, description = "What the choice did", body = ChoiceOutcome),
        (status = 400, description = "A field is missing or wrong (named in `field`)", body = ErrorBody),
        (status = 404, description = "Unconfigured source or account, or no answer for \
            `message_id`, or no such `hint_id`", body = ErrorBody)))]
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
    let body: HintChoice = serde_json::from_value(json_object(body)?)
        .map_err(|e| ApiError::internal(format!("choice body: {e}")))?;
    let (source, account) = source_field(body.source.as_ref(), body.account.as_ref())?;
    let hint_id = match &body.hint_id {
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
        message_id: id_field(body.message_id.as_ref(), "message_id", true)?.unwrap_or_default(),
        client_id: id_field(body.client_id.as_ref(), "client_id", false)?,
        hint_id,
        edited_text: None,
    })
}

/// `GET /api/v1/hints/stats[?source=&account=&since_ms=]`: acceptance per plugin and overall.
#[utoipa::path(get, operation_id = "get_hint_stats", path = "/api/v1/hints/stats", tag = "hints", params(StatsQuery),
    responses(
        (status = 200, description = "Acceptance per plugin and overall", body = HintStats),
        (status = 400, description = "A query parameter is wrong (named in `field`)", body = ErrorBody)))]
async fn get_stats(State(app): State<App>, QueryParams(q): QueryParams<StatsQuery>) -> Response {
    match hint_stats(&app, q).await {
        Ok(stats) => Json(stats).into_response(),
        Err(e) => e.into_response(),
    }
}
