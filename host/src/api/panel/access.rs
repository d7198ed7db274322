//! The panel's credentials: its `panel_token` (as `Authorization: Bearer`, or `?token=` for
//! the event stream, which a browser cannot give headers) checked against the dialog asked
//! for. Refusals are the API's JSON errors: 401 without a valid token, 403 for an account
//! the token does not open.

use crate::api::auth::bearer;
use crate::api::error::ApiError;
use crate::app::App;
use crate::core::{DialogKey, Source};
use crate::ingest::panel_access::{PanelAccessError, PanelTarget, authorize};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

/// The dialog a panel request names: the query of `GET /panel/api/*`, or the body of the
/// choice.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialogParams {
    /// `chat2desk`, `chatwoot` or `whazing`.
    pub source: Option<String>,
    /// The hintd account; may be left out when Chatwoot's account number or the token says.
    pub account: Option<String>,
    /// The platform's dialog id (Chatwoot: the conversation's display id).
    pub dialog: Option<String>,
    /// Chatwoot's numeric account id, from the dashboard app's context.
    pub chatwoot_account: Option<u64>,
    /// The panel token, for requests that cannot send a header.
    pub token: Option<String>,
    /// `GET /panel/api/hints` only: ask the plugins again instead of sharing the answer.
    pub fresh: Option<bool>,
}

/// Checks the token for the dialog `params` names and returns the dialog.
pub fn dialog(
    app: &App,
    headers: &HeaderMap,
    params: &DialogParams,
) -> Result<DialogKey, ApiError> {
    let source = match params.source.as_deref() {
        Some(s) => Some(
            s.parse::<Source>()
                .ok()
                .filter(|s| *s != Source::Api)
                .ok_or_else(|| {
                    ApiError::invalid("source", "source must be chat2desk, chatwoot or whazing")
                })?,
        ),
        None => None,
    };
    let token = bearer(headers).or(params.token.as_deref());
    let target = PanelTarget {
        source,
        account: params.account.as_deref().filter(|a| !a.is_empty()),
        chatwoot_account_id: params.chatwoot_account,
    };
    let (source, account) = authorize(&app.config.sources, token, target).map_err(refusal)?;
    let dialog_id = params
        .dialog
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError::invalid("dialog", "dialog is required"))?;
    crate::ingest::check_id(dialog_id)
        .map_err(|e| ApiError::invalid("dialog", format!("dialog {e}")))?;
    Ok(DialogKey::new(source, account, dialog_id))
}

/// The API error of a refused panel request.
fn refusal(e: PanelAccessError) -> ApiError {
    match e {
        PanelAccessError::NoSource => ApiError::invalid("source", e.to_string()),
        e if e.is_unauthenticated() => ApiError::unauthorized(e.to_string()).with_field("token"),
        e => ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_have_the_api_statuses() {
        assert_eq!(
            refusal(PanelAccessError::InvalidToken).status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            refusal(PanelAccessError::MissingToken).status,
            StatusCode::UNAUTHORIZED
        );
        let forbidden = refusal(PanelAccessError::Forbidden {
            platform: Source::Chatwoot,
            account: "bank".into(),
        });
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
        assert_eq!(forbidden.code, "forbidden");
        assert_eq!(
            refusal(PanelAccessError::ChatwootAccount(3)).status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            refusal(PanelAccessError::NoSource).status,
            StatusCode::BAD_REQUEST
        );
    }
}
