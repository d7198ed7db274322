//! `GET /panel/api/events`: the panel's server push. One event stream per open panel; when a
//! client message of its dialog is ingested, the dialog's new hints are sent as a `hints`
//! event (every panel on the dialog shares their computation). A `ready` event opens the
//! stream, so that a panel reconnecting after an outage reloads what it missed.

use super::access::{DialogParams, dialog};
use crate::api::error::ApiError;
use crate::api::extract::QueryParams;
use crate::app::App;
use crate::context::WatchError;
use crate::core::DialogKey;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How long a browser waits before reconnecting a dropped stream.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);
/// Comment lines keep proxies from closing a quiet stream.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

/// `GET /panel/api/events?source=&account=&dialog=&token=[&chatwoot_account=]`.
pub async fn events(
    State(app): State<App>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<DialogParams>,
) -> Response {
    let key = match dialog(&app, &headers, &params) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    let watched = match app.context.watch(&key) {
        Ok(rx) => rx,
        Err(e @ (WatchError::TooManyWatchers | WatchError::TooManyDialogs)) => {
            return ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_panels",
                e.to_string(),
            )
            .into_response();
        }
        Err(e @ WatchError::Closed) => return ApiError::unavailable(e.to_string()).into_response(),
    };
    let mut response = Sse::new(stream(app, key, watched))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE_EVERY))
        .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// `ready`, then one `hints` event per new client message (several arriving while the
/// hints are computed make one event: only the newest message's hints matter). Ends when
/// the watch closes (shutdown) or the client goes away.
fn stream(
    app: App,
    key: DialogKey,
    watched: tokio::sync::broadcast::Receiver<crate::context::ClientMessageRef>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let ready = Event::default()
        .event("ready")
        .retry(RECONNECT_AFTER)
        .data("{}");
    let first = futures::stream::once(async move { Ok(ready) });
    let rest = futures::stream::unfold((app, key, watched), |(app, key, mut watched)| async move {
        match watched.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return None,
        }
        // Skip to the newest message already announced.
        while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) =
            watched.try_recv()
        {}
        let event = match app.hints.panel_view(key.clone(), false).await {
            Ok(view) => Event::default()
                .event("hints")
                .json_data(&view)
                .unwrap_or_else(|_| Event::default().event("stale").data("{}")),
            Err(e) => {
                tracing::debug!(dialog = %key, error = %e, "panel hints could not be computed");
                // The page asks again through the JSON endpoint, which says why.
                Event::default().event("stale").data("{}")
            }
        };
        Some((Ok(event), (app, key, watched)))
    });
    futures::StreamExt::chain(first, rest)
}
