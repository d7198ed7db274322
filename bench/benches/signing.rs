//! Signatures on hot paths: Standard Webhooks signing of every outbound delivery (one secret,
//! and two during a rotation) and Chatwoot's inbound `X-Chatwoot-Signature` check.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hintd::core::signature::{SigningSecret, headers};
use hintd::ingest::verify::{sign, verify_signature};
use std::hint::black_box;

fn signing(c: &mut Criterion) {
    let body = include_bytes!("../../examples/payloads/chatwoot/message_created.json").to_vec();
    let big = body.repeat(16);
    let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let old = SigningSecret::generate();

    let mut group = c.benchmark_group("standard-webhooks");
    for (name, b) in [("sign", &body), ("sign 16x body", &big)] {
        group.throughput(Throughput::Bytes(b.len() as u64));
        group.bench_function(name, |bench| {
            bench.iter(|| {
                secret.sign(
                    black_box("msg_2Kf8"),
                    black_box(1_700_000_000),
                    black_box(b),
                )
            })
        });
    }
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("headers, 2 secrets (rotation)", |bench| {
        bench.iter(|| {
            headers(
                black_box(&[&secret, &old]),
                black_box("msg_2Kf8"),
                1_700_000_000,
                black_box(&body),
            )
        })
    });
    group.finish();

    let ts = 1_700_000_000i64;
    let sig = sign("chatwoot-secret", ts, &body);
    let ts_text = ts.to_string();
    verify_signature("chatwoot-secret", &sig, Some(&ts_text), &body, ts).expect("valid signature");
    c.bench_function("chatwoot/verify", |bench| {
        bench.iter(|| {
            verify_signature(
                black_box("chatwoot-secret"),
                black_box(&sig),
                Some(&ts_text),
                black_box(&body),
                ts,
            )
        })
    });
}

criterion_group!(benches, signing);
criterion_main!(benches);
