//! Helpers shared by the table tests: build `DevlinkPort`/`Link` values and
//! requests concisely, and compare lookup outcomes across tables.
//!
//! Conventions:
//! - `dev` is the PCI device name; the bus is always `pci`.
//! - `ifindex == 0` means "no netdev" (devlink type notset).
//! - a function MAC given as `""` means "no port function reported";
//!   anything else is parsed as `aa:bb:cc:dd:ee:ff` (zero/multicast allowed).
//! - a controller other than 0 is `external` (as on a BlueField); use
//!   [`PortExt::external`] to override.

#![allow(dead_code)]

use ovn_vif_rs::lookup::{self, Refusal};
use ovn_vif_rs::options::{self, Function, Request, OPT_PF_MAC, OPT_SF_NUM, OPT_VF_NUM};
use ovn_vif_rs::port::{
    DevHandle, DevlinkPort, Flavour, Link, Mac, NetdevRef, PortFunction, PortId,
};
use ovn_vif_rs::table::{PfKey, Table};
/// Parses `aa:bb:cc:dd:ee:ff` (any MAC, including zero and multicast).
pub use ovn_vif_rs::testing::mac;

pub const D0: &str = "0000:03:00.0";
pub const D1: &str = "0000:04:00.0";

pub fn handle(dev: &str) -> DevHandle {
    DevHandle::new("pci", dev)
}

pub fn pid(dev: &str, index: u32) -> PortId {
    PortId {
        handle: handle(dev),
        index,
    }
}

fn netdev(ifindex: u32, name: &str) -> Option<NetdevRef> {
    (ifindex != 0).then(|| NetdevRef {
        ifindex,
        name: name.to_owned(),
    })
}

fn function(fn_mac: &str) -> Option<PortFunction> {
    (!fn_mac.is_empty()).then(|| PortFunction {
        hw_addr: Some(mac(fn_mac)),
        state: None,
        opstate: None,
    })
}

fn base(dev: &str, idx: u32, flavour: Flavour, controller: u32) -> DevlinkPort {
    DevlinkPort {
        id: pid(dev, idx),
        flavour,
        controller,
        external: controller != 0,
        number: None,
        pfnum: None,
        vfnum: None,
        sfnum: None,
        netdev: None,
        function: None,
    }
}

/// The uplink `p<number>` (PHYSICAL flavour, port number = PF number).
pub fn physical(dev: &str, idx: u32, number: u32, ifindex: u32, name: &str) -> DevlinkPort {
    DevlinkPort {
        number: Some(number),
        netdev: netdev(ifindex, name),
        ..base(dev, idx, Flavour::Physical, 0)
    }
}

/// A PCI_PF representor whose host function has MAC `fn_mac` (`""`: none).
pub fn pf(
    dev: &str,
    idx: u32,
    controller: u32,
    pfnum: u16,
    fn_mac: &str,
    ifindex: u32,
    name: &str,
) -> DevlinkPort {
    DevlinkPort {
        pfnum: Some(pfnum),
        netdev: netdev(ifindex, name),
        function: function(fn_mac),
        ..base(dev, idx, Flavour::PciPf, controller)
    }
}

/// A PCI_VF representor (no port function; add one with [`PortExt::fn_mac`]).
pub fn vf(
    dev: &str,
    idx: u32,
    controller: u32,
    pfnum: u16,
    vfnum: u16,
    ifindex: u32,
    name: &str,
) -> DevlinkPort {
    DevlinkPort {
        pfnum: Some(pfnum),
        vfnum: Some(vfnum),
        netdev: netdev(ifindex, name),
        ..base(dev, idx, Flavour::PciVf, controller)
    }
}

/// A PCI_SF representor (no port function; add one with [`PortExt::fn_mac`]).
pub fn sf(
    dev: &str,
    idx: u32,
    controller: u32,
    pfnum: u16,
    sfnum: u32,
    ifindex: u32,
    name: &str,
) -> DevlinkPort {
    DevlinkPort {
        pfnum: Some(pfnum),
        sfnum: Some(sfnum),
        netdev: netdev(ifindex, name),
        ..base(dev, idx, Flavour::PciSf, controller)
    }
}

/// Small modifiers for the constructors above.
pub trait PortExt {
    fn external(self, external: bool) -> Self;
    fn fn_mac(self, fn_mac: &str) -> Self;
    fn netdev(self, ifindex: u32, name: &str) -> Self;
}

impl PortExt for DevlinkPort {
    fn external(mut self, external: bool) -> Self {
        self.external = external;
        self
    }
    fn fn_mac(mut self, fn_mac: &str) -> Self {
        self.function = function(fn_mac);
        self
    }
    fn netdev(mut self, ifindex: u32, name: &str) -> Self {
        self.netdev = netdev(ifindex, name);
        self
    }
}

/// An rtnetlink link; `mac == ""` means no IFLA_ADDRESS.
pub fn link(ifindex: u32, name: &str, link_mac: &str, settled: bool) -> Link {
    Link {
        ifindex,
        name: name.to_owned(),
        mac: (!link_mac.is_empty()).then(|| mac(link_mac)),
        settled,
    }
}

/// Requests go through the real option parser, as ovn-controller's
/// `lport_options` would.
pub fn req_pf(pf_mac: &str) -> Request {
    options::parse([(OPT_PF_MAC, pf_mac)]).expect("valid PF request")
}

pub fn req_vf(pf_mac: &str, n: u16) -> Request {
    let n = n.to_string();
    options::parse([(OPT_PF_MAC, pf_mac), (OPT_VF_NUM, n.as_str())]).expect("valid VF request")
}

pub fn req_sf(pf_mac: &str, n: u32) -> Request {
    let n = n.to_string();
    options::parse([(OPT_PF_MAC, pf_mac), (OPT_SF_NUM, n.as_str())]).expect("valid SF request")
}

/// The request built directly (for MACs the parser would refuse, and for
/// property tests).
pub fn request(pf_mac: Mac, function: Function) -> Request {
    Request { pf_mac, function }
}

/// The netdev name a request resolves to, or the refusal.
pub fn resolve(t: &Table, r: &Request) -> Result<String, Refusal> {
    lookup::lookup(t, r).map(|f| f.name.to_owned())
}

/// Asserts that `r` resolves to netdev `name`; returns the port id found.
#[track_caller]
pub fn assert_found(t: &Table, r: &Request, name: &str) -> PortId {
    match lookup::lookup(t, r) {
        Ok(f) => {
            assert_eq!(f.name, name, "{r} resolved to the wrong netdev");
            f.entry.port.id.clone()
        }
        Err(e) => panic!("{r} refused ({}): {}", e.code(), lookup::explain(t, r, &e)),
    }
}

/// Asserts that `r` is refused; returns the refusal.
#[track_caller]
pub fn assert_refused(t: &Table, r: &Request) -> Refusal {
    match lookup::lookup(t, r) {
        Ok(f) => panic!(
            "{r} unexpectedly resolved to {} ({})",
            f.name, f.entry.port.id
        ),
        Err(e) => e,
    }
}

#[track_caller]
pub fn assert_check(t: &Table) {
    if let Err(e) = t.check() {
        panic!("table inconsistent: {e}");
    }
}

/// The PfKey of (device, controller, pfnum) in `t` (the device must be known).
pub fn pf_key(t: &Table, dev: &str, controller: u32, pfnum: u16) -> PfKey {
    PfKey {
        dev: t
            .dev_index(&handle(dev))
            .expect("device known to the table"),
        controller,
        pfnum,
    }
}

/// A PfKey with the device spelled out: comparable across tables.
pub type PfView = (DevHandle, u32, u16);

pub fn pf_view(t: &Table, k: &PfKey) -> PfView {
    (t.dev_handle(k.dev).clone(), k.controller, k.pfnum)
}

/// A lookup outcome with table-internal numbers replaced by names, so that
/// the outcomes of two tables can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Found {
        name: String,
        port: PortId,
        pf: PfView,
    },
    NoPf,
    Ambiguous(Vec<PfView>),
    PfWithoutRepresentor(PfView),
    NoFunction(PfView),
    NoNetdev(PortId),
    NotSettled {
        port: PortId,
        ifindex: u32,
        name: String,
    },
    EventsPending,
}

pub fn outcome(t: &Table, r: &Request) -> Outcome {
    match lookup::lookup(t, r) {
        Ok(f) => Outcome::Found {
            name: f.name.to_owned(),
            port: f.entry.port.id.clone(),
            pf: pf_view(t, &f.pf),
        },
        Err(Refusal::NoPf { .. }) => Outcome::NoPf,
        Err(Refusal::AmbiguousPf { pfs, .. }) => {
            let mut v: Vec<PfView> = pfs.iter().map(|k| pf_view(t, k)).collect();
            v.sort();
            Outcome::Ambiguous(v)
        }
        Err(Refusal::PfWithoutRepresentor { pf }) => Outcome::PfWithoutRepresentor(pf_view(t, &pf)),
        Err(Refusal::NoFunction { pf, .. }) => Outcome::NoFunction(pf_view(t, &pf)),
        Err(Refusal::NoNetdev { port }) => Outcome::NoNetdev(port),
        Err(Refusal::NotSettled {
            port,
            ifindex,
            name,
        }) => Outcome::NotSettled {
            port,
            ifindex,
            name,
        },
        Err(Refusal::EventsPending) => Outcome::EventsPending,
    }
}

/// A table rebuilt from `t.canonical()`: links, then ports, then smart_nic
/// values, each in sorted order.
pub fn rebuild(t: &Table) -> Table {
    let c = t.canonical();
    let mut fresh = t.empty_like();
    for l in c.links {
        fresh.upsert_link(l);
    }
    for p in c.ports {
        fresh.upsert_port(p);
    }
    for (h, pfnum, m) in c.smartnic {
        fresh.set_smartnic_pf_mac(&h, pfnum, Some(m));
    }
    fresh
}
