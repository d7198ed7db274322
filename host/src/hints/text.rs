//! Text comparison for near-duplicate hints and for matching a hint to an operator's reply:
//! case and accents folded, punctuation dropped, tokens compared as sets.

use std::collections::HashSet;

/// Folds one character: lowercase, common Latin accents removed (Portuguese and Spanish
/// texts are the platforms' main audience), everything that is not a letter or digit → space.
fn fold(c: char) -> char {
    // ASCII (most of every hint) needs no case table.
    if c.is_ascii() {
        return if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            ' '
        };
    }
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
    // One pass: folding leaves only letters, digits and spaces, so collapsing runs of spaces
    // and trimming is the whole whitespace normalisation.
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().map(fold) {
        if c == ' ' {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// The distinct tokens of the normal form.
pub fn token_set(text: &str) -> HashSet<String> {
    normalize(text)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The distinct tokens of a text already in normal form (see [`normalize`]), sorted: compared
/// with [`jaccard_sorted`] without hashing.
pub fn sorted_tokens(normal: &str) -> Vec<&str> {
    let mut tokens: Vec<&str> = normal.split(' ').filter(|t| !t.is_empty()).collect();
    tokens.sort_unstable();
    tokens.dedup();
    tokens
}

/// Jaccard similarity of two sorted, deduplicated token lists — tokens as text or as ids —
/// (1.0 for two empty lists); the same value [`jaccard`] gives for the same sets.
pub fn jaccard_sorted<T: Ord>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - inter;
    inter as f64 / union as f64
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
        assert_eq!(
            normalize("  Olá!  Você   pode\tpagar com PIX? "),
            "ola voce pode pagar com pix"
        );
        assert_eq!(
            normalize("Entrega: 3–5 dias."),
            normalize("entrega 3 5 DIAS")
        );
    }

    #[test]
    fn single_pass_normal_form_matches_the_definition() {
        for text in [
            "",
            "   ",
            "!!",
            " a  b ",
            "Olá,Mundo!!  Ça va?",
            "İstanbul ẞ straße 3–5",
            "x\u{3000}y\n\tz",
        ] {
            let folded: String = text.chars().map(fold).collect();
            let reference = folded.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(normalize(text), reference, "{text:?}");
        }
    }

    #[test]
    fn sorted_jaccard_equals_set_jaccard() {
        let texts = [
            "your order ships tomorrow",
            "order your order",
            "",
            "refund on its way your order",
            "a b c d",
        ];
        for a in texts {
            for b in texts {
                let (na, nb) = (normalize(a), normalize(b));
                let set = jaccard(&token_set(&na), &token_set(&nb));
                assert_eq!(
                    jaccard_sorted(&sorted_tokens(&na), &sorted_tokens(&nb)),
                    set,
                    "{a:?} {b:?}"
                );
            }
        }
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
