//! devlink's numbers from the kernel's uapi header
//! (`include/uapi/linux/devlink.h`), only the ones we use.  They are ABI
//! and never change; the test below compiles a C program against the
//! installed headers and checks every constant.  Each is written once, as
//! a constant: the hot-path parser (`super::parse`) matches on them, and
//! the neli enums [`DevlinkCmd`] / [`DevlinkAttr`] / [`DevlinkPortFnAttr`]
//! (`neli_enum`, typed `genlmsghdr` commands and attribute types for neli's
//! builders and handles) take their values from them.
//!
//! The generic netlink numbers (nlctrl) are neli's and libc's
//! (`crate::netlink::genl`), the rtnetlink ones libc's (`crate::rtnl`).

use neli::neli_enum;

pub const DEVLINK_GENL_NAME: &str = "devlink";
pub const DEVLINK_GENL_MCGRP_CONFIG_NAME: &str = "config";
pub const DEVLINK_GENL_VERSION: u8 = 1;

/// The *device* NEW command; 6.1 uses it in port dump replies (see
/// `parse::parse_port_dump_payload`).
pub const DEVLINK_CMD_NEW: u8 = 3;
pub const DEVLINK_CMD_PORT_GET: u8 = 5;
pub const DEVLINK_CMD_PORT_SET: u8 = 6;
pub const DEVLINK_CMD_PORT_NEW: u8 = 7;
pub const DEVLINK_CMD_PORT_DEL: u8 = 8;

pub const DEVLINK_ATTR_BUS_NAME: u16 = 1;
pub const DEVLINK_ATTR_DEV_NAME: u16 = 2;
pub const DEVLINK_ATTR_PORT_INDEX: u16 = 3;
pub const DEVLINK_ATTR_PORT_TYPE: u16 = 4;
pub const DEVLINK_ATTR_PORT_NETDEV_IFINDEX: u16 = 6;
pub const DEVLINK_ATTR_PORT_NETDEV_NAME: u16 = 7;
pub const DEVLINK_ATTR_PORT_FLAVOUR: u16 = 77;
pub const DEVLINK_ATTR_PORT_NUMBER: u16 = 78;
pub const DEVLINK_ATTR_PORT_PCI_PF_NUMBER: u16 = 127;
pub const DEVLINK_ATTR_PORT_PCI_VF_NUMBER: u16 = 128;
pub const DEVLINK_ATTR_PORT_FUNCTION: u16 = 145;
pub const DEVLINK_ATTR_PORT_EXTERNAL: u16 = 149;
pub const DEVLINK_ATTR_PORT_CONTROLLER_NUMBER: u16 = 150;
pub const DEVLINK_ATTR_PORT_PCI_SF_NUMBER: u16 = 164;

pub const DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR: u16 = 1;
pub const DEVLINK_PORT_FN_ATTR_STATE: u16 = 2;
pub const DEVLINK_PORT_FN_ATTR_OPSTATE: u16 = 3;

pub const DEVLINK_PORT_TYPE_NOTSET: u16 = 0;
pub const DEVLINK_PORT_TYPE_AUTO: u16 = 1;
pub const DEVLINK_PORT_TYPE_ETH: u16 = 2;
pub const DEVLINK_PORT_TYPE_IB: u16 = 3;

pub use crate::netlink::wire::{IFNAMSIZ, MAX_ADDR_LEN};

/// devlink's `genlmsghdr` commands (neli's `Cmd`).
#[neli_enum(serialized_type = "u8")]
pub enum DevlinkCmd {
    New = DEVLINK_CMD_NEW,
    PortGet = DEVLINK_CMD_PORT_GET,
    PortSet = DEVLINK_CMD_PORT_SET,
    PortNew = DEVLINK_CMD_PORT_NEW,
    PortDel = DEVLINK_CMD_PORT_DEL,
}

impl neli::consts::genl::Cmd for DevlinkCmd {}

/// devlink's top-level attributes (neli's `NlAttrType`).
#[neli_enum(serialized_type = "u16")]
pub enum DevlinkAttr {
    BusName = DEVLINK_ATTR_BUS_NAME,
    DevName = DEVLINK_ATTR_DEV_NAME,
    PortIndex = DEVLINK_ATTR_PORT_INDEX,
    PortType = DEVLINK_ATTR_PORT_TYPE,
    PortNetdevIfindex = DEVLINK_ATTR_PORT_NETDEV_IFINDEX,
    PortNetdevName = DEVLINK_ATTR_PORT_NETDEV_NAME,
    PortFlavour = DEVLINK_ATTR_PORT_FLAVOUR,
    PortNumber = DEVLINK_ATTR_PORT_NUMBER,
    PortPciPfNumber = DEVLINK_ATTR_PORT_PCI_PF_NUMBER,
    PortPciVfNumber = DEVLINK_ATTR_PORT_PCI_VF_NUMBER,
    PortFunction = DEVLINK_ATTR_PORT_FUNCTION,
    PortExternal = DEVLINK_ATTR_PORT_EXTERNAL,
    PortControllerNumber = DEVLINK_ATTR_PORT_CONTROLLER_NUMBER,
    PortPciSfNumber = DEVLINK_ATTR_PORT_PCI_SF_NUMBER,
}

impl neli::consts::genl::NlAttrType for DevlinkAttr {}

/// The attributes nested in `DEVLINK_ATTR_PORT_FUNCTION`.
#[neli_enum(serialized_type = "u16")]
pub enum DevlinkPortFnAttr {
    HwAddr = DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR,
    State = DEVLINK_PORT_FN_ATTR_STATE,
    Opstate = DEVLINK_PORT_FN_ATTR_OPSTATE,
}

impl neli::consts::genl::NlAttrType for DevlinkPortFnAttr {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::genl::{GENL_HDRLEN, GENL_ID_CTRL};
    use crate::netlink::wire;

    /// devlink's, nlctrl's and netlink's numbers against /usr/include's
    /// uapi headers (`crate::netlink::uapi`); rtnetlink's are checked in
    /// `crate::rtnl::parse`.
    #[test]
    fn constants_match_kernel_headers() {
        let checks: &[(&str, i64)] = &[
            ("GENL_ID_CTRL", GENL_ID_CTRL.into()),
            ("GENL_HDRLEN", GENL_HDRLEN as i64),
            ("DEVLINK_GENL_VERSION", DEVLINK_GENL_VERSION.into()),
            ("DEVLINK_CMD_NEW", DEVLINK_CMD_NEW.into()),
            ("DEVLINK_CMD_PORT_GET", DEVLINK_CMD_PORT_GET.into()),
            ("DEVLINK_CMD_PORT_SET", DEVLINK_CMD_PORT_SET.into()),
            ("DEVLINK_CMD_PORT_NEW", DEVLINK_CMD_PORT_NEW.into()),
            ("DEVLINK_CMD_PORT_DEL", DEVLINK_CMD_PORT_DEL.into()),
            ("DEVLINK_ATTR_BUS_NAME", DEVLINK_ATTR_BUS_NAME.into()),
            ("DEVLINK_ATTR_DEV_NAME", DEVLINK_ATTR_DEV_NAME.into()),
            ("DEVLINK_ATTR_PORT_INDEX", DEVLINK_ATTR_PORT_INDEX.into()),
            ("DEVLINK_ATTR_PORT_TYPE", DEVLINK_ATTR_PORT_TYPE.into()),
            (
                "DEVLINK_ATTR_PORT_NETDEV_IFINDEX",
                DEVLINK_ATTR_PORT_NETDEV_IFINDEX.into(),
            ),
            (
                "DEVLINK_ATTR_PORT_NETDEV_NAME",
                DEVLINK_ATTR_PORT_NETDEV_NAME.into(),
            ),
            (
                "DEVLINK_ATTR_PORT_FLAVOUR",
                DEVLINK_ATTR_PORT_FLAVOUR.into(),
            ),
            ("DEVLINK_ATTR_PORT_NUMBER", DEVLINK_ATTR_PORT_NUMBER.into()),
            (
                "DEVLINK_ATTR_PORT_PCI_PF_NUMBER",
                DEVLINK_ATTR_PORT_PCI_PF_NUMBER.into(),
            ),
            (
                "DEVLINK_ATTR_PORT_PCI_VF_NUMBER",
                DEVLINK_ATTR_PORT_PCI_VF_NUMBER.into(),
            ),
            (
                "DEVLINK_ATTR_PORT_FUNCTION",
                DEVLINK_ATTR_PORT_FUNCTION.into(),
            ),
            (
                "DEVLINK_ATTR_PORT_EXTERNAL",
                DEVLINK_ATTR_PORT_EXTERNAL.into(),
            ),
            (
                "DEVLINK_ATTR_PORT_CONTROLLER_NUMBER",
                DEVLINK_ATTR_PORT_CONTROLLER_NUMBER.into(),
            ),
            (
                "DEVLINK_ATTR_PORT_PCI_SF_NUMBER",
                DEVLINK_ATTR_PORT_PCI_SF_NUMBER.into(),
            ),
            (
                "DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR",
                DEVLINK_PORT_FUNCTION_ATTR_HW_ADDR.into(),
            ),
            (
                "DEVLINK_PORT_FN_ATTR_STATE",
                DEVLINK_PORT_FN_ATTR_STATE.into(),
            ),
            (
                "DEVLINK_PORT_FN_ATTR_OPSTATE",
                DEVLINK_PORT_FN_ATTR_OPSTATE.into(),
            ),
            ("DEVLINK_PORT_TYPE_NOTSET", DEVLINK_PORT_TYPE_NOTSET.into()),
            ("DEVLINK_PORT_TYPE_AUTO", DEVLINK_PORT_TYPE_AUTO.into()),
            ("DEVLINK_PORT_TYPE_ETH", DEVLINK_PORT_TYPE_ETH.into()),
            ("DEVLINK_PORT_TYPE_IB", DEVLINK_PORT_TYPE_IB.into()),
            (
                "DEVLINK_PORT_FLAVOUR_PHYSICAL",
                crate::port::Flavour::KERNEL_PHYSICAL.into(),
            ),
            (
                "DEVLINK_PORT_FLAVOUR_PCI_PF",
                crate::port::Flavour::KERNEL_PCI_PF.into(),
            ),
            (
                "DEVLINK_PORT_FLAVOUR_PCI_VF",
                crate::port::Flavour::KERNEL_PCI_VF.into(),
            ),
            (
                "DEVLINK_PORT_FLAVOUR_PCI_SF",
                crate::port::Flavour::KERNEL_PCI_SF.into(),
            ),
            ("DEVLINK_CMD_PORT_GET", u8::from(DevlinkCmd::PortGet).into()),
            ("DEVLINK_CMD_PORT_NEW", u8::from(DevlinkCmd::PortNew).into()),
            ("DEVLINK_CMD_PORT_DEL", u8::from(DevlinkCmd::PortDel).into()),
            ("DEVLINK_CMD_NEW", u8::from(DevlinkCmd::New).into()),
            (
                "DEVLINK_ATTR_BUS_NAME",
                u16::from(DevlinkAttr::BusName).into(),
            ),
            (
                "DEVLINK_ATTR_PORT_PCI_SF_NUMBER",
                u16::from(DevlinkAttr::PortPciSfNumber).into(),
            ),
            (
                "DEVLINK_PORT_FN_ATTR_OPSTATE",
                u16::from(DevlinkPortFnAttr::Opstate).into(),
            ),
            ("MAX_ADDR_LEN", MAX_ADDR_LEN as i64),
            ("IFNAMSIZ", IFNAMSIZ as i64),
            ("NLM_F_DUMP_INTR", wire::NLM_F_DUMP_INTR.into()),
            ("NLM_F_DUMP", wire::NLM_F_DUMP.into()),
            ("NLMSG_ERROR", wire::NLMSG_ERROR.into()),
            ("NLMSG_DONE", wire::NLMSG_DONE.into()),
            ("(unsigned short)NLA_TYPE_MASK", wire::NLA_TYPE_MASK.into()),
        ];
        crate::netlink::uapi::check(checks);
    }
}
