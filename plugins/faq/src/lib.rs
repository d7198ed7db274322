//! faq: answers the client's latest message from a knowledge base given in the plugin's
//! `[config]` (`entries` = [{id?, question, answer, url?}]), ranked with BM25. Earlier client
//! messages of the context count too, with a smaller weight, so "and for the north region?"
//! still finds the delivery answer.

use hintd_plugin::{Hint, HintRequest, PluginInfo, Provider, ProviderError, Role, settings};
use hintd_textkit::tokens;

mod knowledge;

use knowledge::Knowledge;

/// Client messages of the context that count, latest first.
const CONTEXT_MESSAGES: usize = 4;

/// The plugin: its index, built from the config on the instance's first call and kept while
/// the instance lives (`instance = "reuse"`).
struct Faq {
    /// The index, or why the config gives none.
    knowledge: Result<Knowledge, String>,
}

impl Faq {
    fn from_config() -> Faq {
        Faq {
            knowledge: Knowledge::from_config(&settings::all()),
        }
    }
}

impl Provider for Faq {
    fn describe(&mut self) -> PluginInfo {
        PluginInfo::new(
            "faq",
            env!("CARGO_PKG_VERSION"),
            "Answers from a FAQ ranked with BM25",
        )
    }

    fn suggest(&mut self, req: HintRequest) -> Result<Vec<Hint>, ProviderError> {
        let knowledge = self
            .knowledge
            .as_ref()
            .map_err(|e| ProviderError::Misconfigured(e.clone()))?;
        Ok(answer(knowledge, &req))
    }
}

/// The hints for a request.
fn answer(knowledge: &Knowledge, req: &HintRequest) -> Vec<Hint> {
    let mut query: Vec<(String, f64)> = Vec::new();
    let clients = req
        .context
        .iter()
        .rev()
        .filter(|m| m.role == Role::Client && !m.text.trim().is_empty());
    for (i, message) in clients.take(CONTEXT_MESSAGES).enumerate() {
        let weight = if i == 0 {
            1.0
        } else {
            knowledge.context_weight
        };
        query.extend(tokens(&message.text).into_iter().map(|t| (t, weight)));
    }
    if query.is_empty() {
        return Vec::new();
    }
    let limit = (req.max_hints as usize).clamp(1, knowledge.max_hints);
    knowledge
        .search(&query)
        .into_iter()
        .filter(|(_, score)| *score >= knowledge.min_score)
        .take(limit)
        .map(|(entry, score)| {
            let mut hint = Hint::new(entry.id.clone(), entry.answer.clone(), relevance(score));
            hint.url = entry.url.clone();
            hint
        })
        .collect()
}

/// Maps an unbounded BM25 score to 0–100: saturating, so a strong match on a few rare words
/// is near 100 and a single common word stays low.
fn relevance(score: f64) -> u8 {
    (100.0 * (1.0 - (-score / 4.0).exp()))
        .round()
        .clamp(1.0, 100.0) as u8
}

impl Knowledge {
    fn search(&self, query: &[(String, f64)]) -> Vec<(&knowledge::Entry, f64)> {
        self.index
            .search(query)
            .into_iter()
            .map(|(i, s)| (&self.entries[i], s))
            .collect()
    }
}

hintd_plugin::export_plugin!(Faq, Faq::from_config);
