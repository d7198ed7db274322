//! What the pipeline needs from the conversation context: a dialog's plugin-visible window
//! and its latest client message (for stale-callback suppression).

use crate::core::{DialogKey, Message};

/// The latest client message of a dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestClientMessage {
    /// Its id.
    pub id: String,
    /// When it was sent, unix ms.
    pub sent_at_ms: i64,
}

/// A dialog's context, as the hint pipeline reads it.
#[async_trait::async_trait]
pub trait ContextSource: Send + Sync + 'static {
    /// The plugin-visible window, oldest first, private notes removed.
    async fn window(&self, dialog: &DialogKey) -> Result<Vec<Message>, String>;
    /// The latest client message of the dialog, if any.
    async fn latest_client_message(
        &self,
        dialog: &DialogKey,
    ) -> Result<Option<LatestClientMessage>, String>;
    /// Both, read together (a hint request needs both of the same moment).
    async fn snapshot(
        &self,
        dialog: &DialogKey,
    ) -> Result<(Vec<Message>, Option<LatestClientMessage>), String>;
}

#[async_trait::async_trait]
impl ContextSource for crate::context::ContextService {
    async fn window(&self, dialog: &DialogKey) -> Result<Vec<Message>, String> {
        crate::context::ContextService::window(self, dialog)
            .await
            .map_err(|e| e.to_string())
    }

    async fn latest_client_message(
        &self,
        dialog: &DialogKey,
    ) -> Result<Option<LatestClientMessage>, String> {
        crate::context::ContextService::latest_client_message(self, dialog)
            .await
            .map(|m| {
                m.map(|m| LatestClientMessage {
                    id: m.id,
                    sent_at_ms: m.sent_at_ms,
                })
            })
            .map_err(|e| e.to_string())
    }

    async fn snapshot(
        &self,
        dialog: &DialogKey,
    ) -> Result<(Vec<Message>, Option<LatestClientMessage>), String> {
        crate::context::ContextService::snapshot(self, dialog)
            .await
            .map(|s| {
                let latest = s.latest_client.map(|m| LatestClientMessage {
                    id: m.id,
                    sent_at_ms: m.sent_at_ms,
                });
                (s.window, latest)
            })
            .map_err(|e| e.to_string())
    }
}
