//! Value types and policies shared by every layer: platforms, dialog keys, messages, time,
//! signatures and the outbound-network policy.

mod message;
pub mod outbound;
pub mod signature;
mod source;
mod time;

pub use message::{Message, Role};
pub use source::{DialogKey, Source, UnknownSource};
pub use time::now_ms;
