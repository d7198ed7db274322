//! replies: suggests what operators answered before to similar client messages.
//!
//! Learning (`observe`): client messages of a dialog are remembered until an operator replies;
//! the reply then becomes (or reinforces) a candidate whose "questions" are those client
//! messages. Candidates live in kv under `c/<source>/<account>/<hash of the reply>`, so each
//! account learns only from its own dialogues. The client's name is replaced by a `{name}`
//! slot when learned and filled (or dropped) when suggested.
//!
//! Ranking (`suggest`): cosine similarity of content words × quality, the posterior mean of
//! a Beta(α, β) starting at Beta(1, 1). `feedback` adds 1 to α of the chosen reply and 1 to β
//! of every reply shown but not chosen; an operator typing a known reply again adds ½ to α.

use hintd_plugin::{
    ConversationEvent, Feedback, Hint, HintRequest, PluginInfo, Provider, ProviderError, Role,
    settings,
};

mod candidate;
mod names;
mod rank;
mod store;

/// The plugin: what it keeps between calls of one instance.
#[derive(Default)]
struct Replies {
    /// The parsed candidates of the account asked about last.
    cache: rank::Cache,
}

impl Provider for Replies {
    fn describe(&mut self) -> PluginInfo {
        PluginInfo::new(
            "replies",
            env!("CARGO_PKG_VERSION"),
            "Operators' past replies to similar questions, learned",
        )
    }

    fn suggest(&mut self, req: HintRequest) -> Result<Vec<Hint>, ProviderError> {
        let settings = rank::Settings {
            max_hints: settings::get::<i64>("max_hints").unwrap_or(3).clamp(1, 20) as usize,
            min_similarity: settings::get::<f64>("min_similarity").unwrap_or(0.2),
            max_candidates: settings::get::<i64>("max_candidates")
                .unwrap_or(2000)
                .clamp(1, 100_000) as u32,
        };
        rank::suggest(&req, &settings, &mut self.cache)
    }

    fn feedback(&mut self, fb: Feedback) {
        rank::learn_from_feedback(&fb);
    }

    fn observe(&mut self, event: ConversationEvent) {
        match event {
            ConversationEvent::MessageAdded((at, message)) if !message.private => {
                match message.role {
                    Role::Client => store::remember_client_message(&at, &message.text),
                    Role::Operator => store::learn_reply(&at, &message.text),
                    Role::Bot | Role::System => {}
                }
            }
            ConversationEvent::DialogClosed(at) => store::forget_dialog(&at),
            _ => {}
        }
    }
}

hintd_plugin::export_plugin!(Replies);
