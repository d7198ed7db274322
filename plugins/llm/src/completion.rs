//! The chat-completions request and the parsing of its answer into suggestions. No bindings
//! here: unit tested natively.

use hintd_plugin::{Message, ProviderError, Role};
use serde_json::{Value, json};

/// The plugin's `[config]`.
#[derive(Debug, Clone)]
pub struct Config {
    /// `https://host[:port]`, without `/v1/...`.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Bearer key; empty for endpoints without one.
    pub api_key: String,
    /// Suggestions wanted, 1–3.
    pub max_hints: usize,
    /// Sampling temperature.
    pub temperature: f64,
    /// Context messages sent at most.
    pub max_messages: usize,
    /// The system prompt.
    pub system_prompt: String,
    /// Relevance of the first suggestion (the next ones 10 less each).
    pub relevance: u8,
}

impl Config {
    /// Reads and checks the config table.
    pub fn from_settings(all: &Value) -> Result<Config, ProviderError> {
        let text = |k: &str| {
            all.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or("")
                .to_string()
        };
        let number = |k: &str, d: f64| all.get(k).and_then(Value::as_f64).unwrap_or(d);
        let base_url = text("base_url");
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ProviderError::Misconfigured(
                "base_url must be an http(s) URL".into(),
            ));
        }
        let model = text("model");
        if model.is_empty() {
            return Err(ProviderError::Misconfigured("model is missing".into()));
        }
        let system_prompt = match text("system_prompt") {
            s if s.is_empty() => "Suggest short replies the operator can send next. Answer with a JSON array of strings.".into(),
            s => s,
        };
        Ok(Config {
            base_url,
            model,
            api_key: text("api_key"),
            max_hints: number("max_hints", 3.0).clamp(1.0, 3.0) as usize,
            temperature: number("temperature", 0.3).clamp(0.0, 2.0),
            max_messages: number("max_messages", 20.0).clamp(1.0, 200.0) as usize,
            system_prompt,
            relevance: number("relevance", 70.0).clamp(10.0, 100.0) as u8,
        })
    }
}

/// The JSON body: the system prompt, the dialog (client → user, operator and bot →
/// assistant; system notices left out) and the instruction.
pub fn request_body(config: &Config, context: &[Message], wanted: usize) -> Value {
    let mut messages = vec![json!({"role": "system", "content": config.system_prompt})];
    let start = context.len().saturating_sub(config.max_messages);
    for m in &context[start..] {
        let role = match m.role {
            Role::Client => "user",
            Role::Operator | Role::Bot => "assistant",
            Role::System => continue,
        };
        if !m.text.trim().is_empty() {
            messages.push(json!({"role": role, "content": m.text}));
        }
    }
    messages.push(json!({
        "role": "system",
        "content": format!("Give {wanted} alternative replies for the operator's next message as a JSON array of {wanted} strings."),
    }));
    json!({
        "model": config.model,
        "messages": messages,
        "temperature": config.temperature,
        "max_tokens": 400,
    })
}

/// The suggestions in a completion: the first choice's content read as a JSON array of
/// strings, or else as one suggestion per line (list markers removed).
pub fn suggestions(completion: &Value, wanted: usize) -> Result<Vec<String>, String> {
    let content = completion
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or("response has no choices[0].message.content")?;
    let content = strip_code_fence(content.trim());
    let texts: Vec<String> = match serde_json::from_str::<Vec<String>>(content) {
        Ok(list) => list,
        Err(_) => content
            .lines()
            .map(strip_list_marker)
            .map(str::to_owned)
            .collect(),
    };
    let texts: Vec<String> = texts
        .into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .take(wanted)
        .collect();
    if texts.is_empty() {
        return Err("the completion contained no suggestion".into());
    }
    Ok(texts)
}

fn strip_code_fence(s: &str) -> &str {
    let Some(rest) = s.strip_prefix("```") else {
        return s;
    };
    let rest = rest.split_once('\n').map(|(_, r)| r).unwrap_or(rest);
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

fn strip_list_marker(line: &str) -> &str {
    let line = line.trim();
    let line = line.trim_start_matches(['-', '*', '•']).trim_start();
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(['.', ')']) {
        line[digits + 1..].trim_start()
    } else {
        line
    }
    .trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completion(content: &str) -> Value {
        json!({"choices": [{"message": {"role": "assistant", "content": content}}]})
    }

    #[test]
    fn parses_a_json_array_or_lines() {
        assert_eq!(
            suggestions(&completion(r#"["One", "Two", "Three", "Four"]"#), 3).unwrap(),
            ["One", "Two", "Three"]
        );
        assert_eq!(
            suggestions(&completion("1. One\n2) Two\n- Three"), 3).unwrap(),
            ["One", "Two", "Three"]
        );
        assert_eq!(
            suggestions(&completion("```json\n[\"A\"]\n```"), 3).unwrap(),
            ["A"]
        );
        assert!(suggestions(&completion("   "), 3).is_err());
        assert!(suggestions(&json!({}), 3).is_err());
    }
}
