//! One message of a dialog, normalised from any platform.

use serde::{Deserialize, Serialize};

/// Who wrote a message. Mirrors the WIT `role` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The platform's customer.
    Client,
    /// A human operator.
    Operator,
    /// An automated reply (bot, template).
    Bot,
    /// A platform notice.
    System,
}

impl Role {
    /// The lowercase name used in storage and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Operator => "operator",
            Role::Bot => "bot",
            Role::System => "system",
        }
    }

    /// Parses the stored name; unknown names read as `system`.
    pub fn parse(s: &str) -> Role {
        match s {
            "client" => Role::Client,
            "operator" => Role::Operator,
            "bot" => Role::Bot,
            _ => Role::System,
        }
    }
}

/// A message as the context window and the plugins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    /// The platform's message id.
    pub id: String,
    /// Author role.
    pub role: Role,
    /// Plain text; empty for media without caption.
    pub text: String,
    /// Sent time, unix ms.
    pub sent_at_ms: i64,
    /// A private note: stored, never shown to plugins as client-visible context.
    #[serde(default)]
    pub private: bool,
    /// Attachment media type, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Attachment URL, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
}
