//! hintd: a WebAssembly plugin host for AI hint providers of contact-center chat platforms.
//!
//! Data flows one way through the modules:
//! [`ingest`] (platform webhooks → one [`ingest::Event`]) → [`context`] (each dialog's recent
//! messages) → [`plugins`] (sandboxed provider components) → [`hints`] (fan-out, merge,
//! feedback, callbacks) → [`dispatch`] (webhook subscriptions and durable delivery).
//! [`store`] sits under all of them; [`core`] holds the value types they share. [`api`] is the
//! only place HTTP routes live, [`app`] wires the layers together and [`cli`] is the binary.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod context;
pub mod core;
pub mod dispatch;
#[doc(hidden)]
pub mod fuzzing;
pub mod hints;
pub mod ingest;
pub mod plugins;
pub mod store;
