//! The Rust side of `shim.c`: its functions, declared once, exactly as
//! `shim.c` defines them (C types in the signatures).  The shim holds the
//! weak references to the OVS functions (docs/hosting.md); each function
//! here checks its references and does nothing (false, `VLL_OFF`) when the
//! host lacks them.  Internal: not exported from the .so, and kept out of
//! the header (`cbindgen:ignore` on `mod shim` in `ffi/mod.rs`).  Used by
//! [`super::vlog`], [`super::unixctl`] and [`super::poll`] only.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_longlong, c_short, c_void};

/// `struct unixctl_conn` (opaque).
#[repr(C)]
pub struct unixctl_conn {
    _private: [u8; 0],
}

/// `unixctl_cb_func`.
pub type unixctl_cb =
    unsafe extern "C" fn(*mut unixctl_conn, c_int, *const *const c_char, *mut c_void);

extern "C" {
    // ---- vlog (src/ffi/vlog.rs)
    /// Whether the shim's module is registered with the host's vlog.
    pub fn ovn_vif_rs_shim_vlog_hosted() -> bool;
    /// The module's most verbose enabled level (`VLL_OFF` when unhosted).
    pub fn ovn_vif_rs_shim_vlog_min_level() -> c_int;
    /// `vlog(&module, level, "%s", msg)` when hosted.
    pub fn ovn_vif_rs_shim_vlog(level: c_int, msg: *const c_char);

    // ---- unixctl (src/ffi/unixctl.rs)
    /// `unixctl_command_register(name, usage, min, max, cb, NULL)`; false
    /// without unixctl.
    pub fn ovn_vif_rs_shim_unixctl_register(
        name: *const c_char,
        usage: *const c_char,
        min_args: c_int,
        max_args: c_int,
        cb: unixctl_cb,
    ) -> bool;
    /// `unixctl_command_reply` (`ok`) or `unixctl_command_reply_error`.
    pub fn ovn_vif_rs_shim_unixctl_reply(conn: *mut unixctl_conn, ok: bool, body: *const c_char);

    // ---- poll loop (src/ffi/poll.rs)
    /// Whether the host has `poll_fd_wait_at`.
    pub fn ovn_vif_rs_shim_poll_available() -> bool;
    /// `poll_fd_wait_at(fd, events, at)`; false without a poll loop.
    pub fn ovn_vif_rs_shim_poll_fd_wait(fd: c_int, events: c_short, at: *const c_char) -> bool;
    /// `poll_timer_wait_at(msec, at)`; false without a poll loop.
    pub fn ovn_vif_rs_shim_poll_timer_wait(msec: c_longlong, at: *const c_char) -> bool;
}
