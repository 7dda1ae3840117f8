//! `ovn-appctl` commands, registered with the host's unixctl server when
//! the host has one (ovn-controller does):
//!
//! - `vif-plug-representor/show`: the state (serving, or why not: no
//!   devlink, a failed load or resynchronisation; the last error and when
//!   the next retry is), the source, the provider's counters, the
//!   PFs by MAC (with where each MAC came from) and every devlink port
//!   (flavour, controller, PF/VF/SF numbers, function MAC, netdev, ifindex,
//!   whether its name is settled).
//! - `vif-plug-representor/lookup pf-mac=MAC [vf-num=N|sf-num=N]`: the
//!   decision for those Logical_Switch_Port options, and why (the same
//!   parser and lookup as `prepare`; nothing is logged or counted).
//!
//! unixctl has no "unregister", and OVS asserts that a name is registered
//! with one callback only, so the commands are registered once per process
//! (the first `init`) and answer "provider not initialised" while the
//! provider is destroyed; a later `init` serves them again.

use std::os::raw::{c_char, c_int, c_void};
use std::sync::Once;

use super::panic::boundary;
use super::shim::{self, unixctl_conn};
use crate::options::{self, OPT_PREFIX};
use crate::provider::Provider;
use crate::state::state;
use crate::table::Table;

pub const CMD_SHOW: &str = "vif-plug-representor/show";
pub const CMD_LOOKUP: &str = "vif-plug-representor/lookup";
const NOT_INITIALISED: &str = "provider not initialised (the representor VIF plug class is \
                               not registered yet, or destroyed)";

static REGISTER: Once = Once::new();

/// Registers the commands with the host's unixctl server, once per
/// process.  Does nothing in a host without unixctl.
pub fn register_once() {
    REGISTER.call_once(|| {
        // SAFETY: static NUL-terminated strings (unixctl keeps the usage
        // pointer) and callbacks with unixctl_cb_func's signature.
        let ok = unsafe {
            shim::ovn_vif_rs_shim_unixctl_register(
                c"vif-plug-representor/show".as_ptr(),
                c"".as_ptr(),
                0,
                0,
                show_cb,
            ) && shim::ovn_vif_rs_shim_unixctl_register(
                c"vif-plug-representor/lookup".as_ptr(),
                c"pf-mac=MAC [vf-num=N|sf-num=N]".as_ptr(),
                1,
                2,
                lookup_cb,
            )
        };
        if ok {
            log::debug!("registered unixctl commands {CMD_SHOW} and {CMD_LOOKUP}");
        }
    });
}

/// Sends the one reply unixctl expects for `conn`.
fn reply(conn: *mut unixctl_conn, result: Result<String, String>) {
    let (ok, mut text) = match result {
        Ok(t) => (true, t),
        Err(t) => (false, t),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let body = std::ffi::CString::new(text.replace('\0', " ")).unwrap_or_default();
    // SAFETY: `conn` is the connection unixctl passed to the callback, not
    // replied to yet; `body` is NUL-terminated and unixctl copies it.
    unsafe { shim::ovn_vif_rs_shim_unixctl_reply(conn, ok, body.as_ptr()) }
}

/// The arguments after the command name (argv[0]), lossily as UTF-8.
///
/// # Safety
/// `argv` holds `argc` valid NUL-terminated strings (unixctl guarantees it).
unsafe fn args(argc: c_int, argv: *const *const c_char) -> Vec<String> {
    let n = usize::try_from(argc).unwrap_or(0);
    if argv.is_null() {
        return Vec::new();
    }
    (1..n)
        .filter_map(|i| {
            // SAFETY: i < argc, per the caller's contract.
            let p = unsafe { *argv.add(i) };
            // SAFETY: each argv[i] is a NUL-terminated string or NULL.
            (!p.is_null()).then(|| unsafe { super::smap::cstr(p) }.into_owned())
        })
        .collect()
}

/// Runs `f` on the provider and replies; a panic becomes an error reply
/// (the inner boundary), and nothing unwinds into unixctl (the outer one).
fn serve(
    entry: &'static str,
    conn: *mut unixctl_conn,
    f: impl FnOnce(&Provider) -> Result<String, String>,
) {
    boundary(entry, (), || {
        let result = boundary(
            entry,
            Err("internal error (see the log)".to_owned()),
            || match state().as_ref() {
                Some(p) => f(p),
                None => Err(NOT_INITIALISED.to_owned()),
            },
        );
        reply(conn, result);
    })
}

unsafe extern "C" fn show_cb(
    conn: *mut unixctl_conn,
    _argc: c_int,
    _argv: *const *const c_char,
    _aux: *mut c_void,
) {
    serve("unixctl show", conn, |p| Ok(show(p)))
}

unsafe extern "C" fn lookup_cb(
    conn: *mut unixctl_conn,
    argc: c_int,
    argv: *const *const c_char,
    _aux: *mut c_void,
) {
    boundary("unixctl lookup", (), || {
        // SAFETY: unixctl passes argc strings in argv (argv[0] the command).
        let a = unsafe { args(argc, argv) };
        serve("unixctl lookup", conn, |p| lookup(p, &a))
    })
}

/// `vif-plug-representor/lookup` on `p`: `Ok` when the options plug a
/// netdev, `Err` (an error reply, exit status 2 of ovs-appctl) otherwise;
/// the decision line is [`crate::report::decision`]'s.
pub fn lookup(p: &Provider, args: &[String]) -> Result<String, String> {
    let mut opts = Vec::with_capacity(args.len());
    for a in args {
        let Some((k, v)) = a.split_once('=') else {
            return Err(format!(
                "bad argument \"{}\": want pf-mac=MAC [vf-num=N|sf-num=N]",
                crate::logging::untrusted(a)
            ));
        };
        let key = if k.starts_with(OPT_PREFIX) {
            k.to_owned()
        } else {
            format!("{OPT_PREFIX}{k}")
        };
        opts.push((key, v.to_owned()));
    }
    let req = options::parse(opts).map_err(|e| crate::report::bad_options(&e) + "\n")?;
    crate::report::decision(p.table(), &req)
        .map(|s| s + "\n")
        .map_err(|s| s + "\n")
}

/// What `vif-plug-representor/show` would reply for the provider the
/// vtable serves, or `None` before `init` / after `destroy`.  For hosts and
/// tests that load the library in-process (no unixctl server needed).
pub fn show_loaded() -> Option<String> {
    state().as_ref().map(show)
}

/// What `vif-plug-representor/lookup ARGS` would reply for the provider the
/// vtable serves (`Err` also when it is not initialised).
pub fn lookup_loaded(args: &[String]) -> Result<String, String> {
    match state().as_ref() {
        Some(p) => lookup(p, args),
        None => Err(NOT_INITIALISED.to_owned()),
    }
}

/// The table part of `show` ("PFs by MAC" and "ports") for any table, e.g.
/// a fresh dump, rendered exactly as `show` renders the provider's.
pub fn table_text(t: &Table) -> String {
    crate::report::table(t)
}

/// `vif-plug-representor/show` on `p` (rendered by [`crate::report::show`]).
pub fn show(p: &Provider) -> String {
    crate::report::show(p, super::panic::caught_panics())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SnapshotSource;

    fn provider() -> Provider {
        let snap = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dpu.snapshot");
        match Provider::new(Box::new(SnapshotSource::new(snap)), || 0) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn show_lists_pfs_and_ports() {
        let s = show(&provider());
        assert!(s.contains("source: snapshot file"), "{s}");
        assert!(
            s.contains("c1pf0 (00:53:00:00:10:00, from port-function) — 2 VFs, 1 SFs\n"),
            "{s}"
        );
        assert!(s.contains("c1pf0vf3"), "{s}");
        assert!(s.contains("ports (7):"), "{s}");
    }

    #[test]
    fn lookup_explains() {
        let p = provider();
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ok = lookup(&p, &a(&["pf-mac=00:53:00:00:10:00", "vf-num=3"]));
        assert!(
            ok.as_deref()
                .is_ok_and(|s| s.starts_with("PLUG c1pf0vf3 — VF 3 of PF 00:53:00:00:10:00: ")),
            "{ok:?}"
        );
        let full = lookup(
            &p,
            &a(&["vif-plug:representor:pf-mac=00:53:00:00:10:00", "sf-num=8"]),
        );
        assert!(full.is_ok_and(|s| s.starts_with("PLUG c1pf0sf8 — ")));
        let miss = lookup(&p, &a(&["pf-mac=00:53:00:00:10:00", "vf-num=9"]));
        assert!(miss.is_err_and(|s| s.starts_with("NO (function-not-present) — ")));
        let bad = lookup(&p, &a(&["pf-mac=00:53:00:00:10:00", "vf-num=65536"]));
        assert!(bad.is_err_and(|s| s.starts_with("NO (bad-options) — ") && s.ends_with('\n')));
        assert!(lookup(&p, &a(&["vf-num"])).is_err());
    }
}
