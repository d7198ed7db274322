//! Hint requests and operator choices that arrive as platform webhooks (Chat2Desk's
//! `ai_hints_requested`, both forms), as the hint service's queries.

use super::{ChoiceQuery, HintQuery, HintsError};
use crate::ingest::Event;

impl HintQuery {
    /// The query of a platform's hints request: its dialog, request and message ids, and
    /// what the event says of the client, operator and channel.
    pub fn from_event(
        event: &Event,
        request_id: &str,
        message_id: &str,
    ) -> Result<HintQuery, HintsError> {
        let meta = &event.meta;
        let Some(dialog) = meta.dialog_key() else {
            return Err(HintsError::InvalidRequest {
                field: "dialog_id",
                reason: "is required".into(),
            });
        };
        Ok(HintQuery {
            dialog: Some(dialog),
            request_id: Some(request_id.to_string()).filter(|r| !r.is_empty()),
            message_id: Some(message_id.to_string()).filter(|m| !m.is_empty()),
            client_id: meta.client_id.clone(),
            operator_id: meta.operator_id.clone(),
            channel_id: meta.channel_id.clone(),
            transport: meta.transport.clone(),
            external_key: meta.external_key.clone(),
            max_hints: None,
        })
    }
}

impl ChoiceQuery {
    /// The query of an operator's choice a platform reports: hint `hint_id` of the answer
    /// to `message_id`.
    pub fn from_event(
        event: &Event,
        message_id: &str,
        hint_id: i64,
    ) -> Result<ChoiceQuery, HintsError> {
        let meta = &event.meta;
        let Some(source) = meta.source else {
            return Err(HintsError::InvalidRequest {
                field: "source",
                reason: "unknown".into(),
            });
        };
        Ok(ChoiceQuery {
            source,
            account: meta.account.clone(),
            message_id: message_id.to_string(),
            client_id: meta.client_id.clone(),
            hint_id,
            edited_text: None,
        })
    }
}
