//! Test support, compiled only for this crate's own tests and with the
//! `test-support` feature (the crate's dev-dependency on itself turns it on
//! for tests/, benches/ and fuzz/): nothing here ships in
//! `libovn_vif_rs.so` (debian/rules checks its symbols with `nm`).
//!
//! - [`fake_kernel`]: a fake kernel behind the [`crate::kernel::KernelSource`]
//!   transports.
//! - [`ovs`]: ovn-controller's side of the C ABI (smaps in OVS's layout, the
//!   ctx structs, one `prepare` as OVN calls it).
//! - [`mac`]: MAC addresses from text, any address (zero and multicast too).
//! - [`Rng`]: a seeded PRNG for histories that replay.
//! - [`FakeRoots`]: temporary udev and sysfs roots for a kernel source.
//!
//! The other hooks the feature turns on sit where they act:
//! `sources::test_support` (a source opener override),
//! `ffi::poll::test_support` (the descriptors handed to the poll loop),
//! `os::clock::test_support` (an offset on the provider's clock).

pub mod fake_kernel;
#[allow(unsafe_code)]
pub mod ovs;
pub mod rng;
pub mod roots;

pub use fake_kernel::{
    Channel, FakeKernel, FakeTransport, State, FAKE_CONFIG_GROUP, FAKE_DEVLINK_FAMILY,
};
pub use rng::Rng;
pub use roots::FakeRoots;

use crate::port::{DevHandle, Mac, NetdevRef, PortId};

/// The PCI device the fake-kernel tests put their ports on.
pub const DEV: &str = "0000:03:00.0";

/// Port `index` of `pci/`[`DEV`].
pub fn port_id(index: u32) -> PortId {
    PortId {
        handle: DevHandle::new("pci", DEV),
        index,
    }
}

/// A port's netdev as devlink reports it.
pub fn netdev(ifindex: u32, name: &str) -> Option<NetdevRef> {
    Some(NetdevRef {
        ifindex,
        name: name.into(),
    })
}

/// `aa:bb:cc:dd:ee:ff` as a [`Mac`], any address (zero and multicast too:
/// tests build what the kernel may report); panics on anything else.
pub fn mac(s: &str) -> Mac {
    s.parse()
        .unwrap_or_else(|e| panic!("bad MAC {s:?} in a test: {e}"))
}
