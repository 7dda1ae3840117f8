//! ovn-vif-rs: the OVN VIF plug provider for SmartNIC/DPU representor ports.
//!
//! Layout (see README.md, "Architecture"):
//! - [`port`], [`table`], [`lookup`], [`options`], [`snapshot`]: pure logic,
//!   no I/O.
//! - [`provider`]: the provider's state and freshness rules (safe Rust);
//!   [`outage`]: when its table cannot be trusted, and the retry back-off.
//! - `devlink`, `rtnl`, [`sources`]: where the table comes from.
//! - [`ffi`]: the C ABI ovn-controller calls; with [`os`] (one libc call
//!   behind a safe function), the only `unsafe` in the crate.

#![deny(unsafe_code)]

pub mod claims;
pub mod devlink;
pub mod fasthash;
#[allow(unsafe_code)]
pub mod ffi;
pub mod kernel;
pub mod logging;
pub mod lookup;
pub mod netlink;
pub mod options;
#[allow(unsafe_code)]
pub mod os;
pub mod outage;
pub mod port;
pub mod provider;
pub mod ratelimit;
pub mod rtnl;
pub mod smartnic;
pub mod snapshot;
pub mod sources;
pub mod table;
