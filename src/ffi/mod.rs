//! The C ABI: the only `unsafe` code in the crate.
//!
//! - [`types`]: `#[repr(C)]` mirrors of OVN's and OVS's structs.
//! - [`smap`]: read-only walking of OVS smaps by layout.
//! - [`panic`]: the boundary every entry point runs through.
//! - [`vtable`]: the exported `vif_plug_provider_classes` and entry points.
//! - [`sys`]: libc helpers (coarse clock, malloc'ed strings).
//! - [`vlog`], [`unixctl`], [`poll`]: living inside an OVS host through
//!   the weak references of `shim.c` (docs/hosting.md).

pub mod panic;
pub mod poll;
pub mod smap;
pub mod sys;
pub mod types;
pub mod unixctl;
pub mod vlog;
pub mod vtable;
