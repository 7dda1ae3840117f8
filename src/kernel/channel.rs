//! The four sockets a [`super::KernelSource`] reads ([`Channel`]), and
//! resolving the devlink generic netlink family it needs.

use std::io;

use crate::devlink::attrs::{DEVLINK_GENL_MCGRP_CONFIG_NAME, DEVLINK_GENL_NAME};
use crate::netlink::genl::{self, FamilyInfo};
use crate::netlink::socket::Transport;

/// Which of the four sockets a transport is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// Generic netlink requests: nlctrl, `PORT_GET` dumps.
    DevlinkReq,
    /// devlink `config` multicast group.
    DevlinkMon,
    /// rtnetlink requests: `RTM_GETLINK` dumps.
    RtnlReq,
    /// rtnetlink `RTNLGRP_LINK`.
    RtnlMon,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::DevlinkReq => "devlink-req",
            Channel::DevlinkMon => "devlink-mon",
            Channel::RtnlReq => "rtnl-req",
            Channel::RtnlMon => "rtnl-mon",
        }
    }
}

/// Resolves the devlink family and checks it has the `config` group.  A
/// kernel without devlink gives `ErrorKind::NotFound` saying so.
pub fn resolve_devlink<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    seq: u32,
) -> io::Result<FamilyInfo> {
    let family = match genl::resolve_family(t, buf, seq, DEVLINK_GENL_NAME) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "this kernel has no devlink: generic netlink family \"{DEVLINK_GENL_NAME}\" \
                     not found ({e}); is CONFIG_NET_DEVLINK enabled?"
                ),
            ))
        }
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("resolving generic netlink family \"{DEVLINK_GENL_NAME}\": {e}"),
            ))
        }
    };
    if family.group(DEVLINK_GENL_MCGRP_CONFIG_NAME).is_none() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "generic netlink family \"{DEVLINK_GENL_NAME}\" has no multicast group \
                 \"{DEVLINK_GENL_MCGRP_CONFIG_NAME}\""
            ),
        ));
    }
    Ok(family)
}
