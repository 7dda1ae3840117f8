//! The checked-in C header must equal what cbindgen generates from the
//! current sources (build.rs writes the fresh one into OUT_DIR).

#[test]
fn checked_in_header_is_current() {
    let fresh = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/ovn-vif-rs.h"))
        .expect("build.rs generated a header");
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/ovn-vif-rs.h"))
            .expect("include/ovn-vif-rs.h exists");
    assert!(
        fresh == checked_in,
        "include/ovn-vif-rs.h is stale: run `OVN_VIF_RS_UPDATE_HEADER=1 cargo build` and commit it"
    );
    assert!(fresh.contains("extern const struct vif_plug_class *vif_plug_provider_classes[4];"));
}
