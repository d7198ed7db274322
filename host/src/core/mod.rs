//! Value types shared by every layer: platforms, dialog keys, messages, time.

mod message;
pub mod signature;
mod source;
mod time;

pub use message::{Message, Role};
pub use source::{DialogKey, Source, UnknownSource};
pub use time::now_ms;
