//! Hint requests: fan-out to plugins, merge and rank, feedback, callbacks.
//!
//! [`Hints`] is the service the API uses: [`Hints::request`] serves one hints request
//! (idempotent per platform request id, persisted, announced as `hints.generated`),
//! [`Hints::choose`] routes an operator's choice back to the plugins (`hint.selected`),
//! [`Hints::spawn_callback`] delivers an answer to a platform's callback URL,
//! [`Hints::playground`] runs an inline dialogue without storing anything,
//! [`Hints::panel_view`] gives the hint panel a dialog's current hints, [`Hints::deliver`]
//! serves a request the way its source is configured to receive hints (inline, callback,
//! both, or a Chatwoot private [`note`]). The policy
//! pieces are pure and tested on their own: [`merge`], [`reply`], [`feedback`], [`callback`].

pub mod answer;
pub mod baselines;
pub mod callback;
mod config;
pub mod context_source;
mod debounce;
pub mod delivery;
mod error;
pub mod evaluation;
pub mod feedback;
mod generated;
pub mod merge;
pub mod note;
pub mod panel;
pub mod pipeline;
mod platform_queries;
pub mod playground;
pub mod providers;
pub mod reply;
mod service;
pub mod text;
mod writer;

pub use answer::Answer;
pub use config::{HintsConfig, InvalidHintsConfig, MAX_HINTS_CEILING};
pub use context_source::{ContextSource, LatestClientMessage};
pub use delivery::Delivered;
pub use error::HintsError;
pub use merge::{MergeRules, MergedHint, Origin, PluginHints, merge};
pub use panel::{PanelHint, PanelView};
pub use playground::{MAX_PLAYGROUND_MESSAGES, Playground, PlaygroundQuery};
pub use providers::{ProviderFailure, ProviderSlot, Providers};
pub use reply::{HintsReply, ReplyHint};
pub use service::{ChoiceOutcome, ChoiceQuery, HintQuery, Hints, REQUEST_OUTCOMES, Served};
