//! `DELETE /api/v1/clients/{source}/{account}/{client_id}`: erase a client everywhere
//! (their dialogs and messages in the store and in memory, and their raw events' payloads).

use super::conversations::{check_path_id, parse_source};
use crate::api::error::ApiError;
use crate::api::extract::PathParams;
use crate::app::App;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::delete;
use serde_json::json;

/// The client routes (admin key).
pub fn routes() -> Router<App> {
    Router::new().route(
        "/api/v1/clients/{source}/{account}/{client_id}",
        delete(erase),
    )
}

/// Erases and reports what was erased. Erasing an unknown client succeeds with zero counts,
/// so a retried request is harmless.
async fn erase(
    State(app): State<App>,
    PathParams((source, account, client_id)): PathParams<(String, String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let source = parse_source(&source)?;
    check_path_id("account", &account)?;
    check_path_id("client_id", &client_id)?;
    let erasure = app
        .context
        .erase_client(source, &account, &client_id)
        .await?;
    tracing::info!(
        source = source.as_str(),
        account,
        dialogs = erasure.dialog_ids.len(),
        "client erased"
    );
    Ok(Json(json!({
        "status": "erased",
        "dialogs": erasure.dialog_ids,
        "messages": erasure.messages,
        "events": erasure.events,
    })))
}
