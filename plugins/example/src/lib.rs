//! The minimal hintd plugin the README walks through.
use hintd_plugin::{Hint, HintRequest, PluginInfo, Provider, ProviderError, settings};

mod logic;

#[derive(Default)]
struct Example;

impl Provider for Example {
    fn describe(&mut self) -> PluginInfo {
        PluginInfo::new(
            "example",
            env!("CARGO_PKG_VERSION"),
            "Greets the client and asks a clarifying question",
        )
    }

    fn suggest(&mut self, req: HintRequest) -> Result<Vec<Hint>, ProviderError> {
        let greeting = settings::get::<String>("greeting")
            .unwrap_or_else(|| "Hello! How can I help you?".into());
        let last = req.last_client_message().map(|m| m.text.as_str());
        Ok(logic::suggest(last, &greeting)
            .into_iter()
            .map(|(id, text, rel)| Hint::new(id, text, rel))
            .collect())
    }
}

hintd_plugin::export_plugin!(Example);
