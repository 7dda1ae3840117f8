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
//!
//! The `ifinfomsg` header is neli's [`Ifinfomsg`] (read alone, without its
//! attributes), the `RTM_GETLINK` request a neli [`Nlmsghdr`](neli::nl::Nlmsghdr), the numbers
//! libc's.  The `IFLA_*` attributes are walked by the hand-written
//! [`crate::netlink::wire::attrs`]: neli's `RtBuffer` copies every one of
//! the ~50 attributes of a real `RTM_NEWLINK` into its own `Vec`, more than
//! 2x the cost of this walk per event (`benches/netlink.rs`, figures in
//! `BENCHMARKS.md`).

use std::io::Cursor;

use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Arphrd, Iff, RtAddrFamily, Rtm};
use neli::nl::NlPayload;
use neli::rtnl::{Ifinfomsg, IfinfomsgBuilder};
use neli::{FromBytesWithInput, ToBytes};

use crate::netlink::wire::{
    self, attrs, emit_nl, get_str, BuildResult, MsgBuilder, ParseError, ParseErrorKind, IFNAMSIZ,
    MAX_ADDR_LEN,
};
use crate::port::{Link, Mac};

pub const RTM_NEWLINK: u16 = libc::RTM_NEWLINK;
pub const RTM_DELLINK: u16 = libc::RTM_DELLINK;
pub const RTM_GETLINK: u16 = libc::RTM_GETLINK;
/// The multicast group of link notifications (a group number).
pub const RTNLGRP_LINK: u32 = libc::RTNLGRP_LINK;
pub const IFLA_ADDRESS: u16 = libc::IFLA_ADDRESS;
pub const IFLA_IFNAME: u16 = libc::IFLA_IFNAME;
/// `sizeof(struct ifinfomsg)`.
pub const IFINFOMSG_LEN: usize = 16;

/// `ARPHRD_ETHER`, the `ifi_type` we emit for fixtures.
pub const ARPHRD_ETHER: u16 = libc::ARPHRD_ETHER;

/// `AF_UNSPEC`: the `ifi_family` of link state (see the module docs).
pub const AF_UNSPEC: u8 = libc::AF_UNSPEC as u8;
/// `AF_BRIDGE`: a bridge port's view of a link (not link state).
pub const AF_BRIDGE: u8 = libc::AF_BRIDGE as u8;

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
    /// Reads the header with neli's [`Ifinfomsg`] (its 16 bytes only) and
    /// returns the attributes after it.
    pub fn parse(p: &[u8]) -> Result<(IfInfo, &[u8]), ParseError> {
        let truncated = || {
            ParseError::new(
                "ifinfomsg",
                ParseErrorKind::Truncated {
                    need: IFINFOMSG_LEN,
                    have: p.len(),
                },
            )
        };
        let h = p.get(..IFINFOMSG_LEN).ok_or_else(truncated)?;
        let m = Ifinfomsg::from_bytes_with_input(&mut Cursor::new(h), IFINFOMSG_LEN)
            .map_err(|_| truncated())?;
        Ok((
            IfInfo {
                family: u8::from(*m.ifi_family()),
                ty: u16::from(*m.ifi_type()),
                index: *m.ifi_index(),
                flags: u32::from(*m.ifi_flags()),
                change: u32::from(*m.ifi_change()),
            },
            &p[IFINFOMSG_LEN..],
        ))
    }

    fn to_neli(self) -> BuildResult<Ifinfomsg> {
        Ok(IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::from(self.family))
            .ifi_type(Arphrd::from(self.ty))
            .ifi_index(self.index)
            .ifi_flags(Iff::from_bits_retain(self.flags))
            .ifi_change(Iff::from_bits_retain(self.change))
            .build()?)
    }

    /// The 16 bytes of the header, serialized by neli.
    pub fn to_bytes(self) -> [u8; IFINFOMSG_LEN] {
        let bytes = || -> BuildResult<[u8; IFINFOMSG_LEN]> {
            let mut c = Cursor::new(Vec::with_capacity(IFINFOMSG_LEN));
            self.to_neli()?.to_bytes(&mut c)?;
            Ok(c.get_ref()[..].try_into()?)
        };
        bytes().unwrap_or_else(|e| {
            log::error!("rtnetlink: serializing ifinfomsg failed: {e}");
            [0; IFINFOMSG_LEN]
        })
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
    new_link_from_attrs(ifindex, attrs(body, "rtnetlink link message")).map(Some)
}

/// Builds the `RTM_NEWLINK` event of link `ifindex` from its attributes,
/// `(type without flag bits, payload)` in message order, however they were
/// split (the hand-written walk here; `benches/netlink.rs` also feeds it
/// neli's).
pub fn new_link_from_attrs<'a>(
    ifindex: u32,
    attrs: impl Iterator<Item = Result<(u16, &'a [u8]), ParseError>>,
) -> Result<LinkEvent, ParseError> {
    let mut name = None;
    let mut mac = None;
    for a in attrs {
        let (t, p) = a?;
        match LinkAttr::parse(t, p)? {
            LinkAttr::IfName(s) => name = Some(s),
            LinkAttr::Address(a) => mac = Mac::from_slice(a),
            LinkAttr::Other(..) => {}
        }
    }
    let name = name.ok_or_else(|| ParseError::new("IFLA_IFNAME", ParseErrorKind::Missing))?;
    Ok(LinkEvent::New(LinkInfo {
        ifindex,
        name: name.to_owned(),
        mac,
    }))
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

/// An RTM_GETLINK dump request, built with neli ([`Rtm::Getlink`], an
/// empty [`Ifinfomsg`]).
pub fn emit_getlink_dump_request(seq: u32) -> Vec<u8> {
    let head = (Rtm::Getlink, NlmF::REQUEST | NlmF::DUMP, seq, 0);
    let payload = IfInfo::default().to_neli().map(NlPayload::Payload);
    emit_nl("the RTM_GETLINK request", head, payload)
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

    /// The numbers against /usr/include's uapi headers.
    #[test]
    fn constants_match_kernel_headers() {
        crate::netlink::uapi::check(&[
            ("RTM_NEWLINK", RTM_NEWLINK.into()),
            ("RTM_DELLINK", RTM_DELLINK.into()),
            ("RTM_GETLINK", RTM_GETLINK.into()),
            ("RTNLGRP_LINK", RTNLGRP_LINK.into()),
            ("IFLA_ADDRESS", IFLA_ADDRESS.into()),
            ("IFLA_IFNAME", IFLA_IFNAME.into()),
            ("sizeof(struct ifinfomsg)", IFINFOMSG_LEN as i64),
        ]);
    }

    #[test]
    fn getlink_request_bytes() {
        let b = emit_getlink_dump_request(4);
        assert_eq!(b.len(), wire::NLMSG_HDRLEN + IFINFOMSG_LEN);
        let m = wire::messages(&b).next().unwrap().unwrap();
        assert_eq!((m.ty, m.seq), (RTM_GETLINK, 4));
        assert_eq!(m.flags, wire::NLM_F_REQUEST | wire::NLM_F_DUMP);
        assert_eq!(m.payload, &[0u8; IFINFOMSG_LEN]);
    }

    /// Every field of the header survives neli both ways, unknown flag
    /// bits and families included.
    #[test]
    fn ifinfomsg_round_trips() {
        let h = IfInfo {
            family: 99,
            ty: 0xfffe,
            index: -3,
            flags: 0xdead_beef,
            change: 0xffff_ffff,
        };
        let bytes = h.to_bytes();
        assert_eq!(bytes[0], 99);
        assert_eq!(bytes[1], 0);
        assert_eq!(IfInfo::parse(&bytes), Ok((h, &[][..])));
        assert!(IfInfo::parse(&bytes[..15]).is_err());
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
