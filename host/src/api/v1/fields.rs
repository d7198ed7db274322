//! Readers of the `/api/v1` bodies' fields, shared by the routes that take them: each value
//! checked as the API describes it, and an error naming the field when it is not.

use crate::api::error::ApiError;
use crate::core::Source;
use crate::hints::{HintsError, MAX_HINTS_CEILING};
use axum::http::StatusCode;
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};

/// The API's JSON error (`{"error": {"code", "message", "field"}}`) for a pipeline error.
pub(crate) fn api_error(e: &HintsError) -> ApiError {
    let (status, code, field) = match e {
        HintsError::InvalidRequest { field, reason } => {
            return ApiError::invalid(*field, format!("{field} {reason}"));
        }
        HintsError::UnknownAnswer { .. } => {
            (StatusCode::NOT_FOUND, "unknown_message", Some("message_id"))
        }
        HintsError::UnknownHint { .. } => (StatusCode::NOT_FOUND, "unknown_hint", Some("hint_id")),
        HintsError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None),
        // Internal details go to the log, not to the caller.
        HintsError::Internal(detail) => return ApiError::internal(detail),
    };
    let api = ApiError::new(status, code, e.to_string());
    match field {
        Some(field) => api.with_field(field),
        None => api,
    }
}

/// A 400 naming `field` and why.
pub(crate) fn bad(field: &'static str, reason: impl Into<String>) -> ApiError {
    ApiError::invalid(field, format!("{field} {}", reason.into()))
}

/// An id given as a JSON string or integer.
pub(crate) fn id_field(
    value: Option<&Value>,
    field: &'static str,
    required: bool,
) -> Result<Option<String>, ApiError> {
    match value {
        None | Some(Value::Null) if required => Err(bad(field, "is required")),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() && required => {
            Err(bad(field, "must not be empty"))
        }
        Some(Value::String(s)) => checked(field, s.trim()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(_) => Err(bad(field, "must be a string or an integer")),
    }
}

/// A non-empty id held to the rule of every id ([`crate::ingest::check_id`]).
fn checked(field: &'static str, id: &str) -> Result<Option<String>, ApiError> {
    if id.is_empty() {
        return Ok(None);
    }
    crate::ingest::check_id(id).map_err(|e| bad(field, e.to_string()))?;
    Ok(Some(id.to_string()))
}

/// The source (required) and account (the default account when absent) of a body.
pub(crate) fn source_field(
    source: Option<&Value>,
    account: Option<&Value>,
) -> Result<(Source, String), ApiError> {
    let source = match source {
        Some(Value::String(s)) => s
            .parse::<Source>()
            .map_err(|e| bad("source", e.to_string()))?,
        None | Some(Value::Null) => {
            return Err(bad(
                "source",
                "is required (chat2desk, chatwoot, whazing or api)",
            ));
        }
        Some(_) => return Err(bad("source", "must be a string")),
    };
    let account = id_field(account, "account", false)?
        .unwrap_or_else(|| crate::ingest::DEFAULT_ACCOUNT.to_string());
    Ok((source, account))
}

pub(crate) fn json_object(body: &[u8]) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(bad("body", "must be a JSON object")),
        Err(e) => Err(bad("body", format!("is not valid JSON: {e}"))),
    }
}

/// An id as the API accepts it: a JSON string or integer, held to the rule of every id
/// ([`crate::ingest::check_id`]).
pub(crate) fn id_schema() -> OneOfBuilder {
    let max = crate::ingest::MAX_ID_LEN;
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(max))
                .pattern(Some("^[^\\u0000-\\u001F\\u007F-\\u009F]*$"))
                .description(Some(format!(
                    "At most {max} bytes of UTF-8, no control characters"
                ))),
        )
        .item(ObjectBuilder::new().schema_type(Type::Integer))
}

/// `max_hints`, when given: an integer in 1..=[`MAX_HINTS_CEILING`].
pub(crate) fn max_hints_field(value: Option<Value>) -> Result<Option<u32>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=u64::from(MAX_HINTS_CEILING)).contains(n))
            .map(|n| Some(n as u32))
            .ok_or_else(|| {
                bad(
                    "max_hints",
                    format!("must be an integer in 1..={MAX_HINTS_CEILING}"),
                )
            }),
    }
}
