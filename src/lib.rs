//! ovn-vif-rs: the OVN VIF plug provider for SmartNIC/DPU representor ports.
//!
//! Layout, from the bottom up (README.md, "Architecture"; the import rules
//! are in CONTRIBUTING.md, "Layers"):
//! - [`port`], [`table`], [`lookup`], [`options`], [`snapshot`],
//!   [`claims`], [`fasthash`]: pure logic, no I/O.
//! - [`os`]: the few OS calls (inotify, coarse clock, poll, ifindex)
//!   behind safe functions, on rustix.
//! - `devlink`, `rtnl`, [`kernel`], [`smartnic`], [`sources`]: where the
//!   table comes from (netlink, udev, a snapshot file).
//! - [`provider`]: the provider's state and freshness rules (safe Rust);
//!   [`outage`], [`ratelimit`]: when its table cannot be trusted, the retry
//!   back-off, repeated log lines; [`logging`]: where log lines go.
//! - [`state`]: the one provider a host process has loaded.
//! - [`ffi`]: the C ABI ovn-controller calls, and the host glue (vlog,
//!   unixctl, poll loop).  Nothing else imports it.
//!
//! `unsafe` is denied everywhere but in [`ffi`] and [`os`].

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
pub mod state;
pub mod table;
