//! The Whazing webhook parser (`ingest::parse` with `Source::Whazing`).
#![no_main]

use hintd::core::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hintd_fuzz::check_parse(Source::Whazing, &hintd_fuzz::Body::new(data));
});
