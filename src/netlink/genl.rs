//! Generic netlink on neli's types: the `genlmsghdr` ([`Genlmsghdr`]) and
//! the controller (nlctrl) lookup of a family and its multicast groups
//! (`CTRL_CMD_GETFAMILY`, [`CtrlCmd`] / [`CtrlAttr`] / [`CtrlAttrMcastGrp`],
//! read through neli's attribute handles).  The family reply is read once
//! at start-up, so neli's copying attribute parser costs nothing that
//! matters there; the per-message `genlmsghdr` of devlink's dump and events
//! is read by neli too (only its 4 bytes, not the attributes: see
//! `super::wire`).

use std::io::{self, Cursor};

use neli::consts::genl::{CtrlAttr, CtrlAttrMcastGrp, CtrlCmd};
use neli::consts::nl::{GenlId, NlmF};
use neli::genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder};
use neli::nl::NlPayload;
use neli::types::{Buffer, GenlBuffer};
use neli::{FromBytesWithInput, Size, ToBytes};

use super::socket::{nlmsg_error, recv_reply, Transport};
use super::wire::{
    self, emit_nl, get_str, get_u16, get_u32, BuildResult, ParseError, ParseErrorKind,
};

/// `GENL_ID_CTRL`, the nlctrl family's fixed id.
pub const GENL_ID_CTRL: u16 = libc::GENL_ID_CTRL as u16;
/// `struct genlmsghdr`: cmd, version, reserved u16.
pub const GENL_HDRLEN: usize = 4;
/// The version nlctrl requests carry (`genl_ctrl_resolve` sends 1).
const CTRL_REQUEST_VERSION: u8 = 1;
/// The version nlctrl's own replies carry (`CTRL_CMD_NEWFAMILY`, 6.1).
const CTRL_REPLY_VERSION: u8 = 2;

/// The fields of a `struct genlmsghdr` we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenlHeader {
    pub cmd: u8,
    pub version: u8,
}

/// The `genlmsghdr` at the start of a generic netlink payload, read by
/// neli's [`Genlmsghdr`] (its 4 bytes only), and the attributes after it.
pub fn parse_genl_header(payload: &[u8]) -> Result<(GenlHeader, &[u8]), ParseError> {
    let Some(h) = payload.get(..GENL_HDRLEN) else {
        return Err(ParseError::new(
            "genlmsghdr",
            ParseErrorKind::Truncated {
                need: GENL_HDRLEN,
                have: payload.len(),
            },
        ));
    };
    let g = Genlmsghdr::<u8, u16>::from_bytes_with_input(&mut Cursor::new(h), GENL_HDRLEN)
        .map_err(|_| {
            ParseError::new(
                "genlmsghdr",
                ParseErrorKind::Truncated {
                    need: GENL_HDRLEN,
                    have: payload.len(),
                },
            )
        })?;
    Ok((
        GenlHeader {
            cmd: *g.cmd(),
            version: *g.version(),
        },
        &payload[GENL_HDRLEN..],
    ))
}

/// A generic netlink family's id and multicast groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyInfo {
    pub id: u16,
    pub groups: Vec<(String, u32)>,
}

impl FamilyInfo {
    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }
}

fn attr<T, P>(ty: T, payload: P) -> BuildResult<Nlattr<T, Buffer>>
where
    T: neli::consts::genl::NlAttrType,
    P: Size + ToBytes,
{
    let ty = AttrTypeBuilder::default().nla_type(ty).build()?;
    Ok(NlattrBuilder::default()
        .nla_type(ty)
        .nla_payload(payload)
        .build()?)
}

/// A generic netlink message of nlctrl: `cmd`, `version`, `attrs`.
fn ctrl_message(
    what: &str,
    (cmd, version, flags, seq): (CtrlCmd, u8, NlmF, u32),
    attrs: BuildResult<Vec<Nlattr<CtrlAttr, Buffer>>>,
) -> Vec<u8> {
    let genl = || -> BuildResult<_> {
        let g = GenlmsghdrBuilder::<CtrlCmd, CtrlAttr>::default()
            .cmd(cmd)
            .version(version)
            .attrs(attrs?.into_iter().collect::<GenlBuffer<_, _>>())
            .build()?;
        Ok(NlPayload::Payload(g))
    };
    emit_nl(what, (GenlId::Ctrl, flags, seq, 0), genl())
}

/// `CTRL_CMD_GETFAMILY` by name, built with neli.
pub fn emit_getfamily_request(name: &str, seq: u32) -> Vec<u8> {
    let head = (CtrlCmd::Getfamily, CTRL_REQUEST_VERSION, NlmF::REQUEST, seq);
    let attrs = attr(CtrlAttr::FamilyName, name).map(|a| vec![a]);
    ctrl_message("CTRL_CMD_GETFAMILY", head, attrs)
}

/// The `CTRL_CMD_NEWFAMILY` reply (the payload after `nlmsghdr`): family
/// id and multicast groups, read through neli's [`Genlmsghdr`] and its
/// attribute handles; each value's length is checked strictly
/// ([`wire::get_u16`] ...).
pub fn parse_family_payload(payload: &[u8]) -> Result<FamilyInfo, ParseError> {
    // neli strips each attribute's padding, also after the last one: read
    // a copy padded as the kernel pads messages.
    let mut bytes = payload.to_vec();
    bytes.resize(wire::align4(bytes.len()), 0);
    let len = bytes.len();
    let g =
        Genlmsghdr::<CtrlCmd, CtrlAttr>::from_bytes_with_input(&mut Cursor::new(&bytes[..]), len)
            .map_err(|e| {
            log::debug!("nlctrl family message: neli: {e}");
            ParseError::new(
                "nlctrl family message",
                ParseErrorKind::BadValue(len as u64),
            )
        })?;
    let attrs = g.attrs().get_attr_handle();
    let id = match attrs.get_attribute(CtrlAttr::FamilyId) {
        Some(a) => get_u16("CTRL_ATTR_FAMILY_ID", a.nla_payload().as_ref())?,
        None => {
            return Err(ParseError::new(
                "CTRL_ATTR_FAMILY_ID",
                ParseErrorKind::Missing,
            ))
        }
    };
    let mut groups = Vec::new();
    if attrs.get_attribute(CtrlAttr::McastGroups).is_some() {
        let list = attrs
            .get_nested_attributes::<u16>(CtrlAttr::McastGroups)
            .map_err(|_| bad("CTRL_ATTR_MCAST_GROUPS"))?;
        for entry in list.iter() {
            let grp = entry
                .get_attr_handle::<CtrlAttrMcastGrp>()
                .map_err(|_| bad("CTRL_ATTR_MCAST_GROUPS entry"))?;
            let name = match grp.get_attribute(CtrlAttrMcastGrp::Name) {
                Some(a) => Some(get_str(
                    "CTRL_ATTR_MCAST_GRP_NAME",
                    a.nla_payload().as_ref(),
                )?),
                None => None,
            };
            let gid = match grp.get_attribute(CtrlAttrMcastGrp::Id) {
                Some(a) => Some(get_u32("CTRL_ATTR_MCAST_GRP_ID", a.nla_payload().as_ref())?),
                None => None,
            };
            if let (Some(n), Some(i)) = (name, gid) {
                groups.push((n.to_owned(), i));
            }
        }
    }
    Ok(FamilyInfo { id, groups })
}

fn bad(what: &'static str) -> ParseError {
    ParseError::new(what, ParseErrorKind::BadValue(0))
}

/// The reply nlctrl sends for a family (for the fake kernel in tests),
/// built with neli.
pub fn emit_family_message(info: &FamilyInfo, name: &str, seq: u32) -> Vec<u8> {
    let attrs = || -> BuildResult<_> {
        let mut groups = attr(CtrlAttr::McastGroups, Buffer::new())?;
        for (i, (n, gid)) in info.groups.iter().enumerate() {
            let entry = attr(i as u16 + 1, Buffer::new())?
                .nest(&attr(CtrlAttrMcastGrp::Id, *gid)?)?
                .nest(&attr(CtrlAttrMcastGrp::Name, n.as_str())?)?;
            groups = groups.nest(&entry)?;
        }
        let id = attr(CtrlAttr::FamilyId, info.id)?;
        Ok(vec![attr(CtrlAttr::FamilyName, name)?, id, groups])
    };
    let head = (CtrlCmd::Newfamily, CTRL_REPLY_VERSION, NlmF::empty(), seq);
    ctrl_message("CTRL_CMD_NEWFAMILY", head, attrs())
}

/// Resolves a generic netlink family by name through nlctrl.  A kernel
/// without that family answers `ENOENT`, returned as `ErrorKind::NotFound`.
pub fn resolve_family<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    seq: u32,
    name: &str,
) -> io::Result<FamilyInfo> {
    t.send(&emit_getfamily_request(name, seq))?;
    loop {
        let n = recv_reply(t, buf, || {
            format!("no reply from nlctrl for family {name:?}")
        })?;
        for m in wire::messages(&buf[..n]) {
            let m = m.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if m.seq != seq {
                continue;
            }
            if m.ty == wire::NLMSG_ERROR {
                nlmsg_error(&m)?;
                continue;
            }
            return parse_family_payload(m.payload)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_round_trips() {
        let info = FamilyInfo {
            id: 0x15,
            groups: vec![("config".into(), 7), ("trap".into(), 9)],
        };
        let bytes = emit_family_message(&info, "devlink", 1);
        let m = wire::messages(&bytes).next().unwrap().unwrap();
        assert_eq!(m.ty, GENL_ID_CTRL);
        assert_eq!(parse_family_payload(m.payload), Ok(info.clone()));
        assert_eq!(info.group("config"), Some(7));
        assert_eq!(info.group("trap"), Some(9));
        assert_eq!(info.group("nope"), None);
    }

    /// The request as libnl's `genl_ctrl_resolve` sends it.
    #[test]
    fn getfamily_request_bytes() {
        let b = emit_getfamily_request("devlink", 9);
        let mut want = Vec::new();
        want.extend_from_slice(&32u32.to_ne_bytes());
        want.extend_from_slice(&GENL_ID_CTRL.to_ne_bytes());
        want.extend_from_slice(&wire::NLM_F_REQUEST.to_ne_bytes());
        want.extend_from_slice(&9u32.to_ne_bytes());
        want.extend_from_slice(&0u32.to_ne_bytes());
        want.extend_from_slice(&[libc::CTRL_CMD_GETFAMILY as u8, 1, 0, 0]);
        want.extend_from_slice(&12u16.to_ne_bytes());
        want.extend_from_slice(&(libc::CTRL_ATTR_FAMILY_NAME as u16).to_ne_bytes());
        want.extend_from_slice(b"devlink\0");
        assert_eq!(b, want);
    }

    #[test]
    fn family_errors_are_named() {
        let e = parse_family_payload(&[libc::CTRL_CMD_NEWFAMILY as u8, 2, 0, 0]).unwrap_err();
        assert_eq!(e.what, "CTRL_ATTR_FAMILY_ID");
        assert_eq!(e.kind, ParseErrorKind::Missing);
        // A family id of 4 bytes instead of 2.
        let mut b = wire::MsgBuilder::new(GENL_ID_CTRL, 0, 0, 0);
        b.raw(&[libc::CTRL_CMD_NEWFAMILY as u8, 2, 0, 0])
            .u32(libc::CTRL_ATTR_FAMILY_ID as u16, 0x15);
        let bytes = b.finish();
        let m = wire::messages(&bytes).next().unwrap().unwrap();
        let e = parse_family_payload(m.payload).unwrap_err();
        assert_eq!(e.what, "CTRL_ATTR_FAMILY_ID");
        // An attribute longer than the message.
        let mut bad = m.payload.to_vec();
        bad[4] = 200;
        assert!(parse_family_payload(&bad).is_err());
        assert!(parse_family_payload(&[1, 2]).is_err());
    }
}
