//! The admin console: `GET /console`, one page for whoever runs hintd — plugins and their
//! health, webhooks and their deliveries, hint acceptance, a conversation's context. The page
//! holds no data and needs no key to load; everything it shows comes from `/api/v1/*`,
//! called with the admin key the operator types in ([`page`] serves it and its assets).

use crate::app::App;
use axum::Router;
use axum::routing::get;

pub mod page;

/// The console's routes: a page and its assets, beside the described API rather than part of
/// it (the data comes from `/api/v1`, which the document describes).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/console", get(page::index))
        .route("/console/console.js", get(page::script))
        .route("/console/console.css", get(page::style))
}
