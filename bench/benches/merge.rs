//! The hint pipeline's pure hot path: merging the plugins' hints (normalise, weight,
//! threshold, near-duplicate removal, rank, cut) and writing the Chat2Desk reply.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use hintd::hints::{HintsReply, MergeRules, PluginHints, merge};
use hintd::plugins::Hint;
use std::hint::black_box;

const TEXTS: &[&str] = &[
    "Refunds take 5 to 7 business days after the return reaches our warehouse",
    "Return shipping is free for exchanges and costs 5 euros for refunds",
    "Yes, the refund always goes back to the card used for payment",
    "You can return any item within 30 days of delivery for free",
    "Orders are delivered in 3 to 5 business days after payment is confirmed",
    "You can track your order with the tracking code sent to your email",
    "We accept credit and debit cards, PIX and boleto",
    "Orders can be cancelled free of charge until they are shipped",
];

/// `plugins` plugins answering `per_plugin` hints each; neighbouring plugins repeat some of
/// each other's texts (exactly or with small edits) so deduplication has work to do.
fn results(plugins: usize, per_plugin: usize) -> Vec<PluginHints> {
    (0..plugins)
        .map(|p| PluginHints {
            plugin: format!("plugin-{p}"),
            weight: 1.0 - p as f64 * 0.1,
            hints: (0..per_plugin)
                .map(|i| {
                    let base = TEXTS[(i + p) % TEXTS.len()];
                    let text = if (i + p) % 3 == 0 {
                        format!("{base}!")
                    } else {
                        format!("{base} (#{i})")
                    };
                    Hint {
                        id: format!("{p}-{i}"),
                        text,
                        url: None,
                        link: None,
                        relevance: (95 - (i * 7) % 60) as u8,
                    }
                })
                .collect(),
        })
        .collect()
}

fn merging(c: &mut Criterion) {
    let rules = MergeRules {
        threshold: 5.0,
        max_hints: 5,
        dedupe_similarity: 0.8,
    };
    let mut group = c.benchmark_group("merge");
    for (name, plugins, per) in [
        ("3 plugins × 3 hints", 3, 3),
        ("3 plugins × 10 hints", 3, 10),
        ("5 plugins × 50 hints", 5, 50),
    ] {
        let input = results(plugins, per);
        group.bench_function(name, |b| {
            b.iter(|| merge(black_box(&input), black_box(&rules)))
        });
    }
    group.finish();

    let merged = merge(&results(3, 3), &rules);
    c.bench_function("reply/chat2desk json", |b| {
        b.iter(|| HintsReply::new(black_box("8205"), black_box(&merged)).to_json())
    });
}

criterion_group!(benches, merging);
criterion_main!(benches);
