//! `wasi:http/outgoing-handler` and `wasi:http/types`: what `fetch()` in a JavaScript plugin
//! (jco's default output) and HTTP clients in a Python plugin (componentize-py) call. They are
//! linked for every component, so one that imports them loads whatever its manifest says; each
//! request is then decided exactly as the `http` import's are (`http.rs`): refused unless the
//! manifest grants `http`, the host in `allowed_hosts`, every address it resolves to admitted
//! by the outbound policy, the connection made only to those addresses, no redirects followed,
//! request and response bodies capped, the wait bounded by the call's deadline. A refusal is a
//! `wasi:http` error code the guest sees as a failed request, never a trap, and its reason goes
//! to the log under the plugin's name.

use super::http::{FORBIDDEN_HEADERS, HttpDenied, with_sources, without_url};
use super::{HostState, PluginContext};
use crate::core::outbound::OutboundError;
use crate::plugins::manifest::Capability;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error as WasiHttpError, ForbiddenHeaderFilter, RequestOptions,
    WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

/// The `wasi:http` part of a store: built on the guest's first `wasi:http` call.
pub struct WasiHttpState {
    ctx: WasiHttpCtx,
    hooks: PolicyHooks,
}

impl WasiHttpState {
    fn new(plugin: Arc<PluginContext>) -> Self {
        WasiHttpState {
            ctx: WasiHttpCtx::new(),
            hooks: PolicyHooks {
                plugin,
                deadline: Instant::now(),
            },
        }
    }
}

/// Sends a plugin's `wasi:http` requests under its manifest's policy.
struct PolicyHooks {
    plugin: Arc<PluginContext>,
    /// The deadline of the call in progress, copied from the store at each `wasi:http` call.
    deadline: Instant,
}

/// The future `send_request` hands back once the response has been read.
type Finished = Box<dyn Future<Output = Result<(), WasiHttpError>> + Send>;

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let state = self
            .wasi_http
            .get_or_insert_with(|| WasiHttpState::new(self.ctx.clone()));
        state.hooks.deadline = self.deadline;
        WasiHttpCtxView {
            ctx: &mut state.ctx,
            table: &mut self.table,
            hooks: &mut state.hooks,
        }
    }
}

impl WasiHttpHooks for PolicyHooks {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        Arc::new(|name: &http::HeaderName| hop_by_hop(name))
    }

    /// The client sets `Host` from the checked URL itself.
    fn set_host_header(&mut self) -> bool {
        false
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _request_done: Box<dyn Future<Output = Result<(), WasiHttpError>> + Send>,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, Finished), WasiHttpError>> + Send>
    {
        let plugin = self.plugin.clone();
        let deadline = self.deadline;
        Box::new(async move {
            let response = send(&plugin, request, options, deadline).await?;
            let finished: Finished = Box::new(async { Ok(()) });
            Ok((response, finished))
        })
    }
}

/// Logs why a plugin's request did not happen and gives the guest its error code.
fn refused(plugin: &PluginContext, reason: &str, code: WasiHttpError) -> WasiHttpError {
    tracing::info!(plugin = %plugin.name, reason, "plugin wasi:http request refused");
    code
}

/// The error code of a policy refusal.
fn denial_code(denied: &HttpDenied) -> WasiHttpError {
    match denied {
        HttpDenied::NoHost | HttpDenied::NoPort => WasiHttpError::HttpRequestUriInvalid,
        HttpDenied::HostNotAllowed(_) => WasiHttpError::HttpRequestDenied,
        HttpDenied::Outbound(OutboundError::Refused(_)) => WasiHttpError::DestinationIpProhibited,
        HttpDenied::Outbound(OutboundError::Resolve { source, .. }) => WasiHttpError::DnsError {
            rcode: Some(source.to_string()),
            info_code: None,
        },
        HttpDenied::Outbound(OutboundError::NoAddress { .. }) => WasiHttpError::DestinationNotFound,
    }
}

/// Headers that describe one connection or one framing, not the message: never passed on.
fn hop_by_hop(name: &http::HeaderName) -> bool {
    DEFAULT_FORBIDDEN_HEADERS.contains(name) || FORBIDDEN_HEADERS.contains(&name.as_str())
}

async fn send(
    plugin: &PluginContext,
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    deadline: Instant,
) -> Result<http::Response<WasiBody>, WasiHttpError> {
    if !plugin.grants(Capability::Http) {
        return Err(refused(
            plugin,
            "the manifest does not grant `http`",
            WasiHttpError::HttpRequestDenied,
        ));
    }
    let (parts, body) = request.into_parts();
    let url = match reqwest::Url::parse(&parts.uri.to_string()) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => u,
        _ => {
            return Err(refused(
                plugin,
                "the URL is not an absolute http or https URL",
                WasiHttpError::HttpRequestUriInvalid,
            ));
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused(
            plugin,
            "credentials in the URL are not allowed; use a header",
            WasiHttpError::HttpRequestUriInvalid,
        ));
    }
    let limits = plugin.limits.clone();
    let remaining = deadline.saturating_duration_since(Instant::now());
    // The guest may ask for less time than its call has left, not more.
    let asked = options
        .and_then(|o| match (o.connect_timeout, o.first_byte_timeout) {
            (Some(c), Some(f)) => Some(c.saturating_add(f)),
            (c, f) => c.or(f),
        })
        .unwrap_or(Duration::MAX);
    let work = async {
        let addrs = plugin
            .http
            .check(&plugin.manifest, &url)
            .await
            .map_err(|e| refused(plugin, &with_sources(&e), denial_code(&e)))?;
        let cap = limits.http_max_request_bytes;
        let mut body = body;
        let mut sent = Vec::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                if sent.len() + data.len() > cap {
                    return Err(refused(
                        plugin,
                        &format!("request body over {cap} bytes"),
                        WasiHttpError::HttpRequestBodySize(None),
                    ));
                }
                sent.extend_from_slice(&data);
            }
        }
        let headers: http::HeaderMap = parts
            .headers
            .iter()
            .filter(|(name, _)| !hop_by_hop(name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let client = plugin
            .http_clients
            .get(plugin.http.network(&plugin.manifest), &host, &addrs)
            .map_err(|e| refused(plugin, &e, WasiHttpError::InternalError(Some(e.clone()))))?;
        let mut resp = client
            .request(parts.method, url.clone())
            .headers(headers)
            .body(sent)
            .send()
            .await
            .map_err(|e| transport_error(plugin, e))?;
        let cap = limits.http_max_response_bytes;
        let too_large = |len: u64| {
            refused(
                plugin,
                &format!("response body over {cap} bytes"),
                WasiHttpError::HttpResponseBodySize(Some(len)),
            )
        };
        if let Some(len) = resp.content_length().filter(|n| *n as usize > cap) {
            return Err(too_large(len));
        }
        let mut received = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(plugin, e))? {
            if received.len() + chunk.len() > cap {
                return Err(too_large((received.len() + chunk.len()) as u64));
            }
            received.extend_from_slice(&chunk);
        }
        let mut answer = http::Response::builder().status(resp.status());
        for (name, value) in resp.headers() {
            if !hop_by_hop(name) {
                answer = answer.header(name, value);
            }
        }
        let body = Full::new(Bytes::from(received))
            .map_err(WasiHttpError::from)
            .boxed_unsync();
        answer
            .body(body)
            .map_err(|e| WasiHttpError::InternalError(Some(e.to_string())))
    };
    match tokio::time::timeout(remaining.min(asked), work).await {
        Ok(answer) => answer,
        Err(_) => Err(refused(
            plugin,
            "no response in time",
            WasiHttpError::ConnectionReadTimeout,
        )),
    }
}

/// The error code of a request that was sent and failed, its reason (without the URL, which
/// may carry secrets) logged.
fn transport_error(plugin: &PluginContext, e: reqwest::Error) -> WasiHttpError {
    let code = if e.is_timeout() {
        WasiHttpError::ConnectionTimeout
    } else if e.is_connect() {
        WasiHttpError::ConnectionRefused
    } else {
        WasiHttpError::HttpProtocolError
    };
    refused(plugin, &without_url(e), code)
}
