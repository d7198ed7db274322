//! The plugin registry in-process, for tests that call plugins directly: a store in a test's
//! directory, a plugins config for it, and a one-message hint request.

use hintd::core::{DialogKey, Message, Role, Source};
use hintd::plugins::{HintRequest, PluginsConfig};
use hintd::store::{Store, StoreConfig};
use std::path::Path;
use std::sync::Arc;

/// An SQLite store at `<dir>/hintd.db`.
pub async fn sqlite_store(dir: &Path) -> Arc<dyn Store> {
    hintd::store::open(&StoreConfig {
        url: format!("sqlite://{}/hintd.db", dir.display()),
        ..StoreConfig::default()
    })
    .await
    .unwrap()
}

/// Plugins from `<root>/plugins`, compiled into `<root>/cache`, no hot reload, no breaker.
pub fn plugins_config(root: &Path) -> PluginsConfig {
    PluginsConfig {
        dir: Some(root.join("plugins")),
        cache_dir: root.join("cache"),
        hot_reload: false,
        breaker_failures: 0,
        ..PluginsConfig::default()
    }
}

/// A request for hints in dialog `d1` of `account` whose context is one client message.
pub fn hint_request(account: &str, text: &str) -> HintRequest {
    HintRequest {
        request_id: "r1".into(),
        dialog: DialogKey::new(Source::Api, account, "d1"),
        client_id: "c1".into(),
        operator_id: None,
        channel_id: None,
        transport: None,
        message_id: "m1".into(),
        external_key: None,
        context: vec![Message {
            id: "m1".into(),
            role: Role::Client,
            text: text.into(),
            sent_at_ms: 1,
            private: false,
            media_type: None,
            media_url: None,
        }],
        max_hints: 5,
        deadline_ms: 0,
    }
}
