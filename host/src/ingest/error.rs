//! Why a webhook body was refused.

/// A webhook body that cannot be read as the platform's event (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not JSON at all.
    #[error("body is not valid JSON: {0}")]
    InvalidJson(String),
    /// The body is JSON but not an object.
    #[error("body must be a JSON object")]
    NotAnObject,
    /// A field the event cannot do without is absent or empty.
    #[error("`{field}` is required")]
    Missing {
        /// Full path of the field (`ticket.id`).
        field: String,
    },
    /// A field has a value that cannot mean what the field needs.
    #[error("`{field}`: {problem}")]
    Field {
        /// Full path of the field.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl ParseError {
    /// A field with a bad value.
    pub fn field(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ParseError::Field {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// A required field that is absent.
    pub fn missing(field: impl Into<String>) -> Self {
        ParseError::Missing {
            field: field.into(),
        }
    }

    /// The field the error is about, when it is about one.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            ParseError::Missing { field } | ParseError::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}
