//! `DELETE /api/v1/clients/{source}/{account}/{client_id}`: erase a client everywhere
//! (their dialogs and messages in the store and in memory, and their raw events' payloads).

use super::conversations::{check_path_id, parse_source};
use crate::api::error::ApiError;
use crate::api::extract::PathParams;
use crate::app::App;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The client routes (admin key).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(erase))
}

/// What an erasure removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Erased {
    /// Always `erased`.
    pub status: ErasedStatus,
    /// The client's dialogs (their rows and messages are deleted).
    pub dialogs: Vec<String>,
    /// Messages deleted.
    pub messages: u64,
    /// Raw events whose payload was replaced by `{"erased":true}`.
    pub events: u64,
}

/// The one status of an erasure.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErasedStatus {
    /// Done (also when there was nothing to erase).
    Erased,
}

/// Erases and reports what was erased. Erasing an unknown client succeeds with zero counts,
/// so a retried request is harmless.
#[utoipa::path(delete, operation_id = "erase_client", path = "/api/v1/clients/{source}/{account}/{client_id}", tag = "conversations",
    params(
        ("source" = String, Path, description = "chat2desk, chatwoot, whazing or api"),
        ("account" = String, Path, description = "The account within the platform"),
        ("client_id" = String, Path, description = "The platform's client id")),
    responses(
        (status = 200, description = "Erased (zero counts for an unknown client)", body = Erased),
        (status = 400, description = "An id breaks the id rule", body = crate::api::error::ErrorBody),
        (status = 404, description = "Unknown source", body = crate::api::error::ErrorBody)))]
async fn erase(
    State(app): State<App>,
    PathParams((source, account, client_id)): PathParams<(String, String, String)>,
) -> Result<Json<Erased>, ApiError> {
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
    Ok(Json(Erased {
        status: ErasedStatus::Erased,
        dialogs: erasure.dialog_ids,
        messages: erasure.messages,
        events: erasure.events,
    }))
}
