//! The C boundary, and only it: what ovn-controller calls and what the
//! library calls back in its host.  With [`crate::os`], the only modules
//! allowed `unsafe`; nothing else in the crate imports this one
//! (CONTRIBUTING.md, "Layers").
//!
//! - [`vtable`]: the exported `vif_plug_provider_classes` and its entry
//!   points, on the provider of [`crate::state`].
//! - [`types`]: `#[repr(C)]` mirrors of OVN's and OVS's structs.
//! - [`smap`]: read-only walking of OVS smaps by layout.
//! - [`panic`](mod@panic): the boundary every entry point and callback
//!   runs through.
//! - [`sys`]: the `malloc`ed strings handed to OVN.
//! - [`host`]: what `init` sets up in the host: the log sink ([`vlog`])
//!   and the appctl commands ([`unixctl`]).
//! - [`vlog`], [`unixctl`], [`poll`]: living inside an OVS host through
//!   the weak references of `shim.c` (docs/hosting.md), whose functions
//!   `shim` declares for the three of them.
//!
//! include/ovn-vif-rs.h is generated from this module alone
//! (tests/header.rs).

pub mod host;
pub mod panic;
pub mod poll;
/// cbindgen:ignore
mod shim;
pub mod smap;
pub mod sys;
pub mod types;
pub mod unixctl;
pub mod vlog;
pub mod vtable;
