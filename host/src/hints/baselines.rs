//! Reference systems for `hintd eval --baselines`, computed on the same replay as the plugins so
//! that every report shows the bar to beat and the ceiling:
//!
//! - **BM25 over history**: the operator replies sent earlier in the same account, ranked by the
//!   BM25 score of what the client wrote before each of them against what the client wrote
//!   now. The plain retrieval any learning plugin should beat.
//! - **Oracle**: whether any reply sent earlier in the account matches this one by the eval's
//!   match rule. No system that suggests past replies can do better: its hit rate is the
//!   ceiling of every retrieval plugin.
//!
//! Both learn from the replay as it goes, in time order, like the plugins (nothing of a later
//! message is known earlier).

use super::text::{jaccard_sorted, normalize};
use std::collections::HashMap;

/// BM25's term-frequency saturation.
const K1: f64 = 1.2;
/// BM25's length normalisation.
const B: f64 = 0.75;

/// One account's history: the replies seen so far and the index of what preceded them.
#[derive(Default)]
struct AccountHistory {
    /// Distinct replies by normal form: (text as first written, sorted token ids).
    replies: Vec<(String, Vec<u32>)>,
    by_normal: HashMap<String, usize>,
    /// Per indexed reply occurrence: (reply index, token count of its question).
    docs: Vec<(usize, u32)>,
    /// Token id → (doc, term frequency).
    postings: HashMap<u32, Vec<(u32, u32)>>,
    total_len: u64,
}

/// The baselines' state over a whole replay.
#[derive(Default)]
pub struct HistoryBaselines {
    accounts: HashMap<String, AccountHistory>,
    vocabulary: HashMap<String, u32>,
}

impl HistoryBaselines {
    fn token_ids(&mut self, text: &str) -> Vec<u32> {
        let normal = normalize(text);
        normal
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(|t| {
                let next = self.vocabulary.len() as u32;
                *self.vocabulary.entry(t.to_string()).or_insert(next)
            })
            .collect()
    }

    /// Up to `n` distinct earlier replies of `account`, best first, for a client who wrote
    /// `question`.
    pub fn bm25(&mut self, account: &str, question: &str, n: usize) -> Vec<String> {
        let mut query = self.token_ids(question);
        query.sort_unstable();
        query.dedup();
        let Some(history) = self.accounts.get(account) else {
            return Vec::new();
        };
        if history.docs.is_empty() {
            return Vec::new();
        }
        let docs = history.docs.len() as f64;
        let avg_len = history.total_len as f64 / docs;
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for token in query {
            let Some(postings) = history.postings.get(&token) else {
                continue;
            };
            let df = postings.len() as f64;
            let idf = ((docs - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(doc, tf) in postings {
                let len = f64::from(history.docs[doc as usize].1);
                let tf = f64::from(tf);
                *scores.entry(doc).or_default() +=
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg_len));
            }
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        // Ties go to the more recent occurrence, then the order is total.
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        let mut out: Vec<String> = Vec::with_capacity(n);
        let mut taken: Vec<usize> = Vec::with_capacity(n);
        for (doc, _) in ranked {
            let reply = history.docs[doc as usize].0;
            if !taken.contains(&reply) {
                taken.push(reply);
                out.push(history.replies[reply].0.clone());
                if out.len() == n {
                    break;
                }
            }
        }
        out
    }

    /// Whether an earlier reply of `account` matches `reply` by the eval's rule (same normal
    /// form, or token Jaccard at least `threshold`).
    pub fn oracle(&mut self, account: &str, reply: &str, threshold: f64) -> bool {
        let normal = normalize(reply);
        if normal.is_empty() {
            return false;
        }
        let mut tokens = self.token_ids(reply);
        tokens.sort_unstable();
        tokens.dedup();
        let Some(history) = self.accounts.get(account) else {
            return false;
        };
        if history.by_normal.contains_key(&normal) {
            return true;
        }
        // Jaccard ≥ t needs the smaller set to be at least t times the larger.
        let len = tokens.len() as f64;
        history.replies.iter().any(|(_, other)| {
            let other_len = other.len() as f64;
            other_len >= threshold * len
                && len >= threshold * other_len
                && jaccard_sorted(&tokens, other) >= threshold
        })
    }

    /// Learns that an operator of `account` answered `reply` to a client who wrote `question`.
    pub fn learn(&mut self, account: &str, question: &str, reply: &str) {
        let normal = normalize(reply);
        if normal.is_empty() {
            return;
        }
        let question_tokens = self.token_ids(question);
        let mut reply_tokens = self.token_ids(reply);
        reply_tokens.sort_unstable();
        reply_tokens.dedup();
        let history = self.accounts.entry(account.to_string()).or_default();
        let index = match history.by_normal.get(&normal) {
            Some(&i) => i,
            None => {
                history.replies.push((reply.to_string(), reply_tokens));
                history.by_normal.insert(normal, history.replies.len() - 1);
                history.replies.len() - 1
            }
        };
        if question_tokens.is_empty() {
            return;
        }
        let doc = history.docs.len() as u32;
        history.docs.push((index, question_tokens.len() as u32));
        history.total_len += question_tokens.len() as u64;
        let mut tf: HashMap<u32, u32> = HashMap::new();
        for t in question_tokens {
            *tf.entry(t).or_default() += 1;
        }
        for (token, count) in tf {
            history
                .postings
                .entry(token)
                .or_default()
                .push((doc, count));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm25_ranks_the_reply_to_the_closest_question_first_and_per_account() {
        let mut b = HistoryBaselines::default();
        b.learn(
            "shop",
            "how long does delivery take",
            "Delivery takes 3 days.",
        );
        b.learn("shop", "can I get a refund", "Refunds take 5 days.");
        b.learn(
            "shop",
            "when will my delivery arrive",
            "Delivery takes 3 days!",
        );
        b.learn("bank", "my card is blocked", "Call us to unblock it.");
        let ranked = b.bm25("shop", "is a refund possible", 3);
        assert_eq!(ranked[0], "Refunds take 5 days.");
        // The two deliveries share a normal form: one candidate, first as written.
        assert_eq!(
            b.bm25("shop", "delivery", 3),
            vec!["Delivery takes 3 days."]
        );
        assert!(b.bm25("bank", "delivery", 3).is_empty());
        assert!(b.bm25("nobody", "delivery", 3).is_empty());
    }

    #[test]
    fn the_oracle_knows_only_earlier_replies_of_the_account() {
        let mut b = HistoryBaselines::default();
        assert!(!b.oracle("shop", "Your order ships tomorrow", 0.6));
        b.learn("shop", "when", "Your order ships tomorrow.");
        assert!(b.oracle("shop", "your order ships tomorrow!", 0.6));
        assert!(b.oracle("shop", "Good news: your order ships tomorrow", 0.6));
        assert!(!b.oracle("shop", "Refunds take five days", 0.6));
        assert!(!b.oracle("bank", "Your order ships tomorrow", 0.6));
    }
}
