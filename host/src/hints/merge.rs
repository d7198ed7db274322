//! Merging the plugins' hints into one answer: normalise, weight, threshold, remove
//! near-duplicates (keeping the better), rank, cut to `max_hints`, number 1..k.

use super::text::{jaccard_sorted, normalize, sorted_tokens};
use crate::plugins::Hint;

/// One plugin's hints for a request, with the plugin's weight.
#[derive(Debug, Clone)]
pub struct PluginHints {
    /// Plugin name.
    pub plugin: String,
    /// The plugin's weight from its manifest (≥ 0).
    pub weight: f64,
    /// Hints as the plugin returned them, best first.
    pub hints: Vec<Hint>,
}

/// Where a served hint came from: a plugin and its own hint, unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// Plugin name.
    pub plugin: String,
    /// The hint exactly as the plugin returned it (its local id included).
    pub hint: Hint,
    /// 1-based position of the hint in the plugin's own list.
    pub rank: u32,
}

/// One hint of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedHint {
    /// The answer-local id the platform sees: 1..k in ranking order.
    pub id: u32,
    /// Text shown to the operator.
    pub text: String,
    /// URL for the operator, when any.
    pub url: Option<String>,
    /// Link to send along, when any.
    pub link: Option<String>,
    /// Relevance reported to the platform, 0–100.
    pub relevance: u8,
    /// Weighted score the ranking used (may exceed 100 for weights above 1).
    pub score: f64,
    /// The kept hint's origin first, then every near-duplicate merged into it (another
    /// plugin's equivalent hint is credited when the operator chooses this one).
    pub origins: Vec<Origin>,
}

impl MergedHint {
    /// The plugin whose hint is shown.
    pub fn plugin(&self) -> &str {
        &self.origins[0].plugin
    }
}

/// The rules of a merge, taken from `[hints]` and the request.
#[derive(Debug, Clone, Copy)]
pub struct MergeRules {
    /// Minimum weighted score, 0–100.
    pub threshold: f64,
    /// Most hints kept.
    pub max_hints: u32,
    /// Token-set Jaccard at or above which two hints are duplicates.
    pub dedupe_similarity: f64,
}

/// A hint under consideration (borrowing the plugin's hint: only kept ones are copied).
struct Candidate<'a> {
    plugin_index: usize,
    rank: u32,
    score: f64,
    normal: String,
    plugin: &'a str,
    hint: &'a Hint,
}

impl Candidate<'_> {
    fn origin(&self) -> Origin {
        Origin {
            plugin: self.plugin.to_string(),
            hint: self.hint.clone(),
            rank: self.rank,
        }
    }
}

/// Hints a single plugin may contribute at most; the runtime caps plugin output too, this
/// keeps the quadratic duplicate check bounded whatever reaches it.
const PER_PLUGIN_CAP: usize = 50;

/// What the merge did with one plugin hint (the playground shows it; serving ignores it).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Plugin name.
    pub plugin: String,
    /// The plugin's own id of the hint.
    pub hint_id: String,
    /// 1-based position of the hint in the plugin's own list.
    pub rank: u32,
    /// Weighted score (relevance clamped to 0–100 times the plugin's weight).
    pub score: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// Why a plugin hint is, or is not, in the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Served as the answer's hint with this id.
    Kept(u32),
    /// A near-duplicate of the answer's hint with this id (credited to it, not shown).
    Duplicate(u32),
    /// Scored under the threshold.
    BelowThreshold,
    /// Its text is blank once normalised.
    Blank,
    /// The answer was full (`max_hints`).
    OverLimit,
    /// Beyond the hints one plugin may contribute.
    OverPluginCap,
}

/// Merges every plugin's hints into one ranked answer.
///
/// Normalisation: a plugin's relevance is clamped to 0–100 and multiplied by the plugin's
/// weight; hints scoring under the threshold or with blank text are dropped. Ties keep the
/// plugins' order and each plugin's own order, so the result is deterministic.
pub fn merge(results: &[PluginHints], rules: &MergeRules) -> Vec<MergedHint> {
    merge_into(results, rules, None)
}

/// [`merge`], also giving the verdict on every plugin hint, in the plugins' order (each
/// plugin's hints in its own order): the same
/// code path as serving, so what the playground shows is what a request would get.
pub fn merge_explained(
    results: &[PluginHints],
    rules: &MergeRules,
) -> (Vec<MergedHint>, Vec<Decision>) {
    let mut decisions = Vec::new();
    let merged = merge_into(results, rules, Some(&mut decisions));
    // Verdicts come in scoring order; a reader looks for a plugin's hints in its own order.
    let index = |plugin: &str| results.iter().position(|r| r.plugin == plugin);
    decisions.sort_by_key(|d| (index(&d.plugin), d.rank));
    (merged, decisions)
}

/// Records one verdict when the caller wants them (serving passes `None`: no allocation).
fn decide(
    decisions: &mut Option<&mut Vec<Decision>>,
    plugin: &str,
    hint: &Hint,
    rank: u32,
    score: f64,
    verdict: Verdict,
) {
    if let Some(d) = decisions {
        d.push(Decision {
            plugin: plugin.to_string(),
            hint_id: hint.id.clone(),
            rank,
            score,
            verdict,
        });
    }
}

fn merge_into(
    results: &[PluginHints],
    rules: &MergeRules,
    mut decisions: Option<&mut Vec<Decision>>,
) -> Vec<MergedHint> {
    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    for (plugin_index, result) in results.iter().enumerate() {
        let weight = if result.weight.is_finite() {
            result.weight.max(0.0)
        } else {
            0.0
        };
        for (i, hint) in result.hints.iter().enumerate() {
            let score = f64::from(hint.relevance.min(100)) * weight;
            let rank = i as u32 + 1;
            if i >= PER_PLUGIN_CAP {
                let verdict = Verdict::OverPluginCap;
                decide(&mut decisions, &result.plugin, hint, rank, score, verdict);
                continue;
            }
            if score < rules.threshold {
                let verdict = Verdict::BelowThreshold;
                decide(&mut decisions, &result.plugin, hint, rank, score, verdict);
                continue;
            }
            let normal = normalize(&hint.text);
            if normal.is_empty() {
                decide(
                    &mut decisions,
                    &result.plugin,
                    hint,
                    rank,
                    score,
                    Verdict::Blank,
                );
                continue;
            }
            candidates.push(Candidate {
                plugin_index,
                rank,
                score,
                normal,
                plugin: &result.plugin,
                hint,
            });
        }
    }
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.plugin_index.cmp(&b.plugin_index))
            .then(a.rank.cmp(&b.rank))
    });
    // Token lists borrow the normal forms, sorted for a hash-free Jaccard.
    let tokens: Vec<Vec<&str>> = candidates
        .iter()
        .map(|c| sorted_tokens(&c.normal))
        .collect();

    let max = rules.max_hints.clamp(1, super::MAX_HINTS_CEILING) as usize;
    // (index of the kept candidate, origins of its near-duplicates)
    let mut kept: Vec<(usize, Vec<Origin>)> = Vec::with_capacity(max);
    for (ci, c) in candidates.iter().enumerate() {
        let duplicate_of = kept.iter().position(|(ki, _)| {
            candidates[*ki].normal == c.normal
                || jaccard_sorted(&tokens[*ki], &tokens[ci]) >= rules.dedupe_similarity
        });
        let verdict = match duplicate_of {
            Some(i) => {
                kept[i].1.push(c.origin());
                Verdict::Duplicate(i as u32 + 1)
            }
            None if kept.len() < max => {
                kept.push((ci, Vec::new()));
                Verdict::Kept(kept.len() as u32)
            }
            None => Verdict::OverLimit,
        };
        decide(&mut decisions, c.plugin, c.hint, c.rank, c.score, verdict);
    }

    kept.into_iter()
        .enumerate()
        .map(|(i, (ci, extra))| {
            let c = &candidates[ci];
            let hint = c.hint;
            MergedHint {
                id: i as u32 + 1,
                text: hint.text.trim().to_string(),
                url: hint.url.clone().filter(|u| !u.is_empty()),
                link: hint.link.clone().filter(|l| !l.is_empty()),
                relevance: c.score.round().clamp(0.0, 100.0) as u8,
                score: c.score,
                origins: std::iter::once(c.origin()).chain(extra).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A plugin hint with only an id, a text and a relevance (shared by the hint tests).
    pub(crate) fn hint(id: &str, text: &str, relevance: u8) -> Hint {
        Hint {
            id: id.into(),
            text: text.into(),
            url: None,
            link: None,
            relevance,
        }
    }

    fn rules() -> MergeRules {
        MergeRules {
            threshold: 10.0,
            max_hints: 5,
            dedupe_similarity: 0.8,
        }
    }

    #[test]
    fn weights_rank_and_number_from_one() {
        let results = vec![
            PluginHints {
                plugin: "faq".into(),
                weight: 1.0,
                hints: vec![hint("a", "Delivery takes 3 days", 60)],
            },
            PluginHints {
                plugin: "llm".into(),
                weight: 0.5,
                hints: vec![hint("x", "We accept cards", 100)],
            },
            PluginHints {
                plugin: "replies".into(),
                weight: 2.0,
                hints: vec![hint("r1", "Hi there", 40)],
            },
        ];
        let merged = merge(&results, &rules());
        let order: Vec<_> = merged
            .iter()
            .map(|h| (h.id, h.plugin(), h.relevance))
            .collect();
        assert_eq!(
            order,
            vec![(1, "replies", 80), (2, "faq", 60), (3, "llm", 50)]
        );
        assert_eq!(merged[0].origins[0].hint.id, "r1");
    }

    #[test]
    fn threshold_blank_text_and_max_hints() {
        let results = vec![PluginHints {
            plugin: "p".into(),
            weight: 1.0,
            hints: (0..30)
                .map(|i| {
                    hint(
                        &i.to_string(),
                        &format!("answer number {i} about topic {i}"),
                        90 - i as u8,
                    )
                })
                .chain([hint("low", "too weak", 5), hint("blank", "  ?! ", 99)])
                .collect(),
        }];
        let merged = merge(
            &results,
            &MergeRules {
                max_hints: 3,
                ..rules()
            },
        );
        assert_eq!(
            merged
                .iter()
                .map(|h| h.origins[0].hint.id.as_str())
                .collect::<Vec<_>>(),
            ["0", "1", "2"]
        );
        let merged = merge(
            &results,
            &MergeRules {
                max_hints: 99,
                ..rules()
            },
        );
        assert_eq!(merged.len(), 20, "never more than the ceiling");
        assert!(
            merged
                .iter()
                .all(|h| h.origins[0].hint.id != "low" && h.origins[0].hint.id != "blank")
        );
    }

    #[test]
    fn near_duplicates_keep_the_better_and_credit_both() {
        let results = vec![
            PluginHints {
                plugin: "faq".into(),
                weight: 1.0,
                hints: vec![hint("q1", "Your order ships in 2 days.", 70)],
            },
            PluginHints {
                plugin: "replies".into(),
                weight: 1.0,
                hints: vec![
                    hint("r9", "your order ships in 2 days", 90),
                    hint("r2", "Refunds take a week", 50),
                ],
            },
        ];
        let merged = merge(&results, &rules());
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].plugin(), "replies");
        assert_eq!(merged[0].origins.len(), 2);
        assert_eq!(merged[0].origins[1].plugin, "faq");
        assert_eq!(merged[1].id, 2);
    }

    #[test]
    fn explained_merge_gives_every_hint_its_verdict() {
        let results = vec![
            PluginHints {
                plugin: "faq".into(),
                weight: 1.0,
                hints: vec![
                    hint("q1", "Your order ships in 2 days.", 70),
                    hint("q2", "weak", 5),
                    hint("q3", " ?! ", 90),
                ],
            },
            PluginHints {
                plugin: "replies".into(),
                weight: 1.0,
                hints: vec![
                    hint("r9", "your order ships in 2 days", 90),
                    hint("r2", "Refunds take a week", 50),
                ],
            },
        ];
        let rules = MergeRules {
            max_hints: 1,
            ..rules()
        };
        let (merged, decisions) = merge_explained(&results, &rules);
        assert_eq!(merged, merge(&results, &rules), "same answer as serving");
        let mut verdicts: Vec<_> = decisions
            .iter()
            .map(|d| (d.hint_id.as_str(), d.verdict))
            .collect();
        verdicts.sort_by_key(|v| v.0);
        assert_eq!(
            verdicts,
            [
                ("q1", Verdict::Duplicate(1)),
                ("q2", Verdict::BelowThreshold),
                ("q3", Verdict::Blank),
                ("r2", Verdict::OverLimit),
                ("r9", Verdict::Kept(1)),
            ]
        );
    }

    #[test]
    fn high_token_overlap_is_a_duplicate_low_is_not() {
        let results = vec![PluginHints {
            plugin: "p".into(),
            weight: 1.0,
            hints: vec![
                hint("1", "you can pay by card pix or boleto at checkout", 80),
                hint(
                    "2",
                    "you can pay by card, pix or boleto at the checkout",
                    70,
                ),
                hint("3", "you can pay by card", 60),
            ],
        }];
        let merged = merge(&results, &rules());
        assert_eq!(
            merged
                .iter()
                .map(|h| h.origins[0].hint.id.as_str())
                .collect::<Vec<_>>(),
            ["1", "3"]
        );
    }

    #[test]
    fn empty_urls_become_none_and_bad_weights_score_zero() {
        let mut h = hint("1", "see the page", 50);
        h.url = Some(String::new());
        h.link = Some("https://shop.example/returns".into());
        let results = vec![
            PluginHints {
                plugin: "a".into(),
                weight: 1.0,
                hints: vec![h],
            },
            PluginHints {
                plugin: "b".into(),
                weight: f64::NAN,
                hints: vec![hint("2", "other", 100)],
            },
        ];
        let merged = merge(&results, &rules());
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].url, None);
        assert_eq!(
            merged[0].link.as_deref(),
            Some("https://shop.example/returns")
        );
    }
}
