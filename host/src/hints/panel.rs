//! What the hint panel shows of a dialog: the hints of its latest client message, with the
//! plugin each came from and the plugins that failed, so the page can tell "no hints" from
//! "plugins failed".

use super::error::HintsError;
use super::pipeline::ProviderOutcome;
use super::service::{HintQuery, Hints, Served};
use crate::core::DialogKey;
use serde::Serialize;

/// Request id of the panel's hint requests. With the message id it makes the idempotency
/// key, so every panel open on a dialog shares one answer per client message instead of
/// each asking the plugins again.
pub const PANEL_REQUEST_ID: &str = "panel";

/// One hint as the panel shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelHint {
    /// Answer-local id (1..k), sent back with the choice.
    pub id: u32,
    /// Suggested reply.
    pub text: String,
    /// URL for the operator, `""` when none.
    pub url: String,
    /// Link to send along, `""` when none.
    pub link: String,
    /// 0–100.
    pub relevance: u8,
    /// The plugin credited with it.
    pub plugin: String,
}

/// The panel's view of a dialog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelView {
    /// The platform.
    pub source: &'static str,
    /// The account.
    pub account: String,
    /// The dialog.
    pub dialog_id: String,
    /// The client message the hints answer; `None` while the dialog has none.
    pub message_id: Option<String>,
    /// The hints, best first.
    pub hints: Vec<PanelHint>,
    /// Plugins asked whose call did not end well (error, timeout, trap, deadline).
    pub failed: Vec<String>,
    /// Plugins asked (0 for an answer replayed from an earlier request).
    pub asked: usize,
}

impl PanelView {
    /// A dialog without a client message yet.
    pub fn empty(dialog: &DialogKey) -> PanelView {
        PanelView {
            source: dialog.source.as_str(),
            account: dialog.account.clone(),
            dialog_id: dialog.dialog_id.clone(),
            message_id: None,
            hints: Vec::new(),
            failed: Vec::new(),
            asked: 0,
        }
    }

    /// The view of a served answer.
    pub fn from_served(served: &Served) -> PanelView {
        let answer = &served.answer;
        PanelView {
            message_id: Some(answer.message_id.clone()),
            hints: answer
                .hints
                .iter()
                .map(|h| PanelHint {
                    id: h.id,
                    text: h.text.clone(),
                    url: h.url.clone().unwrap_or_default(),
                    link: h.link.clone().unwrap_or_default(),
                    relevance: h.relevance.min(100),
                    plugin: h.plugin().to_string(),
                })
                .collect(),
            failed: failed(&served.outcomes),
            asked: served.outcomes.len(),
            ..PanelView::empty(&answer.dialog)
        }
    }
}

fn failed(outcomes: &[ProviderOutcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter(|o| o.outcome != "ok")
        .map(|o| o.plugin.clone())
        .collect()
}

impl Hints {
    /// The hints of `dialog`'s latest client message. Shared by every panel on the dialog
    /// (one computation per message while `idempotency_ttl_secs` last) unless `fresh`, which
    /// asks the plugins again (the panel's Refresh button).
    pub async fn panel_view(
        &self,
        dialog: DialogKey,
        fresh: bool,
    ) -> Result<PanelView, HintsError> {
        let Some(latest) = self
            .contexts()
            .latest_client_message(&dialog)
            .await
            .map_err(|e| HintsError::Unavailable(e.to_string()))?
        else {
            return Ok(PanelView::empty(&dialog));
        };
        let query = HintQuery {
            request_id: (!fresh).then(|| PANEL_REQUEST_ID.to_string()),
            message_id: Some(latest.id),
            ..HintQuery::new(dialog)
        };
        let served = self.request(query.clone()).await?;
        // A replay does not say how the plugins fared; an empty answer is asked again so
        // that the panel can tell "no hints" from "plugins failed".
        if served.replayed && served.answer.hints.is_empty() {
            let again = self
                .request(HintQuery {
                    request_id: None,
                    ..query
                })
                .await?;
            return Ok(PanelView::from_served(&again));
        }
        Ok(PanelView::from_served(&served))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outcome(plugin: &str, outcome: &'static str) -> ProviderOutcome {
        ProviderOutcome {
            plugin: plugin.into(),
            outcome,
            hints: 0,
            latency: Duration::ZERO,
            error: None,
        }
    }

    #[test]
    fn failed_plugins_are_named() {
        assert_eq!(
            failed(&[
                outcome("faq", "ok"),
                outcome("llm", "timeout"),
                outcome("x", "deadline")
            ]),
            ["llm", "x"]
        );
    }

    #[test]
    fn an_empty_view_names_its_dialog() {
        let view = PanelView::empty(&DialogKey::new(
            crate::core::Source::Whazing,
            "default",
            "9",
        ));
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["source"], "whazing");
        assert_eq!(json["dialog_id"], "9");
        assert!(json["message_id"].is_null());
        assert_eq!(json["hints"], serde_json::json!([]));
    }
}
