//! The strings the provider hands to C: `malloc`ed copies that OVN's
//! `ctx_out` owns until `vif_plug_port_ctx_destroy` frees them.  (The OS
//! calls the safe code needs are in `crate::os`.)

/// Copies `s` into a `malloc`ed NUL-terminated string (NULL if out of
/// memory), to be released with [`free_cstring`].  An interior NUL (never
/// in a netdev name) truncates.
pub fn malloc_cstring(s: &str) -> *mut libc::c_char {
    let bytes = s.as_bytes();
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    // SAFETY: malloc with a non-zero size; the result is checked for NULL.
    let p = unsafe { libc::malloc(len + 1) }.cast::<u8>();
    if p.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `p` has room for len + 1 bytes and does not overlap `bytes`.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, len);
        *p.add(len) = 0;
    }
    p.cast()
}

/// Copies a NUL-padded netdev name into a `malloc`ed buffer of
/// `IFNAMSIZ` bytes (NULL if out of memory): a fixed-size copy, no length
/// scan.  Released with [`free_cstring`].
#[inline]
pub fn malloc_ifname(name: &[u8; crate::table::IFNAMSIZ]) -> *mut libc::c_char {
    // SAFETY: malloc with a non-zero size; the result is checked for NULL.
    let p = unsafe { libc::malloc(name.len()) }.cast::<[u8; crate::table::IFNAMSIZ]>();
    if p.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `p` is a fresh allocation of IFNAMSIZ bytes (malloc's
    // alignment suits a byte array); `name` ends with at least one NUL
    // (a name is at most IFNAMSIZ - 1 bytes), so the copy is a C string.
    unsafe { p.write(*name) };
    p.cast()
}

/// Releases a string from [`malloc_cstring`] or [`malloc_ifname`] (NULL
/// is fine).
///
/// # Safety
/// `p` is NULL or came from one of those and was not freed yet.
pub unsafe fn free_cstring(p: *mut libc::c_char) {
    // SAFETY: per the contract, `p` is NULL or a live malloc allocation.
    unsafe { libc::free(p.cast()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cstring_round_trip() {
        let p = malloc_cstring("eth5");
        // SAFETY: p is a fresh NUL-terminated allocation.
        let s = unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned();
        assert_eq!(s, "eth5");
        // SAFETY: p came from malloc_cstring.
        unsafe { free_cstring(p) };
        let name = crate::table::NetdevName::new("c1pf0vf15");
        assert!(name.is_some());
        let p = malloc_ifname(name.unwrap_or_default().as_c_bytes());
        // SAFETY: p is a fresh NUL-terminated allocation.
        let s = unsafe { std::ffi::CStr::from_ptr(p) };
        assert_eq!(s.to_bytes(), b"c1pf0vf15");
        // SAFETY: p came from malloc_ifname.
        unsafe { free_cstring(p) };
    }
}
