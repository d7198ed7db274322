//! Errors of the hint pipeline, each naming what was wrong.

/// Why a hint request or a choice could not be served.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HintsError {
    /// A field of the request is missing or out of range.
    #[error("{field}: {reason}")]
    InvalidRequest {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No served answer matches the message (and client) of a choice.
    #[error("no hints were served for message {message_id}{client}", client = client_id.as_ref().map(|c| format!(" of client {c}")).unwrap_or_default())]
    UnknownAnswer {
        /// The message asked about.
        message_id: String,
        /// The client, when given.
        client_id: Option<String>,
    },
    /// The answer exists but has no hint with that id.
    #[error("hint {hint_id} was not among the {count} hints served for message {message_id}")]
    UnknownHint {
        /// The message.
        message_id: String,
        /// The id asked about.
        hint_id: i64,
        /// Hints the answer had.
        count: usize,
    },
    /// The store or the context could not be read or written.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::store::StoreError> for HintsError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_unavailable() {
            HintsError::Unavailable(e.to_string())
        } else {
            HintsError::Internal(e.to_string())
        }
    }
}

impl From<super::writer::WriteError> for HintsError {
    fn from(e: super::writer::WriteError) -> Self {
        if e.is_unavailable() {
            HintsError::Unavailable(error_chain(&e))
        } else {
            HintsError::Internal(error_chain(&e))
        }
    }
}

/// An error and its sources as one line (`HintsError` keeps text: it is cloned to every
/// waiter of a shared request).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
