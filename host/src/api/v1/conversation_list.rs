//! `GET /api/v1/conversations`: the dialogs, newest activity first, a page at a time.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::QueryParams;
use crate::app::App;
use crate::core::Source;
use crate::store::{DialogCursor, DialogListFilter, DialogSummary};
use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Page size when none is asked for.
const DEFAULT_LIMIT: u32 = 50;
/// Largest page: each row costs three small subqueries.
const MAX_LIMIT: u32 = 200;
/// Characters of the last client message shown: enough to recognise a conversation, small
/// enough that a page of 200 stays light.
const TEXT_CHARS: usize = 160;

/// The conversation list route (admin key).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Query of `GET /api/v1/conversations`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only dialogs of this source (`chat2desk`, `chatwoot`, `whazing`, `api`).
    #[param(value_type = Option<Source>)]
    pub source: Option<String>,
    /// Only dialogs of this account.
    pub account: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One dialog of the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationItem {
    /// The platform.
    pub source: String,
    /// The account within the platform.
    pub account: String,
    /// The platform's dialog id.
    pub dialog_id: String,
    /// Its client, when known.
    pub client_id: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// Last activity, unix ms (the list order).
    pub updated_at_ms: i64,
    /// Stored messages (deleted ones excluded).
    pub message_count: i64,
    /// When the newest message was sent, unix ms.
    pub last_message_at_ms: Option<i64>,
    /// The newest client message (not private), shortened to 160 characters with `…`.
    pub last_client_text: Option<String>,
}

/// A page of dialogs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPage {
    /// Newest activity first.
    pub items: Vec<ConversationItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Dialogs newest activity first, paged by an opaque cursor that stays valid while new
/// dialogs arrive.
#[utoipa::path(get, operation_id = "list_conversations", path = "/api/v1/conversations",
    tag = "conversations", params(ListQuery),
    responses(
        (status = 200, description = "A page of dialogs", body = ConversationPage),
        (status = 400, description = "A query parameter is wrong (named in `field`)", body = ErrorBody)))]
async fn list(
    State(app): State<App>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<ConversationPage>, ApiError> {
    if let Some(s) = &q.source
        && let Err(e) = s.parse::<Source>()
    {
        return Err(ApiError::invalid("source", format!("source {e}")));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be 1..={MAX_LIMIT}"),
        ));
    }
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
    // One row more than asked tells whether another page exists without a count.
    let mut rows = app
        .store
        .list_dialogs(&DialogListFilter {
            source: q.source,
            account: q.account,
            after,
            limit: limit + 1,
        })
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last().map(encode_cursor)).flatten();
    Ok(Json(ConversationPage {
        items: rows.into_iter().map(item).collect(),
        next_cursor,
    }))
}

fn item(d: DialogSummary) -> ConversationItem {
    ConversationItem {
        source: d.source,
        account: d.account,
        dialog_id: d.dialog_id,
        client_id: d.client_id,
        status: d.status,
        updated_at_ms: d.updated_at_ms,
        message_count: d.message_count,
        last_message_at_ms: d.last_message_at_ms,
        last_client_text: d.last_client_text.map(|t| shorten(&t)),
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(TEXT_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The cursor is the last row's sort key, JSON in URL-safe base64: opaque to callers, and
/// self-contained so any replica can continue the list.
fn encode_cursor(d: &DialogSummary) -> String {
    let key = serde_json::json!([d.updated_at_ms, d.source, d.account, d.dialog_id]);
    URL_SAFE_NO_PAD.encode(key.to_string())
}

fn decode_cursor(cursor: &str) -> Result<DialogCursor, ApiError> {
    let bad = || ApiError::invalid("cursor", "cursor is not one this endpoint returned");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let (updated_at_ms, source, account, dialog_id): (i64, String, String, String) =
        serde_json::from_slice(&bytes).map_err(|_| bad())?;
    Ok(DialogCursor {
        updated_at_ms,
        source,
        account,
        dialog_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_garbage_is_refused() {
        let d = DialogSummary {
            source: "api".into(),
            account: "a".into(),
            dialog_id: "d\"1".into(),
            client_id: None,
            status: "open".into(),
            updated_at_ms: 42,
            message_count: 0,
            last_message_at_ms: None,
            last_client_text: None,
        };
        let c = decode_cursor(&encode_cursor(&d)).unwrap();
        assert_eq!((c.updated_at_ms, c.dialog_id.as_str()), (42, "d\"1"));
        assert!(decode_cursor("!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("[1]")).is_err());
    }

    #[test]
    fn long_text_is_cut_on_a_character() {
        let long = "é".repeat(TEXT_CHARS + 5);
        assert_eq!(shorten(&long).chars().count(), TEXT_CHARS + 1);
        assert_eq!(shorten("short"), "short");
    }
}
