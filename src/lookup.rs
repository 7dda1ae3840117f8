//! The decision: which netdev a request names, or why none.  Pure logic over
//! a [`Table`].
//!
//! `prepare`'s hit path uses [`hit`]: two probes of small, hot maps (PF by
//! MAC, the PF's hit record) and one cache line of inline names; it answers
//! only when [`lookup`] would plug that name.  [`lookup`] itself allocates
//! nothing on success and does three hash probes (PF by MAC, function under
//! PF, entry).  A miss returns a cheap [`Refusal`]; [`explain`] turns it into the operator-facing sentence with
//! "what was found instead", which costs more and is only called when a line
//! is actually logged or shown.

use std::fmt;

use crate::options::{Function, Request};
use crate::port::{DevlinkPort, Mac, PortId};
use crate::table::{Entry, MacSource, NetdevName, PfKey, PfSet, Table};

/// A successful lookup: the netdev to plug.
#[derive(Debug, Clone)]
pub struct Found<'t> {
    pub name: &'t str,
    pub entry: Entry<'t>,
    pub pf: PfKey,
}

/// Why a request resolves to nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No PF carries that MAC (yet).
    NoPf { mac: Mac },
    /// Several PFs carry that MAC (e.g. on two controllers): never guess.
    AmbiguousPf { mac: Mac, pfs: Vec<PfKey> },
    /// The PF is known only through its uplink (no PCI_PF port on the
    /// device), so it has no representor of its own to plug.
    PfWithoutRepresentor { pf: PfKey },
    /// The PF exists but has no such VF/SF (yet).
    NoFunction { pf: PfKey, function: Function },
    /// The port exists but has no netdev (devlink type not eth yet).
    NoNetdev { port: PortId },
    /// The kernel queued notifications not applied yet (a drain stopped at
    /// its bound), or events were lost and no resync has completed: any
    /// name might be stale, none is handed out.
    EventsPending,
    /// The netdev exists but udev has not finished naming it.
    NotSettled {
        port: PortId,
        ifindex: u32,
        name: String,
    },
}

impl Refusal {
    /// A short machine-friendly reason, used in logs and the CLI's exit text.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NoPf { .. } => "no-pf",
            Refusal::AmbiguousPf { .. } => "ambiguous-pf-mac",
            Refusal::PfWithoutRepresentor { .. } => "pf-has-no-representor",
            Refusal::NoFunction { .. } => "function-not-present",
            Refusal::NoNetdev { .. } => "no-netdev",
            Refusal::NotSettled { .. } => "name-not-settled",
            Refusal::EventsPending => "events-pending",
        }
    }

    /// Might this resolve by itself later (a port still to appear or
    /// settle)?  Ambiguity and a PF without representor need an operator.
    pub fn may_resolve_later(&self) -> bool {
        !matches!(
            self,
            Refusal::AmbiguousPf { .. } | Refusal::PfWithoutRepresentor { .. }
        )
    }
}

/// The decision for one request.
pub fn lookup<'t>(table: &'t Table, req: &Request) -> Result<Found<'t>, Refusal> {
    if table.behind() {
        return Err(Refusal::EventsPending);
    }
    let pf = match table.pfs_with_mac(req.pf_mac) {
        None => return Err(Refusal::NoPf { mac: req.pf_mac }),
        Some(PfSet::Many(pfs)) => {
            return Err(Refusal::AmbiguousPf {
                mac: req.pf_mac,
                pfs: pfs.clone(),
            })
        }
        Some(PfSet::One(k)) => *k,
    };
    let entry = match req.function {
        Function::Pf => table
            .pf_entry(&pf)
            .ok_or(Refusal::PfWithoutRepresentor { pf })?,
        Function::Vf(n) => table.vf_entry(&pf, n).ok_or(Refusal::NoFunction {
            pf,
            function: req.function,
        })?,
        Function::Sf(n) => table.sf_entry(&pf, n).ok_or(Refusal::NoFunction {
            pf,
            function: req.function,
        })?,
    };
    let Some(name) = entry.name else {
        return Err(Refusal::NoNetdev {
            port: entry.port.id.clone(),
        });
    };
    if !entry.settled {
        return Err(Refusal::NotSettled {
            port: entry.port.id.clone(),
            ifindex: entry.ifindex().unwrap_or(0),
            name: name.to_owned(),
        });
    }
    Ok(Found { name, entry, pf })
}

/// The hit path: `Some((pf, name))` only when [`lookup`] returns `Ok` with
/// that PF and name (tests/table_props.rs checks this on random tables),
/// read from the table's inline hit index; `None` means "ask [`lookup`]" (a
/// refusal, or a name the index does not hold).
#[inline]
pub fn hit<'t>(table: &'t Table, req: &Request) -> Option<(PfKey, &'t NetdevName)> {
    table.hit(req.pf_mac, req.function)
}

/// Human description of a PF: `pci/0000:03:00.0 c1pf0 (00:53:..., port-function)`.
pub fn describe_pf(table: &Table, k: &PfKey) -> String {
    let mac = match table.pf_mac(k) {
        Some(m) => format!("{}, from {}", m.mac, m.source.name()),
        None => "no MAC".to_owned(),
    };
    format!(
        "{} c{}pf{} ({mac})",
        table.dev_handle(k.dev),
        k.controller,
        k.pfnum
    )
}

/// Describes a port for logs: `pci/0000:03:00.0/7 pcivf c1pf0vf3 netdev eth5`.
pub fn describe_port(e: &Entry) -> String {
    let p: &DevlinkPort = &e.port;
    let mut s = format!("{} {} {}", p.id, p.flavour.name(), p.phys_port_name());
    match (e.name, e.ifindex()) {
        (Some(n), Some(i)) => s.push_str(&format!(" netdev {n} (ifindex {i})")),
        _ => s.push_str(" (no netdev)"),
    }
    s
}

/// The operator-facing sentence for a refusal, with what was found instead.
pub fn explain(table: &Table, req: &Request, refusal: &Refusal) -> String {
    match refusal {
        Refusal::NoPf { mac } => {
            let known = table.pf_macs();
            let mut s = format!("no PF with MAC {mac}");
            if known.is_empty() {
                s.push_str(
                    "; no PF with a usable MAC is known (is the devlink device in switchdev mode?)",
                );
            } else {
                let list: Vec<String> = known
                    .iter()
                    .take(8)
                    .map(|(k, m)| format!("{} = {}", short_pf(table, k), m.mac))
                    .collect();
                s.push_str(&format!("; known PFs: {}", list.join(", ")));
                if known.len() > 8 {
                    s.push_str(&format!(" and {} more", known.len() - 8));
                }
            }
            if let Some(e) = table.vf_with_function_mac(*mac) {
                s.push_str(&format!(
                    "; note: {mac} is the MAC of function {} — pf-mac must be the PF's MAC",
                    describe_port(&e)
                ));
            }
            s
        }
        Refusal::AmbiguousPf { mac, pfs } => {
            let list: Vec<String> = pfs.iter().map(|k| describe_pf(table, k)).collect();
            format!(
                "PF MAC {mac} is carried by {} PFs: {}; refusing to guess",
                pfs.len(),
                list.join("; ")
            )
        }
        Refusal::PfWithoutRepresentor { pf } => format!(
            "PF {} has no PCI_PF representor port (its MAC comes from the uplink {}); \
             only vf-num/sf-num requests can resolve through it",
            describe_pf(table, pf),
            table
                .physical_entry(pf.dev, pf.pfnum)
                .as_ref()
                .map(describe_port)
                .unwrap_or_else(|| "?".into())
        ),
        Refusal::NoFunction { pf, function } => {
            let (vfs, sfs) = table.children_of(pf);
            let mut s = format!(
                "PF {} has no {function} (it has {vfs} VF and {sfs} SF representors)",
                describe_pf(table, pf)
            );
            // The same function under another controller of the same PF number
            // is the classic BlueField mix-up (c0 vs c1).
            for other in table.pf_keys_for(pf.dev, pf.pfnum) {
                if other == *pf {
                    continue;
                }
                let e = match function {
                    Function::Vf(n) => table.vf_entry(&other, *n),
                    Function::Sf(n) => table.sf_entry(&other, *n),
                    Function::Pf => None,
                };
                if let Some(e) = e {
                    s.push_str(&format!(
                        "; found {function} under controller {} instead: {} (belongs to a different PF)",
                        other.controller,
                        describe_port(&e)
                    ));
                }
            }
            s
        }
        Refusal::NoNetdev { port } => format!(
            "{} of PF {} is devlink port {port}, which has no netdev yet",
            req.function, req.pf_mac
        ),
        Refusal::NotSettled {
            port,
            ifindex,
            name,
        } => format!(
            "{} of PF {} is devlink port {port}, netdev {name} (ifindex {ifindex}), \
             which udev has not finished naming",
            req.function, req.pf_mac
        ),
        Refusal::EventsPending => format!(
            "kernel port/link notifications are not all applied yet (more were queued than \
             one read takes, or events were lost and the resynchronisation from a full dump \
             has not completed); no netdev name is handed out until they are ({} of PF {} \
             waits)",
            req.function, req.pf_mac
        ),
    }
}

fn short_pf(table: &Table, k: &PfKey) -> String {
    let src = match table.pf_mac(k).map(|m| m.source) {
        Some(MacSource::PortFunction) | None => "",
        Some(MacSource::SmartNicSysfs) => " [smart_nic]",
        Some(MacSource::PhysicalNetdev) => " [uplink]",
    };
    format!(
        "{} c{}pf{}{src}",
        table.dev_handle(k.dev),
        k.controller,
        k.pfnum
    )
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
