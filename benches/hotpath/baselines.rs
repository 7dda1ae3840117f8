//! The baselines (a naive scan, the C reference's algorithm and its
//! per-prepare receives) and the section that compares the lookup with them.

use super::*;

/// Naive: one flat list of ports, every request scans it (PF by MAC, then
/// the function by PF key and number).
pub(crate) struct Naive {
    pub(crate) ports: Vec<(Flavour, u32, u32, u16, u32, Mac, String)>,
}

impl Naive {
    pub(crate) fn new(ports: &[DevlinkPort]) -> Naive {
        let devs = dev_numbers(ports);
        Naive {
            ports: ports
                .iter()
                .map(|p| {
                    (
                        p.flavour,
                        devs[&*p.id.handle.dev] as u32,
                        p.controller,
                        p.pfnum.unwrap_or(u16::MAX),
                        p.vfnum.map(u32::from).or(p.sfnum).unwrap_or(u32::MAX),
                        p.function_mac().unwrap_or(Mac::ZERO),
                        p.netdev
                            .as_ref()
                            .map(|n| n.name.clone())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        }
    }

    pub(crate) fn lookup(&self, r: &Request) -> Option<&str> {
        let pf = self
            .ports
            .iter()
            .find(|p| p.0 == Flavour::PciPf && p.5 == r.pf_mac)?;
        let (fl, n) = match r.function {
            Function::Pf => return Some(&pf.6),
            Function::Vf(n) => (Flavour::PciVf, n as u32),
            Function::Sf(n) => (Flavour::PciSf, n),
        };
        self.ports
            .iter()
            .find(|p| p.0 == fl && p.1 == pf.1 && p.2 == pf.2 && p.3 == pf.3 && p.4 == n)
            .map(|p| p.6.as_str())
    }
}

/// The C reference's algorithm (ovn-vif vif-plug-representor.c): PHYSICAL
/// and PCI_PF nodes in `bus_dev_table`, walked linearly for a PF by MAC
/// (first match wins); VFs in `mac_fn_table` hashed by (PF MAC, VF num),
/// controller ignored.  SFs unsupported.  Names stay in the table (no copy).
pub(crate) struct CRef {
    pub(crate) bus_dev: Vec<(Flavour, Mac, String)>,
    pub(crate) mac_fn: FastMap<(u64, u16), String>,
}

impl CRef {
    pub(crate) fn new(ports: &[DevlinkPort]) -> CRef {
        let mut bus_dev = Vec::new();
        let mut pf_macs = HashMap::new();
        for p in ports {
            let name = p
                .netdev
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            match p.flavour {
                Flavour::Physical => bus_dev.push((p.flavour, Mac::ZERO, name)),
                Flavour::PciPf => {
                    let mac = p.function_mac().unwrap_or(Mac::ZERO);
                    pf_macs.insert((p.id.handle.clone(), p.controller, p.pfnum), mac);
                    bus_dev.push((p.flavour, mac, name));
                }
                _ => {}
            }
        }
        let mut mac_fn = FastMap::default();
        for p in ports {
            if p.flavour != Flavour::PciVf {
                continue;
            }
            // Controller ignored: c0pf0vf3 and c1pf0vf3 collide on pfnum, and
            // the C code keys the VF by whichever PF (bus, dev, pfnum) it finds.
            // Here each PF MAC is distinct, so key by the PF of the same
            // controller to keep the lookups comparable.
            let mac = pf_macs
                .get(&(p.id.handle.clone(), p.controller, p.pfnum))
                .copied()
                .unwrap_or(Mac::ZERO);
            let name = p
                .netdev
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            mac_fn.insert((mac.as_u64(), p.vfnum.unwrap_or(0)), name);
        }
        CRef { bus_dev, mac_fn }
    }

    pub(crate) fn lookup(&self, r: &Request) -> Option<&str> {
        match r.function {
            Function::Vf(n) => self.mac_fn.get(&(r.pf_mac.as_u64(), n)).map(|s| s.as_str()),
            Function::Pf => self
                .bus_dev
                .iter()
                .find(|p| p.0 == Flavour::PciPf && p.1 == r.pf_mac)
                .map(|p| p.2.as_str()),
            Function::Sf(_) => None,
        }
    }
}

/// The C reference's per-prepare `run()`: a non-blocking receive on the
/// devlink monitor and one on the udev monitor, both EAGAIN when idle.
/// Measured on two real NETLINK_ROUTE sockets (this host has no devlink).
pub(crate) struct CRefRecv {
    pub(crate) a: NetlinkSocket,
    pub(crate) b: NetlinkSocket,
    pub(crate) buf: Vec<u8>,
}

impl CRefRecv {
    pub(crate) fn new() -> io::Result<CRefRecv> {
        Ok(CRefRecv {
            a: NetlinkSocket::route(&[], None)?,
            b: NetlinkSocket::route(&[], None)?,
            buf: vec![0u8; 4096],
        })
    }

    pub(crate) fn poll_twice(&mut self) -> usize {
        let mut n = 0;
        for s in [&mut self.a, &mut self.b] {
            match s.recv(&mut self.buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => n += 1,
                _ => {}
            }
        }
        n
    }
}

pub(crate) fn section_baselines(o: &Opts, cref_recv_ns: f64) {
    println!("\n## lookup alone vs baselines (VF requests, shuffled)\n");
    println!(
        "| ports | ours lookup median ns | mean ns | instr | ours hit index (lookup::hit) mean ns | instr \
         | C-ref algorithm mean ns | instr \
         | naive scan mean ns | instr | naive / ours (ns) | C-ref prepare (lookup + 2 recv + OVN-data floor) / ours vtable prepare (ns medians) | ours vtable prepare instr |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &o.sizes {
        let layout = gen_ports(n);
        let reqs = vf_requests(&layout);
        let nr = reqs.len();
        let table = snapshot::parse(&snapshot_text(&layout), LinkPolicy::TrustDevlink).unwrap();
        let cref = CRef::new(&layout);
        let naive = Naive::new(&layout);
        for r in reqs.iter().take(64) {
            let ours = lookup::lookup(&table, r).map(|f| f.name.to_owned()).ok();
            assert_eq!(ours.as_deref(), cref.lookup(r), "C-ref disagrees on {r}");
            assert_eq!(ours.as_deref(), naive.lookup(r), "naive disagrees on {r}");
            let hit = lookup::hit(&table, r).map(|(_, n)| n.to_text());
            assert_eq!(ours, hit, "the hit index disagrees on {r}");
        }
        let ours = time_calls(o.calls, |i| {
            black_box(lookup::lookup(&table, &reqs[i % nr]).is_ok());
        });
        let hit = time_calls(o.calls, |i| {
            black_box(lookup::hit(&table, &reqs[i % nr]).is_some());
        });
        let c = time_calls(o.calls, |i| {
            black_box(cref.lookup(&reqs[i % nr]));
        });
        let naive_calls = (o.calls * 1024 / n).clamp(200, o.calls);
        let nv = time_calls(naive_calls, |i| {
            black_box(naive.lookup(&reqs[i % nr]));
        });
        // Our full vtable prepare for the same requests, from the section
        // above (for the last ratios).
        // The C reference reads the same smaps (smap_get), so its prepare
        // pays the OVN-data floor too.
        let (vt_median, vt_ir, floor) = PREPARE.with(|p| {
            p.borrow()
                .iter()
                .find(|r| r.0 == n)
                .map_or((f64::NAN, None, 0.0), |r| (r.1, r.3, r.4))
        });
        let ir = |w| {
            o.callgrind
                .then(|| {
                    instructions_per_call(w, n, if w == "naive-lookup" { 200 } else { 20_000 })
                })
                .flatten()
        };
        let cref_ir = ir("cref-lookup");
        println!(
            "| {} | {:.0} | {:.0} | {} | {:.0} | {} | {:.0} | {} | {:.0} | {} | {:.0}x | {:.2}x | {} |",
            table.len(),
            ours.median,
            ours.mean,
            fmt_opt(ir("lookup"), 0),
            hit.mean,
            fmt_opt(ir("hit-lookup"), 0),
            c.mean,
            fmt_opt(cref_ir, 0),
            nv.mean,
            fmt_opt(ir("naive-lookup"), 0),
            nv.mean / ours.mean,
            (c.median + cref_recv_ns + floor) / vt_median,
            fmt_opt(vt_ir, 0),
        );
    }
    // The C reference's PF-only request: a linear scan of bus_dev_table.
    let n = *o.sizes.last().unwrap();
    let layout = gen_ports(n);
    let devs = dev_numbers(&layout);
    let last_pf = layout
        .iter()
        .rev()
        .find(|p| p.flavour == Flavour::PciPf)
        .and_then(|p| request_of(p, &devs))
        .unwrap();
    let table = snapshot::parse(&snapshot_text(&layout), LinkPolicy::TrustDevlink).unwrap();
    let cref = CRef::new(&layout);
    let ours = time_calls(o.calls, |_| {
        black_box(lookup::lookup(&table, &last_pf).is_ok());
    });
    let c = time_calls(o.calls, |_| {
        black_box(cref.lookup(&last_pf));
    });
    println!(
        "\nPF request (last PF of {n} ports; the C reference scans {} PHYSICAL/PCI_PF nodes): \
         ours {:.0} ns, C-ref algorithm {:.0} ns",
        cref.bus_dev.len(),
        ours.mean,
        c.mean
    );
}
