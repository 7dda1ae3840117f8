//! The compact form a port is stored in (module docs of `table`, "Memory").

use super::*;

/// One port as the table stores it (module docs, "Memory"): the devlink
/// port with its device interned and devlink's netdev name inline.  The
/// name the table shows is not stored: it is the link's (`links`) when
/// rtnetlink reported one, else this one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Stored {
    pub(super) dev: DevIdx,
    pub(super) index: u32,
    pub(super) flavour: Flavour,
    pub(super) controller: u32,
    pub(super) number: Option<u32>,
    pub(super) sfnum: Option<u32>,
    /// The netdev's ifindex: `Some` exactly when devlink reported a netdev.
    pub(super) ifindex: Option<u32>,
    pub(super) pfnum: Option<u16>,
    pub(super) vfnum: Option<u16>,
    pub(super) external: bool,
    /// devlink's netdev name does not fit [`NetdevName`] (longer than a
    /// kernel allows, or with a NUL: only a snapshot can say that); it is
    /// in `Table::long_names` under the port's slot, and `name` is empty.
    pub(super) long_name: bool,
    pub(super) function: Option<PortFunction>,
    /// devlink's netdev name (empty without a netdev).
    pub(super) name: NetdevName,
}

impl Stored {
    /// The compact form of `port` on device `dev`, and its netdev name when
    /// that does not fit inline.
    pub(super) fn pack(dev: DevIdx, port: &DevlinkPort) -> (Stored, Option<Box<str>>) {
        let (name, long) = match &port.netdev {
            None => (NetdevName::EMPTY, None),
            Some(nd) => match NetdevName::new(&nd.name) {
                Some(n) => (n, None),
                None => (NetdevName::EMPTY, Some(Box::from(nd.name.as_str()))),
            },
        };
        let s = Stored {
            dev,
            index: port.id.index,
            flavour: port.flavour,
            controller: port.controller,
            number: port.number,
            sfnum: port.sfnum,
            ifindex: port.netdev.as_ref().map(|n| n.ifindex),
            pfnum: port.pfnum,
            vfnum: port.vfnum,
            external: port.external,
            long_name: long.is_some(),
            function: port.function.clone(),
            name,
        };
        (s, long)
    }

    pub(super) fn pf_number(&self) -> Option<u16> {
        crate::port::pf_number(self.flavour, self.pfnum, self.number)
    }

    pub(super) fn function_mac(&self) -> Option<Mac> {
        crate::port::usable_function_mac(self.function.as_ref())
    }
}
