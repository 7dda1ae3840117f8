//! Joining the host process, once `init` runs: the log sink and the
//! `ovn-appctl` commands.  The entry points (`vtable`) call [`attach`];
//! this is the one place that knows which host glue exists, so `vtable`
//! and `unixctl` need not know each other, and `crate::logging` is told
//! its sink instead of reaching into `ffi` for it.

/// Installs the log sink (OVS vlog when the host exports it, else
/// stderr) unless a logger is installed already, and registers the
/// appctl commands once per process (nothing in a host without unixctl).
pub fn attach() {
    crate::logging::init(super::vlog::host_logger());
    super::unixctl::register_once();
}
