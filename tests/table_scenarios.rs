//! Scenario tests for the representor table + lookup + option parsing.
//!
//! The first group ports the C reference's unit scenarios (ovn-vif,
//! `lib/vif-plug-providers/representor/vif-plug-representor.c`, OVSTEST
//! `test-vif-plug-representor`: store-phy, store-port,
//! store-devlink-port-update/-delete, store-devlink-port-update-compat,
//! store-rename-expected, port-prepare-vf/-pf/-missing-pf-mac/-missing-vf-num)
//! to our model; the rest covers what the C provider gets wrong or ignores
//! (controllers, ambiguity, ConnectX-6 without pcipf, duplicates, ...).
//! Every scenario ends with `Table::check()`.

mod common;

use common::*;
use ovn_vif_rs::lookup::{explain, lookup, Refusal};
use ovn_vif_rs::options::{self, Function, OptionError, OPT_PF_MAC, OPT_VF_NUM};
use ovn_vif_rs::port::{Flavour, PortFunction};
use ovn_vif_rs::table::{LinkPolicy, MacSource, PfSet, Table};

const PF_MAC: &str = "00:53:00:00:00:42";
const SYSFS_MAC: &str = "00:53:00:00:00:51";

/// The table mode a test's `require_link` flag stands for.
fn policy(require_link: bool) -> LinkPolicy {
    if require_link {
        LinkPolicy::RequireLink
    } else {
        LinkPolicy::TrustDevlink
    }
}

/// The C tests' `_init_store`: uplink `p0` (ifindex 10) and the host PF
/// representor `p0hpf` (ifindex 100) whose function MAC is 00:53:00:00:00:42.
fn init_store(require_link: bool) -> Table {
    let mut t = Table::new(policy(require_link));
    if require_link {
        // Stored, but no port shows these links yet: no decision can
        // change (module docs of src/table/mod.rs, "Decisions").
        assert!(t.upsert_link(link(10, "p0", "00:53:00:00:00:00", true)));
        assert!(t.upsert_link(link(100, "p0hpf", "", true)));
        assert_eq!(t.decisions(), 0, "links no port shows are no decision");
    }
    assert!(t.upsert_port(physical(D0, 0, 0, 10, "p0")));
    assert!(t.upsert_port(pf(D0, 1, 0, 0, PF_MAC, 100, "p0hpf")));
    assert_check(&t);
    t
}

// ---------------------------------------------------------------------------
// Ported from the C reference
// ---------------------------------------------------------------------------

/// store-phy: the physical and PF ports are stored, found by their keys and
/// by ifindex, and deleted; deleting unknown ports is harmless.
#[test]
fn c_store_phy() {
    for require_link in [false, true] {
        let mut t = init_store(require_link);
        let d = t.dev_index(&handle(D0)).unwrap();

        let p = t.physical_entry(d, 0).expect("physical p0 stored");
        assert_eq!(p.ifindex(), Some(10));
        assert_eq!(p.name, Some("p0"));
        assert_eq!(p.port.flavour, Flavour::Physical);
        assert_eq!(p.port.number, Some(0));
        assert_eq!(t.entry_by_ifindex(10).unwrap().port.id, pid(D0, 0));

        let k = pf_key(&t, D0, 0, 0);
        let e = t.pf_entry(&k).expect("PF stored");
        assert_eq!(e.ifindex(), Some(100));
        assert_eq!(e.name, Some("p0hpf"));
        let m = t.pf_mac(&k).unwrap();
        assert_eq!((m.mac, m.source), (mac(PF_MAC), MacSource::PortFunction));
        assert_eq!(t.entry_by_ifindex(100).unwrap().port.id, pid(D0, 1));
        assert_eq!(t.pfs_with_mac(mac(PF_MAC)), Some(&PfSet::One(k)));
        assert_eq!(t.len(), 2);

        assert!(t.remove_port(&pid(D0, 1)));
        assert!(t.pf_entry(&k).is_none());
        assert!(t.entry_by_ifindex(100).is_none());
        assert!(matches!(
            assert_refused(&t, &req_pf(PF_MAC)),
            Refusal::NoPf { .. }
        ));
        if require_link {
            // The device has no pcipf port any more: the uplink's netdev MAC
            // (rtnetlink, 00:53:00:00:00:00 is a usable unicast MAC) now
            // stands for PF 0, which has no representor of its own.
            let m = t.pf_mac(&k).unwrap();
            assert_eq!(
                (m.mac, m.source),
                (mac("00:53:00:00:00:00"), MacSource::PhysicalNetdev)
            );
            assert_eq!(
                assert_refused(&t, &req_pf("00:53:00:00:00:00")),
                Refusal::PfWithoutRepresentor { pf: k }
            );
        } else {
            // Snapshot mode has no uplink netdev MAC: no PF at all.
            assert!(t.pf_mac(&k).is_none());
        }
        assert_check(&t);

        assert!(t.remove_port(&pid(D0, 0)));
        assert!(t.physical_entry(d, 0).is_none());
        assert!(t.entry_by_ifindex(10).is_none());
        assert!(t.is_empty());

        // Deleting what does not exist changes nothing.
        let g = t.generation();
        assert!(!t.remove_port(&pid("nonexistent", 0)));
        assert!(!t.remove_port(&pid(D0, 1)));
        assert!(!t.remove_port(&pid(D0, 0)));
        assert_eq!(t.generation(), g);
        assert_check(&t);
    }
}

/// store-port: a VF is stored, found by ifindex and by (PF MAC, VF 0), hangs
/// off the right PF, and disappears from both when deleted.
#[test]
fn c_store_port() {
    let mut t = init_store(false);
    let vf0 = vf(D0, 2, 0, 0, 0, 1000, "pf0vf0").fn_mac("00:53:00:00:10:00");
    assert!(t.upsert_port(vf0.clone()));

    let e = t.entry_by_ifindex(1000).expect("VF by ifindex");
    assert_eq!(e.name, Some("pf0vf0"));
    assert_eq!(e.port, vf0);
    assert_eq!(e.port.flavour, Flavour::PciVf);
    assert_eq!(e.port.vfnum, Some(0));
    assert_eq!(e.port.function_mac(), Some(mac("00:53:00:00:10:00")));

    let f = lookup(&t, &req_vf(PF_MAC, 0)).expect("VF 0 of the PF resolves");
    assert_eq!(f.name, "pf0vf0");
    assert_eq!(f.entry.ifindex(), Some(1000));
    assert_eq!(f.pf, pf_key(&t, D0, 0, 0));
    assert_eq!(t.pf_entry(&f.pf).unwrap().name, Some("p0hpf"));
    assert_eq!(t.children_of(&f.pf), (1, 0));
    assert_check(&t);

    assert!(t.remove_port(&pid(D0, 2)));
    assert!(t.entry_by_ifindex(1000).is_none());
    let k = pf_key(&t, D0, 0, 0);
    assert_eq!(
        assert_refused(&t, &req_vf(PF_MAC, 0)),
        Refusal::NoFunction {
            pf: k,
            function: Function::Vf(0)
        }
    );
    assert_eq!(t.children_of(&k), (0, 0));
    assert!(!t.remove_port(&pid("non", 0)));
    assert_check(&t);
}

/// store-devlink-port-update: a runtime PORT_NEW of a VF links it to its PF;
/// a later PORT_NEW for the same port id with another netdev replaces it.
#[test]
fn c_devlink_port_update() {
    let mut t = init_store(false);
    assert!(t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "pf0vf0")));
    let f = lookup(&t, &req_vf(PF_MAC, 0)).unwrap();
    assert_eq!(f.entry.ifindex(), Some(1000));
    assert_eq!(t.pf_mac(&f.pf).unwrap().mac, mac(PF_MAC));
    assert_eq!(t.entry_by_ifindex(1000).unwrap().port.id, pid(D0, 2));

    // The same devlink port gets another netdev (re-created / renamed).
    assert!(t.upsert_port(vf(D0, 2, 0, 0, 0, 1001, "enp3s0f0v0")));
    assert_found(&t, &req_vf(PF_MAC, 0), "enp3s0f0v0");
    assert!(t.entry_by_ifindex(1000).is_none());
    assert_eq!(t.entry_by_ifindex(1001).unwrap().port.id, pid(D0, 2));
    assert_eq!(t.len(), 3);

    // Same port, same ifindex, new name (snapshot mode trusts devlink).
    assert!(t.upsert_port(vf(D0, 2, 0, 0, 0, 1001, "vm1-rep")));
    assert_found(&t, &req_vf(PF_MAC, 0), "vm1-rep");

    // The netdev goes away (type notset) while the devlink port stays.
    assert!(t.upsert_port(vf(D0, 2, 0, 0, 0, 0, "")));
    assert_eq!(
        assert_refused(&t, &req_vf(PF_MAC, 0)),
        Refusal::NoNetdev { port: pid(D0, 2) }
    );
    assert!(t.entry_by_ifindex(1001).is_none());
    assert_check(&t);
}

/// store-devlink-port-delete: PORT_DEL removes the VF.
#[test]
fn c_devlink_port_delete() {
    let mut t = init_store(false);
    assert!(t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "pf0vf0")));
    assert!(t.entry_by_ifindex(1000).is_some());
    assert!(t.remove_port(&pid(D0, 2)));
    assert!(t.entry_by_ifindex(1000).is_none());
    assert!(t.entry_by_id(&pid(D0, 2)).is_none());
    assert!(matches!(
        assert_refused(&t, &req_vf(PF_MAC, 0)),
        Refusal::NoFunction { .. }
    ));
    // Deleting twice is a no-op.
    assert!(!t.remove_port(&pid(D0, 2)));
    assert_check(&t);
}

/// store-devlink-port-update-compat: a PF reporting a zero hw_addr gets its
/// MAC from the uplink's smart_nic sysfs file.  The file describes the host
/// PF, so the PF is an external one here (the C reference's test has no
/// notion of external; a DPU-local PF never gets it, see
/// `smartnic_mac_never_goes_to_a_dpu_local_pf_or_collides`).
#[test]
fn c_devlink_port_update_compat() {
    let mut t = init_store(false);
    assert!(t.remove_port(&pid(D0, 1)));
    assert!(t.upsert_port(pf(D0, 1, 0, 0, "00:00:00:00:00:00", 100, "pf0hpf").external(true)));
    assert!(t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "pf0vf0")));
    let k = pf_key(&t, D0, 0, 0);
    assert!(t.pf_mac(&k).is_none(), "a zero hw_addr is no MAC");
    assert!(t.pf_macs().is_empty());

    // The table tells the netlink layer where to read the sysfs file.
    assert_eq!(
        t.smartnic_candidates(),
        vec![(handle(D0), 0, "p0".to_owned())]
    );
    assert!(t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC))));
    let m = t.pf_mac(&k).unwrap();
    assert_eq!(
        (m.mac, m.source),
        (mac(SYSFS_MAC), MacSource::SmartNicSysfs)
    );
    assert_found(&t, &req_pf(SYSFS_MAC), "pf0hpf");
    assert_found(&t, &req_vf(SYSFS_MAC, 0), "pf0vf0");
    assert!(matches!(
        assert_refused(&t, &req_pf(PF_MAC)),
        Refusal::NoPf { .. }
    ));
    assert_check(&t);

    // Setting the same value again is a no-op.
    let g = t.generation();
    assert!(!t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC))));
    assert_eq!(t.generation(), g);

    // Once the port function reports a MAC, it wins over sysfs.
    assert!(t.upsert_port(pf(D0, 1, 0, 0, PF_MAC, 100, "pf0hpf").external(true)));
    assert_eq!(t.pf_mac(&k).unwrap().source, MacSource::PortFunction);
    assert_found(&t, &req_vf(PF_MAC, 0), "pf0vf0");
    assert!(matches!(
        assert_refused(&t, &req_pf(SYSFS_MAC)),
        Refusal::NoPf { .. }
    ));
    assert!(t.smartnic_candidates().is_empty());
    assert_check(&t);

    // And when the sysfs value is withdrawn, the zero-MAC PF has none again.
    assert!(t.upsert_port(pf(D0, 1, 0, 0, "00:00:00:00:00:00", 100, "pf0hpf").external(true)));
    assert_found(&t, &req_pf(SYSFS_MAC), "pf0hpf");
    assert!(t.set_smartnic_pf_mac(&handle(D0), 0, None));
    assert!(matches!(
        assert_refused(&t, &req_pf(SYSFS_MAC)),
        Refusal::NoPf { .. }
    ));
    assert_check(&t);
}

/// The smart_nic MAC goes to the one external PCI_PF of that pfnum without
/// a MAC; when several qualify nobody gets it, and a DPU-local one never.
#[test]
fn compat_pf_mac_ambiguity_rule() {
    let sysfs = Some(mac(SYSFS_MAC));
    // BlueField: DPU-local c0pf0 (not external) and host c1pf0 (external).
    let mut t = Table::new(LinkPolicy::TrustDevlink);
    t.upsert_port(physical(D0, 0, 0, 10, "p0"));
    t.upsert_port(pf(D0, 1, 0, 0, "", 11, "pf0hpf-local"));
    t.upsert_port(pf(D0, 2, 1, 0, "00:00:00:00:00:00", 12, "c1pf0"));
    t.upsert_port(vf(D0, 3, 1, 0, 0, 13, "c1pf0vf0"));
    t.set_smartnic_pf_mac(&handle(D0), 0, sysfs);
    let f = assert_found(&t, &req_pf(SYSFS_MAC), "c1pf0");
    assert_eq!(f, pid(D0, 2));
    assert_found(&t, &req_vf(SYSFS_MAC, 0), "c1pf0vf0");
    assert!(t.pf_mac(&pf_key(&t, D0, 0, 0)).is_none());
    assert_check(&t);

    // Two external candidates: refuse to guess.
    t.upsert_port(pf(D0, 4, 2, 0, "", 14, "c2pf0"));
    assert!(matches!(
        assert_refused(&t, &req_pf(SYSFS_MAC)),
        Refusal::NoPf { .. }
    ));
    assert!(t.pf_macs().is_empty());
    assert_check(&t);

    // One of them gets its own MAC: the other is the single external one.
    t.upsert_port(pf(D0, 4, 2, 0, "00:53:00:00:00:77", 14, "c2pf0"));
    assert_found(&t, &req_pf(SYSFS_MAC), "c1pf0");
    assert_found(&t, &req_pf("00:53:00:00:00:77"), "c2pf0");
    assert_check(&t);

    // Two non-external candidates and no external one: nobody.
    let mut t = Table::new(LinkPolicy::TrustDevlink);
    t.upsert_port(physical(D0, 0, 0, 10, "p0"));
    t.upsert_port(pf(D0, 1, 0, 0, "", 11, "a").external(false));
    t.upsert_port(pf(D0, 2, 1, 0, "", 12, "b").external(false));
    t.set_smartnic_pf_mac(&handle(D0), 0, sysfs);
    assert!(t.pf_macs().is_empty());
    assert!(matches!(
        assert_refused(&t, &req_pf(SYSFS_MAC)),
        Refusal::NoPf { .. }
    ));
    // The single one missing a MAC is DPU-local: still nobody.
    t.upsert_port(pf(D0, 2, 1, 0, "00:53:00:00:00:78", 12, "b").external(false));
    assert!(matches!(
        assert_refused(&t, &req_pf(SYSFS_MAC)),
        Refusal::NoPf { .. }
    ));
    assert_check(&t);

    // The sysfs value is per pfnum: pf1 is not affected.
    t.upsert_port(pf(D0, 5, 0, 1, "", 15, "pf1"));
    assert_eq!(t.pf_mac(&pf_key(&t, D0, 0, 1)), None);
    assert_check(&t);
}

/// Issue 12 item 4: a BlueField whose DPU-local c0pf0 reports no function
/// MAC next to the host's external c1pf0 that reports its own.  On 7c4cb1c
/// the smart_nic MAC went to "the one PF without a MAC", the DPU-local one:
/// host requests became ambiguous (the same MAC as c1pf0's) or resolved to
/// DPU-local ports (another MAC).
#[test]
fn smartnic_mac_never_goes_to_a_dpu_local_pf_or_collides() {
    let base = || {
        let mut t = Table::new(LinkPolicy::TrustDevlink);
        t.upsert_port(physical(D0, 0, 0, 10, "p0"));
        t.upsert_port(pf(D0, 1, 0, 0, "", 11, "pf0hpf-local").external(false));
        t.upsert_port(vf(D0, 2, 0, 0, 3, 12, "pf0vf3-local").external(false));
        t.upsert_port(pf(D0, 3, 1, 0, PF_MAC, 13, "c1pf0").external(true));
        t.upsert_port(vf(D0, 4, 1, 0, 3, 14, "c1pf0vf3").external(true));
        t
    };
    // The file repeats the host PF's MAC: host requests stay unambiguous.
    let mut t = base();
    t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(PF_MAC)));
    assert_found(&t, &req_pf(PF_MAC), "c1pf0");
    assert_found(&t, &req_vf(PF_MAC, 3), "c1pf0vf3");
    assert!(t.pf_mac(&pf_key(&t, D0, 0, 0)).is_none());
    assert_check(&t);
    // Another MAC: it names no PF, never the DPU-local one.
    let mut t = base();
    t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC)));
    assert!(matches!(
        assert_refused(&t, &req_vf(SYSFS_MAC, 3)),
        Refusal::NoPf { .. }
    ));
    assert!(t.pf_mac(&pf_key(&t, D0, 0, 0)).is_none());
    assert_found(&t, &req_vf(PF_MAC, 3), "c1pf0vf3");
    assert_check(&t);

    // An external PF without a MAC gets it, unless a PF of any device
    // reports that MAC itself; when that one changes, it gets it.
    let mut t = Table::new(LinkPolicy::TrustDevlink);
    t.upsert_port(physical(D0, 0, 0, 10, "p0"));
    t.upsert_port(pf(D0, 1, 1, 0, "", 11, "c1pf0").external(true));
    t.upsert_port(vf(D0, 2, 1, 0, 3, 12, "c1pf0vf3").external(true));
    t.upsert_port(pf(D1, 1, 1, 0, SYSFS_MAC, 21, "d1c1pf0").external(true));
    t.upsert_port(vf(D1, 2, 1, 0, 3, 22, "d1c1pf0vf3").external(true));
    t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC)));
    assert_found(&t, &req_vf(SYSFS_MAC, 3), "d1c1pf0vf3");
    assert!(t.pf_mac(&pf_key(&t, D0, 1, 0)).is_none());
    assert_check(&t);
    t.upsert_port(pf(D1, 1, 1, 0, "00:53:00:00:00:79", 21, "d1c1pf0").external(true));
    assert_found(&t, &req_vf(SYSFS_MAC, 3), "c1pf0vf3");
    assert_check(&t);
    t.upsert_port(pf(D1, 1, 1, 0, SYSFS_MAC, 21, "d1c1pf0").external(true));
    assert_found(&t, &req_vf(SYSFS_MAC, 3), "d1c1pf0vf3");
    assert!(t.pf_mac(&pf_key(&t, D0, 1, 0)).is_none());
    assert_check(&t);
    assert!(t.remove_port(&pid(D1, 1)));
    assert_found(&t, &req_vf(SYSFS_MAC, 3), "c1pf0vf3");
    assert_check(&t);
}

/// store-rename-expected: in kernel mode (require_link) a port whose netdev
/// udev has not finished naming is refused, and resolves once it settles.
#[test]
fn c_rename_expected() {
    let mut t = init_store(true);
    assert_found(&t, &req_pf(PF_MAC), "p0hpf");

    // A runtime-added VF whose netdev is still called eth0.
    assert!(t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "eth0")));
    let r = req_vf(PF_MAC, 0);
    assert_eq!(
        assert_refused(&t, &r),
        Refusal::NotSettled {
            port: pid(D0, 2),
            ifindex: 1000,
            name: "eth0".into()
        }
    );
    assert!(assert_refused(&t, &r).may_resolve_later());
    // rtnetlink reports it, udev still busy.
    assert!(t.upsert_link(link(1000, "eth0", "00:53:00:00:10:00", false)));
    assert!(matches!(assert_refused(&t, &r), Refusal::NotSettled { .. }));
    let msg = explain(&t, &r, &assert_refused(&t, &r));
    assert!(msg.contains("eth0") && msg.contains("udev"), "{msg}");
    // udev renamed it: settled.
    assert!(t.upsert_link(link(1000, "pf0vf0", "00:53:00:00:10:00", true)));
    assert_found(&t, &r, "pf0vf0");
    assert_check(&t);

    // Without require_link the devlink name is trusted at once.
    let mut t = init_store(false);
    t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "eth0"));
    assert_found(&t, &req_vf(PF_MAC, 0), "eth0");
    // ... unless rtnetlink says the name is not final yet.
    t.upsert_link(link(1000, "eth0", "", false));
    assert!(matches!(
        assert_refused(&t, &req_vf(PF_MAC, 0)),
        Refusal::NotSettled { .. }
    ));
    assert_check(&t);
}

/// port-prepare-vf: pf-mac + vf-num=0 plugs pf0vf0.
#[test]
fn c_port_prepare_vf() {
    let mut t = init_store(false);
    t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "pf0vf0").fn_mac("00:53:00:00:10:00"));
    let r = options::parse([(OPT_PF_MAC, PF_MAC), (OPT_VF_NUM, "0")]).unwrap();
    assert_eq!(r.function, Function::Vf(0));
    assert_found(&t, &r, "pf0vf0");
    assert_check(&t);
}

/// port-prepare-pf: pf-mac alone plugs the PF representor.
#[test]
fn c_port_prepare_pf() {
    let t = init_store(false);
    let r = options::parse([(OPT_PF_MAC, PF_MAC)]).unwrap();
    assert_eq!(r.function, Function::Pf);
    assert_found(&t, &r, "p0hpf");
    assert_check(&t);
}

/// port-prepare-missing-pf-mac: vf-num without pf-mac is refused.
#[test]
fn c_port_prepare_missing_pf_mac() {
    let e = options::parse([(OPT_VF_NUM, "0")]).unwrap_err();
    assert_eq!(e, OptionError::MissingPfMac);
    assert!(e.to_string().contains(OPT_PF_MAC), "{e}");
}

/// port-prepare-missing-vf-num: pf-mac without vf-num is a PF request, even
/// when VFs exist.
#[test]
fn c_port_prepare_missing_vf_num() {
    let mut t = init_store(false);
    t.upsert_port(vf(D0, 2, 0, 0, 1, 1001, "pf0vf1").fn_mac("00:53:00:00:10:01"));
    let r = options::parse([(OPT_PF_MAC, PF_MAC)]).unwrap();
    assert_found(&t, &r, "p0hpf");
    assert_found(&t, &req_vf(PF_MAC, 1), "pf0vf1");
    assert_check(&t);
}

// ---------------------------------------------------------------------------
// Beyond the C reference
// ---------------------------------------------------------------------------

#[test]
fn sf_lookup() {
    let mut t = init_store(false);
    t.upsert_port(sf(D0, 3, 0, 0, 8, 1100, "pf0sf8"));
    t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "pf0vf0"));
    assert_found(&t, &req_sf(PF_MAC, 8), "pf0sf8");
    let k = pf_key(&t, D0, 0, 0);
    assert_eq!(t.children_of(&k), (1, 1));
    // SF and VF numbers are separate spaces.
    assert_eq!(
        assert_refused(&t, &req_vf(PF_MAC, 8)),
        Refusal::NoFunction {
            pf: k,
            function: Function::Vf(8)
        }
    );
    assert_eq!(
        assert_refused(&t, &req_sf(PF_MAC, 0)),
        Refusal::NoFunction {
            pf: k,
            function: Function::Sf(0)
        }
    );
    assert_found(&t, &req_sf(PF_MAC, 8), "pf0sf8");
    t.remove_port(&pid(D0, 3));
    assert!(matches!(
        assert_refused(&t, &req_sf(PF_MAC, 8)),
        Refusal::NoFunction { .. }
    ));
    assert_check(&t);
}

/// BlueField: c0pf0 (DPU-local) and c1pf0 (host) on one device.
#[test]
fn controllers_c0_vs_c1() {
    const C0: &str = "00:53:00:00:c0:00";
    const C1: &str = "00:53:00:00:c1:00";
    let mut t = Table::new(LinkPolicy::TrustDevlink);
    t.upsert_port(physical(D0, 0, 0, 10, "p0"));
    t.upsert_port(pf(D0, 1, 0, 0, C0, 11, "pf0hpf"));
    t.upsert_port(pf(D0, 2, 1, 0, C1, 12, "c1pf0"));
    t.upsert_port(vf(D0, 3, 0, 0, 0, 13, "pf0vf0"));
    t.upsert_port(vf(D0, 4, 1, 0, 0, 14, "c1pf0vf0"));
    t.upsert_port(vf(D0, 5, 1, 0, 3, 15, "c1pf0vf3"));
    assert_check(&t);

    assert_found(&t, &req_pf(C0), "pf0hpf");
    assert_found(&t, &req_pf(C1), "c1pf0");
    assert_found(&t, &req_vf(C0, 0), "pf0vf0");
    assert_found(&t, &req_vf(C1, 0), "c1pf0vf0");
    let f = lookup(&t, &req_vf(C1, 3)).unwrap();
    assert_eq!(f.name, "c1pf0vf3");
    assert_eq!(f.pf, pf_key(&t, D0, 1, 0));

    // VF 3 exists only under controller 1: asking controller 0's PF for it
    // is refused, and the explanation points at the controller-1 port.
    let r = req_vf(C0, 3);
    let refusal = assert_refused(&t, &r);
    assert_eq!(
        refusal,
        Refusal::NoFunction {
            pf: pf_key(&t, D0, 0, 0),
            function: Function::Vf(3)
        }
    );
    let msg = explain(&t, &r, &refusal);
    assert!(msg.contains("controller 1"), "{msg}");
    assert!(msg.contains("c1pf0vf3"), "{msg}");
    assert!(msg.contains("1 VF"), "{msg}");
    assert_eq!(t.children_of(&pf_key(&t, D0, 1, 0)), (2, 0));
    assert_eq!(t.pf_keys_for(pf_key(&t, D0, 0, 0).dev, 0).len(), 2);
}

#[test]
fn vf_before_pf() {
    let mut t = Table::new(LinkPolicy::TrustDevlink);
    t.upsert_port(vf(D0, 3, 0, 0, 2, 13, "pf0vf2"));
    assert_eq!(
        assert_refused(&t, &req_vf(PF_MAC, 2)),
        Refusal::NoPf { mac: mac(PF_MAC) }
    );
    assert_check(&t);

    t.upsert_port(pf(D0, 1, 0, 0, PF_MAC, 11, "pf0hpf"));
    assert_found(&t, &req_vf(PF_MAC, 2), "pf0vf2");
    assert_check(&t);

    t.remove_port(&pid(D0, 1));
    assert!(matches!(
        assert_refused(&t, &req_vf(PF_MAC, 2)),
        Refusal::NoPf { .. }
    ));
    assert!(t.entry_by_id(&pid(D0, 3)).is_some(), "the VF stays stored");
    assert_eq!(t.children_of(&pf_key(&t, D0, 0, 0)), (1, 0));
    assert_check(&t);

    // And comes back with the PF.
    t.upsert_port(pf(D0, 1, 0, 0, PF_MAC, 11, "pf0hpf"));
    assert_found(&t, &req_vf(PF_MAC, 2), "pf0vf2");
    assert_check(&t);
}

#[test]
fn pf_mac_change() {
    const NEW: &str = "00:53:00:00:00:99";
    let mut t = init_store(false);
    t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "pf0vf0"));
    t.upsert_port(vf(D0, 3, 0, 0, 1, 1001, "pf0vf1"));
    let before = assert_found(&t, &req_vf(PF_MAC, 1), "pf0vf1");

    assert!(t.upsert_port(pf(D0, 1, 0, 0, NEW, 100, "p0hpf")));
    assert!(matches!(
        assert_refused(&t, &req_vf(PF_MAC, 1)),
        Refusal::NoPf { .. }
    ));
    assert!(matches!(
        assert_refused(&t, &req_pf(PF_MAC)),
        Refusal::NoPf { .. }
    ));
    assert_eq!(assert_found(&t, &req_vf(NEW, 1), "pf0vf1"), before);
    assert_found(&t, &req_vf(NEW, 0), "pf0vf0");
    assert_found(&t, &req_pf(NEW), "p0hpf");
    assert!(t.pfs_with_mac(mac(PF_MAC)).is_none());
    assert_check(&t);
}

#[test]
fn ambiguous_pf_mac() {
    const DUP: &str = "00:53:00:00:00:d0";
    // Same MAC on two controllers of one device.
    let mut t = Table::new(LinkPolicy::TrustDevlink);
    t.upsert_port(pf(D0, 1, 0, 0, DUP, 11, "pf0hpf"));
    t.upsert_port(pf(D0, 2, 1, 0, DUP, 12, "c1pf0"));
    t.upsert_port(vf(D0, 3, 1, 0, 0, 13, "c1pf0vf0"));
    for r in [req_pf(DUP), req_vf(DUP, 0)] {
        let refusal = assert_refused(&t, &r);
        let Refusal::AmbiguousPf { mac: m, pfs } = &refusal else {
            panic!("{refusal:?}");
        };
        assert_eq!(*m, mac(DUP));
        assert_eq!(pfs, &vec![pf_key(&t, D0, 0, 0), pf_key(&t, D0, 1, 0)]);
        assert!(!refusal.may_resolve_later());
        let msg = explain(&t, &r, &refusal);
        assert!(msg.contains("refusing to guess"), "{msg}");
        assert!(msg.contains("2 PFs"), "{msg}");
        assert!(msg.contains("c0pf0") && msg.contains("c1pf0"), "{msg}");
    }
    assert_check(&t);

    // One changes MAC: both resolvable again.
    t.upsert_port(pf(D0, 2, 1, 0, "00:53:00:00:00:d1", 12, "c1pf0"));
    assert_found(&t, &req_pf(DUP), "pf0hpf");
    assert_found(&t, &req_vf("00:53:00:00:00:d1", 0), "c1pf0vf0");
    assert_check(&t);

    // Same MAC on two devices; three, then back down.
    t.upsert_port(pf(D1, 1, 0, 0, DUP, 21, "d1pf0"));
    assert!(matches!(
        assert_refused(&t, &req_pf(DUP)),
        Refusal::AmbiguousPf { ref pfs, .. } if pfs.len() == 2
    ));
    t.upsert_port(pf(D0, 2, 1, 0, DUP, 12, "c1pf0"));
    assert!(matches!(
        assert_refused(&t, &req_pf(DUP)),
        Refusal::AmbiguousPf { ref pfs, .. } if pfs.len() == 3
    ));
    assert_check(&t);
    t.remove_port(&pid(D0, 1));
    t.remove_port(&pid(D1, 1));
    assert_found(&t, &req_vf(DUP, 0), "c1pf0vf0");
    assert_check(&t);
}

/// A ConnectX-6 in switchdev mode shows only `physical` and `pcivf` ports.
#[test]
fn connectx6_without_pcipf() {
    const UPLINK: &str = "00:53:00:00:6a:00";
    for require_link in [false, true] {
        let mut t = Table::new(policy(require_link));
        t.upsert_link(link(10, "p0", UPLINK, true));
        t.upsert_link(link(13, "pf0vf0", "", true));
        t.upsert_port(physical(D0, 0, 0, 10, "p0"));
        t.upsert_port(vf(D0, 3, 0, 0, 0, 13, "pf0vf0"));
        let f = lookup(&t, &req_vf(UPLINK, 0)).expect("VF resolves via the uplink MAC");
        assert_eq!(f.name, "pf0vf0");
        let k = pf_key(&t, D0, 0, 0);
        assert_eq!(f.pf, k);
        assert_eq!(t.pf_mac(&k).unwrap().source, MacSource::PhysicalNetdev);

        let r = req_pf(UPLINK);
        let refusal = assert_refused(&t, &r);
        assert_eq!(refusal, Refusal::PfWithoutRepresentor { pf: k });
        assert!(!refusal.may_resolve_later());
        let msg = explain(&t, &r, &refusal);
        assert!(msg.contains("p0") && msg.contains("uplink"), "{msg}");
        assert_check(&t);

        // The uplink's MAC changes (rtnetlink): re-keyed.
        t.upsert_link(link(10, "p0", "00:53:00:00:6a:01", true));
        assert!(matches!(
            assert_refused(&t, &req_vf(UPLINK, 0)),
            Refusal::NoPf { .. }
        ));
        assert_found(&t, &req_vf("00:53:00:00:6a:01", 0), "pf0vf0");
        t.upsert_link(link(10, "p0", UPLINK, true));
        assert_check(&t);

        // A pcipf port on the device disables the uplink fallback.
        t.upsert_port(pf(D0, 1, 0, 0, "", 0, ""));
        assert!(matches!(
            assert_refused(&t, &req_vf(UPLINK, 0)),
            Refusal::NoPf { .. }
        ));
        assert!(t.pf_macs().is_empty());
        assert_check(&t);
        t.remove_port(&pid(D0, 1));
        assert_found(&t, &req_vf(UPLINK, 0), "pf0vf0");

        // The uplink netdev vanishes: no MAC, no fallback.
        t.remove_link(10);
        assert!(matches!(
            assert_refused(&t, &req_vf(UPLINK, 0)),
            Refusal::NoPf { .. }
        ));
        assert_check(&t);
        t.upsert_link(link(10, "p0", UPLINK, true));
        assert_found(&t, &req_vf(UPLINK, 0), "pf0vf0");

        // A pcipf on another device does not matter.
        t.upsert_port(pf(D1, 1, 0, 0, "00:53:00:00:00:e1", 0, ""));
        assert_found(&t, &req_vf(UPLINK, 0), "pf0vf0");
        assert_check(&t);
    }
}

#[test]
fn zero_and_multicast_macs_never_indexed() {
    let bad = [
        "00:00:00:00:00:00",
        "01:00:5e:00:00:01",
        "ff:ff:ff:ff:ff:ff",
        "33:33:00:00:00:01",
    ];
    for b in bad {
        let mut t = Table::new(LinkPolicy::TrustDevlink);
        t.upsert_port(physical(D0, 0, 0, 10, "p0"));
        t.upsert_port(pf(D0, 1, 0, 0, b, 11, "pf0hpf"));
        t.upsert_port(vf(D0, 2, 0, 0, 0, 12, "pf0vf0").fn_mac(PF_MAC));
        assert!(t.pf_macs().is_empty(), "{b} indexed");
        assert!(t.pfs_with_mac(mac(b)).is_none(), "{b} indexed");
        // A VF's own function MAC is no PF MAC either.
        assert!(t.pfs_with_mac(mac(PF_MAC)).is_none());
        // smart_nic values that are not usable are ignored.
        let g = t.generation();
        assert!(!t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(b))));
        assert_eq!(t.generation(), g);
        assert!(t.pf_macs().is_empty());
        // The parser refuses such a pf-mac outright; the table would too.
        assert!(options::parse([(OPT_PF_MAC, b)]).is_err());
        assert!(lookup(&t, &request(mac(b), Function::Pf)).is_err());
        assert_check(&t);

        // An uplink whose netdev MAC is unusable is no fallback PF.
        let mut t = Table::new(LinkPolicy::TrustDevlink);
        t.upsert_link(link(10, "p0", b, true));
        t.upsert_port(physical(D0, 0, 0, 10, "p0"));
        t.upsert_port(vf(D0, 2, 0, 0, 0, 12, "pf0vf0"));
        assert!(t.pf_macs().is_empty(), "{b} indexed");
        assert_check(&t);
    }

    // The operator passed the VF's MAC as pf-mac: the explanation says so.
    let mut t = init_store(false);
    t.upsert_port(vf(D0, 2, 0, 0, 0, 12, "pf0vf0").fn_mac("00:53:00:00:10:00"));
    let r = req_vf("00:53:00:00:10:00", 0);
    let msg = explain(&t, &r, &assert_refused(&t, &r));
    assert!(
        msg.contains("pf0vf0") && msg.contains("pf-mac must be the PF's MAC"),
        "{msg}"
    );
}

#[test]
fn renames_through_upsert_link() {
    for require_link in [false, true] {
        let mut t = init_store(require_link);
        t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "eth5"));
        t.upsert_link(link(1000, "pf0vf0", "", true));
        assert_found(&t, &req_vf(PF_MAC, 0), "pf0vf0");
        assert_eq!(t.entry_by_ifindex(1000).unwrap().name, Some("pf0vf0"));

        assert!(t.upsert_link(link(1000, "vm-7", "", true)));
        assert_found(&t, &req_vf(PF_MAC, 0), "vm-7");
        // Renaming the PF representor and the uplink works the same way.
        assert!(t.upsert_link(link(100, "pf0hpf", "", true)));
        assert_found(&t, &req_pf(PF_MAC), "pf0hpf");
        t.upsert_link(link(10, "uplink0", "", true));
        let d = t.dev_index(&handle(D0)).unwrap();
        assert_eq!(t.physical_entry(d, 0).unwrap().name, Some("uplink0"));
        assert_check(&t);

        // A later devlink PORT_NEW carrying the old name does not undo the
        // rtnetlink rename (6.1 sends no devlink event on rename).
        t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "eth5").fn_mac("00:53:00:00:10:00"));
        assert_found(&t, &req_vf(PF_MAC, 0), "vm-7");
        assert_check(&t);

        // A link for an ifindex nobody uses is kept and applied later.
        t.upsert_link(link(2000, "pf0vf9", "", true));
        t.upsert_port(vf(D0, 9, 0, 0, 9, 2000, "eth9"));
        assert_found(&t, &req_vf(PF_MAC, 9), "pf0vf9");
        assert_check(&t);
    }
}

#[test]
fn remove_link() {
    // Kernel mode: without its link a netdev is not trusted.
    let mut t = init_store(true);
    t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "eth5"));
    t.upsert_link(link(1000, "pf0vf0", "", true));
    assert_found(&t, &req_vf(PF_MAC, 0), "pf0vf0");
    assert!(t.remove_link(1000));
    assert_eq!(
        assert_refused(&t, &req_vf(PF_MAC, 0)),
        Refusal::NotSettled {
            port: pid(D0, 2),
            ifindex: 1000,
            name: "eth5".into()
        }
    );
    assert!(t.link(1000).is_none());
    let g = t.generation();
    assert!(!t.remove_link(1000));
    assert!(!t.remove_link(4242));
    assert_eq!(t.generation(), g);
    assert_check(&t);

    // Snapshot mode: back to devlink's name.
    let mut t = init_store(false);
    t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "eth5"));
    t.upsert_link(link(1000, "pf0vf0", "", true));
    assert_found(&t, &req_vf(PF_MAC, 0), "pf0vf0");
    assert!(t.remove_link(1000));
    assert_found(&t, &req_vf(PF_MAC, 0), "eth5");
    assert_check(&t);
}

/// Two ports claiming the same VF (or the same ifindex): the smallest port
/// id wins regardless of arrival order; removing it exposes the other.
#[test]
fn duplicate_keys() {
    for order in [[5u32, 7], [7, 5]] {
        let mut t = init_store(false);
        for idx in order {
            t.upsert_port(vf(D0, idx, 0, 0, 3, 1000 + idx, &format!("dup{idx}")));
        }
        assert_eq!(assert_found(&t, &req_vf(PF_MAC, 3), "dup5"), pid(D0, 5));
        assert_eq!(t.children_of(&pf_key(&t, D0, 0, 0)), (1, 0));
        assert_check(&t);
        t.remove_port(&pid(D0, 5));
        assert_eq!(assert_found(&t, &req_vf(PF_MAC, 3), "dup7"), pid(D0, 7));
        assert_eq!(t.children_of(&pf_key(&t, D0, 0, 0)), (1, 0));
        assert_check(&t);
        t.remove_port(&pid(D0, 7));
        assert!(matches!(
            assert_refused(&t, &req_vf(PF_MAC, 3)),
            Refusal::NoFunction { .. }
        ));
        assert_eq!(t.children_of(&pf_key(&t, D0, 0, 0)), (0, 0));
        assert_check(&t);
    }

    // Three claimants: removing the winner exposes the next smallest id,
    // whatever the arrival order.
    for order in [[9u32, 5, 7], [5, 9, 7], [7, 9, 5]] {
        let mut t = init_store(false);
        for idx in order {
            t.upsert_port(sf(D0, idx, 0, 0, 4, 1000 + idx, &format!("s{idx}")));
        }
        assert_found(&t, &req_sf(PF_MAC, 4), "s5");
        t.remove_port(&pid(D0, 5));
        assert_found(&t, &req_sf(PF_MAC, 4), "s7");
        assert_check(&t);
        t.upsert_port(sf(D0, 5, 0, 0, 4, 1005, "s5"));
        assert_found(&t, &req_sf(PF_MAC, 4), "s5");
        t.remove_port(&pid(D0, 7));
        t.remove_port(&pid(D0, 5));
        assert_found(&t, &req_sf(PF_MAC, 4), "s9");
        assert_eq!(t.children_of(&pf_key(&t, D0, 0, 0)), (0, 1));
        assert_check(&t);
    }

    // Two PCI_PF ports for one PfKey: the smaller id's MAC is the PF's.
    for order in [[1u32, 9], [9, 1]] {
        let mut t = Table::new(LinkPolicy::TrustDevlink);
        for idx in order {
            let m = format!("00:53:00:00:00:{idx:02x}");
            t.upsert_port(pf(D0, idx, 0, 0, &m, 100 + idx, &format!("pf{idx}")));
        }
        assert_found(&t, &req_pf("00:53:00:00:00:01"), "pf1");
        assert!(matches!(
            assert_refused(&t, &req_pf("00:53:00:00:00:09")),
            Refusal::NoPf { .. }
        ));
        assert_check(&t);
        t.remove_port(&pid(D0, 1));
        assert_found(&t, &req_pf("00:53:00:00:00:09"), "pf9");
        assert_check(&t);
    }

    // Two ports with the same ifindex.
    for order in [[5u32, 7], [7, 5]] {
        let mut t = init_store(false);
        for idx in order {
            t.upsert_port(vf(D0, idx, 0, 0, idx as u16, 1000, &format!("n{idx}")));
        }
        assert_eq!(t.entry_by_ifindex(1000).unwrap().port.id, pid(D0, 5));
        assert_check(&t);
        t.remove_port(&pid(D0, 5));
        assert_eq!(t.entry_by_ifindex(1000).unwrap().port.id, pid(D0, 7));
        assert_check(&t);
    }
    let mut t = init_store(false);
    for idx in [9u32, 5, 7] {
        t.upsert_port(vf(D0, idx, 0, 0, idx as u16, 1000, &format!("n{idx}")));
    }
    assert_eq!(t.entry_by_ifindex(1000).unwrap().port.id, pid(D0, 5));
    t.remove_port(&pid(D0, 5));
    assert_eq!(t.entry_by_ifindex(1000).unwrap().port.id, pid(D0, 7));
    assert_check(&t);
}

/// A rename of an ifindex claimed by two ports reaches both of them.
#[test]
fn duplicate_ifindex_rename() {
    let mut t = init_store(true);
    t.upsert_port(vf(D0, 5, 0, 0, 5, 1000, "eth0"));
    t.upsert_port(vf(D0, 7, 0, 0, 7, 1000, "eth0"));
    t.upsert_link(link(1000, "renamed", "", true));
    assert_found(&t, &req_vf(PF_MAC, 5), "renamed");
    assert_found(&t, &req_vf(PF_MAC, 7), "renamed");
    assert_check(&t);
    t.remove_link(1000);
    assert!(matches!(
        assert_refused(&t, &req_vf(PF_MAC, 7)),
        Refusal::NotSettled { .. }
    ));
    assert_check(&t);
}

/// An uplink MAC change reaches the fallback PF even when the uplink's
/// ifindex is also claimed by another port with a smaller id.
#[test]
fn duplicate_ifindex_uplink_mac_change() {
    let mut t = Table::new(LinkPolicy::TrustDevlink);
    t.upsert_port(vf(D0, 0, 0, 0, 1, 10, "odd"));
    t.upsert_port(physical(D0, 1, 0, 10, "p0"));
    t.upsert_port(vf(D0, 2, 0, 0, 0, 12, "pf0vf0"));
    t.upsert_link(link(10, "p0", "00:53:00:00:6a:00", true));
    assert_found(&t, &req_vf("00:53:00:00:6a:00", 0), "pf0vf0");
    assert_check(&t);
    t.upsert_link(link(10, "p0", "00:53:00:00:6a:01", true));
    assert_found(&t, &req_vf("00:53:00:00:6a:01", 0), "pf0vf0");
    assert_check(&t);
}

/// Steps one table and checks that `Table::decisions` moves exactly when
/// expected, agrees with a whole-table comparison (`decision_changed`),
/// and that an uncounted step leaves every answer given before as it was
/// (it may only add answers).
struct Decisions {
    t: Table,
    reqs: Vec<ovn_vif_rs::options::Request>,
}

impl Decisions {
    #[track_caller]
    fn step(&mut self, what: &str, expect: bool, f: impl FnOnce(&mut Table)) {
        let before = self.t.clone();
        let d = self.t.decisions();
        f(&mut self.t);
        let counted = self.t.decisions() != d;
        assert_eq!(counted, expect, "{what}: decision counted");
        assert_eq!(
            before.decision_changed(&self.t),
            expect,
            "{what}: answers differ"
        );
        if !counted {
            for r in &self.reqs {
                // A plug given before is given again (a refusal may turn
                // into a plug; refusal reasons may differ: a decline is a
                // decline).
                let plug = |t: &Table| {
                    lookup(t, r)
                        .ok()
                        .map(|f| (f.name.to_owned(), f.entry.ifindex()))
                };
                if let Some(p) = plug(&before) {
                    assert_eq!(Some(p), plug(&self.t), "{what}: {r}");
                }
            }
        }
        assert_check(&self.t);
    }
}

/// What counts as a change that can change a decision (src/table/mod.rs,
/// "Decisions"), step by step, on a 6.1-like kernel table: a function's
/// plug-ready netdev going, renamed or re-created, a PF MAC change and the
/// behind state count; answers appearing (a PF MAC, a settled function),
/// links no port shows, a VF netdev's or the uplink's MAC (on a device
/// with a PCI_PF port), port function state and VF hw_addr, ports without
/// a netdev or not settled, a shadowed duplicate do not.
#[test]
fn decisions_count_only_what_can_change_an_answer() {
    let new_pf = "00:53:00:00:00:43";
    let mut s = Decisions {
        t: Table::new(LinkPolicy::RequireLink),
        reqs: vec![
            req_pf(PF_MAC),
            req_vf(PF_MAC, 0),
            req_vf(PF_MAC, 1),
            req_pf(new_pf),
            req_vf(new_pf, 0),
        ],
    };
    s.step("uplink link, no port", false, |t| {
        t.upsert_link(link(10, "p0", "00:53:00:00:00:00", true));
    });
    s.step("unrelated link", false, |t| {
        t.upsert_link(link(999, "eth9", "00:53:00:00:09:99", true));
    });
    s.step("unrelated link renamed", false, |t| {
        t.upsert_link(link(999, "eth9b", "00:53:00:00:09:99", true));
    });
    s.step("PF port with a MAC: PF MAC appears", false, |t| {
        t.upsert_port(pf(D0, 1, 0, 0, PF_MAC, 100, "p0hpf"));
    });
    s.step("uplink port beside a PCI_PF: no PF-MAC input", false, |t| {
        t.upsert_port(physical(D0, 0, 0, 10, "p0"));
    });
    s.step("uplink MAC change on a device with a PCI_PF", false, |t| {
        t.upsert_link(link(10, "p0", "00:53:00:00:00:01", true));
    });
    s.step(
        "PF representor link settles: PF answer appears",
        false,
        |t| {
            t.upsert_link(link(100, "p0hpf", "", true));
        },
    );
    s.step("VF port, devlink type notset (no netdev)", false, |t| {
        t.upsert_port(vf(D0, 2, 0, 0, 0, 0, ""));
    });
    s.step("VF netdev, link not reported yet", false, |t| {
        t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "eth0"));
    });
    s.step("VF link, udev not done", false, |t| {
        t.upsert_link(link(1000, "eth0", "", false));
    });
    s.step("udev renames it, not done", false, |t| {
        t.upsert_link(link(1000, "pf0vf0", "", false));
    });
    s.step("udev done: a new function is plug-ready", false, |t| {
        t.upsert_link(link(1000, "pf0vf0", "", true));
    });
    s.step("VF netdev MAC set", false, |t| {
        t.upsert_link(link(1000, "pf0vf0", "00:53:00:00:10:00", true));
    });
    s.step("VF function hw_addr set", false, |t| {
        t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "pf0vf0").fn_mac("00:53:00:00:20:00"));
    });
    s.step("VF function state/opstate flap", false, |t| {
        let mut p = vf(D0, 2, 0, 0, 0, 1000, "pf0vf0");
        p.function = Some(PortFunction {
            hw_addr: Some(mac("00:53:00:00:20:00")),
            state: Some(1),
            opstate: Some(1),
        });
        t.upsert_port(p.clone());
        p.function = Some(PortFunction {
            hw_addr: Some(mac("00:53:00:00:20:00")),
            state: Some(0),
            opstate: Some(0),
        });
        t.upsert_port(p);
    });
    s.step("a duplicate VF port (shadowed)", false, |t| {
        t.upsert_port(vf(D0, 9, 0, 0, 0, 0, ""));
    });
    s.step("the duplicate goes", false, |t| {
        t.remove_port(&pid(D0, 9));
    });
    s.step("representor renamed", true, |t| {
        t.upsert_link(link(1000, "vm1-rep", "00:53:00:00:10:00", true));
    });
    s.step("same netdev name, another netdev (re-created)", true, |t| {
        t.upsert_port(vf(D0, 2, 0, 0, 0, 1001, "vm1-rep"));
        t.upsert_link(link(1001, "vm1-rep", "", true));
        t.remove_link(1000);
    });
    s.step("second VF", false, |t| {
        t.upsert_link(link(1002, "pf0vf1", "", true));
        t.upsert_port(vf(D0, 3, 0, 0, 1, 1002, "pf0vf1"));
    });
    s.step("PF MAC change", true, |t| {
        t.upsert_port(pf(D0, 1, 0, 0, new_pf, 100, "p0hpf"));
    });
    assert_eq!(resolve(&s.t, &req_vf(new_pf, 0)).as_deref(), Ok("vm1-rep"));
    s.step("behind", true, |t| {
        t.set_behind(true);
    });
    s.step("still behind", false, |t| {
        t.set_behind(true);
    });
    s.step("caught up", true, |t| {
        t.set_behind(false);
    });
    s.step("VF netdev detached (6.1 delete, step 1)", true, |t| {
        t.upsert_port(vf(D0, 3, 0, 0, 1, 0, ""));
    });
    s.step("VF port gone (step 2)", false, |t| {
        t.remove_port(&pid(D0, 3));
    });
    s.step("its link gone", false, |t| {
        t.remove_link(1002);
    });
    s.step("unrelated link gone", false, |t| {
        t.remove_link(999);
    });
}

/// A PF MAC appearing counts only when another PF already has it: the
/// requests that PF answered become ambiguous (refused), so a host must
/// ask its plugged lports again.  The second PF going makes them
/// answerable again, which is an appearance and does not count.
#[test]
fn decisions_count_a_pf_mac_that_makes_answers_ambiguous() {
    let mut s = Decisions {
        t: Table::new(LinkPolicy::RequireLink),
        reqs: vec![req_pf(PF_MAC), req_vf(PF_MAC, 0), req_vf(PF_MAC, 1)],
    };
    s.step("PF on device 0", false, |t| {
        t.upsert_link(link(100, "p0hpf", "", true));
        t.upsert_port(pf(D0, 1, 1, 0, PF_MAC, 100, "p0hpf"));
    });
    s.step("its VF 0", false, |t| {
        t.upsert_link(link(1000, "pf0vf0", "", true));
        t.upsert_port(vf(D0, 2, 1, 0, 0, 1000, "pf0vf0"));
    });
    assert_eq!(resolve(&s.t, &req_vf(PF_MAC, 0)).as_deref(), Ok("pf0vf0"));
    s.step("a PF on device 1 without a MAC yet", false, |t| {
        t.upsert_link(link(200, "p1hpf", "", true));
        t.upsert_port(pf(D1, 1, 1, 0, "", 200, "p1hpf"));
    });
    s.step("device 1's PF gets the same MAC: ambiguous", true, |t| {
        t.upsert_port(pf(D1, 1, 1, 0, PF_MAC, 200, "p1hpf"));
    });
    assert!(resolve(&s.t, &req_vf(PF_MAC, 0)).is_err());
    s.step(
        "a VF under the ambiguous MAC: nothing answered",
        false,
        |t| {
            t.upsert_link(link(1001, "pf0vf1", "", true));
            t.upsert_port(vf(D0, 3, 1, 0, 1, 1001, "pf0vf1"));
        },
    );
    s.step("device 1's PF goes: its MAC going counts", true, |t| {
        // Counted like any PF MAC that goes, though here it only makes
        // answers reappear (the rule stays simple: MACs rarely go).
        t.remove_port(&pid(D1, 1));
    });
    assert_eq!(resolve(&s.t, &req_vf(PF_MAC, 1)).as_deref(), Ok("pf0vf1"));
    s.step(
        "a third PF with the same MAC, whole table swapped in",
        true,
        |t| {
            let mut fresh = t.clone();
            fresh.upsert_link(link(300, "p2hpf", "", true));
            fresh.upsert_port(pf(D1, 5, 1, 1, PF_MAC, 300, "p2hpf"));
            assert!(t.replace_with(fresh));
        },
    );
}

/// A device without PCI_PF ports (ConnectX-6 in switchdev mode): the
/// uplink's netdev MAC is the PF MAC, so its change counts; on a device
/// with a PCI_PF it does not (above).  A smart_nic MAC counts only when it
/// becomes a PF's MAC.
#[test]
fn decisions_count_pf_mac_inputs_only_when_they_are_used() {
    let mut s = Decisions {
        t: Table::new(LinkPolicy::RequireLink),
        reqs: vec![
            req_vf("00:53:00:00:6a:00", 0),
            req_vf("00:53:00:00:6a:01", 0),
            req_vf(SYSFS_MAC, 0),
        ],
    };
    s.step("uplink port, no link yet", false, |t| {
        t.upsert_port(physical(D0, 0, 0, 10, "p0"));
    });
    s.step("uplink link with a MAC: PF MAC appears", false, |t| {
        t.upsert_link(link(10, "p0", "00:53:00:00:6a:00", true));
    });
    s.step("VF", false, |t| {
        t.upsert_link(link(1000, "pf0vf0", "", true));
        t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "pf0vf0"));
    });
    s.step("uplink MAC change", true, |t| {
        t.upsert_link(link(10, "p0", "00:53:00:00:6a:01", true));
    });
    s.step("uplink renamed, same MAC", false, |t| {
        t.upsert_link(link(10, "uplink0", "00:53:00:00:6a:01", true));
    });
    s.step("smart_nic MAC with no PCI_PF to give it to", false, |t| {
        t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC)));
    });
    s.step("smart_nic MAC forgotten", false, |t| {
        t.set_smartnic_pf_mac(&handle(D0), 0, None);
    });
}

#[test]
fn generation_bumps_only_on_change() {
    let mut t = Table::new(LinkPolicy::RequireLink);
    let mut g = t.generation();
    let mut bumped = |t: &Table, expect: bool| {
        let now = t.generation();
        assert_eq!(now != g, expect, "generation {g} -> {now}");
        assert!(now >= g);
        g = now;
    };
    let p = pf(D0, 1, 0, 0, PF_MAC, 100, "p0hpf");
    assert!(t.upsert_port(p.clone()));
    bumped(&t, true);
    assert!(!t.upsert_port(p.clone()));
    bumped(&t, false);
    assert!(t.upsert_port(p.clone().fn_mac("00:53:00:00:00:43")));
    bumped(&t, true);
    let l = link(100, "p0hpf", "", false);
    assert!(t.upsert_link(l.clone()));
    bumped(&t, true);
    assert!(!t.upsert_link(l.clone()));
    bumped(&t, false);
    assert!(t.upsert_link(link(100, "p0hpf", "", true)));
    bumped(&t, true);
    assert!(t.upsert_link(link(100, "p0hpf", "00:53:00:00:00:01", true)));
    bumped(&t, true);
    assert!(t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC))));
    bumped(&t, true);
    assert!(!t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC))));
    bumped(&t, false);
    assert!(!t.set_smartnic_pf_mac(&handle(D1), 0, None));
    bumped(&t, false);
    assert!(t.remove_link(100));
    bumped(&t, true);
    assert!(!t.remove_link(100));
    bumped(&t, false);
    assert!(t.remove_port(&pid(D0, 1)));
    bumped(&t, true);
    assert!(!t.remove_port(&pid(D0, 1)));
    bumped(&t, false);
    assert_check(&t);
}

#[test]
fn explain_texts() {
    // Nothing known at all.
    let t = Table::new(LinkPolicy::TrustDevlink);
    let r = req_vf(PF_MAC, 0);
    let msg = explain(&t, &r, &assert_refused(&t, &r));
    assert!(msg.contains(PF_MAC), "{msg}");
    assert!(msg.contains("switchdev"), "{msg}");

    // Unknown MAC: the known PF MACs are listed, with their source.
    let mut t = init_store(false);
    t.upsert_port(pf(D0, 2, 1, 0, "", 12, "c1pf0"));
    t.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC)));
    let r = req_vf("00:53:00:00:ee:ee", 0);
    let refusal = assert_refused(&t, &r);
    assert_eq!(refusal.code(), "no-pf");
    assert!(refusal.may_resolve_later());
    let msg = explain(&t, &r, &refusal);
    assert!(msg.contains("00:53:00:00:ee:ee"), "{msg}");
    assert!(msg.contains("known PFs"), "{msg}");
    assert!(msg.contains(PF_MAC) && msg.contains(SYSFS_MAC), "{msg}");
    assert!(msg.contains("smart_nic"), "{msg}");
    assert!(msg.contains(D0), "{msg}");

    // Many PFs: the list is cut.
    let mut t = Table::new(LinkPolicy::TrustDevlink);
    for i in 0..12u16 {
        let m = format!("00:53:00:00:01:{i:02x}");
        t.upsert_port(pf(D0, i as u32, 0, i, &m, 0, ""));
    }
    let msg = explain(&t, &r, &assert_refused(&t, &r));
    assert!(msg.contains("and 4 more"), "{msg}");

    // The function is missing: VF/SF counts are given.
    let mut t = init_store(false);
    for n in 0..3 {
        t.upsert_port(vf(
            D0,
            10 + n as u32,
            0,
            0,
            n,
            1000 + n as u32,
            &format!("pf0vf{n}"),
        ));
    }
    t.upsert_port(sf(D0, 20, 0, 0, 1, 2001, "pf0sf1"));
    let r = req_vf(PF_MAC, 7);
    let refusal = assert_refused(&t, &r);
    assert_eq!(refusal.code(), "function-not-present");
    let msg = explain(&t, &r, &refusal);
    assert!(msg.contains("VF 7"), "{msg}");
    assert!(msg.contains("3 VF") && msg.contains("1 SF"), "{msg}");
    assert!(msg.contains(PF_MAC), "{msg}");

    // No netdev yet.
    t.upsert_port(vf(D0, 30, 0, 0, 30, 0, ""));
    let r = req_vf(PF_MAC, 30);
    let refusal = assert_refused(&t, &r);
    assert_eq!(refusal, Refusal::NoNetdev { port: pid(D0, 30) });
    let msg = explain(&t, &r, &refusal);
    assert!(
        msg.contains("no netdev") && msg.contains(&pid(D0, 30).to_string()),
        "{msg}"
    );
    assert_check(&t);
}

/// Controller numbers are part of a PF's identity even without MACs: VFs of
/// c1pf0 are never counted under c0pf0.
#[test]
fn children_are_per_controller() {
    let mut t = init_store(false);
    t.upsert_port(vf(D0, 5, 1, 0, 0, 0, ""));
    t.upsert_port(vf(D0, 6, 1, 0, 1, 0, ""));
    assert_eq!(t.children_of(&pf_key(&t, D0, 0, 0)), (0, 0));
    assert_eq!(t.children_of(&pf_key(&t, D0, 1, 0)), (2, 0));
    assert!(matches!(
        assert_refused(&t, &req_vf(PF_MAC, 0)),
        Refusal::NoFunction { .. }
    ));
    assert_check(&t);
}

/// The same ports in any insertion order give the same table.
#[test]
fn insertion_order_does_not_matter() {
    let ports = vec![
        physical(D0, 0, 0, 10, "p0"),
        pf(D0, 1, 0, 0, "", 11, "pf0hpf"),
        pf(D0, 2, 1, 0, "00:53:00:00:c1:00", 12, "c1pf0"),
        vf(D0, 3, 1, 0, 0, 13, "c1pf0vf0"),
        vf(D0, 4, 1, 0, 0, 14, "dup"),
        sf(D0, 5, 0, 0, 2, 15, "pf0sf2"),
        pf(D1, 1, 0, 0, "00:53:00:00:c1:00", 21, "d1pf0"),
    ];
    let mut a = Table::new(LinkPolicy::TrustDevlink);
    for p in &ports {
        a.upsert_port(p.clone());
    }
    a.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC)));
    let mut b = Table::new(LinkPolicy::TrustDevlink);
    b.set_smartnic_pf_mac(&handle(D0), 0, Some(mac(SYSFS_MAC)));
    for p in ports.iter().rev() {
        b.upsert_port(p.clone());
    }
    assert_check(&a);
    assert_check(&b);
    assert_eq!(a.canonical(), b.canonical());
    for m in ["00:53:00:00:c1:00", SYSFS_MAC, PF_MAC] {
        for r in [req_pf(m), req_vf(m, 0), req_sf(m, 2)] {
            assert_eq!(outcome(&a, &r), outcome(&b, &r), "{r}");
        }
    }
    // pf0hpf is DPU-local (controller 0): the host PF's smart_nic MAC is
    // never its.
    assert!(matches!(
        assert_refused(&a, &req_pf(SYSFS_MAC)),
        Refusal::NoPf { .. }
    ));
    assert_eq!(
        outcome(&a, &req_vf("00:53:00:00:c1:00", 0)),
        Outcome::Ambiguous(vec![(handle(D0), 1, 0), (handle(D1), 0, 0)])
    );
}

/// A PCI_PF port the kernel reported without a PF number still means the
/// device has PCI_PF ports: the uplink fallback is off while it exists, in
/// whatever order things arrive.
#[test]
fn pcipf_without_pfnum_disables_uplink_fallback() {
    const UPLINK: &str = "00:53:00:00:6a:00";
    let mut odd = pf(D0, 1, 0, 0, "", 0, "");
    odd.pfnum = None;
    for link_first in [false, true] {
        let mut t = Table::new(LinkPolicy::RequireLink);
        if link_first {
            t.upsert_link(link(10, "p0", UPLINK, true));
        }
        t.upsert_port(physical(D0, 0, 0, 10, "p0"));
        t.upsert_port(vf(D0, 2, 0, 0, 0, 0, ""));
        if link_first {
            assert!(t.pfs_with_mac(mac(UPLINK)).is_some());
        }
        t.upsert_port(odd.clone());
        if !link_first {
            t.upsert_link(link(10, "p0", UPLINK, true));
        }
        assert!(
            t.pf_macs().is_empty(),
            "uplink fallback with a pcipf port present"
        );
        assert_check(&t);
        t.remove_port(&odd.id);
        assert_eq!(
            assert_refused(&t, &req_vf(UPLINK, 0)),
            Refusal::NoNetdev { port: pid(D0, 2) }
        );
        assert_check(&t);
    }
}

/// The C provider parses vf-num with strtol into a uint16_t: `65536` plugs
/// VF 0 and `1x` plugs VF 1.  Here such options never reach the table.
#[test]
fn c_defect_lenient_vf_num_is_refused() {
    let mut t = init_store(false);
    t.upsert_port(vf(D0, 2, 0, 0, 0, 1000, "pf0vf0"));
    t.upsert_port(vf(D0, 3, 0, 0, 1, 1001, "pf0vf1"));
    for bad in ["65536", "1x", "-1", " 1", "01", "0x1"] {
        let e = options::parse([(OPT_PF_MAC, PF_MAC), (OPT_VF_NUM, bad)]).unwrap_err();
        assert!(
            matches!(e, OptionError::BadNumber { .. }),
            "vf-num={bad:?}: {e:?}"
        );
    }
    // A typo in the option name must not silently plug the PF.
    let e =
        options::parse([(OPT_PF_MAC, PF_MAC), ("vif-plug:representor:vf_num", "1")]).unwrap_err();
    assert!(matches!(e, OptionError::UnknownOption { .. }), "{e:?}");
    assert_found(&t, &req_vf(PF_MAC, 1), "pf0vf1");
    assert_check(&t);
}

/// Flavours other than physical/pcipf/pcivf/pcisf are stored (for dumps)
/// but never found by a request, and do not count as PCI_PF ports.
#[test]
fn other_flavours_are_never_plugged() {
    const UPLINK: &str = "00:53:00:00:6a:00";
    let mut t = Table::new(LinkPolicy::TrustDevlink);
    t.upsert_link(link(10, "p0", UPLINK, true));
    t.upsert_port(physical(D0, 0, 0, 10, "p0"));
    let mut virt = vf(D0, 1, 0, 0, 0, 11, "virt0").fn_mac(PF_MAC);
    virt.flavour = Flavour::Other(5);
    t.upsert_port(virt.clone());
    let mut cpu = pf(D0, 2, 0, 0, PF_MAC, 12, "cpu0");
    cpu.flavour = Flavour::Other(1);
    t.upsert_port(cpu);
    assert_eq!(t.len(), 3);
    assert!(t.entry_by_id(&virt.id).is_some());
    assert_eq!(t.entry_by_ifindex(11).unwrap().port.id, virt.id);
    // Not a PF, not a VF of the uplink-derived PF.
    assert!(matches!(
        assert_refused(&t, &req_pf(PF_MAC)),
        Refusal::NoPf { .. }
    ));
    assert!(matches!(
        assert_refused(&t, &req_vf(UPLINK, 0)),
        Refusal::NoFunction { .. }
    ));
    assert_eq!(t.pf_macs().len(), 1, "only the uplink fallback");
    assert_check(&t);
}

// ---------------------------------------------------------------------------
// The hit path's inline index (Table::hit / lookup::hit)
// ---------------------------------------------------------------------------

/// `hit` names what `lookup` plugs, or nothing (then `lookup` decides).
#[track_caller]
fn assert_hit(t: &Table, r: &ovn_vif_rs::options::Request, want: Option<&str>) {
    let got = ovn_vif_rs::lookup::hit(t, r).map(|(_, n)| n.to_text());
    assert_eq!(got.as_deref(), want, "{r}: hit");
    if let Some(w) = want {
        assert_found(t, r, w);
    }
}

/// Dense, huge and hostile function numbers, renames, unsettled names,
/// names too long to be inline, removal: the hit index follows, and its
/// memory stays proportional to the ports stored.
#[test]
fn hit_index_follows_the_table() {
    let mut t = init_store(true);
    assert_hit(&t, &req_pf(PF_MAC), Some("p0hpf"));

    // VF 3 (dense), VF 65535 and SF 4294967295 (sparse).
    t.upsert_link(link(1003, "pf0vf3", "", true));
    t.upsert_link(link(1004, "pf0vfmax", "", true));
    t.upsert_link(link(1005, "pf0sfmax", "", true));
    t.upsert_port(vf(D0, 3, 0, 0, 3, 1003, "eth3"));
    t.upsert_port(vf(D0, 4, 0, 0, u16::MAX, 1004, "eth4"));
    t.upsert_port(sf(D0, 5, 0, 0, u32::MAX, 1005, "eth5"));
    assert_hit(&t, &req_vf(PF_MAC, 3), Some("pf0vf3"));
    assert_hit(&t, &req_vf(PF_MAC, u16::MAX), Some("pf0vfmax"));
    assert_hit(&t, &req_sf(PF_MAC, u32::MAX), Some("pf0sfmax"));
    assert_hit(&t, &req_vf(PF_MAC, 2), None);
    assert_eq!(
        t.hit_index_footprint(),
        (1, 2),
        "one chunk, two sparse names"
    );
    assert_check(&t);

    // A rename is seen by the next hit; an unsettled name is not served.
    t.upsert_link(link(1003, "vm-3", "", true));
    assert_hit(&t, &req_vf(PF_MAC, 3), Some("vm-3"));
    t.upsert_link(link(1003, "vm-3b", "", false));
    assert_hit(&t, &req_vf(PF_MAC, 3), None);
    assert!(matches!(
        assert_refused(&t, &req_vf(PF_MAC, 3)),
        Refusal::NotSettled { .. }
    ));
    // A name longer than IFNAMSIZ allows (a snapshot could say so) is
    // served by the full lookup only.
    t.upsert_link(link(1003, "a-very-long-name-0", "", true));
    assert_hit(&t, &req_vf(PF_MAC, 3), None);
    assert_found(&t, &req_vf(PF_MAC, 3), "a-very-long-name-0");
    t.upsert_link(link(1003, "pf0vf3", "", true));
    assert_hit(&t, &req_vf(PF_MAC, 3), Some("pf0vf3"));
    assert_check(&t);

    // Duplicates: the smallest port id wins in the hit index too.
    t.upsert_link(link(1006, "dup", "", true));
    t.upsert_port(vf(D0, 2, 0, 0, 3, 1006, "eth6"));
    assert_hit(&t, &req_vf(PF_MAC, 3), Some("dup"));
    t.remove_port(&pid(D0, 2));
    assert_hit(&t, &req_vf(PF_MAC, 3), Some("pf0vf3"));
    assert_check(&t);

    // Hostile numbers: 4,096 VFs spread one per chunk cost one chunk each
    // (bounded), and removing them frees every chunk.
    for i in 0..64u32 {
        t.upsert_link(link(2000 + i, &format!("h{i}"), "", true));
        t.upsert_port(vf(D0, 100 + i, 0, 0, (i * 64) as u16, 2000 + i, ""));
    }
    assert_hit(&t, &req_vf(PF_MAC, 63 * 64), Some("h63"));
    assert_eq!(t.hit_index_footprint(), (64, 2));
    assert_check(&t);
    for i in 0..64u32 {
        t.remove_port(&pid(D0, 100 + i));
    }
    for id in [3, 4, 5] {
        t.remove_port(&pid(D0, id));
    }
    assert_eq!(t.hit_index_footprint(), (0, 0));
    assert_hit(&t, &req_vf(PF_MAC, 3), None);
    assert_check(&t);
}
