//! Suggesting learned replies, and learning from the operators' choices.

use crate::candidate::Candidate;
use crate::names;
use crate::store::{candidate_prefix, generation, load, save_candidate};
use hintd_plugin::{Feedback, Hint, HintRequest, ProviderError, Role, kv};
use hintd_textkit::{cosine, tokens};
use std::collections::HashSet;

/// Settings from the plugin's `[config]`.
pub struct Settings {
    /// Hints returned at most.
    pub max_hints: usize,
    /// Minimum similarity.
    pub min_similarity: f64,
    /// Candidates compared at most.
    pub max_candidates: u32,
}

/// A candidate parsed once, with its examples tokenised.
struct Parsed {
    key: String,
    candidate: Candidate,
    examples: Vec<HashSet<String>>,
}

/// The parsed candidates of the account last asked about, valid while its generation is
/// unchanged. Kept while the instance lives (`instance = "reuse"`): a warm instance reads one
/// kv key per request instead of every candidate.
#[derive(Default)]
pub struct Cache(Option<Cached>);

struct Cached {
    prefix: String,
    generation: u64,
    limit: u32,
    entries: Vec<Parsed>,
}

fn load_candidates(prefix: &str, limit: u32) -> Result<Vec<Parsed>, ProviderError> {
    let entries = kv::scan(prefix, limit)?;
    Ok(entries
        .into_iter()
        .filter_map(|(key, bytes)| {
            let candidate = kv::decode::<Candidate>(&key, &bytes).ok()?;
            let examples = candidate
                .examples
                .iter()
                .map(|e| tokens(e).into_iter().collect())
                .collect();
            Some(Parsed {
                key,
                candidate,
                examples,
            })
        })
        .collect())
}

/// The client messages a suggestion answers: those after the last operator message (at most
/// three), else the latest client message.
fn question(req: &HintRequest) -> HashSet<String> {
    let mut words = HashSet::new();
    for m in req.context.iter().rev() {
        match m.role {
            Role::Operator if !words.is_empty() => break,
            Role::Client => words.extend(tokens(&m.text)),
            _ => {}
        }
        if words.len() > 64 {
            break;
        }
    }
    words
}

/// The client's name as the context tells it.
fn client_name(req: &HintRequest) -> Option<String> {
    req.context.iter().rev().find_map(|m| match m.role {
        Role::Client => names::introduced_name(&m.text),
        Role::Operator => names::greeted_name(&m.text),
        _ => None,
    })
}

/// Ranked past replies for a request.
pub fn suggest(
    req: &HintRequest,
    settings: &Settings,
    cache: &mut Cache,
) -> Result<Vec<Hint>, ProviderError> {
    let query = question(req);
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let prefix = candidate_prefix(&req.source, &req.account);
    let current = generation(&prefix);
    let cached = match cache.0.take() {
        Some(c)
            if c.prefix == prefix
                && c.generation == current
                && c.limit == settings.max_candidates =>
        {
            c
        }
        _ => {
            let entries = load_candidates(&prefix, settings.max_candidates)?;
            Cached {
                prefix,
                generation: current,
                limit: settings.max_candidates,
                entries,
            }
        }
    };
    let hints = rank(&cached.entries, &query, req, settings);
    cache.0 = Some(cached);
    Ok(hints)
}

fn rank(
    entries: &[Parsed],
    query: &HashSet<String>,
    req: &HintRequest,
    settings: &Settings,
) -> Vec<Hint> {
    let mut scored: Vec<(f64, f64, &Parsed)> = Vec::new();
    for parsed in entries {
        let similarity = parsed
            .examples
            .iter()
            .map(|e| cosine(query, e))
            .fold(0.0, f64::max);
        if similarity >= settings.min_similarity {
            scored.push((similarity * parsed.candidate.quality(), similarity, parsed));
        }
    }
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.1.total_cmp(&a.1))
            .then(a.2.key.cmp(&b.2.key))
    });
    let name = client_name(req);
    let limit = settings.max_hints.min(req.max_hints.max(1) as usize);
    scored
        .into_iter()
        .take(limit)
        .map(|(score, _, parsed)| {
            // Quality starts at ½, so twice the score is the similarity for an untried reply.
            let relevance = (200.0 * score).round().clamp(1.0, 100.0) as u8;
            let id = parsed
                .key
                .strip_prefix("c/")
                .unwrap_or(&parsed.key)
                .to_string();
            Hint::new(
                id,
                names::fill(&parsed.candidate.text, name.as_deref()),
                relevance,
            )
        })
        .collect()
}

/// Beta update from the operator's choice: the chosen reply (when it is ours) gains a success,
/// every one of ours that was shown but not chosen gains a failure.
pub fn learn_from_feedback(fb: &Feedback) {
    for shown in &fb.shown {
        let chosen = fb.chosen_is_mine && shown.id == fb.chosen.id;
        let key = format!("c/{}", shown.id);
        let Some(mut candidate) = load::<Candidate>(&key) else {
            continue;
        };
        if chosen {
            candidate.alpha += 1.0;
        } else {
            candidate.beta += 1.0;
        }
        save_candidate(&key, &candidate);
    }
}
