//! Platform webhooks in, one normalised [`Event`] out.
//!
//! [`parse`] reads a body leniently (see `lenient`) into an [`Event`]; [`verify`] decides
//! whether the request may post at all; [`SourcesConfig`] says which platforms and accounts
//! exist, and [`panel_access`] who may open the hint panel for which of them. Storing the
//! event and updating the context is the next layer's job.

pub mod chat2desk;
pub mod chatwoot;
mod config;
mod error;
mod event;
mod ids;
pub(crate) mod lenient;
pub mod panel_access;
pub mod verify;
pub mod whazing;

pub use config::{
    AccountConfig, AccountLookupError, AccountSettings, ChatwootApi, DEFAULT_ACCOUNT, Delivery,
    SourceConfig, SourcesConfig,
};
pub use error::ParseError;
pub use event::{Event, EventKind, EventMeta};
pub use ids::{IdError, MAX_ID_LEN, check_id};

use crate::core::Source;
use lenient::Fields;
use sha2::{Digest, Sha256};

/// Longest event type name kept; longer names (only hostile senders make them) are cut.
pub const MAX_EVENT_TYPE_LEN: usize = 64;

/// Longest redelivery key stored as is; longer ones (built from huge ids) are replaced by a
/// digest so that the dedup index stays small.
pub const MAX_DEDUP_KEY_LEN: usize = 200;

/// A parsed webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The normalised event.
    pub event: Event,
    /// Whether the platform's event type is one hintd knows (unknown ones are kept as
    /// [`EventKind::Other`]).
    pub known_type: bool,
}

/// Whether the parser recognised the event type.
pub(crate) enum Recognised {
    /// A documented event.
    Known(EventKind),
    /// An event type hintd does not know.
    Unknown(EventKind),
}

/// Parses one webhook body of `source` for `account`. `received_at_ms` stands in for the
/// event's time when the platform gives none.
pub fn parse(
    source: Source,
    account: &str,
    body: &[u8],
    received_at_ms: i64,
) -> Result<Parsed, ParseError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ParseError::InvalidJson(e.to_string()))?;
    let obj = value.as_object().ok_or(ParseError::NotAnObject)?;
    let root = Fields::root(obj);
    let mut meta = EventMeta {
        source: Some(source),
        account: account.to_string(),
        occurred_at_ms: received_at_ms,
        ..EventMeta::default()
    };
    let recognised = match source {
        Source::Chat2desk => chat2desk::parse(root, body, &mut meta)?,
        Source::Chatwoot => chatwoot::parse(root, body, &mut meta)?,
        Source::Whazing => whazing::parse(root, body, &mut meta)?,
        Source::Api => {
            return Err(ParseError::field(
                "source",
                "the api source has no webhook format",
            ));
        }
    };
    if meta.event_type.len() > MAX_EVENT_TYPE_LEN {
        let mut cut = MAX_EVENT_TYPE_LEN;
        while !meta.event_type.is_char_boundary(cut) {
            cut -= 1;
        }
        meta.event_type.truncate(cut);
    }
    if let Some(key) = meta
        .dedup_key
        .as_mut()
        .filter(|k| k.len() > MAX_DEDUP_KEY_LEN)
    {
        *key = format!(
            "long:{}",
            hex::encode(&Sha256::digest(key.as_bytes())[..16])
        );
    }
    let (kind, known_type) = match recognised {
        Recognised::Known(k) => (k, true),
        Recognised::Unknown(k) => (k, false),
    };
    Ok(Parsed {
        event: Event { meta, kind },
        known_type,
    })
}

/// A redelivery key for events without an id of their own: a digest of the exact body (a
/// platform's redelivery repeats the body byte for byte).
pub(crate) fn body_key(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("body:{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests;
