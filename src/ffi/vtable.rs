//! The exported vtable: `vif_plug_provider_classes` and its entry points.
//!
//! Each entry point: runs through [`boundary`] (no panic reaches C),
//! converts C arguments with a `// SAFETY:` note on what OVN guarantees,
//! and calls safe code in [`crate::provider`] on the provider of
//! [`crate::state`] (one mutex-protected global, shared with the appctl
//! commands of [`super::unixctl`]).

use std::borrow::Cow;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use super::panic::boundary;
use super::smap;
use super::sys::{free_cstring, malloc_cstring, malloc_ifname};
use super::types::*;
use crate::options::{self, Request, OPT_PREFIX};
use crate::os::clock::{coarse_monotonic_ms, coarse_resolution_ms};
use crate::provider::{Provider, Wakeup};
use crate::state::state;
use crate::table::NetdevName;

unsafe extern "C" fn representor_init() -> c_int {
    boundary("init", libc::EIO, || {
        // The log sink and the ovn-appctl commands (src/ffi/host.rs).
        super::host::attach();
        let mut g = state();
        if g.is_some() {
            return 0;
        }
        // Never fails for an unavailable source (no devlink, no snapshot
        // file, a failed first dump): OVN never calls `init` again, so the
        // provider starts in an outage, declines every port, and opens and
        // loads the source on its retry back-off (src/provider.rs).
        let source = crate::sources::Reopening::new(crate::sources::open_default);
        *g = Some(Provider::start(Box::new(source), coarse_monotonic_ms));
        0
    })
}

unsafe extern "C" fn representor_destroy() -> c_int {
    boundary("destroy", 0, || {
        // Dropping the provider closes its sockets and frees the table.
        *state() = None;
        0
    })
}

unsafe extern "C" fn representor_run(_class: *mut vif_plug_class) -> bool {
    boundary("run", false, || {
        let mut g = state();
        let Some(p) = g.as_mut() else {
            return false;
        };
        let before = p.stats().drains;
        let changed = p.run();
        // Drained above (or, in an outage, a timer for the next retry):
        // wake the host's poll loop on the next event (src/ffi/poll.rs).
        register(p.wakeup(before));
        changed
    })
}

unsafe extern "C" fn representor_maintained_iface_options() -> *const sset {
    // This provider sets no Interface options, so it maintains none; OVN
    // handles NULL (ovsport_update_iface then only adds what we return).
    std::ptr::null()
}

unsafe extern "C" fn representor_port_prepare(
    ctx_in: *const vif_plug_port_ctx_in,
    ctx_out: *mut vif_plug_port_ctx_out,
) -> bool {
    boundary("port_prepare", false, || {
        // SAFETY: OVN passes a ctx_in it built with build_port_ctx() and
        // keeps alive for the call; NULL is tolerated defensively.
        let Some(ctx_in) = (unsafe { ctx_in.as_ref() }) else {
            return false;
        };
        // SAFETY: lport_name is NULL or an xstrdup'ed string owned by ctx_in.
        let lport = || unsafe { smap::cstr(ctx_in.lport_name) };
        let mut g = state();
        if ctx_in.op_type == PLUG_OP_REMOVE {
            // ctx_out is NULL for REMOVE.  Always allowed, even before
            // `init`, after `destroy` or during an outage: refusing would
            // leave a stale port in br-int.  The Interface removed
            // (iface_name) decides whether the lport's function is freed:
            // with ovn-patch 0005 it may be the lport's old netdev, removed
            // after the lport was given a new one.
            return match g.as_mut() {
                Some(provider) => {
                    // SAFETY: iface_name is NULL or an xstrdup'ed string
                    // owned by ctx_in (OVN sets it for REMOVE).
                    let iface = unsafe { smap::cstr(ctx_in.iface_name) };
                    provider.prepare_remove(&lport(), Some(&iface))
                }
                None => {
                    log::debug!(
                        "lport {}: unplug allowed (provider not initialised)",
                        lport()
                    );
                    true
                }
            };
        }
        let Some(provider) = g.as_mut() else {
            return false;
        };
        if ctx_in.op_type != PLUG_OP_CREATE {
            log::warn!(
                "lport {}: unknown plug operation {}",
                crate::logging::untrusted(&lport()),
                ctx_in.op_type
            );
            return false;
        }
        // SAFETY: for CREATE, OVN passes the ctx_out of the same port ctx,
        // zeroed and with iface_options smap_init'ed; we only write `name`.
        let Some(ctx_out) = (unsafe { ctx_out.as_mut() }) else {
            return false;
        };
        // The hit path: options read as bytes in place, the name from the
        // table's inline index.  Anything else (a refusal, a drain due,
        // options the fast parser does not accept) takes the full path
        // below, which decides, counts and logs as if this did not exist.
        // SAFETY: lport_options is a valid smap (smap_clone of the Port
        // Binding options) that OVN does not touch during the call.
        let parsed = unsafe { fast_request(&ctx_in.lport_options) };
        // The hit path compares it with the function's holder
        // (src/claims.rs): read once, borrowed unless it is not UTF-8.
        let lport = lport();
        // Drains in this call, by the hit path or the full path: only their
        // descriptors may be registered below.
        let before = provider.stats().drains;
        if let Some(req) = parsed {
            // Ownership: the copy belongs to this ctx_out until ctx_destroy
            // frees it; never a pointer into our table, which may change
            // under OVN's feet.
            let copy = |name: &NetdevName| malloc_ifname(name.as_c_bytes());
            if let Some(p) = provider.prepare_hit(&lport, &req, copy) {
                return store_name(ctx_out, p, &lport);
            }
        }
        // SAFETY: as above.
        let opts = unsafe { OwnOptions::new(&ctx_in.lport_options) };
        // Ownership: as above.
        match provider.prepare_create(&lport, opts, parsed, malloc_cstring) {
            None => {
                // On a host that never calls `run` (stock OVN), a declined
                // port would otherwise wait for an unrelated wakeup: ask the
                // poll loop to wake us on the next representor event, but
                // only for descriptors this call drained (a refusal before
                // any drain, e.g. bad options, registers nothing: a
                // readable, undrained descriptor would spin the loop), or
                // for the retry timer during an outage.
                if !provider.run_seen() {
                    register(provider.wakeup(before));
                }
                false
            }
            Some(p) => store_name(ctx_out, p, &lport),
        }
    })
}

/// Asks the host's poll loop for `w` (nothing without an OVS poll loop).
fn register(w: Wakeup) {
    match w {
        Wakeup::Nothing => {}
        Wakeup::Readable(fds) => {
            super::poll::wait_readable(&fds);
        }
        Wakeup::Timer(ms) => {
            // Computed from the coarse clock: rounded up by its resolution
            // (src/os/clock.rs), or it may fire a tick before it is due.
            super::poll::wait_timer(ms.saturating_add(coarse_resolution_ms()));
        }
        Wakeup::ReadableUntil(fds, ms) => {
            super::poll::wait_readable(&fds);
            super::poll::wait_timer(ms);
        }
    }
}

/// Hands a malloc'ed name to OVN in `ctx_out` (NULL = out of memory:
/// decline).
fn store_name(ctx_out: &mut vif_plug_port_ctx_out, p: *mut c_char, lport: &str) -> bool {
    if p.is_null() {
        log::error!(
            "lport {}: out of memory copying the netdev name",
            crate::logging::untrusted(lport)
        );
        return false;
    }
    // SAFETY (free): a name left by a previous prepare on the same ctx_out
    // was ours (malloc'ed) and is not referenced any more.
    unsafe { free_cstring(ctx_out.name) };
    ctx_out.name = p;
    true
}

/// The request of an lport's options, parsed without conversion or
/// allocation ([`options::parse_fast_with`]): walks the smap's nodes, skips a key whose
/// first byte rules out [`OPT_PREFIX`] and its near misses
/// ([`options::may_concern_us`]: OVN's own keys mostly), and compares the
/// others as byte slices; this provider's suffixes and values go to the
/// parser as bytes.  `None`: let the full path decide.
///
/// # Safety
/// As [`smap::nodes`].
unsafe fn fast_request(map: *const super::types::smap) -> Option<Request> {
    // SAFETY: per this function's contract.
    let pairs = unsafe { smap::nodes(map) }.filter_map(|node| {
        // SAFETY: smap keys are NULL or NUL-terminated strings owned by the
        // node, valid for the call per the contract; byte 0 of a non-NULL
        // key exists (at worst the NUL).
        if node.key.is_null() || !options::may_concern_us(unsafe { *node.key.cast::<u8>() }) {
            return None;
        }
        // SAFETY: as above.
        let key = unsafe { CStr::from_ptr(node.key) }.to_bytes();
        let value = move || {
            // SAFETY: the value is NULL or a NUL-terminated string owned by
            // the node, valid for the call.
            (!node.value.is_null()).then(|| unsafe { CStr::from_ptr(node.value) }.to_bytes())
        };
        Some((key, value))
    });
    options::parse_fast_with(pairs)
}

/// The (key, value) pairs of an smap whose key starts with
/// [`OPT_PREFIX`] or is a near miss of it ([`options::is_near_miss`]): the
/// only ones `prepare` reads (options parsing skips every other key, and
/// refusal logs show only these).  Other keys are
/// compared as bytes, never converted to text (converting every key and
/// value was ~60% of a hit's instructions).  A clone made before the first
/// `next` walks the whole map again (the options are read twice when a
/// refusal is logged).
#[derive(Clone)]
struct OwnOptions<'a>(smap::Nodes<'a>);

impl<'a> OwnOptions<'a> {
    /// # Safety
    /// As [`smap::nodes`].
    unsafe fn new(map: *const super::types::smap) -> OwnOptions<'a> {
        // SAFETY: per this function's contract.
        OwnOptions(unsafe { smap::nodes(map) })
    }
}

impl<'a> Iterator for OwnOptions<'a> {
    type Item = (Cow<'a, str>, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        for node in self.0.by_ref() {
            if node.key.is_null() {
                continue;
            }
            // SAFETY: smap keys are NUL-terminated strings owned by the
            // node (xstrdup'ed by smap_add), valid for 'a per `new`.
            let key = unsafe { CStr::from_ptr(node.key) }.to_bytes();
            // The prefix is ASCII, so a key starts with it exactly when its
            // lossy text does.
            if !key.starts_with(OPT_PREFIX.as_bytes()) && !options::is_near_miss(key) {
                continue;
            }
            // SAFETY: as above, for the value.
            return Some((smap::text_of(key), unsafe { smap::cstr(node.value) }));
        }
        None
    }
}

unsafe extern "C" fn representor_port_finish(
    ctx_in: *const vif_plug_port_ctx_in,
    _ctx_out: *mut vif_plug_port_ctx_out,
) {
    boundary("port_finish", (), || {
        // SAFETY: as in prepare; only the name is read, for the debug log.
        if let Some(ctx_in) = unsafe { ctx_in.as_ref() } {
            // SAFETY: NULL or an xstrdup'ed string owned by ctx_in.
            let lport = unsafe { smap::cstr(ctx_in.lport_name) };
            log::debug!(
                "lport {}: port transaction committed (op {})",
                crate::logging::untrusted(&lport),
                ctx_in.op_type
            );
        }
    })
}

unsafe extern "C" fn representor_port_ctx_destroy(
    _ctx_in: *const vif_plug_port_ctx_in,
    ctx_out: *mut vif_plug_port_ctx_out,
) {
    boundary("port_ctx_destroy", (), || {
        // SAFETY: OVN passes the ctx_out a successful CREATE prepare filled;
        // NULL is tolerated.
        if let Some(out) = unsafe { ctx_out.as_mut() } {
            // SAFETY: `name` is NULL or the malloc'ed copy prepare stored.
            unsafe { free_cstring(out.name) };
            out.name = std::ptr::null_mut();
        }
    })
}

/// The provider's class, type `"representor"`.
#[no_mangle]
pub static vif_plug_representor_class: vif_plug_class = vif_plug_class {
    type_: c"representor".as_ptr(),
    init: Some(representor_init),
    destroy: Some(representor_destroy),
    run: Some(representor_run),
    vif_plug_get_maintained_iface_options: Some(representor_maintained_iface_options),
    vif_plug_port_prepare: Some(representor_port_prepare),
    vif_plug_port_finish: Some(representor_port_finish),
    vif_plug_port_ctx_destroy: Some(representor_port_ctx_destroy),
};

/// Number of slots in `vif_plug_provider_classes`.  The array is copy-
/// relocated into ovn-controller with its size fixed at link time, so this
/// length is ABI: it stays 4 for the life of soname 0 (room for three
/// classes), NULL-terminated.
pub const CLASS_SLOTS: usize = 4;

/// `const struct vif_plug_class *vif_plug_provider_classes[]`.
#[repr(transparent)]
pub struct ClassList(pub [*const vif_plug_class; CLASS_SLOTS]);

// SAFETY: the array is immutable and points at immutable statics.
unsafe impl Sync for ClassList {}

/// What OVN's `vif_plug_provider_initialize()` walks (NULL-terminated).
#[no_mangle]
pub static vif_plug_provider_classes: ClassList = ClassList([
    &vif_plug_representor_class,
    std::ptr::null(),
    std::ptr::null(),
    std::ptr::null(),
]);

/// The library version, for `ovn-appctl` and packaging checks.
#[no_mangle]
pub extern "C" fn ovn_vif_rs_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::STATE;
    use crate::testing::ovs as testing;
    use std::ffi::CStr;
    use std::sync::{Mutex, MutexGuard};

    fn ctx_in(lport: &'static CStr, opts: &testing::OwnedSmap) -> vif_plug_port_ctx_in {
        vif_plug_port_ctx_in {
            op_type: PLUG_OP_CREATE,
            ovs_table: std::ptr::null(),
            br_int: std::ptr::null(),
            lport_name: lport.as_ptr(),
            lport_options: crate::ffi::types::smap {
                map: crate::ffi::types::hmap {
                    buckets: opts.map.map.buckets,
                    one: opts.map.map.one,
                    mask: opts.map.map.mask,
                    n: opts.map.map.n,
                },
            },
            iface_name: std::ptr::null(),
            iface_type: std::ptr::null(),
            iface_options: empty_smap(),
        }
    }

    fn empty_smap() -> crate::ffi::types::smap {
        crate::ffi::types::smap {
            map: crate::ffi::types::hmap {
                buckets: std::ptr::null_mut(),
                one: std::ptr::null_mut(),
                mask: 0,
                n: 0,
            },
        }
    }

    fn prepare_name(opts: &testing::OwnedSmap) -> Option<String> {
        let input = ctx_in(c"lsp", opts);
        let mut out = vif_plug_port_ctx_out {
            name: std::ptr::null_mut(),
            type_: std::ptr::null_mut(),
            iface_options: empty_smap(),
        };
        // SAFETY: valid ctx structs built above, alive for the call.
        let ok = unsafe { representor_port_prepare(&input, &mut out) };
        // SAFETY: on success name is a malloc'ed NUL-terminated string.
        let name = ok.then(|| {
            unsafe { CStr::from_ptr(out.name) }
                .to_string_lossy()
                .into_owned()
        });
        // SAFETY: frees what prepare allocated.
        unsafe { representor_port_ctx_destroy(&input, &mut out) };
        assert!(out.name.is_null());
        name
    }

    /// The hot path's walk yields exactly the provider's pairs of the full
    /// smap walk, in the same order, for any bucket layout.
    #[test]
    fn own_options_are_the_prefixed_pairs_of_the_smap_walk() {
        let pairs = [
            ("requested-chassis", "dpu0"),
            ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
            ("vif-plug-type", "representor"),
            ("vif-plug:representor:vf-num", "3"),
            ("vif-plug:representor", "not ours"),
            ("vif-plug:representor:vf_num", "7"),
            ("vif-plug-mtu-request", "9000"),
            ("Vif-plug:representor-sf-num", "2"),
        ];
        let owned = |(k, v): (Cow<'_, str>, Cow<'_, str>)| (k.into_owned(), v.into_owned());
        for mask in [0usize, 1, 3, 7] {
            let m = testing::build(&pairs, mask);
            // SAFETY: the map is built by `testing::build` and outlives the walks.
            let want: Vec<_> = unsafe { smap::iter(&*m.map) }
                .filter(|(k, _)| k.starts_with(OPT_PREFIX) || options::is_near_miss(k.as_bytes()))
                .map(owned)
                .collect();
            assert_eq!(want.len(), 4, "mask {mask}");
            // SAFETY: as above.
            let it = unsafe { OwnOptions::new(&*m.map) };
            let again = it.clone();
            assert_eq!(it.map(owned).collect::<Vec<_>>(), want, "mask {mask}");
            assert_eq!(again.map(owned).collect::<Vec<_>>(), want, "mask {mask}");
        }
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { OwnOptions::new(std::ptr::null()) }.count(), 0);
    }

    /// The hit path's parser agrees with the full parser on smaps: valid
    /// requests, OVN's own keys around them, and refusals (which it leaves
    /// to the full path).
    #[test]
    fn fast_request_matches_the_full_parser() {
        let mac = ("vif-plug:representor:pf-mac", "00:53:00:00:10:00");
        let cases: &[&[(&str, &str)]] = &[
            &[mac],
            &[mac, ("vif-plug:representor:vf-num", "3")],
            &[
                ("requested-chassis", "dpu0"),
                ("vif-plug-type", "representor"),
                mac,
                ("vif-plug-mtu-request", "9000"),
                ("vif-plug:representor:sf-num", "4294967295"),
            ],
            &[mac, ("vif-plug:representor:vf-num", "65536")],
            &[mac, ("vif-plug:representor:vf_num", "3")],
            &[mac, ("vif-plug:representor:", "3")],
            &[mac, ("vif-plug:representor:pf-macs", "3")],
            &[
                mac,
                ("vif-plug:representor:vf-num", "1"),
                ("vif-plug:representor:sf-num", "1"),
            ],
            &[("vif-plug:representor:pf-mac", "00:53:00:00:10:00:00")],
            &[("vif-plug:representor:pf-mac", "00:53:00:00:10:000")],
            &[
                ("vif-plug:representor", "x"),
                ("vif-plug:representor:vf-num", "1"),
            ],
            &[("vif-plug:representor:pf-mac", "00:53:00:00:10:0G")],
            &[mac, ("vif-plug:representor:vf-num", "01")],
            // Near misses of the prefix are refused, also by the hit path.
            &[mac, ("vif-plug:representor-vf-num", "3")],
            &[mac, ("vif-plug:Representor:vf-num", "3")],
            &[("VIF-PLUG:REPRESENTOR:VF-NUM", "3"), mac],
            &[],
        ];
        for pairs in cases {
            for mask in [0usize, 1, 3] {
                let m = testing::build(pairs, mask);
                // SAFETY: the map is built by `testing::build` and outlives the walks.
                let full = crate::options::parse(unsafe { OwnOptions::new(&*m.map) }).ok();
                // SAFETY: as above.
                let fast = unsafe { fast_request(&*m.map) };
                assert_eq!(fast, full, "{pairs:?} mask {mask}");
            }
        }
    }

    /// A panic while the state lock is held poisons it; the next call
    /// reloads the table and keeps serving instead of aborting or
    /// declining forever.
    /// The tests below share the global state and the environment.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// PLUG_OP_REMOVE (ctx_out NULL) for `lport`.
    fn remove_allowed(opts: &testing::OwnedSmap) -> bool {
        let mut input = ctx_in(c"lsp-gone", opts);
        input.op_type = PLUG_OP_REMOVE;
        // SAFETY: a valid ctx_in; ctx_out is NULL for REMOVE, as OVN passes it.
        unsafe { representor_port_prepare(&input, std::ptr::null_mut()) }
    }

    fn vf3() -> testing::OwnedSmap {
        testing::build(
            &[
                ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
                ("vif-plug:representor:vf-num", "3"),
            ],
            1,
        )
    }

    /// Issue 12 item 6: an unplug is never refused: not before `init`, not
    /// after `destroy`, not while the source is unavailable, not after a
    /// failed recovery from a panic.  Item 12: `init` does not fail for a
    /// missing source; it starts declining.
    #[test]
    fn unplug_is_always_allowed_and_init_does_not_fail_for_a_missing_source() {
        let _s = serial();
        let opts = vf3();
        // SAFETY: plain calls of our own entry points.
        assert_eq!(unsafe { representor_destroy() }, 0);
        assert!(remove_allowed(&opts), "before init");

        let dir = std::env::temp_dir().join(format!("ovn-vif-rs-vt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let snap = dir.join("ports.snap");
        let _ = std::fs::remove_file(&snap);
        std::env::set_var(crate::sources::ENV_SNAPSHOT, &snap);
        // SAFETY: as above.
        assert_eq!(unsafe { representor_init() }, 0, "missing snapshot");
        let show = super::super::unixctl::show_loaded().unwrap_or_default();
        assert!(show.starts_with("state: nothing to plug: "), "{show}");
        assert_eq!(prepare_name(&opts), None);
        assert!(remove_allowed(&opts), "source unavailable");

        // A failed recovery from a panic: still initialised, declining,
        // unplugs allowed.
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dpu.snapshot");
        std::fs::copy(data, &snap).unwrap_or_default();
        assert!(state().as_mut().is_some_and(|p| p.reload().is_ok()));
        assert_eq!(prepare_name(&opts).as_deref(), Some("c1pf0vf3"));
        std::fs::remove_file(&snap).unwrap_or_default();
        boundary("test", (), || {
            let _g = state();
            panic!("simulated bug while holding the provider lock");
        });
        assert!(STATE.is_poisoned());
        assert_eq!(prepare_name(&opts), None, "reload failed: declining");
        assert!(state().as_ref().is_some_and(|p| p.outage().is_some()));
        assert!(remove_allowed(&opts), "after a failed recovery");

        // SAFETY: as above.
        assert_eq!(unsafe { representor_destroy() }, 0);
        assert!(remove_allowed(&opts), "after destroy");
        std::env::remove_var(crate::sources::ENV_SNAPSHOT);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn keeps_serving_after_a_panic_poisoned_the_state() {
        let _s = serial();
        let snap = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dpu.snapshot");
        std::env::set_var(crate::sources::ENV_SNAPSHOT, snap);
        // SAFETY: plain calls of our own entry points.
        assert_eq!(unsafe { representor_init() }, 0);
        let opts = testing::build(
            &[
                ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
                ("vif-plug:representor:vf-num", "3"),
            ],
            1,
        );
        assert_eq!(prepare_name(&opts).as_deref(), Some("c1pf0vf3"));

        let before = crate::ffi::panic::caught_panics();
        let r = boundary("test", false, || {
            let _g = state();
            panic!("simulated bug while holding the provider lock");
        });
        assert!(!r);
        assert!(crate::ffi::panic::caught_panics() > before);
        assert!(STATE.is_poisoned());

        assert_eq!(prepare_name(&opts).as_deref(), Some("c1pf0vf3"));
        assert!(!STATE.is_poisoned());
        // SAFETY: plain call of our own entry point.
        assert_eq!(unsafe { representor_destroy() }, 0);
        assert!(state().is_none());
    }
}
