//! `GET /api/v1/conversations/{source}/{account}/{dialog_id}`: a dialog's normalised context.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::PathParams;
use crate::app::App;
use crate::context::Conversation;
use crate::core::{DialogKey, Source};
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The conversation routes (admin key).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(show))
}

/// A dialog: its key, its stored row, its messages and the context plugins get.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView {
    /// The platform.
    pub source: Source,
    /// The account within the platform.
    pub account: String,
    /// The platform's dialog id.
    pub dialog_id: String,
    /// Row, messages and context.
    #[serde(flatten)]
    pub conversation: Conversation,
}

/// The dialog row, its newest messages (private notes included and flagged) and the context
/// plugins would receive.
#[utoipa::path(get, operation_id = "get_conversation", path = "/api/v1/conversations/{source}/{account}/{dialog_id}",
    tag = "conversations",
    params(
        ("source" = String, Path, description = "chat2desk, chatwoot, whazing or api"),
        ("account" = String, Path, description = "The account within the platform"),
        ("dialog_id" = String, Path, description = "The platform's dialog id")),
    responses(
        (status = 200, description = "The dialog", body = ConversationView),
        (status = 400, description = "An id breaks the id rule", body = ErrorBody),
        (status = 404, description = "Unknown source or dialog", body = ErrorBody)))]
async fn show(
    State(app): State<App>,
    PathParams((source, account, dialog_id)): PathParams<(String, String, String)>,
) -> Result<Json<ConversationView>, ApiError> {
    let source = parse_source(&source)?;
    check_path_id("account", &account)?;
    check_path_id("dialog_id", &dialog_id)?;
    let key = DialogKey::new(source, account, dialog_id);
    let conversation = app
        .context
        .conversation(&key)
        .await?
        .ok_or_else(|| ApiError::not_found("dialog_not_found", format!("no dialog {key}")))?;
    Ok(Json(ConversationView {
        source: key.source,
        account: key.account,
        dialog_id: key.dialog_id,
        conversation,
    }))
}

/// An id from a path segment, held to the rule of every id (400 naming it otherwise).
pub(crate) fn check_path_id(field: &'static str, id: &str) -> Result<(), ApiError> {
    crate::ingest::check_id(id).map_err(|e| ApiError::invalid(field, format!("{field} {e}")))
}

/// A platform name from a path segment (404 otherwise).
pub(crate) fn parse_source(name: &str) -> Result<Source, ApiError> {
    name.parse::<Source>()
        .map_err(|e| ApiError::not_found("unknown_source", e.to_string()).with_field("source"))
}
