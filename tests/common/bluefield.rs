//! The BlueField-like layout the fake-kernel tests share (tests/netlink_fixtures.rs,
//! tests/kernel_names.rs; included with `#[path]`): an uplink `p0`, a host
//! PF representor `c1pf0` (controller 1, external) and its VFs' representors,
//! all on `pci/`[`ovn_vif_rs::testing::DEV`].

#![allow(dead_code)]

use ovn_vif_rs::port::{DevlinkPort, Flavour, Mac, PortFunction};
use ovn_vif_rs::testing::{netdev, port_id};

/// The host PF's function MAC.
pub const MAC_PF: Mac = Mac([0x00, 0x53, 0x00, 0x00, 0x10, 0x00]);

/// The uplink `p0` (port 65535, PHYSICAL, port number 0), its netdev
/// `ifindex`.
pub fn uplink(ifindex: u32) -> DevlinkPort {
    DevlinkPort {
        id: port_id(65535),
        flavour: Flavour::Physical,
        controller: 0,
        external: false,
        number: Some(0),
        pfnum: None,
        vfnum: None,
        sfnum: None,
        netdev: netdev(ifindex, "p0"),
        function: None,
    }
}

/// The host PF's representor `c1pf0` (port 1, PCI_PF 0 of controller 1),
/// its netdev `ifindex`; the function has MAC [`MAC_PF`] and is active.
pub fn host_pf(ifindex: u32) -> DevlinkPort {
    DevlinkPort {
        id: port_id(1),
        flavour: Flavour::PciPf,
        controller: 1,
        external: true,
        number: None,
        pfnum: Some(0),
        vfnum: None,
        sfnum: None,
        netdev: netdev(ifindex, "c1pf0"),
        function: Some(PortFunction {
            hw_addr: Some(MAC_PF),
            state: Some(1),
            opstate: Some(1),
        }),
    }
}

/// VF `vf`'s representor (port 100 + `vf`, PF 0 of controller 1, no port
/// function); its netdev is `ifindex`/`name` as devlink reports it.
pub fn host_vf(vf: u16, ifindex: u32, name: &str) -> DevlinkPort {
    DevlinkPort {
        id: port_id(100 + u32::from(vf)),
        flavour: Flavour::PciVf,
        controller: 1,
        external: true,
        number: None,
        pfnum: Some(0),
        vfnum: Some(vf),
        sfnum: None,
        netdev: netdev(ifindex, name),
        function: None,
    }
}
