//! `smart_nic/pf/config` text: no panic; an accepted MAC prints back to a
//! line that parses to the same MAC.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ovn_vif_rs::smartnic::parse_config;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(mac) = parse_config(&text) {
        assert_eq!(parse_config(&format!("MAC        : {mac}\n")), Ok(mac));
    }
});
