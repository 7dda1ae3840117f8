//! `#[repr(C)]` mirrors of the OVS and OVN types that cross the boundary.
//!
//! They must match OVN's `lib/vif-plug-provider.h` and OVS's `lib/hmap.h`,
//! `lib/smap.h`, `lib/sset.h` byte for byte.  `tests/abi_layout.rs` checks
//! sizes and offsets against the numbers below; with `--features abi-check`
//! and `OVN_SRC`/`OVS_SRC` set, build.rs runs bindgen on the real headers and
//! the same test compares every field offset with bindgen's.
//!
//! Names follow C (`vif_plug_class`, not `VifPlugClass`) so the cbindgen
//! header and a reader of OVN's source see the same words.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint, c_void};

/// `struct hmap_node` (OVS lib/hmap.h).
#[repr(C)]
pub struct hmap_node {
    pub hash: usize,
    pub next: *mut hmap_node,
}

/// `struct hmap` (OVS lib/hmap.h).  `buckets` points at `one` when mask is 0.
#[repr(C)]
pub struct hmap {
    pub buckets: *mut *mut hmap_node,
    pub one: *mut hmap_node,
    pub mask: usize,
    pub n: usize,
}

/// `struct smap` (OVS lib/smap.h): an hmap of `smap_node`.
#[repr(C)]
pub struct smap {
    pub map: hmap,
}

/// `struct smap_node` (OVS lib/smap.h).  `node` is the first member, so a
/// `*mut hmap_node` from the map is also a `*mut smap_node`.
#[repr(C)]
pub struct smap_node {
    pub node: hmap_node,
    pub key: *mut c_char,
    pub value: *mut c_char,
}

/// `struct sset` (OVS lib/sset.h).  Only ever returned as NULL by us.
#[repr(C)]
pub struct sset {
    pub map: hmap,
}

/// `enum vif_plug_op_type`.  Kept as a plain integer: a Rust enum read from
/// C with an unexpected value would be undefined behaviour.
pub type vif_plug_op_type = c_uint;
pub const PLUG_OP_CREATE: vif_plug_op_type = 1;
pub const PLUG_OP_REMOVE: vif_plug_op_type = 2;

/// `struct vif_plug_port_ctx_in` (OVN lib/vif-plug-provider.h).
#[repr(C)]
pub struct vif_plug_port_ctx_in {
    pub op_type: vif_plug_op_type,
    /// `const struct ovsrec_open_vswitch_table *`: opaque to us.
    pub ovs_table: *const c_void,
    /// `const struct ovsrec_bridge *`: opaque to us.
    pub br_int: *const c_void,
    pub lport_name: *const c_char,
    pub lport_options: smap,
    pub iface_name: *const c_char,
    pub iface_type: *const c_char,
    pub iface_options: smap,
}

/// `struct vif_plug_port_ctx_out` (OVN lib/vif-plug-provider.h).  OVN
/// `smap_init`s `iface_options` before prepare; `name` and `type` start NULL.
#[repr(C)]
pub struct vif_plug_port_ctx_out {
    pub name: *mut c_char,
    pub type_: *mut c_char,
    pub iface_options: smap,
}

pub type init_fn = unsafe extern "C" fn() -> c_int;
pub type destroy_fn = unsafe extern "C" fn() -> c_int;
pub type run_fn = unsafe extern "C" fn(*mut vif_plug_class) -> bool;
pub type maintained_fn = unsafe extern "C" fn() -> *const sset;
pub type prepare_fn =
    unsafe extern "C" fn(*const vif_plug_port_ctx_in, *mut vif_plug_port_ctx_out) -> bool;
pub type finish_fn = unsafe extern "C" fn(*const vif_plug_port_ctx_in, *mut vif_plug_port_ctx_out);
pub type ctx_destroy_fn =
    unsafe extern "C" fn(*const vif_plug_port_ctx_in, *mut vif_plug_port_ctx_out);

/// `struct vif_plug_class` (OVN lib/vif-plug-provider.h).
#[repr(C)]
pub struct vif_plug_class {
    pub type_: *const c_char,
    pub init: Option<init_fn>,
    pub destroy: Option<destroy_fn>,
    pub run: Option<run_fn>,
    pub vif_plug_get_maintained_iface_options: Option<maintained_fn>,
    pub vif_plug_port_prepare: Option<prepare_fn>,
    pub vif_plug_port_finish: Option<finish_fn>,
    pub vif_plug_port_ctx_destroy: Option<ctx_destroy_fn>,
}

// SAFETY: a class is immutable after construction (OVN copies it with
// memcpy at registration) and only holds a pointer to a static string and
// function pointers, all valid for the program's life and safe to share.
unsafe impl Sync for vif_plug_class {}

/// Sizes and offsets on LP64 (x86_64, aarch64), as OVN's headers lay them
/// out; asserted by tests.
pub mod layout {
    pub const HMAP: usize = 32;
    pub const SMAP: usize = 32;
    pub const SMAP_NODE: usize = 32;
    pub const CTX_IN: usize = 112;
    pub const CTX_IN_LPORT_OPTIONS: usize = 32;
    pub const CTX_IN_IFACE_OPTIONS: usize = 80;
    pub const CTX_OUT: usize = 48;
    pub const CLASS: usize = 64;
}
