//! The plugins as the hint pipeline sees them: a small trait, so the pipeline's policy
//! (deadline, merge, feedback routing) is tested without a wasm runtime, and implemented by
//! the plugin [`Registry`].

use crate::plugins::{Feedback, Hint, HintRequest, Registry};
use std::sync::Arc;

/// One enabled provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSlot {
    /// Plugin name.
    pub name: String,
    /// Merge weight.
    pub weight: f64,
}

/// Why a provider gave no hints, as a metrics label and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderFailure {
    /// `error`, `timeout`, `trap`, `oom`, `rejected`, `skipped`, ...
    pub outcome: &'static str,
    /// What happened, for logs.
    pub message: String,
}

/// What the pipeline needs from the plugins.
#[async_trait::async_trait]
pub trait Providers: Send + Sync + 'static {
    /// Enabled providers, in a stable order (the merge's tie-break).
    fn slots(&self) -> Vec<ProviderSlot>;
    /// Hints of one provider.
    async fn suggest(
        &self,
        name: &str,
        req: &Arc<HintRequest>,
    ) -> Result<Vec<Hint>, ProviderFailure>;
    /// The operator's choice, to one provider.
    async fn feedback(&self, name: &str, fb: &Feedback) -> Result<(), ProviderFailure>;
}

fn failure(e: crate::plugins::CallError) -> ProviderFailure {
    ProviderFailure {
        outcome: e.outcome().as_str(),
        message: e.to_string(),
    }
}

#[async_trait::async_trait]
impl Providers for Registry {
    fn slots(&self) -> Vec<ProviderSlot> {
        self.enabled()
            .into_iter()
            .map(|p| ProviderSlot {
                name: p.name,
                weight: p.weight,
            })
            .collect()
    }

    async fn suggest(
        &self,
        name: &str,
        req: &Arc<HintRequest>,
    ) -> Result<Vec<Hint>, ProviderFailure> {
        Registry::suggest(self, name, req.clone())
            .await
            .map_err(failure)
    }

    async fn feedback(&self, name: &str, fb: &Feedback) -> Result<(), ProviderFailure> {
        Registry::feedback(self, name, fb).await.map_err(failure)
    }
}
