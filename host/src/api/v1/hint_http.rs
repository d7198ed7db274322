//! The HTTP side of the hint service, shared by the routes that serve hints — `/api/v1/hints`
//! and the platform webhooks that carry hint requests and choices: answers, acceptance
//! statistics and their errors.

use crate::api::error::ApiError;
use crate::api::v1::fields::{api_error, bad};
use crate::app::App;
use crate::core::Source;
use crate::hints::{ChoiceOutcome, Delivered, HintQuery, HintsError, Served};
use crate::ingest::Delivery;
use crate::store::{HintStats, StatsFilter};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// The answer to a hints request whose hints go out in the background only (the account's
/// `delivery`: `callback` or `note`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAccepted {
    /// Always `accepted`.
    pub status: AcceptedStatus,
    /// Where the hints go.
    pub delivery: DeferredDelivery,
}

/// The status of a request taken for later.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AcceptedStatus {
    /// Taken; the result comes later.
    Accepted,
}

/// Where hints answered in the background go.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeferredDelivery {
    /// POSTed to the account's `callback_url`.
    Callback,
    /// Posted as one private note into the Chatwoot conversation.
    Note,
}

/// The answer to an operator's choice arriving as a platform webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChoiceAck {
    /// `ok`, or `duplicate` when the choice had been recorded already.
    pub status: ChoiceStatus,
    /// What the choice did.
    pub choice: ChoiceOutcome,
}

/// Whether a choice was new.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceStatus {
    /// Recorded now.
    Ok,
    /// Recorded before; nothing was sent again.
    Duplicate,
}

/// Serves a hints request the way its source and account are configured to receive hints
/// (the decision is the hint service's): the answer, or `202` when it goes out in the
/// background only (callback, private note).
pub(crate) async fn delivered(app: &App, query: HintQuery) -> Response {
    match app.hints.deliver(query, &app.config.sources).await {
        Ok(Delivered::Inline(served)) => reply(&served),
        Ok(Delivered::Accepted(delivery)) => {
            let delivery = match delivery {
                Delivery::Note => DeferredDelivery::Note,
                _ => DeferredDelivery::Callback,
            };
            let accepted = DeliveryAccepted {
                status: AcceptedStatus::Accepted,
                delivery,
            };
            (StatusCode::ACCEPTED, Json(accepted)).into_response()
        }
        Err(e) => error(&e),
    }
}

/// The answer body exactly as served (also for replays: byte-identical).
pub(crate) fn reply(served: &Served) -> Response {
    let mut response = served.answer.body.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if served.replayed {
        response
            .headers_mut()
            .insert("x-hintd-replayed", HeaderValue::from_static("true"));
    }
    // The plugins' share of the request time, so clients (and the benchmark) can tell the
    // host's overhead apart.
    let timing = format!(
        "plugins;dur={:.3}",
        served.plugins_elapsed.as_secs_f64() * 1000.0
    );
    if let Ok(v) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", v);
    }
    response
}

/// The API's JSON error for a pipeline error.
pub(crate) fn error(e: &HintsError) -> Response {
    api_error(e).into_response()
}
/// Query of `GET /api/v1/hints/stats`.
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Only answers for this source (`chat2desk`, `chatwoot`, `whazing`, `api`).
    #[param(value_type = Option<Source>)]
    pub source: Option<String>,
    /// Only answers for this account.
    pub account: Option<String>,
    /// Only answers served at or after this time, unix ms.
    pub since_ms: Option<i64>,
}

/// Acceptance statistics filtered by `q` (shared with `GET /api/v1/plugins`).
pub(crate) async fn hint_stats(app: &App, q: StatsQuery) -> Result<HintStats, ApiError> {
    if let Some(s) = &q.source
        && let Err(e) = s.parse::<Source>()
    {
        return Err(bad("source", e.to_string()));
    }
    let filter = StatsFilter {
        source: q.source,
        account: q.account,
        since_ms: q.since_ms,
    };
    app.hints.stats(&filter).await.map_err(|e| api_error(&e))
}
