//! Store errors.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported backend or is malformed.
    #[error("invalid store URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given (credentials are never part of the message).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be reached or refused the connection.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A migration failed.
    #[error("store migration failed: {0}")]
    Migration(String),
    /// A row that must exist does not.
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness or limit rule would be broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Any other database error.
    #[error("store error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound("row".into()),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            other => StoreError::Database(other.to_string()),
        }
    }
}

impl StoreError {
    /// Whether the failure is the database being unreachable (maps to HTTP 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}
