//! The chat platforms hintd ingests, and how a dialog is identified across them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A platform that sends events to hintd, or hintd itself for its own events.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Chat2Desk webhooks (`hook_type` payloads).
    Chat2desk,
    /// Chatwoot account webhooks (`event` payloads).
    Chatwoot,
    /// Whazing webhooks (`Type` payloads and message events).
    Whazing,
    /// hintd's own API (`POST /api/v1/hints`) and hintd's own events.
    Api,
}

impl Source {
    /// Every platform that has a webhook endpoint.
    pub const PLATFORMS: [Source; 3] = [Source::Chat2desk, Source::Chatwoot, Source::Whazing];

    /// The lowercase name used in URLs, config and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Chat2desk => "chat2desk",
            Source::Chatwoot => "chatwoot",
            Source::Whazing => "whazing",
            Source::Api => "api",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A source name that is not one of hintd's platforms.
#[derive(Debug, thiserror::Error)]
#[error("unknown source `{0}`: expected chat2desk, chatwoot, whazing or api")]
pub struct UnknownSource(pub String);

impl FromStr for Source {
    type Err = UnknownSource;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "chat2desk" => Ok(Source::Chat2desk),
            "chatwoot" => Ok(Source::Chatwoot),
            "whazing" => Ok(Source::Whazing),
            "api" => Ok(Source::Api),
            other => Err(UnknownSource(other.to_string())),
        }
    }
}

/// A dialog is unique per (source, account, dialog id): two accounts of one platform may
/// reuse dialog numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DialogKey {
    /// The platform.
    pub source: Source,
    /// The account (tenant) inside the platform; `default` when the source has none configured.
    pub account: String,
    /// The platform's dialog, conversation or ticket id, as a string.
    pub dialog_id: String,
}

impl DialogKey {
    /// Builds a key.
    pub fn new(source: Source, account: impl Into<String>, dialog_id: impl Into<String>) -> Self {
        DialogKey {
            source,
            account: account.into(),
            dialog_id: dialog_id.into(),
        }
    }
}

impl fmt::Display for DialogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.source, self.account, self.dialog_id)
    }
}
