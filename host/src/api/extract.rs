//! Extractors whose refusals are API errors: the path parameter, query parameter or body at
//! fault is named, with the status that fits, instead of axum's plain-text rejections.

use super::error::ApiError;
use super::server::BodyReadError;
use crate::app::App;
use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Path parameters, refused with `400` naming the parameter (e.g. `%FF`, which is not
/// UTF-8 once decoded, or a control character: see [`no_control_characters`]).
#[derive(Debug, Clone)]
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            for (key, value) in &raw {
                no_control_characters("path parameter", key, value)
                    .map_err(|message| ApiError::invalid(key, message))?;
            }
        }
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(params)) => Ok(PathParams(params)),
            Err(rejection) => Err(path_error(rejection)),
        }
    }
}

fn path_error(rejection: PathRejection) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(failed) = &rejection else {
        return ApiError::internal(rejection.body_text());
    };
    if failed.status() == StatusCode::INTERNAL_SERVER_ERROR {
        // A handler asking for parameters its route does not have.
        return ApiError::internal(rejection.body_text());
    }
    match failed.kind() {
        ErrorKind::InvalidUtf8InPathParam { key } => ApiError::invalid(
            key.clone(),
            format!("path parameter `{key}` is not valid UTF-8 once percent-decoded"),
        ),
        ErrorKind::ParseErrorAtKey { key, .. } | ErrorKind::DeserializeError { key, .. } => {
            ApiError::invalid(
                key.clone(),
                format!("path parameter `{key}`: {}", failed.kind()),
            )
        }
        other => ApiError::bad_request("invalid_path", format!("path: {other}")),
    }
}

/// Query parameters, refused with `400 invalid_query` naming the parameter at fault.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(QueryParams)
    }
}

/// Refuses a parameter holding a control character. No id, name, cursor or filter of the API
/// has one, and PostgreSQL cannot even compare text with a NUL: such a value would otherwise
/// reach the store as a query that fails (a 500) instead of a refusal naming it.
fn no_control_characters(kind: &str, key: &str, value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) || key.chars().any(char::is_control) {
        return Err(format!(
            "{kind} `{}` must not contain control characters",
            key.escape_default()
        ));
    }
    Ok(())
}

/// Reads a query string into `T`, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        no_control_characters("query parameter", &key, &value).map_err(|message| {
            ApiError::bad_request("invalid_query", message).with_field(key.as_ref())
        })?;
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let field = if path == "." {
            // Unknown and missing parameters are named by the message alone.
            backticked(&message)
        } else {
            Some(path)
        };
        let error = ApiError::bad_request("invalid_query", format!("query string: {message}"));
        match field {
            Some(f) => error.with_field(f),
            None => error,
        }
    })
}

/// The first `` `name` `` of a serde message (`unknown field `x`, expected ...`).
pub(crate) fn backticked(message: &str) -> Option<String> {
    let name = message.split('`').nth(1)?;
    (!name.is_empty()).then(|| name.to_string())
}

/// The whole request body, refused with `413` (over `server.body_limit_bytes`, whether
/// announced by `Content-Length` or found while reading a chunked body) or `400`.
#[derive(Debug, Clone)]
pub struct BodyBytes(pub Bytes);

impl FromRequest<App> for BodyBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &App) -> Result<Self, ApiError> {
        Bytes::from_request(request, app)
            .await
            .map(BodyBytes)
            .map_err(|e| body_error(&e, app.config.server.body_limit_bytes))
    }
}

/// The API error for a body that could not be read: `413` over `limit`, `408` when it did
/// not arrive in time, else `400`.
pub fn body_error(rejection: &BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::too_large(limit);
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(e) = cause {
        if let Some(timeout @ BodyReadError::TimedOut(_)) = e.downcast_ref::<BodyReadError>() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                timeout.to_string(),
            );
        }
        cause = e.source();
    }
    ApiError::bad_request(
        "unreadable_body",
        format!("cannot read the request body: {}", rejection.body_text()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Page {
        limit: Option<u32>,
        status: Option<String>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = parse_query::<Page>("limit=many").unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("invalid_query", Some("limit"))
        );
        let e = parse_query::<Page>("nope=1").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("nope"));
        assert!(parse_query::<Page>("limit=5&status=failed").is_ok());
        assert!(parse_query::<Page>("").is_ok());
        // A NUL or another control character is refused before any use, naming the parameter.
        for query in ["status=%00", "status=a%0Ab", "status=%7F"] {
            let e = parse_query::<Page>(query).unwrap_err();
            assert_eq!(
                (e.status, e.field.as_deref()),
                (StatusCode::BAD_REQUEST, Some("status")),
                "{query}"
            );
        }
    }
}
