//! The hint panel: `GET /panel`, a page an operator opens beside a dialog (a Chatwoot
//! Dashboard App, or any platform that can open a URL or a frame), and the endpoints it
//! calls with its `panel_token` — never the admin key:
//!
//! * `GET /panel/api/hints` — the dialog's current hints ([`data`]);
//! * `GET /panel/api/events` — server-sent events: new hints whenever a client message of
//!   the dialog is ingested ([`events`]);
//! * `POST /panel/api/choice` — the operator's pick, routed like Chat2Desk's ([`data`]).
//!
//! [`access`] checks the token for the account asked for; [`page`] serves the embedded page
//! and its assets with the CSP they need.

use crate::app::App;
use axum::Router;
use axum::routing::{get, post};

pub mod access;
pub mod data;
pub mod events;
pub mod page;

/// The panel's routes (outside `/api/v1`: the panel token, not the admin key, guards them).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/panel", get(page::index))
        .route("/panel/panel.js", get(page::script))
        .route("/panel/panel.css", get(page::style))
        .route("/panel/api/hints", get(data::hints))
        .route("/panel/api/choice", post(data::choice))
        .route("/panel/api/events", get(events::events))
}
