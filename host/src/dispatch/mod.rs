//! Webhook hub: subscriptions, the durable outbox, signing and retries; deliveries are guarded
//! by the outbound-network policy of [`crate::core::outbound`].
//!
//! Platforms allow few webhooks, so a company points them at hintd and hintd fans every
//! accepted event out to its own systems:
//!
//! - [`catalog`]: the event names a webhook can subscribe to.
//! - [`subscription`]: validation of what the API receives.
//! - [`service`]: the [`Dispatcher`] the API and the app use.
//! - [`worker`]: fan-out from the event log into the outbox, and the delivery loop.
//! - [`deliver`]: one signed HTTP attempt and what its outcome means.
//! - [`envelope`]: the JSON subscribers receive.
//! - [`retry`], [`secrets`], [`retention`]: the policies around it.
//!
//! Delivery guarantee: at-least-once. Every event committed to the log gets one outbox
//! message per matching webhook, created in the same transaction that advances the fan-out
//! cursor, so a crash loses nothing; a message leased by a process that dies is taken over
//! when its lease ends. The `webhook-id` header is stable per (webhook, event), so receivers
//! deduplicate on it. Order: messages of one dialog to one webhook are attempted in event
//! order — a message is not attempted while an earlier one of the same dialog is in flight
//! or waiting for a retry — as long as the earlier ones end delivered or given up; across
//! dialogs, deliveries run concurrently (bounded per webhook).

pub mod catalog;
mod config;
pub mod deliver;
pub mod duration;
pub mod envelope;
pub mod retention;
pub mod retry;
pub mod secrets;
pub mod service;
pub mod subscription;
pub mod worker;

pub use config::{DispatchConfig, InvalidDispatchConfig};
pub use duration::{parse_duration, parse_duration_list};
pub use service::{DispatchError, Dispatcher};
