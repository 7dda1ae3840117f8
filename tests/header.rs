//! include/ovn-vif-rs.h is what cbindgen generates from `src/ffi/` alone
//! (cbindgen.toml): this test regenerates it and fails on any difference.
//! `scripts/gen-header` (`OVN_VIF_RS_BLESS=1` for this test) writes it.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn checked_in_path() -> PathBuf {
    Path::new(ROOT).join("include/ovn-vif-rs.h")
}

/// The header cbindgen makes of `src/ffi/mod.rs` and the modules it
/// declares (nothing else of the crate is read).
fn generate() -> String {
    let config = cbindgen::Config::from_file(Path::new(ROOT).join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(Path::new(ROOT).join("src/ffi/mod.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen cannot read src/ffi/: {e}"));
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

#[test]
fn checked_in_header_is_current() {
    let fresh = generate();
    if std::env::var_os("OVN_VIF_RS_BLESS").is_some() {
        std::fs::write(checked_in_path(), &fresh).expect("include/ is writable");
        eprintln!("wrote {}", checked_in_path().display());
        return;
    }
    let checked_in = std::fs::read_to_string(checked_in_path()).expect("include/ovn-vif-rs.h");
    if fresh != checked_in {
        let first = fresh
            .lines()
            .zip(checked_in.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(fresh.lines().count().min(checked_in.lines().count()));
        panic!(
            "include/ovn-vif-rs.h is stale (first difference at line {}): run scripts/gen-header \
             and commit it\n--- generated ---\n{fresh}",
            first + 1
        );
    }
}

/// The `#[no_mangle]` items under `dir` (recursively): `(file, name)`.
fn no_mangle_items(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable directory").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            no_mangle_items(&path, out);
            continue;
        }
        if path.extension() != Some(std::ffi::OsStr::new("rs")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable source");
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let t = line.trim();
            let Some(rest) = t
                .strip_prefix("#[no_mangle]")
                .or_else(|| t.strip_prefix("#[unsafe(no_mangle)]"))
            else {
                continue;
            };
            // The item follows the attribute, on its line or the next.
            let item = if rest.trim().is_empty() {
                lines.next().unwrap_or_default()
            } else {
                rest
            };
            let name = item
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .skip_while(|w| !matches!(*w, "fn" | "static"))
                .nth(1)
                .unwrap_or_else(|| panic!("{}: no item after #[no_mangle]", path.display()));
            out.push((path.clone(), name.to_owned()));
        }
    }
}

/// Generating from `src/ffi/` alone misses nothing: every exported symbol
/// is defined there, and the header declares each of them (the two
/// statics by hand, with the class list's ABI length).
#[test]
fn header_declares_every_export_and_exports_live_in_ffi() {
    let mut items = Vec::new();
    no_mangle_items(&Path::new(ROOT).join("src"), &mut items);
    let names: Vec<&str> = items.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "vif_plug_representor_class",
            "vif_plug_provider_classes",
            "ovn_vif_rs_version"
        ],
        "the exports changed: update this list, docs/hosting.md and the nm checks of \
         scripts/test-stages/{{packaging,harness}}.sh"
    );
    for (path, name) in &items {
        assert!(
            path.starts_with(Path::new(ROOT).join("src/ffi")),
            "{name} is exported from {}, outside src/ffi/",
            path.display()
        );
    }
    let header = generate();
    assert!(header.contains("const char *ovn_vif_rs_version(void);"));
    assert!(header.contains("extern const struct vif_plug_class vif_plug_representor_class;"));
    let slots = ovn_vif_rs::ffi::vtable::CLASS_SLOTS;
    assert!(
        header.contains(&format!(
            "extern const struct vif_plug_class *vif_plug_provider_classes[{slots}];"
        )),
        "the hand-written declaration in cbindgen.toml must say [{slots}] (CLASS_SLOTS)"
    );
}
