//! Text matching shared by hintd's shipped plugins: case and accent folding, tokens without
//! stop words, a small BM25 index and a set similarity. Pure Rust, no bindings, so it is unit
//! tested natively (`cargo test -p hintd-textkit`).

mod bm25;
mod tokens;

pub use bm25::Bm25;
pub use tokens::{cosine, fold, normalize, tokens};
