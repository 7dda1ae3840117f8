//! rtnetlink link messages (`RTM_NEWLINK` / `RTM_DELLINK`): `struct
//! ifinfomsg` followed by `IFLA_*` attributes, of which we use the name and
//! the hardware address.  Symmetric parse/emit, bounds-checked like the
//! devlink side.
//!
//! **Only `ifi_family` `AF_UNSPEC` messages are link state.**  The kernel
//! fills every link notification and dump entry (`rtnl_fill_ifinfo`) with
//! `AF_UNSPEC`; the same group also carries per-family views of a link that
//! are not about its existence: a Linux bridge sends `RTM_NEWLINK` *and*
//! `RTM_DELLINK` with `AF_BRIDGE` when a port joins or leaves it (captured in
//! `tests/fixtures/netlink/capture-bridge-6.18`), while the netdev lives on.
//! Taking that `RTM_DELLINK` as a deletion unplugged a live representor, so
//! messages of any other family are ignored (`Ok(None)`); a rename or MAC
//! change always comes with its own `AF_UNSPEC` `RTM_NEWLINK`.

use crate::devlink::attrs::{
    IFINFOMSG_LEN, IFLA_ADDRESS, IFLA_IFNAME, IFNAMSIZ, MAX_ADDR_LEN, RTM_DELLINK, RTM_GETLINK,
    RTM_NEWLINK,
};
use crate::devlink::wire::{self, attrs, get_str, MsgBuilder, ParseError, ParseErrorKind};
use crate::port::{Link, Mac};

/// `ARPHRD_ETHER`, the `ifi_type` we emit for fixtures.
pub const ARPHRD_ETHER: u16 = 1;

/// `AF_UNSPEC`: the `ifi_family` of link state (see the module docs).
pub const AF_UNSPEC: u8 = 0;
/// `AF_BRIDGE`: a bridge port's view of a link (not link state).
pub const AF_BRIDGE: u8 = 7;

/// One attribute of a link message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkAttr<'a> {
    IfName(&'a str),
    /// Raw hardware address (any length up to `MAX_ADDR_LEN`).
    Address(&'a [u8]),
    Other(u16, &'a [u8]),
}

impl<'a> LinkAttr<'a> {
    pub fn parse(ty: u16, p: &'a [u8]) -> Result<LinkAttr<'a>, ParseError> {
        Ok(match ty {
            IFLA_IFNAME => {
                let s = get_str("IFLA_IFNAME", p)?;
                if s.is_empty() || s.len() >= IFNAMSIZ {
                    return Err(ParseError::new(
                        "IFLA_IFNAME",
                        ParseErrorKind::BadValue(s.len() as u64),
                    ));
                }
                LinkAttr::IfName(s)
            }
            IFLA_ADDRESS => {
                if p.len() > MAX_ADDR_LEN {
                    return Err(ParseError::new(
                        "IFLA_ADDRESS",
                        ParseErrorKind::BadValue(p.len() as u64),
                    ));
                }
                LinkAttr::Address(p)
            }
            other => LinkAttr::Other(other, p),
        })
    }

    pub fn emit(&self, b: &mut MsgBuilder) {
        match self {
            LinkAttr::IfName(s) => b.str(IFLA_IFNAME, s),
            LinkAttr::Address(a) => b.attr(IFLA_ADDRESS, a),
            LinkAttr::Other(t, p) => b.attr(*t, p),
        };
    }
}

/// A link as one message describes it (before the udev rule decides
/// whether it is settled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    pub ifindex: u32,
    pub name: String,
    /// IFLA_ADDRESS when it is 6 bytes long.
    pub mac: Option<Mac>,
}

impl LinkInfo {
    pub fn into_link(self, settled: bool) -> Link {
        Link {
            ifindex: self.ifindex,
            name: self.name,
            mac: self.mac,
            settled,
        }
    }
}

impl From<&Link> for LinkInfo {
    fn from(l: &Link) -> LinkInfo {
        LinkInfo {
            ifindex: l.ifindex,
            name: l.name.clone(),
            mac: l.mac,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    New(LinkInfo),
    Del(u32),
}

/// `struct ifinfomsg`: family, pad, type u16, index i32, flags, change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IfInfo {
    pub family: u8,
    pub ty: u16,
    pub index: i32,
    pub flags: u32,
    pub change: u32,
}

impl IfInfo {
    pub fn parse(p: &[u8]) -> Result<(IfInfo, &[u8]), ParseError> {
        if p.len() < IFINFOMSG_LEN {
            return Err(ParseError::new(
                "ifinfomsg",
                ParseErrorKind::Truncated {
                    need: IFINFOMSG_LEN,
                    have: p.len(),
                },
            ));
        }
        let u32_at = |at: usize| u32::from_ne_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]);
        Ok((
            IfInfo {
                family: p[0],
                ty: u16::from_ne_bytes([p[2], p[3]]),
                index: u32_at(4) as i32,
                flags: u32_at(8),
                change: u32_at(12),
            },
            &p[IFINFOMSG_LEN..],
        ))
    }

    pub fn to_bytes(self) -> [u8; IFINFOMSG_LEN] {
        let mut b = [0u8; IFINFOMSG_LEN];
        b[0] = self.family;
        b[2..4].copy_from_slice(&self.ty.to_ne_bytes());
        b[4..8].copy_from_slice(&self.index.to_ne_bytes());
        b[8..12].copy_from_slice(&self.flags.to_ne_bytes());
        b[12..16].copy_from_slice(&self.change.to_ne_bytes());
        b
    }
}

/// Parses the payload of an rtnetlink message of type `ty`.  `Ok(None)` for
/// message types other than NEWLINK/DELLINK, and for messages of an
/// `ifi_family` other than `AF_UNSPEC` (a bridge port's `AF_BRIDGE` view,
/// see the module docs).
pub fn parse_link_payload(ty: u16, payload: &[u8]) -> Result<Option<LinkEvent>, ParseError> {
    if ty != RTM_NEWLINK && ty != RTM_DELLINK {
        return Ok(None);
    }
    let (hdr, body) = IfInfo::parse(payload)?;
    if hdr.family != AF_UNSPEC {
        log::debug!(
            "rtnetlink {} for ifindex {} with ifi_family {} (not link state): ignored",
            if ty == RTM_DELLINK {
                "RTM_DELLINK"
            } else {
                "RTM_NEWLINK"
            },
            hdr.index,
            hdr.family
        );
        return Ok(None);
    }
    if hdr.index <= 0 {
        return Err(ParseError::new(
            "ifinfomsg.ifi_index",
            ParseErrorKind::BadValue(hdr.index as u64),
        ));
    }
    let ifindex = hdr.index as u32;
    if ty == RTM_DELLINK {
        return Ok(Some(LinkEvent::Del(ifindex)));
    }
    let mut name = None;
    let mut mac = None;
    for a in attrs(body, "rtnetlink link message") {
        let (t, p) = a?;
        match LinkAttr::parse(t, p)? {
            LinkAttr::IfName(s) => name = Some(s),
            LinkAttr::Address(a) => mac = Mac::from_slice(a),
            LinkAttr::Other(..) => {}
        }
    }
    let name = name.ok_or_else(|| ParseError::new("IFLA_IFNAME", ParseErrorKind::Missing))?;
    Ok(Some(LinkEvent::New(LinkInfo {
        ifindex,
        name: name.to_owned(),
        mac,
    })))
}

/// One whole message (header included): for fuzzing and fixtures.
pub fn parse_link_message(buf: &[u8]) -> Result<Option<LinkEvent>, ParseError> {
    match wire::messages(buf).next() {
        Some(m) => {
            let m = m?;
            parse_link_payload(m.ty, m.payload)
        }
        None => Err(ParseError::new(
            "nlmsghdr",
            ParseErrorKind::Truncated {
                need: wire::NLMSG_HDRLEN,
                have: 0,
            },
        )),
    }
}

/// Emits RTM_NEWLINK for `link` (ifname then address, as the kernel's
/// `rtnl_fill_ifinfo` orders them).
pub fn emit_newlink(link: &LinkInfo, flags: u16, seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_NEWLINK, flags, seq, 0);
    let hdr = IfInfo {
        ty: ARPHRD_ETHER,
        index: link.ifindex as i32,
        ..IfInfo::default()
    };
    b.raw(&hdr.to_bytes());
    LinkAttr::IfName(&link.name).emit(&mut b);
    if let Some(m) = &link.mac {
        LinkAttr::Address(&m.0).emit(&mut b);
    }
    b.finish()
}

/// Emits RTM_DELLINK (the kernel sends the full link; the index suffices).
pub fn emit_dellink(ifindex: u32, name: &str) -> Vec<u8> {
    emit_dellink_family(AF_UNSPEC, ifindex, name)
}

/// Emits RTM_DELLINK with another `ifi_family`: `AF_BRIDGE` is what a
/// bridge sends when a port leaves it (the netdev stays).
pub fn emit_dellink_family(family: u8, ifindex: u32, name: &str) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_DELLINK, 0, 0, 0);
    let hdr = IfInfo {
        family,
        ty: ARPHRD_ETHER,
        index: ifindex as i32,
        ..IfInfo::default()
    };
    b.raw(&hdr.to_bytes());
    LinkAttr::IfName(name).emit(&mut b);
    b.finish()
}

/// An RTM_GETLINK dump request.
pub fn emit_getlink_dump_request(seq: u32) -> Vec<u8> {
    let mut b = MsgBuilder::new(RTM_GETLINK, wire::NLM_F_REQUEST | wire::NLM_F_DUMP, seq, 0);
    b.raw(&IfInfo::default().to_bytes());
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlink_round_trips() {
        let l = LinkInfo {
            ifindex: 5,
            name: "eth0".into(),
            mac: Some(Mac([0, 0x53, 0, 0, 0, 1])),
        };
        let b = emit_newlink(&l, 0, 0);
        assert_eq!(parse_link_message(&b), Ok(Some(LinkEvent::New(l))));
        assert_eq!(
            parse_link_message(&emit_dellink(5, "eth0")),
            Ok(Some(LinkEvent::Del(5)))
        );
    }

    /// A bridge port's view (`AF_BRIDGE`) is not link state: its
    /// RTM_DELLINK is not a deletion, its RTM_NEWLINK not an update.
    #[test]
    fn only_af_unspec_is_link_state() {
        assert_eq!(
            parse_link_message(&emit_dellink_family(AF_BRIDGE, 5, "eth0")),
            Ok(None)
        );
        let l = LinkInfo {
            ifindex: 5,
            name: "eth0".into(),
            mac: None,
        };
        let mut b = emit_newlink(&l, 0, 0);
        b[wire::NLMSG_HDRLEN] = AF_BRIDGE;
        assert_eq!(parse_link_message(&b), Ok(None));
        b[wire::NLMSG_HDRLEN] = AF_UNSPEC;
        assert_eq!(parse_link_message(&b), Ok(Some(LinkEvent::New(l))));
    }

    #[test]
    fn bad_names_are_rejected() {
        let l = LinkInfo {
            ifindex: 5,
            name: "a-name-that-is-too-long".into(),
            mac: None,
        };
        let e = parse_link_message(&emit_newlink(&l, 0, 0)).unwrap_err();
        assert_eq!(e.what, "IFLA_IFNAME");
    }
}
