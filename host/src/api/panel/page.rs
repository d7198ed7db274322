//! The panel page and its two assets, embedded in the binary so the panel works without
//! internet access and hintd serves everything it needs. The page's CSP allows scripts,
//! styles and requests to hintd only, and framing by the origins configured for the
//! account (`panel_frame_ancestors`).

use crate::api::assets::embedded;
use crate::app::App;
use crate::core::Source;
use crate::ingest::panel_access::frame_ancestors;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("assets/index.html");
const PANEL_JS: &str = include_str!("assets/panel.js");
const PANEL_CSS: &str = include_str!("assets/panel.css");

/// `GET /panel[?source=&account=&dialog=&token=&lang=]`. The page itself holds no data: it
/// is served to anyone, and the token is checked by the endpoints it calls, so that a
/// refused token shows as a state of the page rather than a blank frame.
pub async fn index(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    let (source, account) = named_account(query.as_deref().unwrap_or(""));
    let origins = frame_ancestors(&app.config.sources, source, account.as_deref());
    let csp = content_security_policy(&origins);
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        INDEX_HTML,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    // The URL carries the token: it must not leave in a Referer, nor stay in a cache.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("clipboard-write=(self)"),
    );
    response
}

/// `GET /panel/panel.js`.
pub async fn script() -> Response {
    embedded("text/javascript; charset=utf-8", PANEL_JS)
}

/// `GET /panel/panel.css`.
pub async fn style() -> Response {
    embedded("text/css; charset=utf-8", PANEL_CSS)
}

/// The `source` and `account` the page's query names, when they are valid.
fn named_account(query: &str) -> (Option<Source>, Option<String>) {
    let mut source = None;
    let mut account = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "source" => source = v.parse::<Source>().ok().filter(|s| *s != Source::Api),
            "account" if !v.is_empty() => account = Some(v.into_owned()),
            _ => {}
        }
    }
    (source, account)
}

/// The page's CSP: everything from hintd itself, nothing from elsewhere, framed only by
/// `origins` (by hintd's own pages when none is configured).
fn content_security_policy(origins: &[&str]) -> String {
    let ancestors = if origins.is_empty() {
        "'self'".to_string()
    } else {
        origins.join(" ")
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_allows_hintd_and_the_configured_origins_only() {
        let csp = content_security_policy(&["https://cw.example.com"]);
        assert!(csp.contains("script-src 'self';"));
        assert!(csp.ends_with("frame-ancestors https://cw.example.com"));
        assert!(content_security_policy(&[]).ends_with("frame-ancestors 'self'"));
    }

    #[test]
    fn the_page_has_no_inline_script_and_stays_small() {
        assert!(!INDEX_HTML.contains("<script>"));
        for handler in ["onclick=", "onload=", "onerror=", "onkeydown="] {
            assert!(!INDEX_HTML.contains(handler), "no inline event handlers");
        }
        assert!(INDEX_HTML.contains("src=\"panel/panel.js\""));
        for text in [INDEX_HTML, PANEL_JS, PANEL_CSS] {
            assert!(
                !text.contains("http://") && !text.contains("https://"),
                "no external URL"
            );
        }
        let total = INDEX_HTML.len() + PANEL_JS.len() + PANEL_CSS.len();
        assert!(total < 150 * 1024, "{total} bytes");
    }

    #[test]
    fn the_query_names_the_account() {
        assert_eq!(
            named_account("token=x&source=chatwoot&account=shop"),
            (Some(Source::Chatwoot), Some("shop".into()))
        );
        assert_eq!(named_account("source=api"), (None, None));
    }
}
