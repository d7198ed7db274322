//! llm: asks an OpenAI-compatible `/v1/chat/completions` endpoint (through the host's `http`
//! capability, so only to allowed hosts) for the operator's next reply, and returns 1–3 hints.

use hintd_plugin::{Hint, HintRequest, PluginInfo, Provider, ProviderError, http, settings};

mod completion;

struct Llm;

impl Provider for Llm {
    fn describe() -> PluginInfo {
        PluginInfo::new("llm", env!("CARGO_PKG_VERSION"), "Reply suggestions from an OpenAI-compatible chat model")
    }

    fn suggest(req: HintRequest) -> Result<Vec<Hint>, ProviderError> {
        let config = completion::Config::from_settings(&settings::all())?;
        let wanted = config.max_hints.min(req.max_hints.max(1) as usize);
        let body = completion::request_body(&config, &req.context, wanted);
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if !config.api_key.is_empty() {
            headers.push(("authorization".to_string(), format!("Bearer {}", config.api_key)));
        }
        let request = http::Request {
            method: "POST".into(),
            url: format!("{}/v1/chat/completions", config.base_url.trim_end_matches('/')),
            headers,
            body,
            // The host cuts the call at its own deadline; leave a little room to answer.
            timeout_ms: req.deadline_ms.saturating_sub(20).max(1),
        };
        let response = http::send(&request).map_err(|e| ProviderError::Upstream(format!("request failed: {e:?}")))?;
        if !(200..300).contains(&response.status) {
            let snippet: String = String::from_utf8_lossy(&response.body).chars().take(200).collect();
            return Err(ProviderError::Upstream(format!("status {}: {snippet}", response.status)));
        }
        let texts = completion::parse_response(&response.body, wanted).map_err(ProviderError::Upstream)?;
        Ok(texts
            .into_iter()
            .enumerate()
            .map(|(i, text)| Hint::new(format!("c{}", i + 1), text, config.relevance.saturating_sub(10 * i as u8)))
            .collect())
    }
}

hintd_plugin::export_plugin!(Llm);
