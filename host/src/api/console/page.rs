//! The console page and its two assets, embedded in the binary so that the console works
//! without internet access. The CSP allows scripts, styles and requests to hintd only, and no
//! framing at all: the page handles the admin key.

use crate::api::assets::embedded;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("assets/index.html");
const CONSOLE_JS: &str = include_str!("assets/console.js");
const CONSOLE_CSS: &str = include_str!("assets/console.css");

/// What the page may load: hintd's own scripts, styles and API, nothing else; never framed,
/// so no other site can overlay it while the admin key is typed.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /console`. Served to anyone: the admin key is checked by the API the page calls, so
/// a wrong key shows as a state of the page.
pub async fn index() -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        INDEX_HTML,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    response
}

/// `GET /console/console.js`.
pub async fn script() -> Response {
    embedded("text/javascript; charset=utf-8", CONSOLE_JS)
}

/// `GET /console/console.css`.
pub async fn style() -> Response {
    embedded("text/css; charset=utf-8", CONSOLE_CSS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_no_inline_script_no_external_url_and_stays_small() {
        assert!(!INDEX_HTML.contains("<script>"));
        for handler in ["onclick=", "onload=", "onerror=", "onkeydown=", "onsubmit="] {
            assert!(!INDEX_HTML.contains(handler), "no inline event handlers");
        }
        assert!(INDEX_HTML.contains("src=\"console/console.js\""));
        for text in [INDEX_HTML, CONSOLE_JS, CONSOLE_CSS] {
            assert!(
                !text.contains("http://") && !text.contains("https://"),
                "no external URL"
            );
        }
        let total = INDEX_HTML.len() + CONSOLE_JS.len() + CONSOLE_CSS.len();
        assert!(total < 400 * 1024, "{total} bytes");
    }

    #[test]
    fn the_key_never_goes_to_a_url_or_a_cookie() {
        assert!(!CONSOLE_JS.contains("document.cookie"));
        assert!(!CONSOLE_JS.contains("localStorage"), "sessionStorage only");
        assert!(CONSOLE_JS.contains("sessionStorage"));
        assert!(CONSOLE_JS.contains("'Bearer '"));
    }

    #[test]
    fn the_csp_allows_hintd_only_and_no_framing() {
        assert!(CSP.contains("default-src 'none'"));
        assert!(CSP.contains("connect-src 'self'"));
        assert!(CSP.ends_with("frame-ancestors 'none'"));
    }
}
