//! ovn-controller's side of the C ABI, built in Rust for programs that call
//! the exported vtable in-process (tests/kernel_vtable.rs, benches/hotpath.rs;
//! included with `#[path]`): smaps in OVS's hmap layout, the ctx structs, and
//! the class.

#![allow(dead_code)]

use std::ffi::CString;

use ovn_vif_rs::ffi::types::{
    hmap, hmap_node, smap, smap_node, vif_plug_class, vif_plug_port_ctx_in, vif_plug_port_ctx_out,
    PLUG_OP_CREATE,
};
use ovn_vif_rs::ffi::vtable::vif_plug_provider_classes;

/// The library's class, as ovn-controller finds it.
pub fn class() -> &'static vif_plug_class {
    // SAFETY: slot 0 of the exported, NULL-terminated array points at the
    // library's immutable static class.
    unsafe { &*vif_plug_provider_classes.0[0] }
}

/// An smap as `smap_clone()` leaves it: an hmap with `mask + 1` buckets of
/// chained `smap_node`s, with everything it points at.
pub struct OwnedSmap {
    pub map: Box<smap>,
    // Boxed: the buckets point into the nodes, which must not move.
    #[allow(clippy::vec_box)]
    _nodes: Vec<Box<smap_node>>,
    _buckets: Vec<*mut hmap_node>,
    _strings: Vec<CString>,
}

pub fn build_smap(pairs: &[(String, String)]) -> OwnedSmap {
    // hmap_reserve(n) for a handful of entries: mask 3 for up to 8.
    let mask = pairs.len().next_power_of_two().max(4) / 2 - 1;
    let mut strings = Vec::new();
    let mut nodes: Vec<Box<smap_node>> = Vec::new();
    let mut buckets: Vec<*mut hmap_node> = vec![std::ptr::null_mut(); mask + 1];
    for (i, (k, v)) in pairs.iter().enumerate() {
        let k = CString::new(k.as_str()).unwrap();
        let v = CString::new(v.as_str()).unwrap();
        let hash = i.wrapping_mul(0x9e37_79b9);
        let b = hash & mask;
        let mut node = Box::new(smap_node {
            node: hmap_node {
                hash,
                next: buckets[b],
            },
            key: k.as_ptr() as *mut _,
            value: v.as_ptr() as *mut _,
        });
        buckets[b] = &mut node.node as *mut hmap_node;
        strings.push(k);
        strings.push(v);
        nodes.push(node);
    }
    let map = Box::new(smap {
        map: hmap {
            buckets: buckets.as_mut_ptr(),
            one: std::ptr::null_mut(),
            mask,
            n: pairs.len(),
        },
    });
    OwnedSmap {
        map,
        _nodes: nodes,
        _buckets: buckets,
        _strings: strings,
    }
}

pub fn empty_smap() -> smap {
    smap {
        map: hmap {
            buckets: std::ptr::null_mut(),
            one: std::ptr::null_mut(),
            mask: 0,
            n: 0,
        },
    }
}

/// A CREATE ctx_in for lport `name` with `options`; both must outlive it.
pub fn ctx_in(name: &CString, options: &OwnedSmap) -> vif_plug_port_ctx_in {
    let m = &options.map.map;
    vif_plug_port_ctx_in {
        op_type: PLUG_OP_CREATE,
        ovs_table: std::ptr::null(),
        br_int: std::ptr::null(),
        lport_name: name.as_ptr(),
        lport_options: smap {
            map: hmap {
                buckets: m.buckets,
                one: m.one,
                mask: m.mask,
                n: m.n,
            },
        },
        iface_name: std::ptr::null(),
        iface_type: std::ptr::null(),
        iface_options: empty_smap(),
    }
}

/// A ctx_out as OVN hands it to prepare (`name` NULL, smap initialised).
pub fn new_ctx_out() -> vif_plug_port_ctx_out {
    vif_plug_port_ctx_out {
        name: std::ptr::null_mut(),
        type_: std::ptr::null_mut(),
        iface_options: empty_smap(),
    }
}
