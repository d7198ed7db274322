//! SDK for hintd hint-provider plugins.
//!
//! A plugin implements [`Provider`] and calls [`export_plugin!`] once:
//!
//! ```ignore
//! use hintd_plugin::{Provider, HintRequest, Hint, ProviderError, PluginInfo};
//!
//! struct Greeter;
//!
//! impl Provider for Greeter {
//!     fn describe() -> PluginInfo { PluginInfo::new("greeter", "0.1.0", "Says hello") }
//!     fn suggest(req: HintRequest) -> Result<Vec<Hint>, ProviderError> {
//!         Ok(vec![Hint::new("1", "Hello! How can I help?", 80)])
//!     }
//! }
//!
//! hintd_plugin::export_plugin!(Greeter);
//! ```
//!
//! The host capabilities are re-exported as [`log`], [`kv`], [`http`] and [`config`]; each
//! works only when the plugin's manifest grants it.

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

pub use bindings::hintd::provider::types::{
    ConversationEvent, DialogRef, Feedback, Hint, HintRequest, Message, PluginInfo,
    ProviderError, Role,
};
pub use bindings::hintd::provider::{config, http, kv};

/// Host logging, tagged with the plugin name on the host side.
pub mod log {
    pub use crate::bindings::hintd::provider::log::{Level, write};

    /// Logs at info level.
    pub fn info(message: &str) {
        write(Level::Info, message);
    }

    /// Logs at warn level.
    pub fn warn(message: &str) {
        write(Level::Warn, message);
    }

    /// Logs at debug level.
    pub fn debug(message: &str) {
        write(Level::Debug, message);
    }
}

/// What a plugin implements. Only `describe` and `suggest` are required.
pub trait Provider {
    /// Names the plugin; called once at load.
    fn describe() -> PluginInfo;
    /// Ranked hints for a request, best first.
    fn suggest(req: HintRequest) -> Result<Vec<Hint>, ProviderError>;
    /// The operator's choice; default: ignored.
    fn feedback(_fb: Feedback) {}
    /// A conversation event; default: ignored.
    fn observe(_event: ConversationEvent) {}
}

impl PluginInfo {
    /// Builds a `PluginInfo`.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        PluginInfo { name: name.into(), version: version.into(), description: description.into() }
    }
}

impl Hint {
    /// A hint without url or link.
    pub fn new(id: impl Into<String>, text: impl Into<String>, relevance: u8) -> Self {
        Hint { id: id.into(), text: text.into(), url: None, link: None, relevance: relevance.min(100) }
    }
}

impl HintRequest {
    /// The most recent client message of the context, if any.
    pub fn last_client_message(&self) -> Option<&Message> {
        self.context.iter().rev().find(|m| m.role == Role::Client)
    }
}

/// Typed access to the plugin's `[config]` table.
pub mod settings {
    use std::sync::OnceLock;

    /// The table, read from the host once per instance: it cannot change while an instance
    /// lives (a changed manifest is a new plugin version with new instances), and reused
    /// instances then pay neither the host call nor the JSON parse again.
    fn table() -> &'static serde_json::Value {
        static TABLE: OnceLock<serde_json::Value> = OnceLock::new();
        TABLE.get_or_init(|| serde_json::from_str(&crate::config::get_all()).unwrap_or(serde_json::Value::Null))
    }

    /// A config value; `None` when absent or of another type.
    pub fn get<T: FromJson>(key: &str) -> Option<T> {
        T::from_json(table().get(key)?)
    }

    /// The whole table (an empty object when the manifest does not grant `config`).
    pub fn all() -> serde_json::Value {
        table().clone()
    }

    /// Conversion from a JSON config value.
    pub trait FromJson: Sized {
        /// Decodes the value, `None` on a type mismatch.
        fn from_json(v: &serde_json::Value) -> Option<Self>;
    }

    impl FromJson for String {
        fn from_json(v: &serde_json::Value) -> Option<Self> {
            v.as_str().map(str::to_owned)
        }
    }
    impl FromJson for i64 {
        fn from_json(v: &serde_json::Value) -> Option<Self> {
            v.as_i64()
        }
    }
    impl FromJson for f64 {
        fn from_json(v: &serde_json::Value) -> Option<Self> {
            v.as_f64()
        }
    }
    impl FromJson for bool {
        fn from_json(v: &serde_json::Value) -> Option<Self> {
            v.as_bool()
        }
    }
    impl FromJson for serde_json::Value {
        fn from_json(v: &serde_json::Value) -> Option<Self> {
            Some(v.clone())
        }
    }
}

/// Exports a [`Provider`] implementation as the plugin's `hint-provider` component.
#[macro_export]
macro_rules! export_plugin {
    ($provider:ty) => {
        #[doc(hidden)]
        struct __HintdPluginExport;

        impl $crate::bindings::exports::hintd::provider::provider::Guest for __HintdPluginExport {
            fn describe() -> $crate::PluginInfo {
                <$provider as $crate::Provider>::describe()
            }
            fn suggest(
                req: $crate::HintRequest,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::Hint>, $crate::ProviderError> {
                <$provider as $crate::Provider>::suggest(req)
            }
            fn feedback(fb: $crate::Feedback) {
                <$provider as $crate::Provider>::feedback(fb)
            }
            fn observe(event: $crate::ConversationEvent) {
                <$provider as $crate::Provider>::observe(event)
            }
        }

        $crate::bindings::__export_hint_provider!(__HintdPluginExport with_types_in $crate::bindings);
    };
}
