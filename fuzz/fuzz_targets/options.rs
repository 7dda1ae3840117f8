//! Option strings as OVN hands them over: lines of `key=value` (the input
//! is split on '\n', then on the first '=').  No panic; the hit path's
//! parser (`FastOptions`, through `parse_fast`) accepts exactly what
//! `parse` accepts, with the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text
        .split('\n')
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .collect();
    let full = ovn_vif_rs::options::parse(pairs.iter().copied());
    assert_eq!(ovn_vif_rs::options::parse_fast(pairs), full.ok());
});
