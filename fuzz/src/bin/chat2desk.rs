//! The Chat2desk webhook parser (`ingest::parse` with `Source::Chat2desk`).
#![no_main]

use hintd::core::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hintd_fuzz::check_parse(Source::Chat2desk, &hintd_fuzz::Body::new(data));
});
