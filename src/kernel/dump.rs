//! One full dump of links (`RTM_GETLINK`) or devlink ports (`PORT_GET`)
//! on a request socket.

use std::io;

use crate::devlink::parse::{emit_port_dump_request, parse_port_dump_payload, PortEvent};
use crate::netlink::socket::{self, Transport};
use crate::netlink::wire::ParseError;
use crate::port::DevlinkPort;
use crate::rtnl::parse::{emit_getlink_dump_request, parse_link_payload, LinkEvent, LinkInfo};

/// One dump's result: entries parsed, entries rejected, and whether the
/// kernel flagged it `NLM_F_DUMP_INTR` (redo it).
#[derive(Debug)]
pub struct Dump<I> {
    pub items: Vec<I>,
    pub errors: Vec<ParseError>,
    pub interrupted: bool,
}

/// One `RTM_GETLINK` dump on a request socket.
pub fn dump_links<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    seq: u32,
) -> io::Result<Dump<LinkInfo>> {
    let req = emit_getlink_dump_request(seq);
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let interrupted = socket::dump(t, buf, seq, &req, |m| {
        match parse_link_payload(m.ty, m.payload) {
            Ok(Some(LinkEvent::New(l))) => items.push(l),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    })?;
    Ok(Dump {
        items,
        errors,
        interrupted,
    })
}

/// One `DEVLINK_CMD_PORT_GET` dump on a generic netlink request socket.
pub fn dump_ports<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    seq: u32,
    family: u16,
) -> io::Result<Dump<DevlinkPort>> {
    let req = emit_port_dump_request(family, seq);
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let interrupted = socket::dump(t, buf, seq, &req, |m| {
        if m.ty != family {
            return;
        }
        match parse_port_dump_payload(m.payload) {
            Ok(Some(PortEvent::New(p))) => items.push(p),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    })?;
    Ok(Dump {
        items,
        errors,
        interrupted,
    })
}
