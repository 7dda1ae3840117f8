//! The operating-system calls the safe part of the crate needs, behind
//! small safe functions: the provider (clock, ifindex), the sources
//! (inotify), the netlink code and the CLI (poll) use these, never
//! `ffi` (src/ffi/), which is only the C boundary.
//!
//! - [`clock`]: the coarse monotonic clock the provider's freshness rule
//!   and back-offs run on (and its test hook).
//! - [`watch`]: [`FileWatch`], an inotify watch on a file or a directory.
//! - [`poll`]: [`poll_readable`], a blocking wait for the CLI's `monitor`
//!   and the tests (the provider itself never blocks).
//! - [`ifindex_of`]: a netdev's ifindex by name.
//!
//! Built on rustix (safe wrappers of the raw system calls) where it covers
//! the call; `poll` takes raw descriptor numbers, which rustix's `poll`
//! cannot (it wants borrowed descriptors), so it calls libc, the one
//! `unsafe` block of this module.

pub mod clock;
pub mod poll;
pub mod watch;

pub use poll::poll_readable;
pub use watch::FileWatch;

use rustix::net::{AddressFamily, SocketFlags, SocketType};

/// The ifindex of the netdev named `name` now, or `None` if there is none
/// (or the name cannot be a netdev name: too long, or a NUL in it).  One
/// `SIOCGIFINDEX` ioctl on a throwaway socket, as `if_nametoindex(3)` does.
pub fn ifindex_of(name: &str) -> Option<u32> {
    // Any socket will do for the ioctl (netdevice(7)); an AF_UNIX one
    // exists in every kernel and network namespace.
    let sock = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .ok()?;
    rustix::net::netdevice::name_to_index(&sock, name)
        .ok()
        .filter(|&i| i != 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_has_an_ifindex_and_nonsense_has_none() {
        let lo = std::fs::read_to_string("/sys/class/net/lo/ifindex")
            .ok()
            .and_then(|s| s.trim().parse().ok());
        assert!(lo.is_some());
        assert_eq!(super::ifindex_of("lo"), lo);
        assert_eq!(super::ifindex_of("no-such-netdev"), None);
        assert_eq!(super::ifindex_of("lo\0b"), None, "a NUL never cuts a name");
        assert_eq!(super::ifindex_of(""), None);
        assert_eq!(
            super::ifindex_of(&"l".repeat(16)),
            None,
            "longer than IFNAMSIZ - 1"
        );
    }
}
