//! Compiles tests/c/dlopen_test.c with the system C compiler and runs it
//! against the cdylib cargo built for this test run.

use std::path::PathBuf;
use std::process::Command;

fn target_dir() -> PathBuf {
    // .../target/<profile>/deps/c_abi-<hash> -> .../target/<profile>
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .to_path_buf()
}

#[test]
fn c_host_drives_the_vtable_through_dlopen() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // `cargo test` links tests against the rlib only; build the cdylib the
    // way a user would (same target dir and profile: debug).
    let st = Command::new(env!("CARGO"))
        .args(["build", "--lib", "--locked", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .status()
        .expect("cargo runs");
    assert!(st.success(), "cargo build --lib failed");
    let lib = target_dir().join("libovn_vif_rs.so");
    assert!(
        lib.exists(),
        "{} not built (the cdylib crate type is missing?)",
        lib.display()
    );
    let bin = target_dir().join("dlopen_test");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let st = Command::new(&cc)
        .args([
            "-std=gnu11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-O1",
            "-g",
            "-o",
        ])
        .arg(&bin)
        .arg(root.join("tests/c/dlopen_test.c"))
        .arg("-ldl")
        .status()
        .expect("a C compiler (cc) is installed");
    assert!(st.success(), "compiling dlopen_test.c failed");
    let out = Command::new(&bin)
        .arg(&lib)
        .env("OVN_VIF_RS_SNAPSHOT", root.join("tests/data/dpu.snapshot"))
        .env("OVN_VIF_RS_LOG", "info")
        .output()
        .expect("run dlopen_test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n--- provider log ---\n{stderr}");
    assert!(out.status.success(), "C test failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    // The refusals were logged with the lport and the reason.
    assert!(
        stderr.contains("lport lsp-wrap: not plugging (bad-options)") && stderr.contains("65539"),
        "{stderr}"
    );
    assert!(
        stderr.contains("lport lsp-vf7: not plugging (function-not-present)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("lport lsp-nomac: not plugging (bad-options)"),
        "{stderr}"
    );
}
