//! The HTTP surface. Every axum route of hintd is declared under this module; each file
//! exposes `routes() -> Router<App>` and [`router`] merges them, then applies what every
//! route shares: the admin key for `/api/v1/*` ([`auth`]), the body limit and the JSON
//! error shape ([`error`]).

use crate::app::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::middleware::from_fn_with_state;

pub mod auth;
pub mod error;
pub mod health;
pub mod metrics;
pub mod v1;

/// The whole router.
pub fn router(app: App) -> Router {
    let body_limit = app.config.server.body_limit_bytes;
    Router::new()
        .merge(health::routes())
        .merge(v1::ingest::routes())
        .merge(v1::conversations::routes())
        .merge(v1::clients::routes())
        .merge(v1::webhooks::routes())
        .merge(v1::prompter::routes())
        .merge(metrics::routes())
        .fallback(not_found)
        // Layers wrap every route merged above, whoever declared it.
        .layer(from_fn_with_state(app.clone(), auth::require_admin))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(app)
}

async fn not_found(uri: Uri) -> error::ApiError {
    error::ApiError::not_found("no_route", format!("no route for {}", uri.path()))
}
