//! State-machine property tests for the representor table.
//!
//! Random sequences of devlink/rtnetlink events over small domains (two
//! devices, a handful of port indexes, ifindexes, PF/VF/SF numbers and MACs,
//! so that collisions, duplicates and ambiguities happen often) are applied to
//! one table, in both modes (`require_link` true and false).  After every
//! step:
//! - `Table::check()` is Ok (every index agrees with a rebuild);
//! - an op's return value says whether anything changed, and the generation
//!   moves exactly when it does;
//! - for every request in the domain, `lookup` on the incrementally built
//!   table agrees with `lookup` on a table freshly built from
//!   `table.canonical()` (incremental == rebuild), and with a naive reference
//!   model that scans the canonical ports and applies the documented rules
//!   (src/table/mod.rs module docs) directly;
//! - decisions (src/table/mod.rs, "Decisions"): the counter moves exactly
//!   when the whole-table rule says so, and a host with ovn-patch 0008
//!   (which asks a plugged request again only when the counter moved)
//!   never holds a plug the table no longer gives, whatever the steps in
//!   between; the same for whole tables swapped in (`replace_with`) and
//!   for the table going behind and catching up.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use ovn_vif_rs::lookup;
use ovn_vif_rs::options::{Function, Request};
use ovn_vif_rs::port::{
    DevHandle, DevlinkPort, Flavour, Link, Mac, NetdevRef, PortFunction, PortId,
};
use ovn_vif_rs::table::{Canonical, LinkPolicy, PfKey, Table};
use proptest::prelude::*;
use proptest::test_runner::Config;

// ---- domains ----

const DEVS: [&str; 2] = [D0, D1];
/// The last is longer than IFNAMSIZ allows (a snapshot can say anything):
/// it stays out of the inline hit index and the full lookup serves it.
const NAMES: [&str; 5] = ["eth0", "eth1", "rep0", "rep1", "representor-long0"];
/// A VF and an SF number beyond the hit index's dense range.
const BIG_VF: u16 = 5000;
const BIG_SF: u32 = 70_000;
/// Usable MACs that PFs, uplinks and smart_nic files can carry.
const USABLE: [[u8; 6]; 3] = [
    [0x00, 0x53, 0, 0, 0, 0x0a],
    [0x00, 0x53, 0, 0, 0, 0x0b],
    [0x00, 0x53, 0, 0, 0, 0x0c],
];

fn any_mac() -> impl Strategy<Value = Mac> {
    prop_oneof![
        1 => Just(Mac::ZERO),
        1 => Just(Mac([0x01, 0x00, 0x5e, 0, 0, 0x01])),
        1 => Just(Mac([0xff; 6])),
        6 => (0..USABLE.len()).prop_map(|i| Mac(USABLE[i])),
    ]
}

fn dev() -> impl Strategy<Value = &'static str> {
    (0..DEVS.len()).prop_map(|i| DEVS[i])
}

fn port_id() -> impl Strategy<Value = PortId> {
    (dev(), 0..6u32).prop_map(|(d, i)| pid(d, i))
}

fn flavour() -> impl Strategy<Value = Flavour> {
    prop_oneof![
        3 => Just(Flavour::Physical),
        4 => Just(Flavour::PciPf),
        5 => Just(Flavour::PciVf),
        2 => Just(Flavour::PciSf),
        1 => Just(Flavour::Other(5)),
    ]
}

/// Mostly Some: a missing attribute is the exception.
fn mostly<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![1 => Just(None), 6 => s.prop_map(Some)]
}

fn netdev() -> impl Strategy<Value = Option<NetdevRef>> {
    prop_oneof![
        1 => Just(None),
        4 => (1..6u32, 0..NAMES.len()).prop_map(|(ifindex, n)| Some(NetdevRef {
            ifindex,
            name: NAMES[n].to_owned(),
        })),
    ]
}

fn function() -> impl Strategy<Value = Option<PortFunction>> {
    prop_oneof![
        1 => Just(None),
        4 => (mostly(any_mac()), any::<bool>()).prop_map(|(hw_addr, up)| Some(PortFunction {
            hw_addr,
            state: up.then_some(1),
            opstate: None,
        })),
    ]
}

fn devlink_port() -> impl Strategy<Value = DevlinkPort> {
    (
        port_id(),
        flavour(),
        prop_oneof![3 => Just(0u32), 2 => Just(1u32), 1 => Just(2u32)],
        any::<bool>(),
        mostly(0..2u32),
        mostly(0..2u16),
        mostly(prop_oneof![6 => 0..3u16, 1 => Just(BIG_VF)]),
        mostly(prop_oneof![6 => 0..2u32, 1 => Just(BIG_SF)]),
        netdev(),
        function(),
    )
        .prop_map(
            |(id, flavour, controller, external, number, pfnum, vfnum, sfnum, netdev, function)| {
                // Keep the attributes each flavour carries (mostly), so the
                // ports look like the kernel's; the occasional odd one stays.
                let is = |f: Flavour| flavour == f;
                DevlinkPort {
                    id,
                    flavour,
                    controller,
                    external,
                    number: if is(Flavour::Physical) { number } else { None },
                    pfnum: if is(Flavour::Physical) { None } else { pfnum },
                    vfnum: if is(Flavour::PciVf) { vfnum } else { None },
                    sfnum: if is(Flavour::PciSf) { sfnum } else { None },
                    netdev,
                    function,
                }
            },
        )
}

fn a_link() -> impl Strategy<Value = Link> {
    (1..6u32, 0..NAMES.len(), mostly(any_mac()), any::<bool>()).prop_map(
        |(ifindex, n, mac, settled)| Link {
            ifindex,
            name: NAMES[n].to_owned(),
            mac,
            settled,
        },
    )
}

#[derive(Debug, Clone)]
enum Op {
    UpsertPort(DevlinkPort),
    RemovePort(PortId),
    UpsertLink(Link),
    RemoveLink(u32),
    SetSmartnic(DevHandle, u16, Option<Mac>),
    /// The source says it has queued (or lost) events: no name is handed
    /// out until it catches up (module docs, "Behind").
    SetBehind(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => devlink_port().prop_map(Op::UpsertPort),
        3 => port_id().prop_map(Op::RemovePort),
        5 => a_link().prop_map(Op::UpsertLink),
        2 => (1..6u32).prop_map(Op::RemoveLink),
        2 => (dev(), 0..2u16, mostly(any_mac())).prop_map(|(d, p, m)| Op::SetSmartnic(handle(d), p, m)),
        1 => prop_oneof![1 => Just(true), 2 => Just(false)].prop_map(Op::SetBehind),
    ]
}

fn apply(t: &mut Table, op: &Op) -> bool {
    match op.clone() {
        Op::UpsertPort(p) => t.upsert_port(p),
        Op::RemovePort(id) => t.remove_port(&id),
        Op::UpsertLink(l) => t.upsert_link(l),
        Op::RemoveLink(i) => t.remove_link(i),
        Op::SetSmartnic(h, p, m) => t.set_smartnic_pf_mac(&h, p, m),
        Op::SetBehind(b) => t.set_behind(b),
    }
}

/// Every request of the domain, plus one MAC nobody carries.
fn requests() -> Vec<Request> {
    let mut macs: Vec<Mac> = USABLE.iter().map(|m| Mac(*m)).collect();
    macs.push(mac("00:53:00:00:00:ff"));
    let mut functions = vec![Function::Pf];
    functions.extend((0..4).map(Function::Vf));
    functions.extend((0..3).map(Function::Sf));
    functions.push(Function::Vf(BIG_VF));
    functions.push(Function::Sf(BIG_SF));
    macs.iter()
        .flat_map(|m| functions.iter().map(move |f| request(*m, *f)))
        .collect()
}

// ---- the reference model: a linear scan over canonical ports ----

// The model spells out the rules itself rather than calling the helpers of
// src/port.rs, so that a wrong helper shows up as a disagreement.

/// A unicast, non-zero MAC.
fn usable(m: Mac) -> bool {
    m.0 != [0; 6] && m.0[0] & 1 == 0
}

/// The port function's hw_addr, when usable.
fn fn_mac(p: &DevlinkPort) -> Option<Mac> {
    p.function
        .as_ref()
        .and_then(|f| f.hw_addr)
        .filter(|m| usable(*m))
}

/// A PHYSICAL port's PF number: its pfnum, else its port number.
fn phys_pf(p: &DevlinkPort) -> Option<u16> {
    if p.flavour != Flavour::Physical {
        return None;
    }
    p.pfnum.or(p.number.and_then(|n| u16::try_from(n).ok()))
}

struct Model<'a> {
    c: &'a Canonical,
    require_link: bool,
    links: BTreeMap<u32, &'a Link>,
}

impl<'a> Model<'a> {
    fn new(c: &'a Canonical, require_link: bool) -> Model<'a> {
        Model {
            c,
            require_link,
            links: c.links.iter().map(|l| (l.ifindex, l)).collect(),
        }
    }

    /// The PfView a PCI_PF/VF/SF port belongs to.
    fn pf_of(p: &DevlinkPort) -> Option<PfView> {
        match p.flavour {
            Flavour::PciPf | Flavour::PciVf | Flavour::PciSf => {
                p.pfnum.map(|n| (p.id.handle.clone(), p.controller, n))
            }
            _ => None,
        }
    }

    /// The port with the smallest id among those `pred` accepts (ports are
    /// sorted by id in `canonical()`, but do not rely on it).
    fn winner(&self, pred: impl Fn(&DevlinkPort) -> bool) -> Option<&'a DevlinkPort> {
        self.c
            .ports
            .iter()
            .filter(|p| pred(p))
            .min_by(|a, b| a.id.cmp(&b.id))
    }

    fn pf_port(&self, k: &PfView) -> Option<&'a DevlinkPort> {
        self.winner(|p| p.flavour == Flavour::PciPf && Self::pf_of(p).as_ref() == Some(k))
    }

    /// Effective MAC of every PF, per the documented rules.
    fn pf_macs(&self) -> BTreeMap<PfView, Mac> {
        let mut out = BTreeMap::new();
        let devs: BTreeSet<DevHandle> = self
            .c
            .ports
            .iter()
            .map(|p| p.id.handle.clone())
            .chain(self.c.smartnic.iter().map(|(h, _, _)| h.clone()))
            .collect();
        // The MACs PFs report themselves (their winning PCI_PF ports).
        let reported: BTreeSet<Mac> = self
            .c
            .ports
            .iter()
            .filter(|p| p.flavour == Flavour::PciPf)
            .filter_map(Self::pf_of)
            .filter_map(|k| self.pf_port(&k).and_then(fn_mac))
            .collect();
        for dev in devs {
            let pf_keys: BTreeSet<PfView> = self
                .c
                .ports
                .iter()
                .filter(|p| p.flavour == Flavour::PciPf && p.id.handle == dev)
                .filter_map(Self::pf_of)
                .collect();
            let pfs: Vec<(PfView, &DevlinkPort)> = pf_keys
                .into_iter()
                .map(|k| {
                    let p = self.pf_port(&k).unwrap();
                    (k, p)
                })
                .collect();
            // 1. the port function's hw_addr.
            for (k, p) in &pfs {
                if let Some(m) = fn_mac(p) {
                    out.insert(k.clone(), m);
                }
            }
            // 2. smart_nic: the single external PF of that pfnum without a
            //    MAC, unless some PF (of any device) reports that MAC.
            for (h, pfnum, m) in &self.c.smartnic {
                if *h != dev || !usable(*m) || reported.contains(m) {
                    continue;
                }
                let chosen: Vec<&(PfView, &DevlinkPort)> = pfs
                    .iter()
                    .filter(|(k, p)| k.2 == *pfnum && p.external && fn_mac(p).is_none())
                    .collect();
                if let [only] = chosen.as_slice() {
                    out.insert(only.0.clone(), *m);
                }
            }
            // 3. no PCI_PF port on the device at all: the uplink netdev MAC.
            let any_pcipf = self
                .c
                .ports
                .iter()
                .any(|p| p.flavour == Flavour::PciPf && p.id.handle == dev);
            if !any_pcipf {
                let pfnums: BTreeSet<u16> = self
                    .c
                    .ports
                    .iter()
                    .filter(|p| p.flavour == Flavour::Physical && p.id.handle == dev)
                    .filter_map(phys_pf)
                    .collect();
                for n in pfnums {
                    let up = self
                        .winner(|p| {
                            p.flavour == Flavour::Physical
                                && p.id.handle == dev
                                && phys_pf(p) == Some(n)
                        })
                        .unwrap();
                    let m = up
                        .netdev
                        .as_ref()
                        .and_then(|nd| self.links.get(&nd.ifindex))
                        .and_then(|l| l.mac)
                        .filter(|m| usable(*m));
                    if let Some(m) = m {
                        out.insert((dev.clone(), 0, n), m);
                    }
                }
            }
        }
        out
    }

    /// (name, settled) of a port's netdev as the table should show it.
    fn netdev_view(&self, p: &DevlinkPort) -> (Option<String>, bool) {
        match &p.netdev {
            None => (None, false),
            Some(nd) => match self.links.get(&nd.ifindex) {
                Some(l) => (Some(l.name.clone()), l.settled),
                None => (Some(nd.name.clone()), !self.require_link),
            },
        }
    }

    /// The port found by ifindex: the smallest id among its claimants.
    fn by_ifindex(&self, ifindex: u32) -> Option<PortId> {
        self.winner(|p| p.netdev.as_ref().map(|n| n.ifindex) == Some(ifindex))
            .map(|p| p.id.clone())
    }

    /// (VF count, SF count): distinct function numbers under the PF.
    fn children(&self, k: &PfView) -> (u32, u32) {
        let of = |f: Flavour| {
            self.c
                .ports
                .iter()
                .filter(|p| p.flavour == f && Self::pf_of(p).as_ref() == Some(k))
                .filter_map(|p| match f {
                    Flavour::PciVf => p.vfnum.map(u32::from),
                    _ => p.sfnum,
                })
                .collect::<BTreeSet<u32>>()
                .len() as u32
        };
        (of(Flavour::PciVf), of(Flavour::PciSf))
    }

    /// PfViews of a (device, pfnum) that have a PCI_PF port or children.
    fn pf_keys_for(&self, dev: &DevHandle, pfnum: u16) -> Vec<PfView> {
        let set: BTreeSet<PfView> = self
            .c
            .ports
            .iter()
            .filter(|p| {
                (p.flavour == Flavour::PciPf)
                    || (p.flavour == Flavour::PciVf && p.vfnum.is_some())
                    || (p.flavour == Flavour::PciSf && p.sfnum.is_some())
            })
            .filter_map(Self::pf_of)
            .filter(|k| &k.0 == dev && k.2 == pfnum)
            .collect();
        set.into_iter().collect()
    }

    /// Where the netlink layer should read smart_nic/pf/config.
    fn smartnic_candidates(&self) -> Vec<(DevHandle, u16, String)> {
        let mut out = BTreeSet::new();
        for p in &self.c.ports {
            let Some(n) = phys_pf(p) else {
                continue;
            };
            let up = self
                .winner(|q| {
                    q.flavour == Flavour::Physical
                        && q.id.handle == p.id.handle
                        && phys_pf(q) == Some(n)
                })
                .unwrap();
            let needs = self.c.ports.iter().any(|q| {
                q.flavour == Flavour::PciPf
                    && q.id.handle == p.id.handle
                    && q.pfnum == Some(n)
                    && fn_mac(self.pf_port(&Self::pf_of(q).unwrap()).unwrap()).is_none()
            });
            if let (true, (Some(name), _)) = (needs, self.netdev_view(up)) {
                out.insert((p.id.handle.clone(), n, name));
            }
        }
        out.into_iter().collect()
    }

    fn lookup(&self, pf_macs: &BTreeMap<PfView, Mac>, r: &Request) -> Outcome {
        let mut pfs: Vec<PfView> = pf_macs
            .iter()
            .filter(|(_, m)| **m == r.pf_mac)
            .map(|(k, _)| k.clone())
            .collect();
        pfs.sort();
        let k = match pfs.len() {
            0 => return Outcome::NoPf,
            1 => pfs.pop().unwrap(),
            _ => return Outcome::Ambiguous(pfs),
        };
        let port = match r.function {
            Function::Pf => match self.pf_port(&k) {
                Some(p) => p,
                None => return Outcome::PfWithoutRepresentor(k),
            },
            Function::Vf(n) => {
                match self.winner(|p| {
                    p.flavour == Flavour::PciVf
                        && Self::pf_of(p).as_ref() == Some(&k)
                        && p.vfnum == Some(n)
                }) {
                    Some(p) => p,
                    None => return Outcome::NoFunction(k),
                }
            }
            Function::Sf(n) => {
                match self.winner(|p| {
                    p.flavour == Flavour::PciSf
                        && Self::pf_of(p).as_ref() == Some(&k)
                        && p.sfnum == Some(n)
                }) {
                    Some(p) => p,
                    None => return Outcome::NoFunction(k),
                }
            }
        };
        let Some(nd) = &port.netdev else {
            return Outcome::NoNetdev(port.id.clone());
        };
        let (name, settled) = match self.links.get(&nd.ifindex) {
            Some(l) => (l.name.clone(), l.settled),
            None => (nd.name.clone(), !self.require_link),
        };
        if !settled {
            return Outcome::NotSettled {
                port: port.id.clone(),
                ifindex: nd.ifindex,
                name,
            };
        }
        Outcome::Found {
            name,
            port: port.id.clone(),
            pf: k,
        }
    }
}

/// What a host plugs for a request: the netdev's name and ifindex (a
/// netdev re-created under the same name is another plug).
type Plug = (String, Option<u32>);

fn plug(t: &Table, r: &Request) -> Option<Plug> {
    lookup::lookup(t, r)
        .ok()
        .map(|f| (f.name.to_owned(), f.entry.ifindex()))
}

/// The table mode a test's `require_link` flag stands for.
fn policy(require_link: bool) -> LinkPolicy {
    if require_link {
        LinkPolicy::RequireLink
    } else {
        LinkPolicy::TrustDevlink
    }
}

/// Runs one sequence, checking every invariant after every step.
fn run(require_link: bool, ops: &[Op]) -> Result<(), TestCaseError> {
    let reqs = requests();
    let mut t = Table::new(policy(require_link));
    // A host with ovn-patch 0008: the plug it holds per request (index in
    // `reqs`).  It asks a plugged request again only when the counter
    // moved (`run` reported), a declined one after every step.
    let mut held: BTreeMap<usize, Plug> = BTreeMap::new();
    for (step, op) in ops.iter().enumerate() {
        let before = t.canonical();
        let g = t.generation();
        let (d, before_t) = (t.decisions(), t.clone());
        let changed = apply(&mut t, op);
        let ctx = || format!("step {step}: {op:?}");

        // Decisions (src/table/mod.rs module docs): counted exactly when the
        // whole-table rule says so, and an uncounted step plugs every
        // request plugged before the same netdev (it may only add plugs).
        let counted = t.decisions() != d;
        prop_assert_eq!(
            counted,
            before_t.decision_changed(&t),
            "{}: decisions counter vs answers",
            ctx()
        );
        prop_assert!(!counted || changed, "{}: decision without change", ctx());
        if !counted {
            for r in &reqs {
                let Some(was) = plug(&before_t, r) else {
                    continue;
                };
                prop_assert_eq!(
                    Some(was),
                    plug(&t, r),
                    "{}: {}: answer changed, no decision counted",
                    ctx(),
                    r
                );
            }
        }
        // The same over the whole history: whatever the uncounted steps
        // since the host last asked, every plug it holds is still the
        // answer (a stale plug on a 0008 host otherwise).
        if counted {
            held.clear();
        }
        for (i, was) in &held {
            prop_assert_eq!(
                Some(was.clone()),
                plug(&t, &reqs[*i]),
                "{}: {}: held plug is stale, no decision counted since it was given",
                ctx(),
                &reqs[*i]
            );
        }
        for (i, r) in reqs.iter().enumerate() {
            if let (false, Some(p)) = (held.contains_key(&i), plug(&t, r)) {
                held.insert(i, p);
            }
        }

        if let Err(e) = t.check() {
            return Err(TestCaseError::fail(format!("{}: check failed: {e}", ctx())));
        }
        prop_assert_eq!(
            t.generation() != g,
            changed,
            "{}: generation vs return value",
            ctx()
        );
        prop_assert!(t.generation() >= g, "{}: generation went back", ctx());
        if !changed {
            prop_assert_eq!(
                &t.canonical(),
                &before,
                "{}: no change reported, but the table changed",
                ctx()
            );
        }

        let mut fresh = rebuild(&t);
        fresh.set_behind(t.behind());
        let c = t.canonical();
        prop_assert_eq!(
            &fresh.canonical(),
            &c,
            "{}: rebuild has other contents",
            ctx()
        );
        let model = Model::new(&c, require_link);
        let pf_macs = model.pf_macs();
        let got: BTreeMap<PfView, Mac> = t
            .pf_macs()
            .iter()
            .map(|(k, m)| (pf_view(&t, k), m.mac))
            .collect();
        prop_assert_eq!(
            &got,
            &pf_macs,
            "{}: effective PF MACs differ from the model",
            ctx()
        );
        for r in &reqs {
            let inc = outcome(&t, r);
            let reb = outcome(&fresh, r);
            prop_assert_eq!(&inc, &reb, "{}: {}: incremental vs rebuild", ctx(), r);
            let want = if t.behind() {
                Outcome::EventsPending
            } else {
                model.lookup(&pf_macs, r)
            };
            prop_assert_eq!(&inc, &want, "{}: {}: table vs reference model", ctx(), r);
            check_hit(&t, r).map_err(|e| TestCaseError::fail(format!("{}: {r}: {e}", ctx())))?;
            // The explanation of any refusal can be built (and says something).
            if let Err(refusal) = lookup::lookup(&t, r) {
                prop_assert!(!lookup::explain(&t, r, &refusal).is_empty());
            }
        }
        check_read_side(&t, &model, &c, ctx)?;
    }
    drain(t)
}

/// Removing everything leaves nothing behind: no PF MAC, no child count, no
/// controller seen, no link.
fn drain(mut t: Table) -> Result<(), TestCaseError> {
    t.set_behind(false);
    let c = t.canonical();
    for p in &c.ports {
        prop_assert!(t.remove_port(&p.id));
    }
    for (h, pfnum, _) in &c.smartnic {
        prop_assert!(t.set_smartnic_pf_mac(h, *pfnum, None));
    }
    for l in &c.links {
        prop_assert!(t.remove_link(l.ifindex));
    }
    prop_assert!(t.is_empty());
    prop_assert_eq!(t.hit_index_footprint(), (0, 0), "hit index left behind");
    prop_assert!(t.pf_macs().is_empty());
    prop_assert!(t.smartnic_candidates().is_empty());
    prop_assert_eq!(t.canonical(), Table::new(t.link_policy()).canonical());
    for d in DEVS {
        if let Some(dev) = t.dev_index(&handle(d)) {
            for pfnum in 0..2u16 {
                prop_assert!(t.pf_keys_for(dev, pfnum).is_empty());
                for controller in 0..3u32 {
                    let k = PfKey {
                        dev,
                        controller,
                        pfnum,
                    };
                    prop_assert_eq!(t.children_of(&k), (0, 0));
                }
            }
        }
    }
    for r in requests() {
        prop_assert_eq!(outcome(&t, &r), Outcome::NoPf);
    }
    if let Err(e) = t.check() {
        return Err(TestCaseError::fail(format!("after draining: {e}")));
    }
    Ok(())
}

/// The hit path agrees with the full lookup: `hit` names exactly what
/// `lookup` plugs, and serves every plug-ready name that fits inline.
fn check_hit(t: &Table, r: &Request) -> Result<(), String> {
    let hit = lookup::hit(t, r).map(|(k, n)| (k, n.to_text()));
    let found = lookup::lookup(t, r).ok();
    if let (Some((k, _)), Some(f)) = (&hit, &found) {
        if *k != f.pf {
            return Err(format!("hit PF {k:?}, lookup PF {:?}", f.pf));
        }
    }
    let hit = hit.map(|(_, n)| n);
    let full = found.map(|f| f.name.to_owned());
    let inline = full
        .as_deref()
        .filter(|n| !n.is_empty() && n.len() < ovn_vif_rs::table::IFNAMSIZ && !n.contains('\0'));
    match (&hit, &full) {
        (Some(h), Some(f)) if h == f => Ok(()),
        (None, _) if inline.is_none() => Ok(()),
        _ => Err(format!("hit {hit:?}, lookup {full:?}")),
    }
}

/// The table's other read-side views against the model.
fn check_read_side(
    t: &Table,
    model: &Model,
    c: &Canonical,
    ctx: impl Fn() -> String,
) -> Result<(), TestCaseError> {
    for p in &c.ports {
        let e = t.entry_by_id(&p.id).expect("canonical port is stored");
        let got = (e.name.map(str::to_owned), e.settled);
        prop_assert_eq!(
            got,
            model.netdev_view(p),
            "{}: netdev view of {}",
            ctx(),
            &p.id
        );
    }
    for i in 1..6u32 {
        let got = t.entry_by_ifindex(i).map(|e| e.port.id.clone());
        prop_assert_eq!(got, model.by_ifindex(i), "{}: ifindex {}", ctx(), i);
    }
    for d in DEVS {
        let h = handle(d);
        for pfnum in 0..2u16 {
            let Some(dev) = t.dev_index(&h) else {
                prop_assert!(model.pf_keys_for(&h, pfnum).is_empty());
                continue;
            };
            let got: Vec<PfView> = t
                .pf_keys_for(dev, pfnum)
                .iter()
                .map(|k| pf_view(t, k))
                .collect();
            prop_assert_eq!(
                &got,
                &model.pf_keys_for(&h, pfnum),
                "{}: pf_keys_for {} pf{}",
                ctx(),
                &h,
                pfnum
            );
            for controller in 0..3u32 {
                let k = PfKey {
                    dev,
                    controller,
                    pfnum,
                };
                let v = pf_view(t, &k);
                prop_assert_eq!(
                    t.children_of(&k),
                    model.children(&v),
                    "{}: children of {:?}",
                    ctx(),
                    v
                );
            }
        }
    }
    prop_assert_eq!(
        t.smartnic_candidates(),
        model.smartnic_candidates(),
        "{}: smartnic_candidates",
        ctx()
    );
    Ok(())
}

/// A modest number of cases so that `cargo test` stays fast in debug builds;
/// `PROPTEST_CASES=2000 cargo test --release --test table_props` for a
/// deeper search.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn state_machine_snapshot_mode(ops in prop::collection::vec(op(), 1..200)) {
        run(false, &ops)?;
    }

    #[test]
    fn state_machine_kernel_mode(ops in prop::collection::vec(op(), 1..200)) {
        run(true, &ops)?;
    }
}

/// Dense sequences on one device and one PF number: most ops hit the same
/// keys, so duplicates, PF replacement and smart_nic races dominate.
fn dense_op() -> impl Strategy<Value = Op> {
    let port = (
        0..4u32,
        flavour(),
        0..2u32,
        any::<bool>(),
        0..2u16,
        netdev(),
        function(),
    )
        .prop_map(
            |(i, flavour, controller, external, vfnum, netdev, function)| DevlinkPort {
                id: pid(D0, i),
                flavour,
                controller,
                external,
                number: (flavour == Flavour::Physical).then_some(0),
                pfnum: (flavour != Flavour::Physical).then_some(0),
                vfnum: (flavour == Flavour::PciVf).then_some(vfnum),
                sfnum: (flavour == Flavour::PciSf).then_some(vfnum as u32),
                netdev,
                function,
            },
        );
    prop_oneof![
        8 => port.prop_map(Op::UpsertPort),
        3 => (0..4u32).prop_map(|i| Op::RemovePort(pid(D0, i))),
        4 => a_link().prop_map(Op::UpsertLink),
        1 => (1..6u32).prop_map(Op::RemoveLink),
        3 => mostly(any_mac()).prop_map(|m| Op::SetSmartnic(handle(D0), 0, m)),
        1 => prop_oneof![1 => Just(true), 2 => Just(false)].prop_map(Op::SetBehind),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn state_machine_dense(require_link in any::<bool>(), ops in prop::collection::vec(dense_op(), 1..120)) {
        run(require_link, &ops)?;
    }
}

/// Tables swapped in whole (`replace_with`: a re-read snapshot, a resync
/// after lost events) after any number of changes: counted exactly when
/// [`Table::decision_changed`] says so, and an uncounted swap keeps every
/// plug given before (else a 0008 host keeps a stale plug).  The mutators,
/// over the same changes one by one, count at least as much: a change the
/// whole-table rule counts is counted on the way too.
fn swaps(
    require_link: bool,
    base: &[Op],
    extra: &[Op],
    unrelated: &[Op],
    behind: (bool, bool),
) -> Result<(), TestCaseError> {
    let reqs = requests();
    let build = |from: &Table, ops: &[Op]| {
        let mut t = from.clone();
        for op in ops {
            apply(&mut t, op);
        }
        t
    };
    let a = build(&Table::new(policy(require_link)), base);
    let b = build(&a, extra);
    prop_assert!(
        !a.decision_changed(&b) || b.decisions() != a.decisions(),
        "the whole-table rule counts a change the mutators did not: {:?}",
        extra
    );
    let u = build(&Table::new(policy(require_link)), unrelated);
    for (from, to) in [(&a, &b), (&b, &a), (&a, &u), (&u, &b)] {
        let (mut from, mut to) = (from.clone(), to.clone());
        from.set_behind(behind.0);
        to.set_behind(behind.1);
        let want = from.decision_changed(&to);
        let mut swapped = from.clone();
        let changed = swapped.replace_with(to.clone());
        prop_assert_eq!(changed, want, "replace_with vs decision_changed");
        prop_assert_eq!(swapped.decisions(), from.decisions() + u64::from(changed));
        if changed {
            continue;
        }
        for r in &reqs {
            if let Some(was) = plug(&from, r) {
                prop_assert_eq!(
                    Some(was),
                    plug(&swapped, r),
                    "{}: answer changed by an uncounted swap",
                    r
                );
            }
        }
    }
    Ok(())
}

fn behind_pair() -> impl Strategy<Value = (bool, bool)> {
    prop_oneof![
        6 => Just((false, false)),
        1 => Just((true, false)),
        1 => Just((false, true)),
        1 => Just((true, true)),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn swapped_tables_count_what_changes_a_held_plug(
        require_link in any::<bool>(),
        base in prop::collection::vec(op(), 0..80),
        extra in prop::collection::vec(op(), 1..12),
        unrelated in prop::collection::vec(op(), 0..40),
        behind in behind_pair(),
    ) {
        swaps(require_link, &base, &extra, &unrelated, behind)?;
    }

    #[test]
    fn swapped_dense_tables_count_what_changes_a_held_plug(
        require_link in any::<bool>(),
        base in prop::collection::vec(dense_op(), 0..60),
        extra in prop::collection::vec(dense_op(), 1..8),
        unrelated in prop::collection::vec(dense_op(), 0..30),
        behind in behind_pair(),
    ) {
        swaps(require_link, &base, &extra, &unrelated, behind)?;
    }
}

/// The model itself must be able to fail: a hand-built case where it and the
/// table agree on a non-trivial answer (ambiguity + smart_nic + uplink).
#[test]
fn model_agrees_on_a_known_case() {
    let mut t = Table::new(LinkPolicy::RequireLink);
    t.upsert_link(link(1, "p0", "00:53:00:00:00:0a", true));
    t.upsert_port(physical(D1, 0, 0, 1, "p0"));
    t.upsert_port(vf(D1, 1, 0, 0, 2, 0, ""));
    t.upsert_port(pf(D0, 1, 1, 0, "", 0, ""));
    t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac("00:53:00:00:00:0a")));
    let c = t.canonical();
    let m = Model::new(&c, true);
    let macs = m.pf_macs();
    assert_eq!(macs.len(), 2);
    let r = request(mac("00:53:00:00:00:0a"), Function::Vf(2));
    let want = Outcome::Ambiguous(vec![(handle(D0), 1, 0), (handle(D1), 0, 0)]);
    assert_eq!(m.lookup(&macs, &r), want);
    assert_eq!(outcome(&t, &r), want);
    // Remove the smart_nic value: the uplink-derived PF of D1 is alone.
    t.set_smartnic_pf_mac(&handle(D0), 0, None);
    let c = t.canonical();
    let m = Model::new(&c, true);
    let want = Outcome::NoNetdev(pid(D1, 1));
    assert_eq!(m.lookup(&m.pf_macs(), &r), want);
    assert_eq!(outcome(&t, &r), want);
}

// ---- the hit path's option parser against the full one ----

/// Keys: ours, near misses, OVN's and other providers'.
const KEYS: [&str; 14] = [
    "vif-plug:representor:pf-mac",
    "vif-plug:representor:vf-num",
    "vif-plug:representor:sf-num",
    "vif-plug:representor:vf_num",
    "vif-plug:representor:",
    "vif-plug:representor:pf-macs",
    "vif-plug:representor",
    "vif-plug-type",
    "requested-chassis",
    "vif-plug:other:vf-num",
    "vif-plug:representor-vf-num",
    "vif-plug:Representor:vf-num",
    "vif-plug-mtu-request",
    "VIF-PLUG:REPRESENTOR:SF-NUM",
];

/// A key built from our prefix with each letter's case and each separator
/// (`-`, `:`) drawn at random: mostly near misses, now and then the exact
/// prefix; with one of our suffixes or another.
fn mangled_key() -> impl Strategy<Value = String> {
    const PREFIX: &str = "vif-plug:representor:";
    (
        prop::collection::vec((any::<bool>(), 0..3usize), PREFIX.len()),
        prop::sample::select(vec!["pf-mac", "vf-num", "sf-num", "vf_num", ""]),
    )
        .prop_map(|(flips, suffix)| {
            let mut k: String = PREFIX
                .chars()
                .zip(flips)
                .map(|(c, (upper, sep))| match c {
                    '-' | ':' => [':', '-', '_'][sep],
                    c if upper && sep == 0 => c.to_ascii_uppercase(),
                    c => c,
                })
                .collect();
            k.push_str(suffix);
            k
        })
}

/// Values: valid MACs and numbers, and the ways they go wrong.
fn option_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any_mac().prop_map(|m| m.to_string()),
        1 => any_mac().prop_map(|m| m.to_string().to_uppercase()),
        // MAC-like: one character replaced.
        2 => (any_mac(), 0..17usize, "[0-9a-zA-Z:. -]")
            .prop_map(|(m, i, c)| {
                let mut s = m.to_string();
                s.replace_range(i..i + 1, &c);
                s
            }),
        3 => (0..70_000u32).prop_map(|n| n.to_string()),
        // Decimal-like: leading zeros, overflow, up to 12 digits.
        3 => "[0-9]{1,12}",
        1 => prop_oneof![
            Just("".to_owned()),
            Just("4294967295".to_owned()),
            Just("4294967296".to_owned()),
            Just("65535".to_owned()),
            Just("65536".to_owned()),
            Just("-1".to_owned()),
            Just("+1".to_owned()),
        ],
        1 => ".{0,20}",
    ]
}

/// Option lists: usually a `pf-mac` (mostly valid, so that the function
/// keys decide), plus a few pairs of any key and value, in any order.
fn option_list() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        prop::option::weighted(
            0.85,
            prop_oneof![
                3 => any_mac().prop_filter("usable", |m| usable(*m)).prop_map(|m| m.to_string()),
                2 => option_value(),
            ],
        ),
        prop::collection::vec(
            (
                prop_oneof![
                    4 => (1..3usize).prop_map(|k| KEYS[k].to_owned()),
                    3 => (0..KEYS.len()).prop_map(|k| KEYS[k].to_owned()),
                    1 => mangled_key(),
                ],
                option_value(),
            ),
            0..4,
        ),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mac, extra, at)| {
            let mut v: Vec<(String, String)> = extra.into_iter().collect();
            if let Some(m) = mac {
                let i = at.index(v.len() + 1);
                v.insert(i, (KEYS[0].to_owned(), m));
            }
            v
        })
}

proptest! {
    #![proptest_config(Config { cases: config().cases * 50, ..config() })]

    /// `FastOptions` accepts exactly what `options::parse` accepts, with
    /// the same request.
    #[test]
    fn fast_options_agree_with_parse(
        opts in option_list()
    ) {
        let pairs = || opts.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let full = ovn_vif_rs::options::parse(pairs());
        prop_assert_eq!(ovn_vif_rs::options::parse_fast(pairs()), full.ok(), "{:?}", opts);
    }
}
