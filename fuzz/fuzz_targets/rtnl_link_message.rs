//! Any bytes as an rtnetlink datagram: no panic, and every link that
//! parses emits back to bytes that parse to the same link.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ovn_vif_rs::netlink::wire;
use ovn_vif_rs::rtnl::parse::{emit_newlink, parse_link_message, parse_link_payload, LinkEvent};

fuzz_target!(|data: &[u8]| {
    for m in wire::messages(data) {
        let Ok(m) = m else { break };
        if let Ok(Some(LinkEvent::New(l))) = parse_link_payload(m.ty, m.payload) {
            let bytes = emit_newlink(&l, 0, 0);
            assert_eq!(parse_link_message(&bytes), Ok(Some(LinkEvent::New(l))));
        }
    }
});
