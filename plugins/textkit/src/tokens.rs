//! Tokenisation: lowercase, accents folded, punctuation dropped, stop words removed, a light
//! plural strip so "orders" finds "order" and "pedidos" finds "pedido".

use std::collections::HashSet;

/// English and Portuguese function words that carry no topic.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "do", "does", "for",
    "from", "had", "has", "have", "hello", "hi", "how", "i", "if", "in", "is", "it", "its", "me",
    "my", "no", "not", "of", "on", "or", "our", "please", "so", "that", "the", "their", "there",
    "this", "to", "us", "was", "we", "what", "when", "where", "which", "will", "with", "would",
    "you", "your", "yes", "am", "im", // Portuguese
    "o", "os", "as", "um", "uma", "uns", "umas", "de", "do", "da", "dos", "das", "em", "no", "na",
    "nos", "nas", "por", "para", "pra", "com", "sem", "e", "ou", "que", "se", "eu", "voce", "ele",
    "ela", "meu", "minha", "seu", "sua", "ja", "nao", "sim", "mas", "mais", "como", "qual",
    "quando", "onde", "ao", "aos", "ola", "oi", "obrigado", "obrigada", "esta", "estou", "e",
    "foi", "ser", "ter", "tem", "isso", "isto", "favor",
];

/// Folds one character: lowercase, common Latin accents removed, anything that is not a
/// letter or digit becomes a space.
pub fn fold(c: char) -> char {
    let c = c.to_lowercase().next().unwrap_or(c);
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        c if c.is_alphanumeric() => c,
        _ => ' ',
    }
}

/// The folded text with single spaces.
pub fn normalize(text: &str) -> String {
    let folded: String = text.chars().map(fold).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// Content tokens of a text, in order (repeats kept, for term frequencies).
pub fn tokens(text: &str) -> Vec<String> {
    let folded: String = text.chars().map(fold).collect();
    folded
        .split_whitespace()
        .filter(|w| !is_stop_word(w))
        .map(|w| {
            // A light plural strip; short words (e.g. "gps", "sms") keep their ending.
            if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_string()
            } else {
                w.to_string()
            }
        })
        .collect()
}

/// Cosine similarity of two token sets (0 when either is empty).
pub fn cosine(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let inter = a.iter().filter(|t| b.contains(*t)).count();
    inter as f64 / ((a.len() * b.len()) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_and_drop_stop_words() {
        assert_eq!(tokens("Olá! Onde está o meu PEDIDO?"), vec!["pedido"]);
        assert_eq!(tokens("Where are my orders?"), vec!["order"]);
        assert_eq!(tokens("Entrega em 3 dias"), vec!["entrega", "3", "dia"]);
    }

    #[test]
    fn cosine_of_sets() {
        let a: HashSet<String> = tokens("track my order").into_iter().collect();
        let b: HashSet<String> = tokens("how do I track an order").into_iter().collect();
        assert!((cosine(&a, &b) - 1.0).abs() < 1e-9);
        assert_eq!(cosine(&a, &HashSet::new()), 0.0);
    }
}
