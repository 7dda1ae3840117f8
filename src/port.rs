//! The data model shared by the netlink layer (producer), the table (index) and
//! the lookup (consumer): what one devlink port and one netdev look like once
//! parsed.  Pure data, no I/O.

use std::fmt;
use std::sync::Arc;

/// An Ethernet address.  `Mac::ZERO` is "not set" everywhere in devlink.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const ZERO: Mac = Mac([0; 6]);

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// Group bit set (includes broadcast).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// Usable as a lookup key: a unicast, non-zero address.
    pub fn is_usable(&self) -> bool {
        !self.is_zero() && !self.is_multicast()
    }

    /// From a netlink attribute payload; anything but 6 bytes is not an
    /// Ethernet address (devlink reports hw_addr with its real length).
    pub fn from_slice(b: &[u8]) -> Option<Mac> {
        <[u8; 6]>::try_from(b).ok().map(Mac)
    }

    /// Packs the address into a u64, the cheap hash key of the PF index.
    pub fn as_u64(&self) -> u64 {
        let b = self.0;
        u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why text is not a MAC address (see [`Mac`]'s `FromStr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacParseError(&'static str);

impl MacParseError {
    /// The reason, e.g. "not a hex digit".
    pub fn why(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for MacParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for MacParseError {}

/// Parses `aa:bb:cc:dd:ee:ff`: exactly six two-digit hex octets separated
/// by `:`, any case; any address, zero and multicast included (what may be
/// used where is the caller's policy, e.g. [`crate::options::parse_mac`]).
impl std::str::FromStr for Mac {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<Mac, MacParseError> {
        let b = s.as_bytes();
        if b.len() != 17 {
            return Err(MacParseError(
                "expected six hex octets like 00:53:00:00:10:00",
            ));
        }
        let mut out = [0u8; 6];
        for (i, o) in out.iter_mut().enumerate() {
            let at = i * 3;
            if i > 0 && b[at - 1] != b':' {
                return Err(MacParseError("octets must be separated by ':'"));
            }
            let digit = |c| hex_digit(c).ok_or(MacParseError("not a hex digit"));
            *o = digit(b[at])? << 4 | digit(b[at + 1])?;
        }
        Ok(Mac(out))
    }
}

/// One hex digit's value, any case.
pub(crate) const fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// devlink port flavour (`enum devlink_port_flavour` in the kernel's uapi).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// The uplink (`physical`), e.g. `p0`.
    Physical,
    /// A PCI physical function representor (`pcipf`), e.g. `pf0hpf`/`c1pf0`.
    PciPf,
    /// A PCI virtual function representor (`pcivf`), e.g. `pf0vf3`/`c1pf0vf3`.
    PciVf,
    /// A PCI sub-function representor (`pcisf`), e.g. `pf0sf8`/`c1pf0sf8`.
    PciSf,
    /// Any other flavour (cpu, dsa, virtual, unused, ...): kept for the dump,
    /// never plugged.  Carries the kernel's number.
    Other(u16),
}

impl Flavour {
    /// Kernel numbers from include/uapi/linux/devlink.h.
    pub const KERNEL_PHYSICAL: u16 = 0;
    pub const KERNEL_PCI_PF: u16 = 3;
    pub const KERNEL_PCI_VF: u16 = 4;
    pub const KERNEL_PCI_SF: u16 = 7;

    pub fn from_kernel(v: u16) -> Flavour {
        match v {
            Self::KERNEL_PHYSICAL => Flavour::Physical,
            Self::KERNEL_PCI_PF => Flavour::PciPf,
            Self::KERNEL_PCI_VF => Flavour::PciVf,
            Self::KERNEL_PCI_SF => Flavour::PciSf,
            other => Flavour::Other(other),
        }
    }

    pub fn to_kernel(self) -> u16 {
        match self {
            Flavour::Physical => Self::KERNEL_PHYSICAL,
            Flavour::PciPf => Self::KERNEL_PCI_PF,
            Flavour::PciVf => Self::KERNEL_PCI_VF,
            Flavour::PciSf => Self::KERNEL_PCI_SF,
            Flavour::Other(v) => v,
        }
    }

    /// iproute2's spelling, used in dumps and logs.
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Physical => "physical",
            Flavour::PciPf => "pcipf",
            Flavour::PciVf => "pcivf",
            Flavour::PciSf => "pcisf",
            Flavour::Other(1) => "cpu",
            Flavour::Other(2) => "dsa",
            Flavour::Other(5) => "virtual",
            Flavour::Other(6) => "unused",
            Flavour::Other(_) => "other",
        }
    }
}

/// A devlink instance handle, e.g. `pci/0000:03:00.0`.  Shared (`Arc`) so
/// that thousands of ports of one device do not each own a copy.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DevHandle {
    pub bus: Arc<str>,
    pub dev: Arc<str>,
}

impl DevHandle {
    pub fn new(bus: &str, dev: &str) -> DevHandle {
        DevHandle {
            bus: Arc::from(bus),
            dev: Arc::from(dev),
        }
    }
}

impl fmt::Display for DevHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.bus, self.dev)
    }
}

impl fmt::Debug for DevHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The kernel's identity of a devlink port: instance handle + port index.
/// Everything else about a port can change under the same id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId {
    pub handle: DevHandle,
    pub index: u32,
}

impl fmt::Display for PortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.handle, self.index)
    }
}

impl fmt::Debug for PortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The netdev a devlink port is bound to (devlink type `eth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetdevRef {
    pub ifindex: u32,
    /// Name as devlink reported it; the table overrides it with the
    /// rtnetlink name (6.1 sends no devlink event on rename).
    pub name: String,
}

/// The port function (`DEVLINK_ATTR_PORT_FUNCTION`): on a PF/VF/SF
/// representor it describes the function on the *other* side (the host).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortFunction {
    /// `None` when the kernel did not report one; may be zero (unset).
    pub hw_addr: Option<Mac>,
    pub state: Option<u8>,
    pub opstate: Option<u8>,
}

/// One devlink port as parsed from `DEVLINK_CMD_PORT_NEW` / a dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevlinkPort {
    pub id: PortId,
    pub flavour: Flavour,
    /// `DEVLINK_ATTR_PORT_CONTROLLER_NUMBER`; absent means 0 (the local one).
    pub controller: u32,
    /// `DEVLINK_ATTR_PORT_EXTERNAL`; absent (PHYSICAL, SF on 6.1) means false.
    pub external: bool,
    /// `DEVLINK_ATTR_PORT_NUMBER` (PHYSICAL ports).
    pub number: Option<u32>,
    /// `DEVLINK_ATTR_PORT_PCI_PF_NUMBER` (PCI_PF/VF/SF ports).
    pub pfnum: Option<u16>,
    /// `DEVLINK_ATTR_PORT_PCI_VF_NUMBER`.
    pub vfnum: Option<u16>,
    /// `DEVLINK_ATTR_PORT_PCI_SF_NUMBER`.
    pub sfnum: Option<u32>,
    /// `None` while the port has no netdev (type notset/ib, or mid add/remove).
    pub netdev: Option<NetdevRef>,
    pub function: Option<PortFunction>,
}

impl DevlinkPort {
    /// The PF number this port belongs to (see [`pf_number`]).
    pub fn pf_number(&self) -> Option<u16> {
        pf_number(self.flavour, self.pfnum, self.number)
    }

    /// The host function's MAC as reported by the port function, when usable.
    pub fn function_mac(&self) -> Option<Mac> {
        usable_function_mac(self.function.as_ref())
    }

    /// iproute2-style `phys_port_name`, the way mlx5 and our simulator name
    /// representors: `p0`, `c1pf0`, `c1pf0vf3`, `c1pf0sf8` (no `c` prefix on
    /// a non-external controller-0 port, as in `pf0vf3`).
    pub fn phys_port_name(&self) -> String {
        let prefix = if self.external || self.controller != 0 {
            format!("c{}", self.controller)
        } else {
            String::new()
        };
        let pf = self.pfnum.unwrap_or(0);
        match self.flavour {
            Flavour::Physical => format!("p{}", self.number.unwrap_or(0)),
            Flavour::PciPf => format!("{prefix}pf{pf}"),
            Flavour::PciVf => format!("{prefix}pf{pf}vf{}", self.vfnum.unwrap_or(0)),
            Flavour::PciSf => format!("{prefix}pf{pf}sf{}", self.sfnum.unwrap_or(0)),
            Flavour::Other(_) => String::new(),
        }
    }
}

/// A netdev as rtnetlink reports it (RTM_NEWLINK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub ifindex: u32,
    pub name: String,
    /// IFLA_ADDRESS, when it is an Ethernet address.
    pub mac: Option<Mac>,
    /// udev has finished with this netdev (or udev is not running): its name
    /// is final.  See `crate::rtnl::settled` for the rule.
    pub settled: bool,
}

/// The PF number a port of `flavour` belongs to.  PHYSICAL ports carry
/// their PF number as the port number (mlx5: uplink of PF n is port n).
pub fn pf_number(flavour: Flavour, pfnum: Option<u16>, number: Option<u32>) -> Option<u16> {
    match flavour {
        Flavour::Physical => pfnum.or_else(|| number.and_then(|n| u16::try_from(n).ok())),
        Flavour::PciPf | Flavour::PciVf | Flavour::PciSf => pfnum,
        Flavour::Other(_) => None,
    }
}

/// A port function's MAC when it is usable as a key.
pub fn usable_function_mac(function: Option<&PortFunction>) -> Option<Mac> {
    function.and_then(|f| f.hw_addr).filter(Mac::is_usable)
}
