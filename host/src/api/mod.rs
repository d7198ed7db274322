//! The HTTP surface. Every axum route of hintd is declared under this module; each file
//! exposes `routes() -> OpenApiRouter<App>`, whose routes are declared by their
//! `#[utoipa::path]` handlers, so that a route is served and described from one place.
//! [`documented`] merges them; [`router`] then applies what every route shares: the admin key
//! for `/api/v1/*` ([`auth`]), the body limit and the JSON error shape ([`error`],
//! [`json_errors`]); [`openapi`] completes and serves the description. [`server`] serves the
//! router within the connection limits. [`panel`] is the operators' hint panel, guarded by
//! its own tokens: a page and its data, served beside the described API, not part of it.
//! [`console`] is the admin console: a page that calls the described API with the admin key.

use crate::app::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn_with_state, map_response};
use utoipa_axum::router::OpenApiRouter;

pub mod assets;
pub mod auth;
pub mod console;
pub mod error;
pub mod extract;
pub mod health;
pub mod json_errors;
pub mod metrics;
pub mod openapi;
pub mod panel;
pub mod server;
pub mod v1;

/// Every route with its description, before the layers they share.
pub fn documented() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .merge(health::routes())
        .merge(v1::ingest::routes())
        .merge(v1::conversations::routes())
        .merge(v1::conversation_list::routes())
        .merge(v1::clients::routes())
        .merge(v1::webhooks::routes())
        .merge(v1::hints::routes())
        .merge(v1::hint_series::routes())
        .merge(v1::plugins::routes())
        .merge(v1::playground::routes())
        .merge(metrics::routes())
        .merge(openapi::routes())
}

/// The whole router.
pub fn router(app: App) -> Router {
    let body_limit = app.config.server.body_limit_bytes;
    let (routes, _) = documented().split_for_parts();
    routes
        .merge(panel::routes())
        .merge(console::routes())
        .method_not_allowed_fallback(json_errors::method_not_allowed)
        .fallback(json_errors::no_route)
        // Layers wrap every route merged above, whoever declared it.
        .layer(from_fn_with_state(app.clone(), auth::require_admin))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(map_response(json_errors::ensure_json))
        .with_state(app)
}
