//! The Chatwoot webhook parser (`ingest::parse` with `Source::Chatwoot`).
#![no_main]

use hintd::core::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hintd_fuzz::check_parse(Source::Chatwoot, &hintd_fuzz::Body::new(data));
});
