//! The admin key: every `/api/v1/*` request needs `Authorization: Bearer <server.admin_key>`.

use super::error::ApiError;
use crate::app::App;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Path prefix the admin key guards.
pub const ADMIN_PREFIX: &str = "/api/v1";

/// Paths under [`ADMIN_PREFIX`] anyone may read: the API's own description, so that clients
/// and generators can fetch it before they hold a key.
pub const PUBLIC_PATHS: &[&str] = &[super::openapi::DOCUMENT_PATH];

/// Whether `path` needs the admin key.
pub fn is_guarded(path: &str) -> bool {
    (path == ADMIN_PREFIX || path.starts_with("/api/v1/")) && !PUBLIC_PATHS.contains(&path)
}

/// Middleware for the whole router: requests under [`ADMIN_PREFIX`] must carry the admin key
/// (but for [`PUBLIC_PATHS`]); others pass. Applied once in [`super::router`], so every admin
/// route is covered whoever declares it.
pub async fn require_admin(State(app): State<App>, request: Request, next: Next) -> Response {
    let guarded = is_guarded(request.uri().path());
    if guarded && let Err(e) = check(app.config.server.admin_key.as_deref(), request.headers()) {
        return e.into_response();
    }
    next.run(request).await
}

/// Extractor proving the request carries the admin key. The router's middleware already
/// guards `/api/v1/*`; handlers may take `_: Admin` to state (and re-check) the requirement.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<App> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        check(app.config.server.admin_key.as_deref(), &parts.headers).map(|()| Admin)
    }
}

/// Checks the bearer key against the configured one.
pub fn check(admin_key: Option<&str>, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = admin_key else {
        return Err(ApiError::unauthorized(
            "the admin API is disabled: set server.admin_key (or HINTD_ADMIN_KEY)",
        ));
    };
    let sent = bearer(headers).ok_or_else(|| {
        ApiError::unauthorized("missing `Authorization: Bearer <admin key>`")
            .with_field("Authorization")
    })?;
    if !constant_time_eq(expected.as_bytes(), sent.as_bytes()) {
        return Err(ApiError::unauthorized("invalid admin key").with_field("Authorization"));
    }
    Ok(())
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn bearer_keys() {
        assert!(check(Some("k3y-k3y-k3y"), &headers("Bearer k3y-k3y-k3y")).is_ok());
        assert!(check(Some("k3y-k3y-k3y"), &headers("bearer k3y-k3y-k3y")).is_ok());
        assert!(check(Some("k3y-k3y-k3y"), &headers("Bearer nope")).is_err());
        assert!(check(Some("k3y-k3y-k3y"), &headers("Basic k3y-k3y-k3y")).is_err());
        assert!(check(Some("k3y-k3y-k3y"), &HeaderMap::new()).is_err());
        assert!(check(None, &headers("Bearer anything")).is_err());
    }
}
