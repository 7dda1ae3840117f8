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
//!   back-off, repeated log lines; [`logging`]: where log lines go;
//!   [`report`]: the text of its reports, for ovn-appctl and the CLI
//!   (cli/).
//! - [`state`]: the one provider a host process has loaded.
//! - [`ffi`]: the C ABI ovn-controller calls, and the host glue (vlog,
//!   unixctl, poll loop).  Nothing else imports it.
//!
//! - `testing` (feature `test-support`, never in the shipped library): the
//!   fake kernel, OVS-layout smaps and other helpers of the tests; it plays
//!   ovn-controller's side of the C ABI.
//!
//! `unsafe` is denied everywhere but in [`ffi`] and [`os`] (and `testing`).

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
pub mod report;
pub mod rtnl;
pub mod smartnic;
pub mod snapshot;
pub mod sources;
pub mod state;
pub mod table;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
