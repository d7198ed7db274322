//! Text comparison for near-duplicate hints and for matching a hint to an operator's reply:
//! case and accents folded, punctuation dropped, tokens compared as sets.

use std::collections::HashSet;

/// Folds one character: lowercase, common Latin accents removed (Portuguese and Spanish
/// texts are the platforms' main audience), everything that is not a letter or digit → space.
fn fold(c: char) -> char {
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

/// The text folded and with whitespace collapsed: two hints with the same normal form say
/// the same thing.
pub fn normalize(text: &str) -> String {
    let folded: String = text.chars().map(fold).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The distinct tokens of the normal form.
pub fn token_set(text: &str) -> HashSet<String> {
    normalize(text).split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

/// Jaccard similarity of two token sets (1.0 for two empty sets).
pub fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    inter as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_ignores_case_accents_and_punctuation() {
        assert_eq!(normalize("  Olá!  Você   pode\tpagar com PIX? "), "ola voce pode pagar com pix");
        assert_eq!(normalize("Entrega: 3–5 dias."), normalize("entrega 3 5 DIAS"));
    }

    #[test]
    fn jaccard_of_token_sets() {
        let a = token_set("your order ships tomorrow");
        let b = token_set("Your order ships tomorrow!");
        assert_eq!(jaccard(&a, &b), 1.0);
        let c = token_set("your refund is on its way");
        assert!(jaccard(&a, &c) < 0.2);
    }
}
