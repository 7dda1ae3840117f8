//! ovn-vif-rs: the OVN VIF plug provider for SmartNIC/DPU representor ports.
//!
//! Layout (see README.md, "Architecture"):
//! - [`port`], [`table`], [`lookup`], [`options`]: pure logic, no I/O.
//! - `devlink`, `rtnl`: safe netlink protocol code (dump, monitor, parse).
//! - `ffi`: the C ABI ovn-controller calls; the only `unsafe` in the crate.

pub mod port;
