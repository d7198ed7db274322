//! The example's logic, free of any binding so the benchmarks (`bench/`) can compile the very
//! same code natively and compare it with the Wasm call.

/// Suggestions for the latest client message: `(plugin-local id, text, relevance)`.
pub fn suggest(last_client_text: Option<&str>, greeting: &str) -> Vec<(String, String, u8)> {
    let mut hints = vec![("greet".to_string(), greeting.to_string(), 60)];
    if let Some(text) = last_client_text.map(str::trim).filter(|t| !t.is_empty()) {
        let question = text.trim_end_matches(['?', '!', '.']);
        hints.push((
            "clarify".to_string(),
            format!("Just to be sure: you are asking about \"{question}\"?"),
            40,
        ));
    }
    hints
}
