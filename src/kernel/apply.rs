//! Applying kernel events to the [`Table`]: [`Event`] and [`apply`] (pure,
//! no I/O), and the SmartNIC PF MAC fallback ([`refresh_smartnic`]) that a
//! change of a PF-MAC input ([`touches_pf_mac`]) triggers.

use std::collections::BTreeSet;

use crate::devlink::parse::PortEvent;
use crate::port::{DevHandle, DevlinkPort, Flavour, Link, PortId};
use crate::smartnic::SmartNicReader;
use crate::table::Table;

/// A change to apply to the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// devlink PORT_NEW (or a dump entry): the full state of a port.
    PortNew(DevlinkPort),
    /// devlink PORT_DEL.
    PortDel(PortId),
    /// RTM_NEWLINK, with the settled rule already applied.
    LinkNew(Link),
    /// RTM_DELLINK.
    LinkDel(u32),
}

impl From<PortEvent> for Event {
    fn from(e: PortEvent) -> Event {
        match e {
            PortEvent::New(p) => Event::PortNew(p),
            PortEvent::Del(id) => Event::PortDel(id),
        }
    }
}

/// Applies one event; pure (no I/O).  Returns whether the table changed.
pub fn apply(table: &mut Table, event: Event) -> bool {
    match event {
        Event::PortNew(p) => table.upsert_port(p),
        Event::PortDel(id) => table.remove_port(&id),
        Event::LinkNew(l) => table.upsert_link(l),
        Event::LinkDel(i) => table.remove_link(i),
    }
}

/// Does a port event change a PF-MAC input (a PHYSICAL or PCI_PF port)?
pub(super) fn touches_pf_mac(table: &Table, ev: &PortEvent) -> bool {
    let is_pf = |f: Flavour| matches!(f, Flavour::Physical | Flavour::PciPf);
    match ev {
        PortEvent::New(p) => is_pf(p.flavour) || table.flavour_by_id(&p.id).is_some_and(is_pf),
        PortEvent::Del(id) => table.flavour_by_id(id).is_some_and(is_pf),
    }
}

/// Reads `smart_nic/pf/config` for every candidate uplink and feeds the
/// table; clears values fed earlier for pairs that are no longer candidates.
pub fn refresh_smartnic(
    reader: &SmartNicReader,
    table: &mut Table,
    set: &mut BTreeSet<(DevHandle, u16)>,
) -> bool {
    let mut changed = false;
    let mut now_set = BTreeSet::new();
    for (handle, pfnum, netdev) in table.smartnic_candidates() {
        let mac = reader.read_pf_mac(&netdev);
        if let Some(m) = mac {
            log::debug!("{handle} pf{pfnum}: host PF MAC {m} from {netdev}'s smart_nic/pf/config");
            now_set.insert((handle.clone(), pfnum));
        }
        changed |= table.set_smartnic_pf_mac(&handle, pfnum, mac);
    }
    for (handle, pfnum) in set.difference(&now_set) {
        changed |= table.set_smartnic_pf_mac(handle, *pfnum, None);
    }
    *set = now_set;
    changed
}
