//! The provider a host process has loaded: one global, shared by the C
//! entry points (src/ffi/vtable.rs: `init` fills it, `destroy` empties it,
//! `prepare` and `run` use it) and the `ovn-appctl` commands
//! (src/ffi/unixctl.rs), which import it from here and not from each other.
//!
//! OVN's class has no handle to pass around (`init` takes no argument and
//! every other member finds the provider itself), hence a global.  OVN
//! calls from ovn-controller's main thread only, so the lock is never
//! contended (~20 ns), but it keeps the library sound if a host ever calls
//! from two threads.

use std::sync::{Mutex, MutexGuard};

use crate::provider::Provider;

/// The provider, `None` before `init` / after `destroy`.  A provider whose
/// source is unavailable is still `Some` (in an outage: it declines every
/// CREATE and retries, see `crate::provider`).
pub(crate) static STATE: Mutex<Option<Provider>> = Mutex::new(None);

/// Locks the state.  If a panic poisoned the lock (the state may be half
/// updated), the table is reloaded from the source before serving again;
/// if that fails the provider is in an outage (declines every CREATE, says
/// so in the log) until a retry on its back-off loads the table.
pub(crate) fn state() -> MutexGuard<'static, Option<Provider>> {
    match STATE.lock() {
        Ok(g) => g,
        Err(poisoned) => {
            let mut g = poisoned.into_inner();
            STATE.clear_poison();
            if let Some(p) = g.as_mut() {
                match p.reload() {
                    Ok(()) => {
                        log::warn!("recovered from an internal error: representor table reloaded")
                    }
                    Err(e) => {
                        log::error!(
                            "recovering from an internal error failed ({e}): declining every \
                             port until the representor table loads again (retrying)"
                        );
                    }
                }
            }
            g
        }
    }
}
