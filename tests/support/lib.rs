//! Shared helpers of hintd's end-to-end tests: building plugins from source, starting the real
//! program on loopback ports, receiving webhooks.

pub mod browser;
pub mod chat2desk;
pub mod guests;
pub mod js;
pub mod llm_mock;
pub mod plugins;
pub mod receiver;
pub mod registry;
pub mod server;
pub mod store;
