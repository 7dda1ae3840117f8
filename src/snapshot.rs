//! A plain-text snapshot of the kernel's view: the ports, links and
//! smart_nic MACs a [`Table`] is built from, one record per line.
//!
//! It is what `ovn-vif-rs dump` prints, and what the provider loads instead
//! of the kernel when `OVN_VIF_RS_SNAPSHOT=<file>` is set — for offline
//! diagnosis of a captured dump, and for hosts without devlink (the C ABI
//! tests).  Format (words separated by spaces; `#` starts a comment):
//!
//! ```text
//! port pci/0000:03:00.0/1 flavour physical number 0 netdev p0 ifindex 10
//! port pci/0000:03:00.0/2 flavour pcipf controller 1 pfnum 0 external hw_addr 00:53:00:00:10:00 netdev pf0hpf ifindex 11
//! port pci/0000:03:00.0/3 flavour pcivf controller 1 pfnum 0 vfnum 3 external netdev pf0vf3 ifindex 12
//! link ifindex 10 name p0 mac 02:00:00:00:00:01
//! link ifindex 12 name pf0vf3 unsettled
//! smartnic pci/0000:03:00.0 pfnum 0 mac 00:53:00:00:10:00
//! ```

use std::fmt::Write as _;

use crate::options::parse_mac;
use crate::port::{DevHandle, DevlinkPort, Flavour, Link, NetdevRef, PortFunction, PortId};
use crate::table::{Canonical, LinkPolicy, Table};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotError {
    pub line: usize,
    pub why: String,
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.why)
    }
}

impl std::error::Error for SnapshotError {}

/// Parses a snapshot into a table with that [`LinkPolicy`]
/// ([`LinkPolicy::TrustDevlink`] for a snapshot of the kernel: ports without
/// a `link` line keep devlink's names).
pub fn parse(text: &str, policy: LinkPolicy) -> Result<Table, SnapshotError> {
    let mut table = Table::new(policy);
    let mut ports = Vec::new();
    let mut smartnic = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let err = |why: String| SnapshotError { line: i + 1, why };
        let mut w = line.split_ascii_whitespace();
        match w.next() {
            Some("port") => ports.push(parse_port(&mut w).map_err(err)?),
            Some("link") => {
                table.upsert_link(parse_link(&mut w).map_err(err)?);
            }
            Some("smartnic") => smartnic.push(parse_smartnic(&mut w).map_err(err)?),
            Some(other) => return Err(err(format!("unknown record {other:?}"))),
            None => {}
        }
    }
    for p in ports {
        table.upsert_port(p);
    }
    for (h, pf, mac) in smartnic {
        table.set_smartnic_pf_mac(&h, pf, Some(mac));
    }
    Ok(table)
}

fn num<T: std::str::FromStr>(w: &mut dyn Iterator<Item = &str>, what: &str) -> Result<T, String> {
    let v = w.next().ok_or_else(|| format!("{what}: value missing"))?;
    v.parse().map_err(|_| format!("{what}: bad number {v:?}"))
}

fn word<'a>(w: &mut dyn Iterator<Item = &'a str>, what: &str) -> Result<&'a str, String> {
    w.next().ok_or_else(|| format!("{what}: value missing"))
}

fn mac(w: &mut dyn Iterator<Item = &str>, what: &str) -> Result<crate::port::Mac, String> {
    let v = word(w, what)?;
    if v == "00:00:00:00:00:00" {
        return Ok(crate::port::Mac::ZERO);
    }
    parse_mac(v).map_err(|e| format!("{what}: {e}"))
}

fn parse_handle(s: &str) -> Result<DevHandle, String> {
    match s.split_once('/') {
        Some((bus, dev)) if !bus.is_empty() && !dev.is_empty() => Ok(DevHandle::new(bus, dev)),
        _ => Err(format!("bad device handle {s:?} (want bus/dev)")),
    }
}

fn parse_port<'a>(w: &mut impl Iterator<Item = &'a str>) -> Result<DevlinkPort, String> {
    let id = word(w, "port")?;
    let (handle, index) = id
        .rsplit_once('/')
        .ok_or_else(|| format!("bad port id {id:?} (want bus/dev/index)"))?;
    let index: u32 = index
        .parse()
        .map_err(|_| format!("bad port index in {id:?}"))?;
    let mut p = DevlinkPort {
        id: PortId {
            handle: parse_handle(handle)?,
            index,
        },
        flavour: Flavour::Other(u16::MAX),
        controller: 0,
        external: false,
        number: None,
        pfnum: None,
        vfnum: None,
        sfnum: None,
        netdev: None,
        function: None,
    };
    let mut netdev_name: Option<String> = None;
    let mut ifindex: Option<u32> = None;
    while let Some(k) = w.next() {
        match k {
            "flavour" => {
                let f = word(w, k)?;
                p.flavour = match f {
                    "physical" => Flavour::Physical,
                    "pcipf" => Flavour::PciPf,
                    "pcivf" => Flavour::PciVf,
                    "pcisf" => Flavour::PciSf,
                    other => Flavour::from_kernel(
                        other
                            .strip_prefix("kernel:")
                            .and_then(|n| n.parse().ok())
                            .ok_or_else(|| format!("unknown flavour {other:?}"))?,
                    ),
                }
            }
            "controller" => p.controller = num(w, k)?,
            "external" => p.external = true,
            "number" => p.number = Some(num(w, k)?),
            "pfnum" => p.pfnum = Some(num(w, k)?),
            "vfnum" => p.vfnum = Some(num(w, k)?),
            "sfnum" => p.sfnum = Some(num(w, k)?),
            "netdev" => netdev_name = Some(word(w, k)?.to_owned()),
            "ifindex" => ifindex = Some(num(w, k)?),
            "hw_addr" => {
                p.function.get_or_insert_with(PortFunction::default).hw_addr = Some(mac(w, k)?)
            }
            "state" => {
                p.function.get_or_insert_with(PortFunction::default).state = Some(num(w, k)?)
            }
            "opstate" => {
                p.function.get_or_insert_with(PortFunction::default).opstate = Some(num(w, k)?)
            }
            other => return Err(format!("unknown port attribute {other:?}")),
        }
    }
    if p.flavour == Flavour::Other(u16::MAX) {
        return Err("flavour missing".into());
    }
    p.netdev = match (netdev_name, ifindex) {
        (Some(name), Some(ifindex)) => Some(NetdevRef { ifindex, name }),
        (None, None) => None,
        _ => return Err("netdev and ifindex go together".into()),
    };
    Ok(p)
}

fn parse_link<'a>(w: &mut impl Iterator<Item = &'a str>) -> Result<Link, String> {
    let mut l = Link {
        ifindex: 0,
        name: String::new(),
        mac: None,
        settled: true,
    };
    while let Some(k) = w.next() {
        match k {
            "ifindex" => l.ifindex = num(w, k)?,
            "name" => l.name = word(w, k)?.to_owned(),
            "mac" => l.mac = Some(mac(w, k)?),
            "unsettled" => l.settled = false,
            other => return Err(format!("unknown link attribute {other:?}")),
        }
    }
    if l.ifindex == 0 || l.name.is_empty() {
        return Err("link needs ifindex and name".into());
    }
    Ok(l)
}

fn parse_smartnic<'a>(
    w: &mut impl Iterator<Item = &'a str>,
) -> Result<(DevHandle, u16, crate::port::Mac), String> {
    let h = parse_handle(word(w, "smartnic")?)?;
    let mut pf = None;
    let mut m = None;
    while let Some(k) = w.next() {
        match k {
            "pfnum" => pf = Some(num(w, k)?),
            "mac" => m = Some(mac(w, k)?),
            other => return Err(format!("unknown smartnic attribute {other:?}")),
        }
    }
    match (pf, m) {
        (Some(pf), Some(m)) => Ok((h, pf, m)),
        _ => Err("smartnic needs pfnum and mac".into()),
    }
}

/// One port as a snapshot line (without the trailing newline).
pub fn port_line(p: &DevlinkPort) -> String {
    let mut s = format!("port {} flavour ", p.id);
    match p.flavour {
        Flavour::Physical | Flavour::PciPf | Flavour::PciVf | Flavour::PciSf => {
            s.push_str(p.flavour.name())
        }
        Flavour::Other(n) => {
            let _ = write!(s, "kernel:{n}");
        }
    }
    if p.controller != 0 {
        let _ = write!(s, " controller {}", p.controller);
    }
    if let Some(n) = p.number {
        let _ = write!(s, " number {n}");
    }
    if let Some(n) = p.pfnum {
        let _ = write!(s, " pfnum {n}");
    }
    if let Some(n) = p.vfnum {
        let _ = write!(s, " vfnum {n}");
    }
    if let Some(n) = p.sfnum {
        let _ = write!(s, " sfnum {n}");
    }
    if p.external {
        s.push_str(" external");
    }
    if let Some(f) = &p.function {
        if let Some(m) = f.hw_addr {
            let _ = write!(s, " hw_addr {m}");
        }
        if let Some(v) = f.state {
            let _ = write!(s, " state {v}");
        }
        if let Some(v) = f.opstate {
            let _ = write!(s, " opstate {v}");
        }
    }
    if let Some(nd) = &p.netdev {
        let _ = write!(s, " netdev {} ifindex {}", nd.name, nd.ifindex);
    }
    s
}

/// One link as a snapshot line.
pub fn link_line(l: &Link) -> String {
    let mut s = format!("link ifindex {} name {}", l.ifindex, l.name);
    if let Some(m) = l.mac {
        let _ = write!(s, " mac {m}");
    }
    if !l.settled {
        s.push_str(" unsettled");
    }
    s
}

/// The whole table as a snapshot; `parse(emit(t))` rebuilds an equal table.
pub fn emit(table: &Table) -> String {
    let Canonical {
        ports,
        links,
        smartnic,
    } = table.canonical();
    let mut out = String::from("# ovn-vif-rs snapshot v1\n");
    for p in &ports {
        out.push_str(&port_line(p));
        out.push('\n');
    }
    for l in &links {
        out.push_str(&link_line(l));
        out.push('\n');
    }
    for (h, pf, m) in &smartnic {
        let _ = writeln!(out, "smartnic {h} pfnum {pf} mac {m}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# a BlueField-like DPU
port pci/0000:03:00.0/1 flavour physical number 0 netdev p0 ifindex 10
port pci/0000:03:00.0/2 flavour pcipf controller 1 pfnum 0 external hw_addr 00:53:00:00:10:00 netdev pf0hpf ifindex 11
port pci/0000:03:00.0/3 flavour pcivf controller 1 pfnum 0 vfnum 3 external netdev pf0vf3 ifindex 12
port pci/0000:03:00.0/4 flavour pcisf controller 1 pfnum 0 sfnum 8 netdev pf0sf8 ifindex 13
port pci/0000:03:00.0/5 flavour kernel:1
link ifindex 10 name p0 mac 02:00:00:00:00:01
link ifindex 12 name enp3s0f0c1pf0vf3 unsettled
smartnic pci/0000:03:00.0 pfnum 1 mac 00:53:00:00:11:00
";

    #[test]
    fn round_trips() {
        let t = parse(SAMPLE, LinkPolicy::TrustDevlink).unwrap();
        assert_eq!(t.len(), 5);
        let again = parse(&emit(&t), LinkPolicy::TrustDevlink).unwrap();
        assert_eq!(t.canonical(), again.canonical());
        assert_eq!(emit(&t), emit(&again));
    }

    #[test]
    fn the_link_name_wins_and_unsettled_is_kept() {
        let t = parse(SAMPLE, LinkPolicy::TrustDevlink).unwrap();
        let e = t.entry_by_ifindex(12).unwrap();
        assert_eq!(e.name, Some("enp3s0f0c1pf0vf3"));
        assert!(!e.settled);
        assert!(
            t.entry_by_ifindex(13).unwrap().settled,
            "no link line: trusted"
        );
    }

    #[test]
    fn errors_name_the_line() {
        for (text, needle) in [
            ("port pci/x/1 flavour bogus", "unknown flavour"),
            ("port pci/x flavour pcipf", "bad port index"),
            ("port pci/x/1 flavour pcivf vfnum 70000", "bad number"),
            ("port pci/x/1 flavour pcivf netdev eth0", "go together"),
            ("port pci/x/1 flavour pcipf hw_addr zz", "hw_addr"),
            ("link name eth0", "ifindex"),
            ("frobnicate", "unknown record"),
            ("smartnic pci/x pfnum 0", "needs"),
        ] {
            let e = parse(&format!("\n{text}\n"), LinkPolicy::TrustDevlink).unwrap_err();
            assert_eq!(e.line, 2, "{text}");
            assert!(e.why.contains(needle), "{text}: {e}");
        }
    }
}
