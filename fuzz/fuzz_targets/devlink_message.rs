//! Any bytes as a devlink datagram: no panic, and every port that parses
//! emits back to bytes that parse to the same port.  Also covers what neli
//! reads for us: message headers (`wire::messages`), acks / errors /
//! `NLMSG_DONE` (`NlMsg::control`, whose length checks guard neli's
//! unchecked subtractions), the `genlmsghdr` and the nlctrl family reply
//! (neli's attribute handles).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ovn_vif_rs::devlink::attrs::DEVLINK_CMD_PORT_NEW;
use ovn_vif_rs::devlink::parse::{
    emit_port_message, parse_port_dump_payload, parse_port_message, parse_port_payload, PortEvent,
};
use ovn_vif_rs::netlink::genl::parse_family_payload;
use ovn_vif_rs::netlink::wire;

fuzz_target!(|data: &[u8]| {
    for m in wire::messages(data) {
        let Ok(m) = m else { break };
        let _ = m.control();
        let _ = parse_family_payload(m.payload);
        for r in [
            parse_port_payload(m.payload),
            parse_port_dump_payload(m.payload),
        ] {
            if let Ok(Some(PortEvent::New(p))) = r {
                let bytes = emit_port_message(m.ty, 0, 0, DEVLINK_CMD_PORT_NEW, &p);
                assert_eq!(parse_port_message(&bytes), Ok(Some(PortEvent::New(p))));
            }
        }
    }
});
