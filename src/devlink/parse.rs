//! devlink port messages (`DEVLINK_CMD_PORT_NEW` / `PORT_DEL`, and the
//! replies of a `PORT_GET` dump, which the kernel also sends as PORT_NEW):
//! each attribute is a [`PortAttr`] variant with a symmetric parse/emit, and
//! a message becomes a [`PortEvent`] on the shared model
//! ([`DevlinkPort`]).
//!
//! Unknown attributes are skipped.  A known attribute with a wrong length, a
//! string without NUL, or a framing error is rejected with a [`ParseError`]
//! naming the attribute.
//!
//! The message and `genlmsghdr` headers are read by neli
//! (`crate::netlink`), requests are built with neli's types; the attribute
//! walk is the hand-written [`crate::netlink::wire::attrs`]: neli's
//! attribute parser (one `Vec` per attribute) costs more than 2x per port
//! on the 65,536-port dump and per event (`benches/netlink.rs`, figures in
//! `BENCHMARKS.md`).  Messages are emitted through neli's builders
//! ([`MsgBuilder`]).

use neli::consts::nl::NlmF;
use neli::genl::GenlmsghdrBuilder;
use neli::nl::NlPayload;

use super::attrs::*;
use crate::netlink::genl::parse_genl_header;
use crate::netlink::wire::{
    self, attrs, emit_nl, get_str, get_u16, get_u32, get_u8, MsgBuilder, ParseError, ParseErrorKind,
};
use crate::port::{DevHandle, DevlinkPort, Flavour, Mac, NetdevRef, PortFunction, PortId};

/// A port without port attributes set (`attrs_set == 0`) carries no
/// `DEVLINK_ATTR_PORT_FLAVOUR`; we record it as this flavour number, which
/// no kernel uses, and emit no flavour for it.
pub const FLAVOUR_ABSENT: u16 = u16::MAX;

/// One attribute of a devlink port message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortAttr<'a> {
    BusName(&'a str),
    DevName(&'a str),
    PortIndex(u32),
    PortType(u16),
    NetdevIfindex(u32),
    NetdevName(&'a str),
    Flavour(u16),
    Number(u32),
    PciPfNumber(u16),
    PciVfNumber(u16),
    PciSfNumber(u32),
    Controller(u32),
    External(u8),
    Function(PortFunction),
    /// Any attribute we do not use, kept verbatim (type without flag bits).
    Other(u16, &'a [u8]),
}

impl<'a> PortAttr<'a> {
    pub fn parse(ty: u16, p: &'a [u8]) -> Result<PortAttr<'a>, ParseError> {
        Ok(match ty {
            DEVLINK_ATTR_BUS_NAME => PortAttr::BusName(get_str("DEVLINK_ATTR_BUS_NAME", p)?),
            DEVLINK_ATTR_DEV_NAME => PortAttr::DevName(get_str("DEVLINK_ATTR_DEV_NAME", p)?),
            DEVLINK_ATTR_PORT_INDEX => PortAttr::PortIndex(get_u32("DEVLINK_ATTR_PORT_INDEX", p)?),
            DEVLINK_ATTR_PORT_TYPE => PortAttr::PortType(get_u16("DEVLINK_ATTR_PORT_TYPE", p)?),
            DEVLINK_ATTR_PORT_NETDEV_IFINDEX => {
                PortAttr::NetdevIfindex(get_u32("DEVLINK_ATTR_PORT_NETDEV_IFINDEX", p)?)
            }
            DEVLINK_ATTR_PORT_NETDEV_NAME => {
                let what = "DEVLINK_ATTR_PORT_NETDEV_NAME";
                let s = get_str(what, p)?;
                if s.len() >= IFNAMSIZ {
                    return Err(ParseError::new(
                        what,
                        ParseErrorKind::BadValue(s.len() as u64),
                    ));
                }
                PortAttr::NetdevName(s)
            }
            DEVLINK_ATTR_PORT_FLAVOUR => {
                PortAttr::Flavour(get_u16("DEVLINK_ATTR_PORT_FLAVOUR", p)?)
            }
            DEVLINK_ATTR_PORT_NUMBER => PortAttr::Number(get_u32("DEVLINK_ATTR_PORT_NUMBER", p)?),
            DEVLINK_ATTR_PORT_PCI_PF_NUMBER => {
                PortAttr::PciPfNumber(get_u16("DEVLINK_ATTR_PORT_PCI_PF_NUMBER", p)?)
            }
            DEVLINK_ATTR_PORT_PCI_VF_NUMBER => {
                PortAttr::PciVfNumber(get_u16("DEVLINK_ATTR_PORT_PCI_VF_NUMBER", p)?)
            }
            DEVLINK_ATTR_PORT_PCI_SF_NUMBER => {
                PortAttr::PciSfNumber(get_u32("DEVLINK_ATTR_PORT_PCI_SF_NUMBER", p)?)
            }
            DEVLINK_ATTR_PORT_CONTROLLER_NUMBER => {
                PortAttr::Controller(get_u32("DEVLINK_ATTR_PORT_CONTROLLER_NUMBER", p)?)
            }
            DEVLINK_ATTR_PORT_EXTERNAL => {
                PortAttr::External(get_u8("DEVLINK_ATTR_PORT_EXTERNAL", p)?)
            }
            DEVLINK_ATTR_PORT_FUNCTION => PortAttr::Function(parse_function(p)?),
            other => PortAttr::Other(other, p),
        })
    }

    pub fn emit(&self, b: &mut MsgBuilder) {
        match self {
            PortAttr::BusName(s) => b.str(DEVLINK_ATTR_BUS_NAME, s),
            PortAttr::DevName(s) => b.str(DEVLINK_ATTR_DEV_NAME, s),
            PortAttr::PortIndex(v) => b.u32(DEVLINK_ATTR_PORT_INDEX, *v),
            PortAttr::PortType(v) => b.u16(DEVLINK_ATTR_PORT_TYPE, *v),
            PortAttr::NetdevIfindex(v) => b.u32(DEVLINK_ATTR_PORT_NETDEV_IFINDEX, *v),
            PortAttr::NetdevName(s) => b.str(DEVLINK_ATTR_PORT_NETDEV_NAME, s),
            PortAttr::Flavour(v) => b.u16(DEVLINK_ATTR_PORT_FLAVOUR, *v),
            PortAttr::Number(v) => b.u32(DEVLINK_ATTR_PORT_NUMBER, *v),
            PortAttr::PciPfNumber(v) => b.u16(DEVLINK_ATTR_PORT_PCI_PF_NUMBER, *v),
            PortAttr::PciVfNumber(v) => b.u16(DEVLINK_ATTR_PORT_PCI_VF_NUMBER, *v),
            PortAttr::PciSfNumber(v) => b.u32(DEVLINK_ATTR_PORT_PCI_SF_NUMBER, *v),
            PortAttr::Controller(v) => b.u32(DEVLINK_ATTR_PORT_CONTROLLER_NUMBER, *v),
            PortAttr::External(v) => b.u8(DEVLINK_ATTR_PORT_EXTERNAL, *v),
            PortAttr::Function(f) => {
                emit_function(b, f);
                b
            }
            PortAttr::Other(ty, p) => b.attr(*ty, p),
        };
    }
}

/// The nested `DEVLINK_ATTR_PORT_FUNCTION`.  A hardware address of any
/// length up to `MAX_ADDR_LEN` is accepted; only a 6-byte one is an
/// Ethernet address (others, e.g. InfiniBand GUIDs, become `None`).
fn parse_function(p: &[u8]) -> Result<PortFunction, ParseError> {
    let mut f = PortFunction::default();
    for a in attrs(p, "DEVLINK_ATTR_PORT_FUNCTION") {
        let (ty, v) = a?;
        match ty {
            DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR => {
                if v.len() > MAX_ADDR_LEN {
                    return Err(ParseError::new(
                        "DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR",
                        ParseErrorKind::BadValue(v.len() as u64),
                    ));
                }
                f.hw_addr = Mac::from_slice(v);
            }
            DEVLINK_PORT_FN_ATTR_STATE => f.state = Some(get_u8("DEVLINK_PORT_FN_ATTR_STATE", v)?),
            DEVLINK_PORT_FN_ATTR_OPSTATE => {
                f.opstate = Some(get_u8("DEVLINK_PORT_FN_ATTR_OPSTATE", v)?)
            }
            _ => {}
        }
    }
    Ok(f)
}

fn emit_function(b: &mut MsgBuilder, f: &PortFunction) {
    b.begin_nest(DEVLINK_ATTR_PORT_FUNCTION);
    if let Some(m) = f.hw_addr {
        b.attr(DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR, &m.0);
    }
    if let Some(s) = f.state {
        b.u8(DEVLINK_PORT_FN_ATTR_STATE, s);
    }
    if let Some(s) = f.opstate {
        b.u8(DEVLINK_PORT_FN_ATTR_OPSTATE, s);
    }
    b.end_nest();
}

/// What a devlink port message means for the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortEvent {
    /// PORT_NEW (also every dump reply): the full current state of a port.
    New(DevlinkPort),
    /// PORT_DEL: the port is gone.
    Del(PortId),
}

impl PortEvent {
    pub fn id(&self) -> &PortId {
        match self {
            PortEvent::New(p) => &p.id,
            PortEvent::Del(id) => id,
        }
    }
}

/// Parses the payload of one devlink message (after `nlmsghdr`).
/// `Ok(None)` for commands other than PORT_NEW/PORT_DEL (the `config`
/// group also carries device, param, region ... notifications).
pub fn parse_port_payload(payload: &[u8]) -> Result<Option<PortEvent>, ParseError> {
    let (hdr, _) = parse_genl_header(payload)?;
    match hdr.cmd {
        DEVLINK_CMD_PORT_NEW => parse_port_body(payload, false),
        DEVLINK_CMD_PORT_DEL => parse_port_body(payload, true),
        _ => Ok(None),
    }
}

/// Parses one reply of a `PORT_GET` dump.  Its command is not checked:
/// Linux 6.1 fills port dump replies with `DEVLINK_CMD_NEW` (3, the
/// *device* command) instead of `DEVLINK_CMD_PORT_NEW` (which the `doit`
/// and the notifications use); iproute2 does not look at it either.
pub fn parse_port_dump_payload(payload: &[u8]) -> Result<Option<PortEvent>, ParseError> {
    parse_port_body(payload, false)
}

fn parse_port_body(payload: &[u8], del: bool) -> Result<Option<PortEvent>, ParseError> {
    let (_, body) = parse_genl_header(payload)?;
    port_event_from_attrs(attrs(body, "devlink port message"), del)
}

/// Builds the event of one port message from its attributes, `(type
/// without flag bits, payload)` in message order, however they were split
/// (the hand-written walk here; `benches/netlink.rs` also feeds it neli's).
/// `del`: a PORT_DEL, which needs only the key.
pub fn port_event_from_attrs<'a>(
    attrs: impl Iterator<Item = Result<(u16, &'a [u8]), ParseError>>,
    del: bool,
) -> Result<Option<PortEvent>, ParseError> {
    let mut bus = None;
    let mut dev = None;
    let mut index = None;
    let mut port_type = DEVLINK_PORT_TYPE_NOTSET;
    let mut ifindex = None;
    let mut ifname = None;
    let mut flavour = FLAVOUR_ABSENT;
    let mut number = None;
    let mut pfnum = None;
    let mut vfnum = None;
    let mut sfnum = None;
    let mut controller = 0;
    let mut external = false;
    let mut function = None;
    for a in attrs {
        let (ty, p) = a?;
        let attr = match PortAttr::parse(ty, p) {
            Ok(a) => a,
            // A PORT_DEL only needs its key: don't let a bad unrelated
            // attribute keep a deleted port in the table.
            Err(_)
                if del
                    && !matches!(
                        ty,
                        DEVLINK_ATTR_BUS_NAME | DEVLINK_ATTR_DEV_NAME | DEVLINK_ATTR_PORT_INDEX
                    ) =>
            {
                continue
            }
            Err(e) => return Err(e),
        };
        match attr {
            PortAttr::BusName(s) => bus = Some(s),
            PortAttr::DevName(s) => dev = Some(s),
            PortAttr::PortIndex(v) => index = Some(v),
            PortAttr::PortType(v) => port_type = v,
            PortAttr::NetdevIfindex(v) => ifindex = Some(v),
            PortAttr::NetdevName(s) => ifname = Some(s),
            PortAttr::Flavour(v) => flavour = v,
            PortAttr::Number(v) => number = Some(v),
            PortAttr::PciPfNumber(v) => pfnum = Some(v),
            PortAttr::PciVfNumber(v) => vfnum = Some(v),
            PortAttr::PciSfNumber(v) => sfnum = Some(v),
            PortAttr::Controller(v) => controller = v,
            PortAttr::External(v) => external = v != 0,
            PortAttr::Function(f) => function = Some(f),
            PortAttr::Other(..) => {}
        }
    }
    let missing = |what| ParseError::new(what, ParseErrorKind::Missing);
    let id = PortId {
        handle: DevHandle::new(
            bus.ok_or_else(|| missing("DEVLINK_ATTR_BUS_NAME"))?,
            dev.ok_or_else(|| missing("DEVLINK_ATTR_DEV_NAME"))?,
        ),
        index: index.ok_or_else(|| missing("DEVLINK_ATTR_PORT_INDEX"))?,
    };
    if del {
        return Ok(Some(PortEvent::Del(id)));
    }
    // Only an `eth` port with an ifindex has a netdev (the kernel omits the
    // netdev of another network namespace; a `notset` port has none).
    let netdev = match (port_type, ifindex) {
        (DEVLINK_PORT_TYPE_ETH, Some(ifindex)) => Some(NetdevRef {
            ifindex,
            name: ifname.unwrap_or_default().to_owned(),
        }),
        _ => None,
    };
    Ok(Some(PortEvent::New(DevlinkPort {
        id,
        flavour: Flavour::from_kernel(flavour),
        controller,
        external,
        number,
        pfnum,
        vfnum,
        sfnum,
        netdev,
        function,
    })))
}

/// Parses one whole devlink message (header included); for fuzzing and
/// fixtures.  Trailing messages in `buf` are ignored.
pub fn parse_port_message(buf: &[u8]) -> Result<Option<PortEvent>, ParseError> {
    match wire::messages(buf).next() {
        Some(m) => parse_port_payload(m?.payload),
        None => Err(ParseError::new(
            "nlmsghdr",
            ParseErrorKind::Truncated {
                need: wire::NLMSG_HDRLEN,
                have: 0,
            },
        )),
    }
}

/// The attributes of a port in the kernel's order (`devlink_nl_port_fill`
/// on 6.1): handle, index, type, netdev, flavour, numbers, function.
pub fn port_attrs(port: &DevlinkPort) -> Vec<PortAttr<'_>> {
    let mut v = vec![
        PortAttr::BusName(&port.id.handle.bus),
        PortAttr::DevName(&port.id.handle.dev),
        PortAttr::PortIndex(port.id.index),
    ];
    match &port.netdev {
        Some(nd) => {
            v.push(PortAttr::PortType(DEVLINK_PORT_TYPE_ETH));
            v.push(PortAttr::NetdevIfindex(nd.ifindex));
            v.push(PortAttr::NetdevName(&nd.name));
        }
        None => v.push(PortAttr::PortType(DEVLINK_PORT_TYPE_NOTSET)),
    }
    let fl = port.flavour.to_kernel();
    if fl != FLAVOUR_ABSENT {
        v.push(PortAttr::Flavour(fl));
    }
    let pci = matches!(
        port.flavour,
        Flavour::PciPf | Flavour::PciVf | Flavour::PciSf
    );
    // The kernel sends a controller for PCI ports only; a non-zero one on
    // another flavour is emitted too, so that parse(emit(p)) == p.
    if pci || port.controller != 0 {
        v.push(PortAttr::Controller(port.controller));
    }
    if let Some(n) = port.number {
        v.push(PortAttr::Number(n));
    }
    if let Some(n) = port.pfnum {
        v.push(PortAttr::PciPfNumber(n));
    }
    if let Some(n) = port.vfnum {
        v.push(PortAttr::PciVfNumber(n));
    }
    if let Some(n) = port.sfnum {
        v.push(PortAttr::PciSfNumber(n));
    }
    // 6.1 sends `external` for PCI_PF and PCI_VF ports only.
    if matches!(port.flavour, Flavour::PciPf | Flavour::PciVf) || port.external {
        v.push(PortAttr::External(port.external as u8));
    }
    if let Some(f) = &port.function {
        v.push(PortAttr::Function(f.clone()));
    }
    v
}

/// Emits a devlink port message as the kernel would send it: `cmd` is
/// PORT_NEW or PORT_DEL, `family` the resolved devlink family id.
pub fn emit_port_message(
    family: u16,
    flags: u16,
    seq: u32,
    cmd: u8,
    port: &DevlinkPort,
) -> Vec<u8> {
    let mut b = MsgBuilder::new(family, flags, seq, 0);
    b.raw(&[cmd, DEVLINK_GENL_VERSION, 0, 0]);
    for a in port_attrs(port) {
        a.emit(&mut b);
    }
    b.finish()
}

/// A `PORT_GET` dump request, built with neli ([`DevlinkCmd::PortGet`]).
pub fn emit_port_dump_request(family: u16, seq: u32) -> Vec<u8> {
    let genl = GenlmsghdrBuilder::<DevlinkCmd, DevlinkAttr>::default()
        .cmd(DevlinkCmd::PortGet)
        .version(DEVLINK_GENL_VERSION)
        .build();
    let head = (family, NlmF::REQUEST | NlmF::DUMP, seq, 0);
    let payload = genl.map(NlPayload::Payload).map_err(Into::into);
    emit_nl("the devlink port dump request", head, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vf() -> DevlinkPort {
        DevlinkPort {
            id: PortId {
                handle: DevHandle::new("pci", "0000:03:00.0"),
                index: 7,
            },
            flavour: Flavour::PciVf,
            controller: 1,
            external: true,
            number: None,
            pfnum: Some(0),
            vfnum: Some(3),
            sfnum: None,
            netdev: Some(NetdevRef {
                ifindex: 12,
                name: "eth5".into(),
            }),
            function: Some(PortFunction {
                hw_addr: Some(Mac([0, 0x53, 0, 0, 0, 3])),
                state: Some(1),
                opstate: Some(0),
            }),
        }
    }

    #[test]
    fn port_round_trips() {
        let p = vf();
        let bytes = emit_port_message(0x15, 0, 0, DEVLINK_CMD_PORT_NEW, &p);
        assert_eq!(
            parse_port_message(&bytes),
            Ok(Some(PortEvent::New(p.clone())))
        );
        let del = emit_port_message(0x15, 0, 0, DEVLINK_CMD_PORT_DEL, &p);
        assert_eq!(
            parse_port_message(&del),
            Ok(Some(PortEvent::Del(p.id.clone())))
        );
    }

    #[test]
    fn missing_key_is_named() {
        let mut b = MsgBuilder::new(0x15, 0, 0, 0);
        b.raw(&[DEVLINK_CMD_PORT_NEW, 1, 0, 0])
            .str(DEVLINK_ATTR_BUS_NAME, "pci");
        b.str(DEVLINK_ATTR_DEV_NAME, "x");
        let e = parse_port_message(&b.finish()).unwrap_err();
        assert_eq!(e.what, "DEVLINK_ATTR_PORT_INDEX");
        assert_eq!(e.kind, ParseErrorKind::Missing);
    }

    /// The request as iproute2's `devlink port show` sends it.
    #[test]
    fn port_dump_request_bytes() {
        let b = emit_port_dump_request(0x15, 3);
        let m = wire::messages(&b).next().unwrap().unwrap();
        assert_eq!(b.len(), 20);
        assert_eq!((m.ty, m.seq, m.pid), (0x15, 3, 0));
        assert_eq!(m.flags, wire::NLM_F_REQUEST | wire::NLM_F_DUMP);
        assert_eq!(
            m.payload,
            &[DEVLINK_CMD_PORT_GET, DEVLINK_GENL_VERSION, 0, 0]
        );
    }
}
