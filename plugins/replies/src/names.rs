//! The client's name: found in greetings and introductions, replaced by a `{name}` slot in
//! learned replies, filled back (or dropped cleanly) in suggestions.

/// The slot learned replies carry instead of a name.
pub const SLOT: &str = "{name}";

/// Words after which a capitalised word is taken for the addressee's name.
const GREETINGS: &[&str] = &[
    "hi", "hello", "hey", "dear", "ola", "olá", "oi", "prezado", "prezada", "caro", "cara", "dia",
    "tarde", "noite",
];

/// Introductions after which the next word is the speaker's name.
const INTRODUCTIONS: &[&[&str]] = &[
    &["my", "name", "is"],
    &["meu", "nome", "é"],
    &["meu", "nome", "e"],
    &["me", "chamo"],
    &["this", "is"],
];

fn word_chars(w: &str) -> &str {
    w.trim_matches(|c: char| !c.is_alphanumeric())
}

fn is_name(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c.is_uppercase())
        && word.chars().count() >= 2
        && chars.all(char::is_alphabetic)
}

/// The name an operator greets with ("Hello, Maria!" → Maria).
pub fn greeted_name(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().take(6).collect();
    words.windows(2).find_map(|pair| {
        let greeting = word_chars(pair[0]).to_lowercase();
        let candidate = word_chars(pair[1]);
        (GREETINGS.contains(&greeting.as_str()) && is_name(candidate))
            .then(|| candidate.to_string())
    })
}

/// The name a client introduces themself with ("my name is Ana" → Ana).
pub fn introduced_name(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| word_chars(w).to_lowercase()).collect();
    for intro in INTRODUCTIONS {
        for start in 0..lower.len().saturating_sub(intro.len()) {
            if lower[start..start + intro.len()]
                .iter()
                .zip(intro.iter())
                .all(|(a, b)| a == b)
            {
                let candidate = word_chars(words[start + intro.len()]);
                if is_name(candidate) {
                    return Some(candidate.to_string());
                }
            }
        }
    }
    None
}

/// The reply with the name (given, or the greeted one) replaced by the slot.
pub fn templatize(text: &str, known: Option<&str>) -> String {
    let name = known.map(str::to_owned).or_else(|| greeted_name(text));
    let Some(name) = name else {
        return text.to_string();
    };
    text.split(' ')
        .map(|w| {
            if word_chars(w) == name {
                w.replacen(&name, SLOT, 1)
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The template with the slot filled, or removed with its separator when no name is known.
pub fn fill(template: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => template.replace(SLOT, name),
        None => {
            let mut s = template.to_string();
            for pattern in [
                &format!(", {SLOT}") as &str,
                &format!(" {SLOT}"),
                &format!("{SLOT}, "),
                SLOT,
            ] {
                s = s.replace(pattern, "");
            }
            s.trim().to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_names_become_slots_and_are_filled_or_dropped() {
        assert_eq!(
            greeted_name("Hello, Maria! Your order ships today."),
            Some("Maria".into())
        );
        assert_eq!(greeted_name("Your order ships today."), None);
        let t = templatize("Hello, Maria! Your order ships today.", None);
        assert_eq!(t, "Hello, {name}! Your order ships today.");
        assert_eq!(
            fill(&t, Some("João")),
            "Hello, João! Your order ships today."
        );
        assert_eq!(fill(&t, None), "Hello! Your order ships today.");
        assert_eq!(fill("Oi {name}, tudo bem?", None), "Oi, tudo bem?");
    }

    #[test]
    fn introductions() {
        assert_eq!(
            introduced_name("hi, my name is Ana and I need help"),
            Some("Ana".into())
        );
        assert_eq!(
            introduced_name("Olá, meu nome é Carlos"),
            Some("Carlos".into())
        );
        assert_eq!(introduced_name("my order is late"), None);
    }
}
