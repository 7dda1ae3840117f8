//! The hand-written `#[repr(C)]` types match OVN's/OVS's C layout.
//!
//! Always: sizes and offsets against the figures of OVN's headers on LP64
//! (checked by hand with `offsetof` on x86_64).  With
//! `cargo test --features abi-check` and `OVN_SRC`/`OVS_SRC` set, also
//! against bindgen's reading of the real headers, field by field.

use std::mem::{align_of, offset_of, size_of};

use ovn_vif_rs::ffi::types::*;

#[test]
fn sizes_and_offsets_match_ovn_on_lp64() {
    assert_eq!(size_of::<hmap_node>(), 16);
    assert_eq!(size_of::<hmap>(), layout::HMAP);
    assert_eq!(size_of::<smap>(), layout::SMAP);
    assert_eq!(size_of::<smap_node>(), layout::SMAP_NODE);
    assert_eq!(offset_of!(smap_node, key), 16);
    assert_eq!(offset_of!(smap_node, value), 24);
    assert_eq!(size_of::<vif_plug_port_ctx_in>(), layout::CTX_IN);
    assert_eq!(offset_of!(vif_plug_port_ctx_in, op_type), 0);
    assert_eq!(offset_of!(vif_plug_port_ctx_in, ovs_table), 8);
    assert_eq!(offset_of!(vif_plug_port_ctx_in, br_int), 16);
    assert_eq!(offset_of!(vif_plug_port_ctx_in, lport_name), 24);
    assert_eq!(
        offset_of!(vif_plug_port_ctx_in, lport_options),
        layout::CTX_IN_LPORT_OPTIONS
    );
    assert_eq!(offset_of!(vif_plug_port_ctx_in, iface_name), 64);
    assert_eq!(offset_of!(vif_plug_port_ctx_in, iface_type), 72);
    assert_eq!(
        offset_of!(vif_plug_port_ctx_in, iface_options),
        layout::CTX_IN_IFACE_OPTIONS
    );
    assert_eq!(size_of::<vif_plug_port_ctx_out>(), layout::CTX_OUT);
    assert_eq!(offset_of!(vif_plug_port_ctx_out, name), 0);
    assert_eq!(offset_of!(vif_plug_port_ctx_out, type_), 8);
    assert_eq!(offset_of!(vif_plug_port_ctx_out, iface_options), 16);
    assert_eq!(size_of::<vif_plug_class>(), layout::CLASS);
    assert_eq!(offset_of!(vif_plug_class, init), 8);
    assert_eq!(offset_of!(vif_plug_class, destroy), 16);
    assert_eq!(offset_of!(vif_plug_class, run), 24);
    assert_eq!(
        offset_of!(vif_plug_class, vif_plug_get_maintained_iface_options),
        32
    );
    assert_eq!(offset_of!(vif_plug_class, vif_plug_port_prepare), 40);
    assert_eq!(offset_of!(vif_plug_class, vif_plug_port_finish), 48);
    assert_eq!(offset_of!(vif_plug_class, vif_plug_port_ctx_destroy), 56);
    assert_eq!(align_of::<vif_plug_class>(), 8);
    assert_eq!(size_of::<vif_plug_op_type>(), 4, "a C enum is an int");
}

#[cfg(feature = "abi-check")]
#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code
)]
mod real {
    include!(concat!(env!("OUT_DIR"), "/ovn_bindings.rs"));
}

/// Field-by-field comparison with bindgen's reading of OVN's header.
#[cfg(feature = "abi-check")]
#[test]
fn matches_bindgen_of_the_real_headers() {
    macro_rules! same {
        ($ours:ty, $theirs:ty; $($f:ident $(= $g:ident)?),*) => {{
            assert_eq!(size_of::<$ours>(), size_of::<$theirs>(), stringify!($ours));
            assert_eq!(align_of::<$ours>(), align_of::<$theirs>(), stringify!($ours));
            $( same!(@f $ours, $theirs, $f $(, $g)?); )*
        }};
        (@f $ours:ty, $theirs:ty, $f:ident) => {
            assert_eq!(offset_of!($ours, $f), offset_of!($theirs, $f), concat!(stringify!($ours), ".", stringify!($f)));
        };
        (@f $ours:ty, $theirs:ty, $f:ident, $g:ident) => {
            assert_eq!(offset_of!($ours, $f), offset_of!($theirs, $g), concat!(stringify!($ours), ".", stringify!($f)));
        };
    }
    same!(hmap_node, real::hmap_node; hash, next);
    same!(hmap, real::hmap; buckets, one, mask, n);
    same!(smap, real::smap; map);
    same!(smap_node, real::smap_node; node, key, value);
    same!(vif_plug_port_ctx_in, real::vif_plug_port_ctx_in;
          op_type, ovs_table, br_int, lport_name, lport_options, iface_name, iface_type, iface_options);
    same!(vif_plug_port_ctx_out, real::vif_plug_port_ctx_out; name, type_ = type_, iface_options);
    same!(vif_plug_class, real::vif_plug_class;
          type_ = type_, init, destroy, run, vif_plug_get_maintained_iface_options,
          vif_plug_port_prepare, vif_plug_port_finish, vif_plug_port_ctx_destroy);
}
