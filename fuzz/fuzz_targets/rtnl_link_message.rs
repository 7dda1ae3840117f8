//! Any bytes as an rtnetlink datagram: no panic, and every link that
//! parses emits back to bytes that parse to the same link; every
//! `ifinfomsg` neli reads serializes back to the same 16 bytes; acks,
//! errors and `NLMSG_DONE` (`NlMsg::control`) never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ovn_vif_rs::netlink::wire;
use ovn_vif_rs::rtnl::parse::{
    emit_newlink, parse_link_message, parse_link_payload, IfInfo, LinkEvent,
};

fuzz_target!(|data: &[u8]| {
    for m in wire::messages(data) {
        let Ok(m) = m else { break };
        let _ = m.control();
        if let Ok((h, _)) = IfInfo::parse(m.payload) {
            // (byte 1 is `ifinfomsg`'s padding, not kept)
            let mut want = [0u8; 16];
            want.copy_from_slice(&m.payload[..16]);
            want[1] = 0;
            assert_eq!(h.to_bytes(), want);
        }
        if let Ok(Some(LinkEvent::New(l))) = parse_link_payload(m.ty, m.payload) {
            let bytes = emit_newlink(&l, 0, 0);
            assert_eq!(parse_link_message(&bytes), Ok(Some(LinkEvent::New(l))));
        }
    }
});
