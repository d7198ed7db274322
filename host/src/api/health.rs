//! `GET /healthz` (the process answers) and `GET /readyz` (it can do its job).

use super::error::ErrorDetail;
use crate::app::App;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The health routes (no admin key).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: Alive,
}

/// The one status of a process that answers.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Alive {
    /// It answers.
    Ok,
}

/// `GET /readyz`, ready or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness<'a> {
    /// `ready`, or `not_ready` (with status 503).
    pub status: Ready,
    /// Why it is not ready (absent when ready).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
    /// Worth knowing, but not stopping it: plugins that failed to load, kv quotas reached.
    pub warnings: Vec<String>,
    /// Plugin directories still loading.
    pub loading: Vec<String>,
    /// The API's usual error object, when not ready (code `not_ready`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail<'a>>,
}

/// Readiness.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ready {
    /// It can do its job.
    Ready,
    /// It cannot yet (or any more).
    NotReady,
}

/// The process answers.
#[utoipa::path(get, operation_id = "get_health", path = "/healthz", tag = "health",
    responses((status = 200, description = "The process answers", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: Alive::Ok })
}

/// How recent a kv quota refusal must be to show in `/readyz` warnings, ms.
const KV_QUOTA_WARNING_WINDOW_MS: i64 = 3_600_000;

/// Ready when the store answers within a second and the first plugin load has ended (plugins
/// load in the background while the server already listens); plugins that failed to load,
/// or are loading again, are reported.
#[utoipa::path(get, operation_id = "get_readiness", path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready", body = Readiness),
    (status = 503, description = "Not ready: `reasons` says why", body = Readiness)))]
async fn readyz(State(app): State<App>) -> Response {
    let mut reasons = Vec::new();
    match tokio::time::timeout(std::time::Duration::from_secs(1), app.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => reasons.push(format!("store: {e}")),
        Err(_) => reasons.push("store: no answer within 1 s".to_string()),
    }
    let loading = app.plugins.loading();
    if !app.plugins.is_loaded() {
        reasons.push(format!("plugins loading: {}", loading.join(", ")));
    }
    let mut warnings: Vec<String> = app
        .plugins
        .failures()
        .into_iter()
        .map(|(plugin, error)| format!("plugin {plugin} not loaded: {error}"))
        .collect();
    // A plugin that hit its kv quota stops learning: say so where an operator looks.
    let since = crate::core::now_ms() - KV_QUOTA_WARNING_WINDOW_MS;
    if let Ok(Ok(refused)) = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        app.store.kv_quota_refusals(since),
    )
    .await
    {
        warnings.extend(refused.into_iter().map(|r| {
            format!(
                "plugin {} is at its kv quota: {} bytes used, {} writes refused",
                r.plugin, r.used_bytes, r.refusals
            )
        }));
    }
    // Private notes refused for good (wrong token, conversation or account) stay refused
    // until the configuration is fixed.
    warnings.extend(app.hints.note_warnings());
    if reasons.is_empty() {
        let ready = Readiness {
            status: Ready::Ready,
            reasons: None,
            warnings,
            loading,
            error: None,
        };
        (StatusCode::OK, Json(ready)).into_response()
    } else {
        // Health checkers read `status`; API clients find the usual error object too.
        let message = reasons.join("; ");
        let not_ready = Readiness {
            status: Ready::NotReady,
            reasons: Some(reasons),
            warnings,
            loading,
            error: Some(ErrorDetail {
                code: "not_ready",
                message: &message,
                field: None,
            }),
        };
        (StatusCode::SERVICE_UNAVAILABLE, Json(not_ready)).into_response()
    }
}
