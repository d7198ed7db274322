//! Every error answer is JSON in the API's shape, whoever produced it: unknown routes
//! (`404`), methods a route does not have (`405`, with `Allow`), and — as a net under the
//! handlers' own errors — any error response that is not JSON yet (a framework rejection a
//! handler did not map), rewritten with its status kept.

use super::error::ApiError;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Longest plain-text error body carried over as the message; longer ones are replaced by
/// the status's reason.
const MAX_CARRIED_MESSAGE: usize = 1024;

/// `404` for a path no route serves.
pub async fn no_route(uri: Uri) -> ApiError {
    ApiError::not_found("no_route", format!("no route for {}", uri.path()))
}

/// `405` for a method the route does not serve (axum adds the `Allow` header).
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// Rewrites an error response that is not JSON into the API's shape; passes the rest.
pub async fn ensure_json(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let message = axum::body::to_bytes(body, MAX_CARRIED_MESSAGE)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let mut rewritten = ApiError::new(status, code_of(status), message).into_response();
    for name in [
        header::ALLOW,
        header::RETRY_AFTER,
        header::WWW_AUTHENTICATE,
        header::CONNECTION,
    ] {
        if let Some(value) = parts.headers.get(&name) {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// The error code of a status, for answers that come without one.
fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn plain_errors_become_json_and_keep_their_headers() {
        let plain = (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET,HEAD")],
            "",
        )
            .into_response();
        let r = ensure_json(plain).await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET,HEAD");
        let v = body_of(r).await;
        assert_eq!(v["error"]["code"], "method_not_allowed");
        assert_eq!(v["error"]["message"], "Method Not Allowed");

        let r = ensure_json(
            (
                StatusCode::BAD_REQUEST,
                "Failed to deserialize the JSON body",
            )
                .into_response(),
        )
        .await;
        let v = body_of(r).await;
        assert_eq!(v["error"]["message"], "Failed to deserialize the JSON body");

        // JSON errors and successes pass untouched.
        let json = ApiError::invalid("x", "bad").into_response();
        assert_eq!(
            body_of(ensure_json(json).await).await["error"]["field"],
            "x"
        );
        let ok = ensure_json("fine".into_response()).await;
        assert_eq!(ok.status(), StatusCode::OK);
    }
}
