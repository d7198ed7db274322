//! Okapi BM25 over a small in-memory corpus (a FAQ), with weighted query terms so recent
//! context can count less than the latest message.

use std::collections::HashMap;

/// A BM25 index. Build once, query many times.
#[derive(Debug, Clone)]
pub struct Bm25 {
    docs: Vec<HashMap<String, f64>>,
    lengths: Vec<f64>,
    idf: HashMap<String, f64>,
    avg_len: f64,
    k1: f64,
    b: f64,
}

impl Bm25 {
    /// Indexes documents given as token lists (k1 = 1.2, b = 0.75).
    pub fn new(documents: Vec<Vec<String>>) -> Self {
        let n = documents.len() as f64;
        let mut df: HashMap<String, f64> = HashMap::new();
        let mut docs = Vec::with_capacity(documents.len());
        let mut lengths = Vec::with_capacity(documents.len());
        for doc in documents {
            let mut tf: HashMap<String, f64> = HashMap::new();
            for t in &doc {
                *tf.entry(t.clone()).or_default() += 1.0;
            }
            for t in tf.keys() {
                *df.entry(t.clone()).or_default() += 1.0;
            }
            lengths.push(doc.len() as f64);
            docs.push(tf);
        }
        let avg_len = if lengths.is_empty() {
            0.0
        } else {
            lengths.iter().sum::<f64>() / n
        };
        // The "plus one" BM25 idf never goes negative for terms in most documents.
        let idf = df
            .into_iter()
            .map(|(t, d)| (t, ((n - d + 0.5) / (d + 0.5) + 1.0).ln()))
            .collect();
        Bm25 {
            docs,
            lengths,
            idf,
            avg_len,
            k1: 1.2,
            b: 0.75,
        }
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Scores every document against weighted query terms; returns `(document, score)` with
    /// score > 0, best first (ties by document order).
    pub fn search(&self, query: &[(String, f64)]) -> Vec<(usize, f64)> {
        let mut scores: Vec<(usize, f64)> = Vec::new();
        for (i, tf) in self.docs.iter().enumerate() {
            let norm = self.k1 * (1.0 - self.b + self.b * self.lengths[i] / self.avg_len.max(1e-9));
            let mut s = 0.0;
            for (term, weight) in query {
                if let (Some(f), Some(idf)) = (tf.get(term), self.idf.get(term)) {
                    s += weight * idf * f * (self.k1 + 1.0) / (f + norm);
                }
            }
            if s > 0.0 {
                scores.push((i, s));
            }
        }
        scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scores
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens;

    #[test]
    fn finds_the_matching_document_first() {
        let index = Bm25::new(vec![
            tokens("How long does delivery take? Delivery takes 3 to 5 business days"),
            tokens("How can I return a product? Returns are free within 30 days"),
            tokens("Which payment methods do you accept? Card, PIX and boleto"),
        ]);
        let q: Vec<(String, f64)> = tokens("can I pay with pix?")
            .into_iter()
            .map(|t| (t, 1.0))
            .collect();
        assert_eq!(index.search(&q)[0].0, 2);
        let q: Vec<(String, f64)> = tokens("I want to return my product")
            .into_iter()
            .map(|t| (t, 1.0))
            .collect();
        assert_eq!(index.search(&q)[0].0, 1);
        assert!(index.search(&[("zzz".into(), 1.0)]).is_empty());
    }
}
