//! SDK for hintd hint-provider plugins.
//!
//! A plugin implements [`Provider`] and calls [`export_plugin!`] once. The macro keeps one
//! value of the type per component instance, made on its first call, and hands it to every
//! call as `&mut self`: with `instance = "reuse"` in the manifest, what a call leaves there
//! (a parsed index, a cache) is there for the next call of the same instance.
//!
//! ```no_run
//! use hintd_plugin::{Hint, HintRequest, PluginInfo, Provider, ProviderError, kv};
//!
//! #[derive(Default)]
//! struct Greeter {
//!     /// Requests this instance answered.
//!     answered: u64,
//! }
//!
//! impl Provider for Greeter {
//!     fn describe(&mut self) -> PluginInfo {
//!         PluginInfo::new("greeter", "0.1.0", "Says hello")
//!     }
//!
//!     fn suggest(&mut self, req: HintRequest) -> Result<Vec<Hint>, ProviderError> {
//!         self.answered += 1;
//!         // Kept across instances in the host's store; a kv error converts with `?`.
//!         let greeting: Option<String> = kv::get_json(&format!("greeting/{}", req.account))?;
//!         let greeting = greeting.unwrap_or_else(|| "Hello! How can I help?".into());
//!         Ok(vec![Hint::new("hello", greeting, 80)])
//!     }
//! }
//!
//! hintd_plugin::export_plugin!(Greeter);
//! # fn main() {}
//! ```
//!
//! A type without a `Default`, or one that reads its configuration first, names its
//! constructor: `export_plugin!(Faq, Faq::from_config)`.
//!
//! The host capabilities are [`log`], [`kv`], [`http`] and [`config`] (typed through
//! [`settings`]); each works only when the plugin's manifest grants it. Their errors convert
//! into [`ProviderError`], so `?` works inside `suggest`.

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "hint-provider",
        pub_export_macro: true,
        export_macro_name: "__export_hint_provider",
        default_bindings_module: "hintd_plugin::bindings",
        generate_all,
    });
}

mod errors;
#[doc(hidden)]
pub mod export;
pub mod http;
pub mod kv;
pub mod log;
pub mod settings;

pub use bindings::hintd::provider::config;
pub use bindings::hintd::provider::types::{
    ConversationEvent, DialogRef, Feedback, Hint, HintRequest, Message, PluginInfo, ProviderError,
    Role,
};

/// What a plugin implements. Only `describe` and `suggest` are required.
///
/// One value serves every call of a component instance (see [`export_plugin!`]); calls never
/// overlap, so `&mut self` needs no lock.
pub trait Provider {
    /// Names the plugin; called once at load.
    fn describe(&mut self) -> PluginInfo;
    /// Ranked hints for a request, best first.
    fn suggest(&mut self, req: HintRequest) -> Result<Vec<Hint>, ProviderError>;
    /// The operator's choice; default: ignored.
    fn feedback(&mut self, _fb: Feedback) {}
    /// A conversation event; default: ignored.
    fn observe(&mut self, _event: ConversationEvent) {}
}

impl PluginInfo {
    /// Builds a `PluginInfo`.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        PluginInfo {
            name: name.into(),
            version: version.into(),
            description: description.into(),
        }
    }
}

impl Hint {
    /// A hint without url or link.
    pub fn new(id: impl Into<String>, text: impl Into<String>, relevance: u8) -> Self {
        Hint {
            id: id.into(),
            text: text.into(),
            url: None,
            link: None,
            relevance: relevance.min(100),
        }
    }
}

impl HintRequest {
    /// The most recent client message of the context, if any.
    pub fn last_client_message(&self) -> Option<&Message> {
        self.context.iter().rev().find(|m| m.role == Role::Client)
    }
}
