//! Option strings as OVN hands them over: lines of `key=value` (the input
//! is split on '\n', then on the first '=').  No panic; a parsed request's
//! values were strictly formatted.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text
        .split('\n')
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .collect();
    let _ = ovn_vif_rs::options::parse(pairs);
});
