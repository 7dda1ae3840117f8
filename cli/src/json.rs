//! `ovn-vif-rs dump --json`: the table as one JSON object,
//! `{"ports":[...],"pfs":[...]}`, through serde_json (the library itself
//! links no serializer).  Field names and order are the output's contract.

use ovn_vif_rs::table::{Entry, Table};
use serde::Serialize;

#[derive(Serialize)]
pub struct Dump {
    pub ports: Vec<Port>,
    pub pfs: Vec<Pf>,
}

/// One devlink port, as `dump` prints it (`null` for what it lacks).
#[derive(Serialize)]
pub struct Port {
    pub port: String,
    pub flavour: &'static str,
    pub controller: u32,
    pub external: bool,
    pub pfnum: Option<u16>,
    pub vfnum: Option<u16>,
    pub sfnum: Option<u32>,
    pub number: Option<u32>,
    pub hw_addr: Option<String>,
    pub netdev: Option<String>,
    pub ifindex: Option<u32>,
    pub settled: bool,
}

/// One PF by MAC: what a `pf-mac` resolves to.
#[derive(Serialize)]
pub struct Pf {
    pub device: String,
    pub controller: u32,
    pub pfnum: u16,
    pub mac: String,
    pub mac_source: &'static str,
    pub vfs: u32,
    pub sfs: u32,
}

impl Port {
    fn of(e: &Entry) -> Port {
        let p = &e.port;
        Port {
            port: p.id.to_string(),
            flavour: p.flavour.name(),
            controller: p.controller,
            external: p.external,
            pfnum: p.pfnum,
            vfnum: p.vfnum,
            sfnum: p.sfnum,
            number: p.number,
            hw_addr: p
                .function
                .as_ref()
                .and_then(|f| f.hw_addr)
                .map(|m| m.to_string()),
            netdev: e.name.map(str::to_owned),
            ifindex: e.ifindex(),
            settled: e.settled,
        }
    }
}

impl Dump {
    pub fn of(table: &Table) -> Dump {
        Dump {
            ports: table.entries().iter().map(Port::of).collect(),
            pfs: table
                .pf_macs()
                .into_iter()
                .map(|(k, m)| {
                    let (vfs, sfs) = table.children_of(&k);
                    Pf {
                        device: table.dev_handle(k.dev).to_string(),
                        controller: k.controller,
                        pfnum: k.pfnum,
                        mac: m.mac.to_string(),
                        mac_source: m.source.name(),
                        vfs,
                        sfs,
                    }
                })
                .collect(),
        }
    }
}

/// The document, compact, on one line with a trailing newline.
pub fn dump(table: &Table) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Dump::of(table)).map(|s| s + "\n")
}
