//! The FAQ read from the plugin's `[config]`, and its BM25 index.

use hintd_textkit::{Bm25, tokens};
use serde_json::Value;

/// One FAQ entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Stable id: the configured `id`, else the entry's position.
    pub id: String,
    /// The answer shown as the hint text.
    pub answer: String,
    /// Article URL, when configured.
    pub url: Option<String>,
}

/// The configured FAQ and its index.
pub struct Knowledge {
    /// Entries, in configuration order.
    pub entries: Vec<Entry>,
    /// BM25 over question (counted twice: it is what clients ask) plus answer.
    pub index: Bm25,
    /// Hints returned at most.
    pub max_hints: usize,
    /// BM25 score under which nothing is suggested.
    pub min_score: f64,
    /// Weight of earlier client messages.
    pub context_weight: f64,
}

impl Knowledge {
    /// Reads `entries`, `max_hints`, `min_score` and `context_weight` from the config table.
    pub fn from_config(config: &Value) -> Result<Knowledge, String> {
        let list = match config.get("entries") {
            Some(Value::Array(list)) => list,
            Some(_) => {
                return Err("config `entries` must be an array of {question, answer, url}".into());
            }
            None => {
                return Err(
                    "config `entries` is missing: give the FAQ as [[config.entries]]".into(),
                );
            }
        };
        let mut entries = Vec::with_capacity(list.len());
        let mut documents = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let text = |key: &str| {
                item.get(key)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            let question = text("question")
                .ok_or_else(|| format!("entries[{i}].question is missing or empty"))?;
            let answer =
                text("answer").ok_or_else(|| format!("entries[{i}].answer is missing or empty"))?;
            let id = match item.get("id") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => i.to_string(),
            };
            let mut doc = tokens(question);
            doc.extend(tokens(question));
            doc.extend(tokens(answer));
            documents.push(doc);
            entries.push(Entry {
                id,
                answer: answer.to_string(),
                url: text("url").map(str::to_owned),
            });
        }
        let number =
            |key: &str, default: f64| config.get(key).and_then(Value::as_f64).unwrap_or(default);
        Ok(Knowledge {
            entries,
            index: Bm25::new(documents),
            max_hints: number("max_hints", 3.0).clamp(1.0, 20.0) as usize,
            min_score: number("min_score", 0.5),
            context_weight: number("context_weight", 0.3).clamp(0.0, 1.0),
        })
    }
}
