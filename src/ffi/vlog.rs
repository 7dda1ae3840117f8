//! Log lines through OVS vlog when the host is an OVS program.
//!
//! The module `vif_plug_representor` is defined and registered by the C
//! shim (`src/ffi/shim.c`) at load time, like `VLOG_DEFINE_THIS_MODULE`, so
//! ovn-controller's `-v`/`--verbose` settings, `vlog/list` and
//! `vlog/set vif_plug_representor:file:dbg` all see it.  [`VlogLogger`] is
//! the `log::Log` that forwards to it: level mapping below, vlog's own
//! level test (the module's `min_level`, as the `VLOG()` macros do) before
//! anything is formatted, one `vlog(module, level, "%s", line)` per line.
//! No vlog rate limiting: the provider rate-limits its repeated lines
//! itself (src/provider.rs), one mechanism.
//!
//! In a host without OVS symbols the shim reports "not hosted",
//! [`host_logger`] is `None`, and `crate::logging` uses stderr.

use std::ffi::CString;
use std::os::raw::c_int;

/// `enum vlog_level` (OVS include/openvswitch/vlog.h).
pub const VLL_OFF: c_int = 0;
pub const VLL_EMER: c_int = 1;
pub const VLL_ERR: c_int = 2;
pub const VLL_WARN: c_int = 3;
pub const VLL_INFO: c_int = 4;
pub const VLL_DBG: c_int = 5;

use super::shim::{
    ovn_vif_rs_shim_vlog, ovn_vif_rs_shim_vlog_hosted, ovn_vif_rs_shim_vlog_min_level,
};

/// Whether the host exports OVS vlog and our module is registered.
pub fn hosted() -> bool {
    // SAFETY: reads a flag the shim's constructor set; no arguments.
    unsafe { ovn_vif_rs_shim_vlog_hosted() }
}

/// The vlog level for a `log` level.  `Trace` has no vlog counterpart and
/// is not forwarded (see [`VlogLogger`]).
pub fn vlog_level(l: log::Level) -> c_int {
    match l {
        log::Level::Error => VLL_ERR,
        log::Level::Warn => VLL_WARN,
        log::Level::Info => VLL_INFO,
        log::Level::Debug | log::Level::Trace => VLL_DBG,
    }
}

/// Whether vlog would emit `level` on any destination.
pub fn enabled(level: c_int) -> bool {
    // SAFETY: reads an int of the shim's module (VLL_OFF when unhosted);
    // OVS writes it from the main thread only, as its own macros read it.
    level != VLL_OFF && unsafe { ovn_vif_rs_shim_vlog_min_level() } >= level
}

/// Logs one line at `level` (an interior NUL is cut off).
pub fn write(level: c_int, line: &str) {
    let text = match CString::new(line) {
        Ok(c) => c,
        Err(e) => {
            let pos = e.nul_position();
            let mut bytes = e.into_vec();
            bytes.truncate(pos);
            // No NUL left after truncating at the first one.
            CString::new(bytes).unwrap_or_default()
        }
    };
    // SAFETY: `text` is NUL-terminated and outlives the call; vlog() copies
    // what it formats and keeps no pointer.
    unsafe { ovn_vif_rs_shim_vlog(level, text.as_ptr()) }
}

/// The logger `init` hands to `crate::logging` (src/ffi/host.rs): the vlog
/// bridge when the host exports OVS vlog, else `None` (stderr).
pub fn host_logger() -> Option<&'static dyn log::Log> {
    static VLOG: VlogLogger = VlogLogger;
    hosted().then_some(&VLOG as &'static dyn log::Log)
}

/// The `log::Log` that forwards to vlog.  `log`'s max level is set to
/// `Debug` when it is installed, so `trace!` (dependencies' wire dumps)
/// never reaches ovn-controller's log.
pub struct VlogLogger;

impl log::Log for VlogLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Debug && enabled(vlog_level(m.level()))
    }

    fn log(&self, r: &log::Record) {
        // vlog's own level test first: a disabled line is never formatted.
        if !self.enabled(r.metadata()) {
            return;
        }
        let line = match r.args().as_str() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(r.args().to_string()),
        };
        write(vlog_level(r.level()), &line);
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test` binaries export no OVS symbols: the weak references
    /// are NULL and nothing is forwarded (and nothing crashes).
    #[test]
    fn unhosted_in_a_plain_process() {
        assert!(!hosted());
        assert!(!enabled(VLL_ERR));
        assert!(!enabled(VLL_EMER));
        write(VLL_ERR, "dropped: no vlog in this process");
        write(VLL_ERR, "with\0nul");
        assert!(host_logger().is_none());
        assert!(!log::Log::enabled(
            &VlogLogger,
            &log::Metadata::builder().level(log::Level::Error).build()
        ));
    }

    #[test]
    fn levels_map_like_ovs() {
        assert_eq!(vlog_level(log::Level::Error), VLL_ERR);
        assert_eq!(vlog_level(log::Level::Warn), VLL_WARN);
        assert_eq!(vlog_level(log::Level::Info), VLL_INFO);
        assert_eq!(vlog_level(log::Level::Debug), VLL_DBG);
    }
}
