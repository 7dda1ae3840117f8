//! Which of issue 12's defects are fixed (shared by tests/oracle.rs and
//! tests/oracle_vm.rs; included with `#[path]`).

#![allow(dead_code)]

/// Issue 12's defects whose fix is merged: their properties must hold.  A
/// defect not listed is expected to be *found* by its fake-kernel test (on
/// 7c4cb1c: 1, 2, 3, 5, 6, 8, 12 all are), and the real-kernel slice leaves
/// its triggers out.  Add a number here when its fix lands.
pub const FIXED: &[u32] = &[1, 2, 3, 5, 6, 8, 12];

/// Every defect class the oracle knows.
pub const CLASSES: [u32; 7] = [1, 2, 3, 5, 6, 8, 12];

/// `defect` is in [`FIXED`], or named by `OVN_VIF_RS_ORACLE_FIXED`
/// (`1,2,5` or `all`), to try a fix before marking it.
pub fn fixed(defect: u32) -> bool {
    if FIXED.contains(&defect) {
        return true;
    }
    match std::env::var("OVN_VIF_RS_ORACLE_FIXED") {
        Ok(v) if v.trim() == "all" => true,
        Ok(v) => v
            .split(',')
            .any(|s| s.trim().parse::<u32>().ok() == Some(defect)),
        Err(_) => false,
    }
}
