//! The panel's JSON: `GET /panel/api/hints` (the dialog's current hints) and
//! `POST /panel/api/choice` (the operator's pick, through the same routing as Chat2Desk's
//! choice, so every plugin that had hints shown gets `feedback`).

use super::access::{DialogParams, dialog};
use crate::api::error::ApiError;
use crate::api::extract::{BodyBytes, QueryParams};
use crate::app::App;
use crate::hints::{ChoiceQuery, HintsError};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Longest edited text a choice may carry, characters (a chat reply, not a document).
pub const MAX_EDITED_CHARS: usize = 4_000;

/// `GET /panel/api/hints?source=&account=&dialog=[&chatwoot_account=][&fresh=true]`.
pub async fn hints(
    State(app): State<App>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<DialogParams>,
) -> Response {
    let key = match dialog(&app, &headers, &params) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    match app
        .hints
        .panel_view(key, params.fresh.unwrap_or(false))
        .await
    {
        Ok(view) => private(Json(view).into_response()),
        Err(e) => hints_error(&e),
    }
}

/// The body of `POST /panel/api/choice`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoiceBody {
    source: Option<String>,
    account: Option<String>,
    dialog: Option<String>,
    chatwoot_account: Option<u64>,
    message_id: String,
    hint_id: i64,
    /// The text the operator copied after editing the hint.
    edited_text: Option<String>,
}

/// `POST /panel/api/choice` {source, account?, chatwoot_account?, dialog, message_id,
/// hint_id, edited_text?} with the panel token as `Authorization: Bearer`.
pub async fn choice(
    State(app): State<App>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Response {
    let body: ChoiceBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return ApiError::invalid("body", format!("body is not a valid choice: {e}"))
                .into_response();
        }
    };
    let params = DialogParams {
        source: body.source,
        account: body.account,
        dialog: body.dialog,
        chatwoot_account: body.chatwoot_account,
        ..DialogParams::default()
    };
    let key = match dialog(&app, &headers, &params) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    let edited_text = body.edited_text.filter(|t| !t.trim().is_empty());
    if edited_text
        .as_deref()
        .is_some_and(|t| t.chars().count() > MAX_EDITED_CHARS)
    {
        return ApiError::invalid(
            "edited_text",
            format!("edited_text is longer than {MAX_EDITED_CHARS} characters"),
        )
        .into_response();
    }
    let query = ChoiceQuery {
        source: key.source,
        account: key.account,
        message_id: body.message_id,
        client_id: None,
        hint_id: body.hint_id,
        edited_text,
    };
    match app.hints.choose(query).await {
        Ok(outcome) => private(Json(outcome).into_response()),
        Err(e) => hints_error(&e),
    }
}

/// Answers carry a dialog's data: no cache may keep them.
fn private(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The API's JSON error for a pipeline error.
fn hints_error(e: &HintsError) -> Response {
    match e {
        HintsError::InvalidRequest { field, reason } => {
            ApiError::invalid(*field, format!("{field} {reason}")).into_response()
        }
        HintsError::UnknownAnswer { .. } => ApiError::not_found("unknown_message", e.to_string())
            .with_field("message_id")
            .into_response(),
        HintsError::UnknownHint { .. } => ApiError::not_found("unknown_hint", e.to_string())
            .with_field("hint_id")
            .into_response(),
        HintsError::Unavailable(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            e.to_string(),
        )
        .into_response(),
        HintsError::Internal(detail) => ApiError::internal(detail).into_response(),
    }
}
