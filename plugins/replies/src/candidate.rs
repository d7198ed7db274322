//! A learned reply and its quality.

use serde::{Deserialize, Serialize};

/// Client messages kept per candidate as examples of what it answers.
pub const MAX_EXAMPLES: usize = 8;

/// A reply operators gave, with the client messages it answered and its Beta(α, β) quality.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Candidate {
    /// Reply text; `{name}` where the client's name was.
    pub text: String,
    /// Client messages it answered (most recent last).
    pub examples: Vec<String>,
    /// Successes + 1.
    pub alpha: f64,
    /// Failures + 1.
    pub beta: f64,
    /// Times an operator sent it.
    pub seen: u32,
}

impl Candidate {
    /// A candidate seen once, with the uninformed prior Beta(1, 1).
    pub fn new(text: String) -> Self {
        Candidate {
            text,
            examples: Vec::new(),
            alpha: 1.0,
            beta: 1.0,
            seen: 0,
        }
    }

    /// Posterior mean of its acceptance.
    pub fn quality(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// Adds an example, keeping the most recent distinct ones.
    pub fn add_example(&mut self, example: String) {
        self.examples.retain(|e| e != &example);
        self.examples.push(example);
        if self.examples.len() > MAX_EXAMPLES {
            self.examples.remove(0);
        }
    }
}
