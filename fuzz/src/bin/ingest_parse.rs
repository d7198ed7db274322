//! `ingest::parse` with every source on the same body: a platform's payload sent to another
//! platform's endpoint must be refused or read, never crash.
#![no_main]

use hintd::core::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let body = hintd_fuzz::Body::new(data);
    for source in [
        Source::Chat2desk,
        Source::Chatwoot,
        Source::Whazing,
        Source::Api,
    ] {
        hintd_fuzz::check_parse(source, &body);
    }
});
