//! Serving a page's embedded script or stylesheet: the one place the hint panel and the
//! console set the headers their static assets share.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// An asset compiled into the binary, with its content type.
pub fn embedded(content_type: &'static str, body: &'static str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Short, so that an upgraded hintd serves its own assets within minutes.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
