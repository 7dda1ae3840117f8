//! Build script (the C header is not made here: tests/header.rs generates
//! it from src/ffi/ and compares it with include/ovn-vif-rs.h):
//! 1. The cdylib gets a SONAME (cargo sets none), so executables record
//!    `libovn_vif_rs.so.0`, not a build path.
//! 2. `src/ffi/shim.c` (weak references to the few OVS functions used when
//!    hosted by ovn-controller: vlog, unixctl, poll loop; docs/hosting.md)
//!    is compiled with the `cc` crate and linked whole into the library.
//! 3. With `--features abi-check` and `OVN_SRC`/`OVS_SRC` naming source
//!    trees, bindgen reads OVN's real `lib/vif-plug-provider.h` and writes
//!    `$OUT_DIR/ovn_bindings.rs` for `tests/abi_layout.rs`.

use std::env;
#[cfg(feature = "abi-check")]
use std::path::PathBuf;

fn main() {
    // The C shim (docs/hosting.md).  +whole-archive keeps its load-time
    // constructor (vlog module registration) even if nothing else in its
    // object were referenced.
    println!("cargo:rerun-if-changed=src/ffi/shim.c");
    cc::Build::new()
        .file("src/ffi/shim.c")
        .flag_if_supported("-std=gnu11")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .link_lib_modifier("+whole-archive")
        .compile("ovn_vif_rs_shim");

    // SONAME for the shared library (only affects the cdylib link).
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        // cargo-c (feature "capi") passes the same -soname itself, from
        // Cargo.toml's [package.metadata.capi.library].
        if env::var_os("CARGO_FEATURE_CAPI").is_none() {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libovn_vif_rs.so.0");
        }
        // Exports: rustc's own version script for a cdylib already limits
        // the dynamic symbols to the `#[no_mangle] pub` items (the three of
        // src/ffi/vtable.rs); a second script of ours would be ignored.
        // scripts/test-stages/packaging.sh and harness.sh check `nm -D`.
        // Never unloaded: when hosted, OVS keeps pointers into the library
        // (the vlog module in its module list, unixctl callbacks), so a
        // dlclose() must not unmap it.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }

    #[cfg(feature = "abi-check")]
    abi_check(&PathBuf::from(
        env::var("OUT_DIR").expect("cargo sets OUT_DIR"),
    ));
}

#[cfg(feature = "abi-check")]
fn abi_check(out_dir: &std::path::Path) {
    println!("cargo:rerun-if-env-changed=OVN_SRC");
    println!("cargo:rerun-if-env-changed=OVS_SRC");
    let (Some(ovn), Some(ovs)) = (env::var_os("OVN_SRC"), env::var_os("OVS_SRC")) else {
        panic!("--features abi-check needs OVN_SRC and OVS_SRC (source trees of OVN and its OVS)");
    };
    let ovn = PathBuf::from(ovn);
    let ovs = PathBuf::from(ovs);
    let bindings = bindgen::Builder::default()
        .header(ovn.join("lib/vif-plug-provider.h").display().to_string())
        .clang_arg(format!("-I{}", ovs.join("include").display()))
        .clang_arg(format!("-I{}", ovs.join("lib").display()))
        .clang_arg(format!("-I{}", ovs.display()))
        .clang_arg(format!("-I{}", ovn.join("lib").display()))
        .allowlist_type("vif_plug_class|vif_plug_port_ctx_in|vif_plug_port_ctx_out|smap|smap_node|sset|hmap|hmap_node")
        .derive_debug(false)
        .layout_tests(false)
        .generate()
        .expect("bindgen can read OVN's lib/vif-plug-provider.h");
    bindings
        .write_to_file(out_dir.join("ovn_bindings.rs"))
        .expect("OUT_DIR is writable");
}
