//! llm: asks an OpenAI-compatible `/v1/chat/completions` endpoint (through the host's `http`
//! capability, so only to allowed hosts) for the operator's next reply, and returns 1–3 hints.

use hintd_plugin::{Hint, HintRequest, PluginInfo, Provider, ProviderError, http, settings};
use serde_json::Value;

mod completion;

#[derive(Default)]
struct Llm;

impl Provider for Llm {
    fn describe(&mut self) -> PluginInfo {
        PluginInfo::new(
            "llm",
            env!("CARGO_PKG_VERSION"),
            "Reply suggestions from an OpenAI-compatible chat model",
        )
    }

    fn suggest(&mut self, req: HintRequest) -> Result<Vec<Hint>, ProviderError> {
        let config = completion::Config::from_settings(&settings::all())?;
        let wanted = config.max_hints.min(req.max_hints.max(1) as usize);
        let url = format!(
            "{}/v1/chat/completions",
            config.base_url.trim_end_matches('/')
        );
        let mut request = http::Request::post(url)
            .json(&completion::request_body(&config, &req.context, wanted))?
            // The host cuts the call at its own deadline; leave a little room to answer.
            .timeout_ms(req.deadline_ms.saturating_sub(20).max(1));
        if !config.api_key.is_empty() {
            request = request.header("authorization", format!("Bearer {}", config.api_key));
        }
        let answer: Value = request.send()?.error_for_status()?.json()?;
        let texts = completion::suggestions(&answer, wanted).map_err(ProviderError::Upstream)?;
        Ok(texts
            .into_iter()
            .enumerate()
            .map(|(i, text)| {
                Hint::new(
                    format!("c{}", i + 1),
                    text,
                    config.relevance.saturating_sub(10 * i as u8),
                )
            })
            .collect())
    }
}

hintd_plugin::export_plugin!(Llm);
