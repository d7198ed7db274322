//! Platform webhook parsing: one body of each platform's most frequent event (a message) and
//! the hints request, from the sample payloads in `examples/payloads/`, read leniently into
//! the normalised `Event`.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hintd::core::Source;
use hintd::ingest::parse;
use std::hint::black_box;

const CASES: &[(&str, Source, &[u8])] = &[
    (
        "chat2desk/inbox",
        Source::Chat2desk,
        include_bytes!("../../examples/payloads/chat2desk/inbox.json"),
    ),
    (
        "chat2desk/ai_hints_requested",
        Source::Chat2desk,
        include_bytes!("../../examples/payloads/chat2desk/ai_hints_requested.json"),
    ),
    (
        "chatwoot/message_created",
        Source::Chatwoot,
        include_bytes!("../../examples/payloads/chatwoot/message_created.json"),
    ),
    (
        "whazing/message_received",
        Source::Whazing,
        include_bytes!("../../examples/payloads/whazing/message_received.json"),
    ),
];

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, source, body) in CASES {
        // A sample that no longer parses would measure the error path: refuse to.
        parse(*source, "default", body, 0).unwrap_or_else(|e| panic!("{name}: {e}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                parse(
                    black_box(*source),
                    "default",
                    black_box(body),
                    1_700_000_000_000,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parsing);
criterion_main!(benches);
