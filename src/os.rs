//! Small safe wrappers around the few libc calls the safe part of the
//! crate needs.

use std::ffi::CString;

/// The ifindex of the netdev named `name` now (`if_nametoindex(3)`: one
/// ioctl), or `None` if there is none (or the name cannot be a netdev
/// name).
pub fn ifindex_of(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call;
    // if_nametoindex only reads it.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_has_an_ifindex_and_nonsense_has_none() {
        assert!(super::ifindex_of("lo").is_some());
        assert_eq!(super::ifindex_of("no-such-netdev"), None);
        assert_eq!(super::ifindex_of("a\0b"), None);
    }
}
