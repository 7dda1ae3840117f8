//! Test support: our numbers against the installed kernel uapi headers.
//! [`check`] compiles a C program printing each expression and compares.

use std::process::Command;

/// Compares `(C expression, our value)` pairs with the values the C
/// compiler sees through `linux/devlink.h`, `genetlink.h`, `rtnetlink.h`,
/// `if_link.h`, `if.h` and `netdevice.h`.  Skipped (with a message) when
/// there is no C compiler or no `linux/devlink.h`.
pub(crate) fn check(checks: &[(&str, i64)]) {
    if !std::path::Path::new("/usr/include/linux/devlink.h").exists() {
        eprintln!("skipped: /usr/include/linux/devlink.h not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!(
        "ovn-vif-rs-uapi-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut src = String::from(
        "#include <stdio.h>\n#include <linux/netdevice.h>\n#include <linux/devlink.h>\n\
         #include <linux/genetlink.h>\n#include <linux/rtnetlink.h>\n#include <linux/if_link.h>\n\
         #include <linux/if.h>\nint main(void) {\n",
    );
    for (name, _) in checks {
        src.push_str(&format!("  printf(\"%lld\\n\", (long long)({name}));\n"));
    }
    src.push_str("  return 0;\n}\n");
    let c = dir.join("probe.c");
    let exe = dir.join("probe");
    std::fs::write(&c, src).unwrap();
    let cc = match Command::new("cc").arg(&c).arg("-o").arg(&exe).status() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skipped: no C compiler ({e})");
            return;
        }
    };
    assert!(cc.success(), "probe did not compile");
    let out = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let got: Vec<i64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(got.len(), checks.len());
    for ((name, ours), theirs) in checks.iter().zip(got) {
        assert_eq!(*ours, theirs, "{name}");
    }
}
