//! The OpenAPI 3.1 description of the HTTP API, served at `GET /api/v1/openapi.json` without
//! the admin key. Paths, parameters and bodies come from the handlers' `#[utoipa::path]`
//! annotations and the body types' `ToSchema` derives, gathered by [`super::documented`] from
//! the same declarations that build the router; this file adds what every operation shares:
//! the document's info, the bearer scheme and `401` on the admin routes (the rule of
//! [`super::auth`]), and the error shape as every operation's answer for other errors.

use super::auth::is_guarded;
use super::error::ErrorBody;
use crate::app::App;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, InfoBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";

/// Name of the admin key's security scheme.
pub const SECURITY_SCHEME: &str = "admin_key";

/// The document's own route.
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// This document.
#[utoipa::path(get, operation_id = "get_openapi_document", path = "/api/v1/openapi.json", tag = "meta", responses(
    (status = 200, description = "The OpenAPI 3.1 description of this API", body = Object)))]
async fn openapi_json() -> Response {
    // Built once: the routes do not change while the process runs.
    static JSON: OnceLock<Bytes> = OnceLock::new();
    let json =
        JSON.get_or_init(|| Bytes::from(document().to_json().expect("the document serialises")));
    let mut response = json.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The whole document.
pub fn document() -> OpenApi {
    let (_, mut doc) = super::documented().split_for_parts();
    complete(&mut doc);
    doc
}

/// Adds what the annotations leave to the router: info, security, shared error answers.
fn complete(doc: &mut OpenApi) {
    doc.info = InfoBuilder::new()
        .title("hintd")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "WebAssembly plugin host for AI hint providers of contact-center chat platforms. \
             Every error answer has the shape `{\"error\": {\"code\", \"message\", \"field\"}}` \
             (schema `Error`); `/api/v1/*` needs `Authorization: Bearer <server.admin_key>`, \
             but for this document.",
        ))
        .license(Some(utoipa::openapi::License::new("Apache-2.0")))
        .build();
    let mut components = doc.components.take().unwrap_or_default();
    let (name, schema) = (
        <ErrorBody as ToSchema>::name().into_owned(),
        <ErrorBody as PartialSchema>::schema(),
    );
    components.schemas.insert(name.clone(), schema);
    let mut collected = Vec::new();
    <ErrorBody as ToSchema>::schemas(&mut collected);
    components.schemas.extend(collected);
    components.security_schemes.insert(
        SECURITY_SCHEME.to_string(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("`server.admin_key` (or `HINTD_ADMIN_KEY`)"))
                .build(),
        )),
    );
    doc.components = Some(components);
    let error = || {
        ResponseBuilder::new().content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(name.clone())))
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let guarded = is_guarded(path);
        for op in operations(item) {
            let responses = &mut op.responses.responses;
            if guarded {
                op.security = Some(vec![SecurityRequirement::new(
                    SECURITY_SCHEME,
                    Vec::<String>::new(),
                )]);
                responses.entry("401".into()).or_insert_with(|| {
                    RefOr::T(
                        error()
                            .description("Missing or wrong admin key (`WWW-Authenticate: Bearer`)")
                            .build(),
                    )
                });
            }
            responses.entry("default".into()).or_insert_with(|| {
                RefOr::T(
                    error()
                        .description(
                            "Any other error (405, 408, 413, 415, 500, 503 ...), in the same shape",
                        )
                        .build(),
                )
            });
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::path::Path;

    fn json() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    /// Every `$ref` of `v`.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    /// Schema shapes OpenAPI 3.0 allowed and 3.1 does not: `items` as a list (tuples are
    /// `prefixItems` now) and `nullable`.
    fn no_3_0_shapes(v: &Value, at: &str) {
        match v {
            Value::Object(map) => {
                if let Some(items) = map.get("items") {
                    assert!(
                        items.is_object() || items.is_boolean(),
                        "{at}: items {items}"
                    );
                }
                assert!(!map.contains_key("nullable"), "{at}: nullable");
                for (k, v) in map {
                    no_3_0_shapes(v, &format!("{at}/{k}"));
                }
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| no_3_0_shapes(v, &format!("{at}/{i}"))),
            _ => {}
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_and_its_references_resolve() {
        let doc = json();
        no_3_0_shapes(&doc, "");
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "hintd");
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {r}"));
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "{r} does not resolve"
            );
        }
        // Every operation answers something, and every path parameter is declared.
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                assert!(
                    op["responses"].as_object().is_some_and(|r| r.len() > 1),
                    "{method} {path}"
                );
                let declared: Vec<&str> = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p["in"] == "path")
                            .map(|p| p["name"].as_str().unwrap())
                            .collect()
                    })
                    .unwrap_or_default();
                for segment in path.split('/') {
                    if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
                    {
                        assert!(declared.contains(&name), "{method} {path}: {name}");
                    }
                }
            }
        }
    }

    /// Client generators name their methods after `operationId`: each is set and unique.
    #[test]
    fn operation_ids_are_unique() {
        let doc = json();
        let mut seen = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_default();
                assert!(!id.is_empty(), "{method} {path}");
                assert!(seen.insert(id.to_string()), "{method} {path}: {id} twice");
            }
        }
    }

    #[test]
    fn admin_routes_need_the_bearer_and_the_document_does_not() {
        let doc = json();
        assert_eq!(
            doc["components"]["securitySchemes"][SECURITY_SCHEME]["scheme"],
            "bearer"
        );
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let secured = op.get("security").is_some();
                assert_eq!(secured, is_guarded(path), "{method} {path}");
                if secured {
                    assert!(op["responses"].get("401").is_some(), "{method} {path}");
                }
                assert!(op["responses"].get("default").is_some(), "{method} {path}");
            }
        }
        assert!(doc["paths"][DOCUMENT_PATH]["get"].get("security").is_none());
    }

    #[test]
    fn the_error_codes_are_listed() {
        let doc = json();
        let detail = &doc["components"]["schemas"]["ErrorDetail"];
        let codes: Vec<&str> = detail["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(codes, super::super::error::CODES);
        // Every code the API's sources hand out is listed.
        let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let mut seen = Vec::new();
        for (file, source) in sources(&api) {
            for code in codes_in(&source) {
                seen.push(code.clone());
                assert!(
                    codes.contains(&code.as_str()),
                    "{}: code `{code}` is not in api::error::CODES",
                    file.display()
                );
            }
        }
        // The scan finds codes of every kind of site.
        for code in [
            "no_route",
            "method_not_allowed",
            "unknown_source",
            "overloaded",
            "not_ready",
            "limit_reached",
            "unknown_hint",
            "unsupported_media_type",
        ] {
            assert!(seen.iter().any(|c| c == code), "{code} not found: {seen:?}");
        }
    }

    /// Every route is declared through `routes!`, hence described: no file under `api/` adds a
    /// route to a router by hand. The hint panel (`api/panel/`) and the admin console
    /// (`api/console/`) are the exceptions: pages (and the panel's data, fetched with its own
    /// token), not part of the admin API described here.
    #[test]
    fn every_served_route_is_described() {
        let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let pages = [api.join("panel"), api.join("console")];
        let mut handlers = 0;
        for (file, source) in sources(&api) {
            if pages.iter().any(|p| file.starts_with(p)) {
                continue;
            }
            for forbidden in [".route(", ".route_service(", ".nest(", ".nest_service("] {
                assert!(
                    !source.contains(forbidden),
                    "{}: `{forbidden}` serves a route the document does not describe; \
                     declare it with #[utoipa::path] and routes!",
                    file.display()
                );
            }
            handlers += source.matches("routes!(").count();
        }
        // Each `routes!(...)` group serves one path: the document has every one of them.
        let doc = json();
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), handlers, "{:?}", paths.keys());
        for path in [
            "/healthz",
            "/readyz",
            "/metrics",
            "/webhooks/{source}",
            "/webhooks/{source}/{account}",
            DOCUMENT_PATH,
            "/api/v1/plugins",
            "/api/v1/plugins/reload",
        ] {
            assert!(paths.contains_key(path), "{path}");
        }
    }

    /// (file, text without comments and tests) of every `.rs` file under `dir`.
    fn sources(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Unit tests are not served.
                let served = text.split("#[cfg(test)]").next().unwrap_or_default();
                let code: String = served
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                out.push((path, code));
            }
        }
        out
    }

    /// The error codes written in `source`: string literals handed to the `ApiError`
    /// constructors that take a code, paired with a status, or returned by `code_of`.
    fn codes_in(source: &str) -> Vec<String> {
        let flat: String = source.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut out = Vec::new();
        let mut rest = flat.as_str();
        let mut previous = "";
        while let Some(start) = rest.find('"') {
            let before = &rest[..start];
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            let literal = &after[..end];
            let is_code =
                !literal.is_empty() && literal.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            let tail = before.trim_end();
            let last_word = |t: &str| t.rsplit([' ', '(']).next().unwrap_or_default().to_string();
            let coded = tail.ends_with("not_found(")
                || tail.ends_with("bad_request(")
                || tail.ends_with("code:")
                || (previous == "code" && tail == ":")
                || tail
                    .strip_suffix(',')
                    .is_some_and(|t| last_word(t).starts_with("StatusCode::"))
                || tail.strip_suffix("=>").is_some_and(|t| {
                    let w = last_word(t.trim_end());
                    w.starts_with("StatusCode::") || w == "_" || w.ends_with("is_server_error()")
                });
            if is_code && coded {
                out.push(literal.to_string());
            }
            previous = literal;
            rest = &after[end + 1..];
        }
        out
    }
}
