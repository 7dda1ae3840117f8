//! Generated BlueField-like layouts and the requests that name their functions.

use super::*;

/// Ports per devlink device in generated layouts (a BlueField-3 exposes
/// thousands of functions per device).
pub(crate) const PORTS_PER_DEV: usize = 8192;

pub(crate) fn pf_mac(dev: usize, controller: u32, pf: u16) -> Mac {
    Mac([0x00, 0x53, dev as u8, controller as u8, pf as u8, 0x00])
}

/// `n` devlink ports: per device 2 uplinks, 4 PCI_PF ports (controller 0 =
/// DPU-local, controller 1 = host, pf0/pf1), the rest VFs and SFs spread
/// over the 4 PFs.  Every port has a netdev; PF MACs are unique.
pub(crate) fn gen_ports(n: usize) -> Vec<DevlinkPort> {
    let devs = n.div_ceil(PORTS_PER_DEV).max(1);
    let mut out = Vec::with_capacity(n);
    let mut ifindex = 10u32;
    for d in 0..devs {
        let per_dev = if d + 1 == devs {
            n - PORTS_PER_DEV * (devs - 1)
        } else {
            PORTS_PER_DEV
        };
        let handle = DevHandle::new("pci", &format!("0000:{:02x}:00.0", 3 + d));
        let mut index = 0u32;
        let mut push = |out: &mut Vec<DevlinkPort>, mut p: DevlinkPort| {
            index += 1;
            ifindex += 1;
            p.id = PortId {
                handle: handle.clone(),
                index,
            };
            let name = format!("d{d}{}", p.phys_port_name());
            p.netdev = Some(NetdevRef { ifindex, name });
            out.push(p);
        };
        let blank = DevlinkPort {
            id: PortId {
                handle: handle.clone(),
                index: 0,
            },
            flavour: Flavour::Physical,
            controller: 0,
            external: false,
            number: None,
            pfnum: None,
            vfnum: None,
            sfnum: None,
            netdev: None,
            function: None,
        };
        for pf in 0..2u32 {
            push(
                &mut out,
                DevlinkPort {
                    number: Some(pf),
                    ..blank.clone()
                },
            );
        }
        let pfs: [(u32, u16); 4] = [(0, 0), (0, 1), (1, 0), (1, 1)];
        for &(c, pf) in &pfs {
            push(
                &mut out,
                DevlinkPort {
                    flavour: Flavour::PciPf,
                    controller: c,
                    external: c == 1,
                    pfnum: Some(pf),
                    function: Some(PortFunction {
                        hw_addr: Some(pf_mac(d, c, pf)),
                        ..PortFunction::default()
                    }),
                    ..blank.clone()
                },
            );
        }
        let rest = per_dev.saturating_sub(6);
        for i in 0..rest {
            let (c, pf) = pfs[i % 4];
            let k = i / 4;
            let (vfnum, sfnum, flavour) = if k % 2 == 0 {
                (Some((k / 2) as u16), None, Flavour::PciVf)
            } else {
                (None, Some((k / 2) as u32), Flavour::PciSf)
            };
            push(
                &mut out,
                DevlinkPort {
                    flavour,
                    controller: c,
                    external: c == 1 && flavour == Flavour::PciVf,
                    pfnum: Some(pf),
                    vfnum,
                    sfnum,
                    ..blank.clone()
                },
            );
        }
    }
    out
}

pub(crate) fn snapshot_text(ports: &[DevlinkPort]) -> String {
    let mut s = String::with_capacity(ports.len() * 110);
    for p in ports {
        s.push_str(&snapshot::port_line(p));
        s.push('\n');
    }
    s
}

/// The request that names `p` (PF ports: only those with a MAC).
pub(crate) fn request_of(p: &DevlinkPort, dev_of: &HashMap<String, usize>) -> Option<Request> {
    let d = dev_of[&*p.id.handle.dev];
    let pf = p.pfnum?;
    let function = match p.flavour {
        Flavour::PciPf => Function::Pf,
        Flavour::PciVf => Function::Vf(p.vfnum?),
        Flavour::PciSf => Function::Sf(p.sfnum?),
        _ => return None,
    };
    Some(Request {
        pf_mac: pf_mac(d, p.controller, pf),
        function,
    })
}

pub(crate) fn dev_numbers(ports: &[DevlinkPort]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for p in ports {
        let n = m.len();
        m.entry(p.id.handle.dev.to_string()).or_insert(n);
    }
    m
}

/// A small deterministic shuffle (ovn-controller walks its lports in hash
/// order, i.e. effectively at random over the table).
pub(crate) fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (seed >> 33) as usize % (i + 1);
        v.swap(i, j);
    }
}

/// The VF requests of a layout, shuffled (what the lookup baselines and the
/// vtable hit path resolve).
pub(crate) fn vf_requests(ports: &[DevlinkPort]) -> Vec<Request> {
    let devs = dev_numbers(ports);
    let mut v: Vec<Request> = ports
        .iter()
        .filter(|p| p.flavour == Flavour::PciVf)
        .filter_map(|p| request_of(p, &devs))
        .collect();
    shuffle(&mut v, 42);
    v
}
