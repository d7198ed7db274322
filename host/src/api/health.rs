//! `GET /healthz` (the process answers) and `GET /readyz` (it can do its job).

use crate::app::App;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;

/// The health routes (no admin key).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// How recent a kv quota refusal must be to show in `/readyz` warnings, ms.
const KV_QUOTA_WARNING_WINDOW_MS: i64 = 3_600_000;

/// Ready when the store answers within a second and the first plugin load has ended (plugins
/// load in the background while the server already listens); plugins that failed to load,
/// or are loading again, are reported.
async fn readyz(State(app): State<App>) -> (StatusCode, Json<serde_json::Value>) {
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
        (
            StatusCode::OK,
            Json(json!({"status": "ready", "warnings": warnings, "loading": loading})),
        )
    } else {
        // Health checkers read `status`; API clients find the usual error object too.
        let message = reasons.join("; ");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "not_ready",
                "reasons": reasons,
                "warnings": warnings,
                "loading": loading,
                "error": {"code": "not_ready", "message": message},
            })),
        )
    }
}
