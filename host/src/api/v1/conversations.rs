//! `GET /api/v1/conversations/{source}/{account}/{dialog_id}`: a dialog's normalised context.

use crate::api::error::ApiError;
use crate::api::extract::PathParams;
use crate::app::App;
use crate::core::{DialogKey, Source};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::json;

/// The conversation routes (admin key).
pub fn routes() -> Router<App> {
    Router::new().route(
        "/api/v1/conversations/{source}/{account}/{dialog_id}",
        get(show),
    )
}

/// The dialog row, its newest messages (private notes included and flagged) and the context
/// plugins would receive.
async fn show(
    State(app): State<App>,
    PathParams((source, account, dialog_id)): PathParams<(String, String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let source = parse_source(&source)?;
    check_path_id("account", &account)?;
    check_path_id("dialog_id", &dialog_id)?;
    let key = DialogKey::new(source, account, dialog_id);
    let conversation = app
        .context
        .conversation(&key)
        .await?
        .ok_or_else(|| ApiError::not_found("dialog_not_found", format!("no dialog {key}")))?;
    Ok(Json(json!({
        "source": key.source,
        "account": key.account,
        "dialog_id": key.dialog_id,
        "dialog": conversation.dialog,
        "messages": conversation.messages,
        "context": conversation.context,
    })))
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
