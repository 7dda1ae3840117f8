//! Option strings as OVN hands them over: lines of `key=value` (the input
//! is split on '\n', then on the first '=').  No panic; the hit path's
//! parser (`FastOptions`, through `parse_fast`) accepts exactly what
//! `parse` accepts, with the same request; a near miss of the prefix
//! (`options::is_near_miss`) is never accepted; an error's text is escaped
//! and bounded whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text
        .split('\n')
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .collect();
    let full = ovn_vif_rs::options::parse(pairs.iter().copied());
    if pairs
        .iter()
        .any(|(k, _)| ovn_vif_rs::options::is_near_miss(k.as_bytes()))
    {
        assert!(full.is_err());
    }
    if let Err(e) = &full {
        let text = e.to_string();
        assert!(!text.contains('\n') && !text.contains('\r'));
        assert!(text.len() < 2048);
    }
    assert_eq!(ovn_vif_rs::options::parse_fast(pairs), full.ok());
});
