//! Routing an operator's choice: the chosen answer-local hint id is mapped back to the
//! plugin(s) and plugin-local hint it came from; every plugin that had hints shown gets a
//! `feedback` call (the chosen one with `chosen_is_mine = true`, the others to learn
//! negatives).

use super::merge::MergedHint;
use crate::core::Message;
use crate::plugins::Feedback;

/// What every plugin's feedback shares.
#[derive(Debug, Clone)]
pub struct FeedbackBase<'a> {
    /// The request the answer served.
    pub request_id: &'a str,
    /// Its dialog.
    pub dialog_id: &'a str,
    /// The dialog's account (picks the plugin's reused instances).
    pub account: &'a str,
    /// The message the hints answered.
    pub message_id: &'a str,
    /// The context the hints were computed from.
    pub context: &'a [Message],
}

/// The feedback each plugin receives for choosing hint `chosen_id` of `hints`, in the order
/// the plugins first appear in the answer; `None` when the answer has no such hint.
pub fn route(
    hints: &[MergedHint],
    chosen_id: u32,
    base: &FeedbackBase<'_>,
) -> Option<Vec<(String, Feedback)>> {
    let chosen = hints.iter().find(|h| h.id == chosen_id)?;
    let mut plugins: Vec<&str> = Vec::new();
    for origin in hints.iter().flat_map(|h| &h.origins) {
        if !plugins.contains(&origin.plugin.as_str()) {
            plugins.push(&origin.plugin);
        }
    }
    Some(
        plugins
            .into_iter()
            .map(|plugin| {
                let mine = chosen.origins.iter().find(|o| o.plugin == plugin);
                let shown = hints
                    .iter()
                    .flat_map(|h| &h.origins)
                    .filter(|o| o.plugin == plugin)
                    .map(|o| o.hint.clone())
                    .collect();
                let feedback = Feedback {
                    request_id: base.request_id.to_string(),
                    dialog_id: base.dialog_id.to_string(),
                    account: base.account.to_string(),
                    message_id: base.message_id.to_string(),
                    chosen: mine.unwrap_or(&chosen.origins[0]).hint.clone(),
                    chosen_is_mine: mine.is_some(),
                    shown,
                    context: base.context.to_vec(),
                };
                (plugin.to_string(), feedback)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hints::merge::tests::hint;
    use crate::hints::merge::{MergeRules, PluginHints, merge};

    #[test]
    fn chosen_plugin_and_shown_plugins_get_feedback() {
        let merged = merge(
            &[
                PluginHints {
                    plugin: "faq".into(),
                    weight: 1.0,
                    hints: vec![hint("f1", "Delivery takes 3 days", 90)],
                },
                PluginHints {
                    plugin: "replies".into(),
                    weight: 1.0,
                    hints: vec![
                        hint("r1", "Refunds take a week", 80),
                        hint("r2", "delivery takes 3 days!", 70),
                    ],
                },
                PluginHints {
                    plugin: "llm".into(),
                    weight: 1.0,
                    hints: vec![],
                },
            ],
            &MergeRules {
                threshold: 0.0,
                max_hints: 5,
                dedupe_similarity: 0.8,
            },
        );
        let base = FeedbackBase {
            request_id: "r",
            dialog_id: "d",
            account: "a",
            message_id: "m",
            context: &[],
        };
        // Hint 2 is replies' r1.
        let routed = route(&merged, 2, &base).unwrap();
        assert_eq!(routed.len(), 2, "llm showed nothing and hears nothing");
        let (faq, replies) = (&routed[0], &routed[1]);
        assert_eq!(faq.0, "faq");
        assert!(!faq.1.chosen_is_mine);
        assert_eq!(faq.1.chosen.id, "r1");
        assert_eq!(
            faq.1
                .shown
                .iter()
                .map(|h| h.id.as_str())
                .collect::<Vec<_>>(),
            ["f1"]
        );
        assert!(replies.1.chosen_is_mine);
        assert_eq!(
            replies
                .1
                .shown
                .iter()
                .map(|h| h.id.as_str())
                .collect::<Vec<_>>(),
            ["r2", "r1"]
        );

        // Hint 1 is faq's, with replies' duplicate merged in: both are credited.
        let routed = route(&merged, 1, &base).unwrap();
        assert!(routed.iter().all(|(_, fb)| fb.chosen_is_mine));
        assert_eq!(routed[1].1.chosen.id, "r2");

        assert!(route(&merged, 3, &base).is_none());
    }
}
