//! `POST /api/v1/playground`: a dialogue given inline run through the plugins and the merge,
//! every step reported, nothing stored (the console's Playground page).

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::BodyBytes;
use crate::api::v1::fields::{
    api_error, bad, id_schema, json_object, max_hints_field, source_field,
};
use crate::app::App;
use crate::core::{Message, Source};
use crate::hints::{MAX_PLAYGROUND_MESSAGES, Playground, PlaygroundQuery};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this file (`/api/v1/*`: the router's admin-key layer guards them).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(post_playground))
}

/// `POST /api/v1/playground`: the message shape of `POST /api/v1/hints`' dialogs, each field
/// read on its own so that a wrong one is named.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaygroundRequest {
    /// `chat2desk`, `chatwoot`, `whazing` or `api`: whose rules the plugins see.
    #[schema(value_type = Source, required = true)]
    pub source: Option<Value>,
    /// The account (default: `default`).
    #[schema(schema_with = id_schema)]
    pub account: Option<Value>,
    /// The dialogue, oldest first (1–200 messages).
    #[schema(value_type = Vec<Message>, required = true, min_items = 1, max_items = 200)]
    pub context: Option<Value>,
    /// At most this many hints in the merged answer, 1..=20.
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 20)]
    pub max_hints: Option<Value>,
    /// Only these plugins, by name (default: every enabled plugin).
    #[schema(value_type = Option<Vec<String>>)]
    pub plugins: Option<Value>,
}

/// Runs a dialogue through the chosen plugins and the merge as a hints request would, and
/// answers each plugin's own hints and outcome, the merged answer and every merge decision.
/// Nothing is stored: no answer, no conversation, no event, no feedback.
#[utoipa::path(post, operation_id = "run_playground", path = "/api/v1/playground", tag = "hints", request_body = PlaygroundRequest,
    responses(
        (status = 200, description = "Each plugin's hints, the merged answer and the merge decisions", body = Playground),
        (status = 400, description = "A field is missing or wrong (named in `field`)", body = ErrorBody)))]
async fn post_playground(
    State(app): State<App>,
    BodyBytes(body): BodyBytes,
) -> Result<Json<Playground>, ApiError> {
    let query = playground_body(&body)?;
    let result = app.hints.playground(query).await;
    Ok(Json(result.map_err(|e| api_error(&e))?))
}

/// Reads a `POST /api/v1/playground` body, naming the field at fault.
pub fn playground_body(body: &[u8]) -> Result<PlaygroundQuery, ApiError> {
    let body: PlaygroundRequest =
        serde_json::from_value(json_object(body)?).map_err(|e| bad("body", format!("{e}")))?;
    let (source, account) = source_field(body.source.as_ref(), body.account.as_ref())?;
    let context = match body.context {
        None | Some(Value::Null) => return Err(bad("context", "is required")),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(bad("context", "must hold at least one message"));
        }
        Some(Value::Array(items)) if items.len() > MAX_PLAYGROUND_MESSAGES => {
            return Err(bad(
                "context",
                format!("holds more than {MAX_PLAYGROUND_MESSAGES} messages"),
            ));
        }
        Some(v @ Value::Array(_)) => serde_json::from_value::<Vec<Message>>(v)
            .map_err(|e| bad("context", format!("is not a list of messages: {e}")))?,
        Some(_) => return Err(bad("context", "must be a list of messages")),
    };
    let max_hints = max_hints_field(body.max_hints)?;
    let plugins = match body.plugins {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<Vec<String>>(v)
                .map_err(|_| bad("plugins", "must be a list of plugin names"))?,
        ),
    };
    Ok(PlaygroundQuery {
        source,
        account,
        context,
        max_hints,
        plugins,
    })
}
