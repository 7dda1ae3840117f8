//! ovn-controller's side of the C ABI, built in Rust for tests and
//! benchmarks that call the exported vtable in-process: smaps in OVS's
//! hmap layout (what `smap_add`/`smap_clone` produce, so the walker is
//! tested without libopenvswitch), the ctx structs, the class, and one
//! CREATE/REMOVE `prepare` as OVN calls it.

use std::ffi::{CStr, CString};

use crate::ffi::types::{
    hmap, hmap_node, smap, smap_node, vif_plug_class, vif_plug_port_ctx_in, vif_plug_port_ctx_out,
    PLUG_OP_CREATE, PLUG_OP_REMOVE,
};
use crate::ffi::vtable::vif_plug_provider_classes;

/// The library's class, as ovn-controller finds it.
pub fn class() -> &'static vif_plug_class {
    // SAFETY: slot 0 of the exported, NULL-terminated array points at the
    // library's immutable static class.
    unsafe { &*vif_plug_provider_classes.0[0] }
}

/// An smap with everything it points at: an hmap with `mask + 1` buckets
/// of chained `smap_node`s.
pub struct OwnedSmap {
    pub map: Box<smap>,
    // Boxed: the buckets point into the nodes, which must not move.
    #[allow(clippy::vec_box)]
    _nodes: Vec<Box<smap_node>>,
    _buckets: Vec<*mut hmap_node>,
    _strings: Vec<CString>,
}

/// An smap of `pairs` with `mask + 1` buckets (any layout: `mask` 0 chains
/// every node in one bucket).  A key or value with a NUL panics.
pub fn build<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)], mask: usize) -> OwnedSmap {
    let mut strings = Vec::new();
    let mut nodes: Vec<Box<smap_node>> = Vec::new();
    let mut buckets: Vec<*mut hmap_node> = vec![std::ptr::null_mut(); mask + 1];
    for (i, (k, v)) in pairs.iter().enumerate() {
        let k = CString::new(k.as_ref()).expect("smap key without NUL");
        let v = CString::new(v.as_ref()).expect("smap value without NUL");
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

/// An smap as `smap_clone()` leaves it: `hmap_reserve(n)`'s bucket count
/// for a handful of entries (mask 3 for up to 8).
pub fn build_smap<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> OwnedSmap {
    let mask = pairs.len().next_power_of_two().max(4) / 2 - 1;
    build(pairs, mask)
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
pub fn ctx_in(name: &CStr, options: &OwnedSmap) -> vif_plug_port_ctx_in {
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

/// One CREATE `prepare` for `lport` with `options`, as build_port_ctx() +
/// consider_plug_lport__ do it: on true the name is copied and
/// `ctx_destroy` frees it, as OVN does.
pub fn create<K: AsRef<str>, V: AsRef<str>>(lport: &str, options: &[(K, V)]) -> Option<String> {
    let opts = build_smap(options);
    let lport = CString::new(lport).expect("lport name without NUL");
    let input = ctx_in(&lport, &opts);
    let mut out = new_ctx_out();
    let prepare = class().vif_plug_port_prepare.expect("prepare");
    // SAFETY: `input` points at a string and an smap owned by `lport` and
    // `opts`, alive for the call; `out` is an initialised ctx_out.
    if !unsafe { prepare(&input, &mut out) } {
        return None;
    }
    assert!(!out.name.is_null(), "prepare returned true without a name");
    // SAFETY: on true, `name` is a NUL-terminated string the provider owns
    // until ctx_destroy.
    let name = unsafe { CStr::from_ptr(out.name) }
        .to_string_lossy()
        .into_owned();
    let destroy = class().vif_plug_port_ctx_destroy.expect("ctx_destroy");
    // SAFETY: the ctx prepare filled; frees the name.
    unsafe { destroy(&input, &mut out) };
    Some(name)
}

/// One REMOVE `prepare` for `lport` (consider_unplug_iface: ctx_out NULL);
/// whether the unplug is allowed.
pub fn remove(lport: &str) -> bool {
    remove_iface(lport, None)
}

/// One REMOVE `prepare` for `lport` naming its Interface `iface` in
/// `ctx_in->iface_name` (as consider_unplug_iface and ovn-patch 0005's
/// replug pass it); whether the unplug is allowed.
pub fn remove_iface(lport: &str, iface: Option<&str>) -> bool {
    let opts = build(&[] as &[(&str, &str)], 0);
    let lport = CString::new(lport).expect("lport name without NUL");
    let iface = iface.map(|i| CString::new(i).expect("iface name without NUL"));
    let mut input = ctx_in(&lport, &opts);
    input.op_type = PLUG_OP_REMOVE;
    if let Some(i) = &iface {
        input.iface_name = i.as_ptr();
    }
    let prepare = class().vif_plug_port_prepare.expect("prepare");
    // SAFETY: `input` and the strings and smap it points at are valid for
    // the call; OVN passes a NULL ctx_out for REMOVE.
    unsafe { prepare(&input, std::ptr::null_mut()) }
}
